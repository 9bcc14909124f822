"""The on-disk cache: fetched artifacts, wheels built from sdists, build environments, builds.

Everything is stored under content keys and written by rename, so concurrent runs and killed
runs never see a half-written entry.  Default location: ``$XDG_CACHE_HOME/rpmdeploy``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TYPE_CHECKING = False  # as in rpmdeploy/__init__.py: no typing import on the early start
if TYPE_CHECKING:
    from typing import Any


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rpmdeploy"


def sha256_file(path: Path) -> str:
    import hashlib  # here: it loads OpenSSL, which the early start (rpmdeploy.prestart) spares

    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def link_or_copy(source: Path, dest: Path) -> None:
    """A hard link where the file system allows one (no copy of big files), else a copy
    that keeps the mtime (createrepo_c and HTTP caches look at it)."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def stable_key(*parts: object) -> str:
    """A short hex key over JSON-able parts; any change in any part changes the key."""
    import hashlib  # as in sha256_file

    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # Logs of a run are named by the time it started, so "the run an hour ago" is easy to
    # find under logs/: a directory for a run of rpms or release, one file for pin or verify.
    def new_log_dir(self, kind: str = "run") -> Path:
        """A new directory ``logs/KIND-YYYYmmdd-HHMMSS-<8 random characters>/``."""
        return Path(tempfile.mkdtemp(prefix=f"{kind}-{_stamp()}-", dir=self.dir("logs")))

    def new_log_file(self, kind: str) -> Path:
        """The path ``logs/KIND-YYYYmmdd-HHMMSS-PID.log`` (not created)."""
        return self.dir("logs") / f"{kind}-{_stamp()}-{os.getpid()}.log"

    def read_json(self, *parts: str) -> dict[str, Any] | None:
        path = self.root.joinpath(*parts)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_json(self, data: dict[str, Any], *parts: str) -> None:
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive lock shared by threads and processes using this cache."""
        path = self.dir("locks") / f"{name}.lock"
        # Never through a link: opening one for writing would create or touch its target.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    @contextmanager
    def staging(self, *parts: str) -> Iterator[Path]:
        """A fresh directory that becomes ``parts`` only if the block completes."""
        final = self.root.joinpath(*parts)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        try:
            yield tmp
            if not final.exists():  # else another run finished the same entry first: keep it
                os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")

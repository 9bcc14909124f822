"""Atomic generations: a directory published by replacing it whole, never by editing it.

``REPO_DIR`` is a symbolic link to a sibling *generation* directory ``.NAME.gen-N`` (a
relative link, so the tree can be served or moved as a whole).  A new generation is
*staged*, *sealed*, checked by the caller and *committed*::

    with repo_lock(repo_dir):
        with stage(repo_dir) as staged:   # .NAME.staging-N, empty
            ...fill staged.path...
            staged.seal()                 # flushed to disk, renamed .NAME.gen-N
            ...verify staged.path...
            staged.commit()               # REPO_DIR now points at it

Staging happens beside ``REPO_DIR`` (same file system: unchanged files can be hard links and
every rename is atomic).  ``commit`` replaces the link with ``os.replace`` of a new link, so
readers see the old tree or the new one, never a mix.  A stage left without ``commit`` (an
exception, a failed verification, or simply not committing) is removed; a SIGKILL at any
point before the replace leaves the old generation, and the link to it, untouched, and the
dead run's directories are removed by the next ``stage`` (under the lock).  The previous
generation is removed after a commit.

A ``REPO_DIR`` that is a plain directory (made by hand) is *adopted*: its content is the
previous generation (``StagedGeneration.previous``), and at the commit it is exchanged with
the link in one ``renameat2(RENAME_EXCHANGE)`` call (falling back to two renames, with a
moment without ``REPO_DIR``, where the file system cannot exchange) and kept as
``NAME.before-rpmdeploy``: it may hold files rpmdeploy does not know, so it is never deleted.
A ``REPO_DIR`` that is a link to somewhere else is replaced the same way as a generation, but
its target is left alone.

Lock.  ``.NAME.lock`` beside ``REPO_DIR`` is held with a non-blocking ``flock`` and records
the holder's pid; the kernel drops it when the holder dies.  ``stage`` refuses to run unless
this process holds it: the leftovers it removes could otherwise be another run's stage.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.errors import LockedError, RepoError, UsageError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_KINDS = ("gen", "staging", "link")

# Canonical paths whose lock this process holds (stage checks it; see the module doc).
_held: set[Path] = set()
_held_guard = threading.Lock()


@dataclass(frozen=True)
class Committed:
    """What a commit did."""

    generation: Path  # the directory REPO_DIR now points at
    adopted: Path | None  # where a hand-made REPO_DIR directory was moved, if there was one


class StagedGeneration:
    """A generation being built: write into ``path``, then ``seal`` and ``commit``.

    Made by ``stage`` only.  ``previous`` is the directory ``REPO_DIR`` shows now (a
    generation, an adopted directory or a foreign link's target), or None for a first one.
    """

    def __init__(self, repo_dir: Path, previous: Path | None, number: int) -> None:
        self.repo_dir = repo_dir
        self.previous = previous
        self.number = number
        self.path = repo_dir.parent / f".{repo_dir.name}.staging-{number}"
        self.sealed = False
        self.committed: Committed | None = None

    @property
    def generation(self) -> Path:
        """The name the stage gets when sealed."""
        return self.repo_dir.parent / f".{self.repo_dir.name}.gen-{self.number}"

    def seal(self) -> Path:
        """The content is complete: flush it to disk and give it its generation name.

        Done before the caller verifies it, so what is verified is what goes live, bytes and
        path alike.  Returns (and ``path`` becomes) the generation directory.
        """
        if not self.sealed:
            _fsync_tree(self.path)  # before the link can point at it (power loss)
            os.rename(self.path, self.generation)
            self.path = self.generation
            self.sealed = True
        return self.path

    def commit(self) -> Committed:
        """Point ``REPO_DIR`` at this generation (sealing it first if needed)."""
        if self.committed is not None:
            return self.committed
        generation = self.seal()
        adopted = _swap(self.repo_dir, generation, self.number)
        self.committed = Committed(generation, adopted)
        previous = self.previous
        if previous is not None and _is_generation_of(previous, self.repo_dir):
            shutil.rmtree(previous, ignore_errors=True)  # else the next stage removes it
        return self.committed

    def _discard(self) -> None:
        # A commit that failed after the link was replaced (say, the directory fsync) has
        # still published this generation: never remove what REPO_DIR points at.
        if os.path.realpath(self.repo_dir) != str(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def stage(repo_dir: Path) -> Iterator[StagedGeneration]:
    """A new, empty generation of ``repo_dir``, removed again unless committed in the block.

    The caller must hold ``repo_lock(repo_dir)``.  Leftovers of dead runs are removed first.
    """
    repo_dir = canonical_repo_dir(repo_dir)
    with _held_guard:
        if repo_dir not in _held:
            raise RuntimeError(f"staging a generation of {repo_dir} needs its repo_lock")
    if os.path.lexists(repo_dir) and not repo_dir.is_symlink() and not repo_dir.is_dir():
        raise RepoError(f"{repo_dir} exists and is not a directory or a link to one")
    _check_ours(repo_dir)
    _remove_leftovers(repo_dir)
    previous = Path(os.path.realpath(repo_dir)) if repo_dir.is_dir() else None
    staged = StagedGeneration(repo_dir, previous, _next_generation_number(repo_dir, previous))
    staged.path.mkdir()
    try:
        yield staged
    finally:
        if staged.committed is None:
            staged._discard()


def canonical_repo_dir(repo_dir: Path) -> Path:
    """The path with a real parent (created): generations are recognised by comparing real
    paths with the link's, and the lock file lives beside it."""
    repo_dir = Path(os.path.abspath(repo_dir))
    if repo_dir.name in ("", ".", ".."):
        raise UsageError(f"invalid repository directory {str(repo_dir)!r}")
    repo_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(os.path.realpath(repo_dir.parent)) / repo_dir.name


@contextmanager
def repo_lock(repo_dir: Path) -> Iterator[None]:
    """Exclusive, non-blocking: a second holder gets a RepoError naming the first's pid."""
    repo_dir = canonical_repo_dir(repo_dir)
    path = repo_dir.parent / f".{repo_dir.name}.lock"
    try:  # never through a link: truncating it would truncate whatever it points at
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RepoError(f"{path} is a symbolic link: refusing to use it as a lock") from None
        raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise LockedError(
                f"another rpmdeploy release is publishing to {repo_dir} (pid {holder}); "
                "try again when it finishes"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _held_guard:
            _held.add(repo_dir)
        try:
            yield
        finally:
            with _held_guard:
                _held.discard(repo_dir)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the flock


def _check_ours(repo_dir: Path) -> None:
    """Only a repository rpmdeploy published (a link to one of its generations), an empty
    directory or nothing may become REPO_DIR: anything else is someone's, never moved."""
    if repo_dir.is_symlink():
        if _is_generation_of(Path(os.path.realpath(repo_dir)), repo_dir):
            return
        raise RepoError(
            f"{repo_dir} is a link to {os.path.realpath(repo_dir)}, not a repository rpmdeploy "
            "published: refusing to replace it; choose another directory or remove the link"
        )
    if repo_dir.is_dir() and any(repo_dir.iterdir()):
        raise RepoError(
            f"{repo_dir} is an existing directory that rpmdeploy did not publish: refusing to "
            "move it aside; choose another directory or empty it"
        )


def check_outside(repo_dir: Path, app_dir: Path) -> None:
    """REPO_DIR must be outside the app directory: inside it, the repository would end up in
    the app's own package, and the app directory itself must never be moved aside."""
    repo = Path(os.path.realpath(repo_dir))
    app = Path(os.path.realpath(app_dir))
    if repo == app or app in repo.parents or repo in app.parents:
        raise UsageError(
            f"refusing to publish into {repo_dir}: it is the app directory {app_dir}, inside "
            "it or above it; choose a directory outside the app"
        )


def tree_size(root: Path) -> int:
    """Bytes in the files under ``root`` (links not followed)."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# --- names beside REPO_DIR ---------------------------------------------------------------------


def _generation_parts(entry: Path, repo_dir: Path) -> tuple[str, int] | None:
    """('gen'|'staging'|'link', N) when ``entry`` is one of ``repo_dir``'s own names."""
    prefix = f".{repo_dir.name}."
    if entry.parent != repo_dir.parent or not entry.name.startswith(prefix):
        return None
    kind, _, number = entry.name[len(prefix) :].partition("-")
    if kind in _KINDS and number.isdigit():
        return kind, int(number)
    return None


def _is_generation_of(path: Path, repo_dir: Path) -> bool:
    parts = _generation_parts(path, repo_dir)
    return parts is not None and parts[0] == "gen"


def _remove_leftovers(repo_dir: Path) -> None:
    """Remove what dead runs left; the caller holds the lock, so nothing is in use."""
    current = os.path.realpath(repo_dir) if repo_dir.is_symlink() else None
    for entry in repo_dir.parent.iterdir():
        if _generation_parts(entry, repo_dir) is None:
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)
        elif os.path.realpath(entry) != current:
            shutil.rmtree(entry, ignore_errors=True)


def _next_generation_number(repo_dir: Path, previous: Path | None) -> int:
    numbers = [0]
    for entry in repo_dir.parent.iterdir():
        parts = _generation_parts(entry, repo_dir)
        if parts is not None:
            numbers.append(parts[1])
    if previous is not None:
        parts = _generation_parts(previous, repo_dir)
        numbers.append(parts[1] if parts else 0)
    return max(numbers) + 1


# --- the swap ----------------------------------------------------------------------------------


def _swap(repo_dir: Path, generation: Path, number: int) -> Path | None:
    """Point ``repo_dir`` at ``generation``; return where an adopted directory went."""
    link = repo_dir.parent / f".{repo_dir.name}.link-{number}"
    link.unlink(missing_ok=True)
    os.symlink(generation.name, link)
    adopted: Path | None = None
    if repo_dir.is_dir() and not repo_dir.is_symlink():
        adopted = _free_name(repo_dir.parent / f"{repo_dir.name}.before-rpmdeploy")
        if _exchange(link, repo_dir):
            os.rename(link, adopted)
        else:
            os.rename(repo_dir, adopted)
            try:
                os.rename(link, repo_dir)
            except OSError:
                os.rename(adopted, repo_dir)  # put the hand-made directory back
                raise
    else:
        os.replace(link, repo_dir)
    _fsync_dir(repo_dir.parent)
    return adopted


def _exchange(a: Path, b: Path) -> bool:
    """Swap two names atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

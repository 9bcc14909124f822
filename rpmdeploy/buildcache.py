"""The build cache: finished builds stored under a key of everything that decides them.

Layout under the cache root::

    builds/<key>/result.json     name, srpm, rpms, log, spec, sha256 of each file: the index
    builds/<key>/<files>         the SRPM, the binary RPMs, build.log, the spec
    failed/<key>/                the work directory of the last failed build (its logs)

An entry appears whole (written in a staging directory, then renamed), so a killed run never
leaves half an entry, and an entry whose files are gone is a miss.  The cache is not trusted
forever: every package file's sha256 is recorded when it is stored and checked before it is
reused; an entry whose files changed is moved aside (``corrupt/<key>``) and rebuilt.  The
key is computed by the caller from the inputs (artifact digest, templates, target, builder,
rpmdeploy version).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.builders import BuildResult
from rpmdeploy.cache import Cache, sha256_file

RESULT_FILE = "result.json"


@dataclass(frozen=True)
class CachedBuild:
    """A build as the cache holds it."""

    name: str  # binary package name
    srpm: Path
    rpms: tuple[Path, ...]
    log: Path
    spec: Path


@dataclass(frozen=True)
class Lookup:
    """What the cache has for a key: a build, or nothing (and why, when it was damaged)."""

    build: CachedBuild | None
    problem: str | None = None


def lookup(cache: Cache, key: str, name: str) -> Lookup:
    """The cached build of ``name`` under ``key``; a miss when missing, of another name,
    files gone, or files whose digests no longer match (then ``problem`` says which)."""
    entry = cache.read_json("builds", key, RESULT_FILE)
    if entry is None or entry.get("name") != name:
        return Lookup(None)
    found = _from_entry(cache, key, entry)
    if found is None or not all(p.is_file() for p in (found.srpm, *found.rpms)):
        return Lookup(None)
    digests = entry.get("sha256")
    damaged = [
        p.name
        for p in (found.srpm, *found.rpms)
        if not isinstance(digests, dict) or digests.get(p.name) != sha256_file(p)
    ]
    if damaged:
        _move_aside(cache, key)
        return Lookup(None, f"the cached {', '.join(damaged)} changed since it was built: rebuilt")
    return Lookup(found)


def store(cache: Cache, key: str, name: str, result: BuildResult, spec: Path) -> CachedBuild:
    """Move a finished build into the cache (the files are moved, not copied)."""
    logs = (result.log, *result.extra_logs)
    entry: dict[str, object] = {
        "name": name,
        "srpm": result.srpm.name,
        "rpms": [r.name for r in result.rpms],
        "log": result.log.name,
        "spec": spec.name,
        "sha256": {p.name: sha256_file(p) for p in (result.srpm, *result.rpms)},
    }
    with cache.staging("builds", key) as tmp:
        for path in (result.srpm, *result.rpms, *logs, spec):
            shutil.move(str(path), tmp / path.name)
        (tmp / RESULT_FILE).write_text(json.dumps(entry, indent=1))
    stored = _from_entry(cache, key, entry)
    assert stored is not None  # written just above
    return stored


def keep_failure(cache: Cache, key: str, workdir: Path, log_name: str = "build.log") -> Path:
    """Keep a failed build's work directory where the user can read it; return its log."""
    final = cache.dir("failed") / key
    if final.exists():
        shutil.rmtree(final)
    os.replace(workdir, final)
    return final / log_name


def _move_aside(cache: Cache, key: str) -> None:
    """Keep a damaged entry for whoever wants to look at it, out of the way of the rebuild."""
    final = cache.dir("corrupt") / key
    if final.exists():
        shutil.rmtree(final)
    os.replace(cache.root / "builds" / key, final)


def _from_entry(cache: Cache, key: str, entry: dict[str, object]) -> CachedBuild | None:
    base = cache.root / "builds" / key
    rpms = entry.get("rpms")
    if not isinstance(rpms, list):
        return None
    return CachedBuild(
        name=str(entry["name"]),
        srpm=base / str(entry["srpm"]),
        rpms=tuple(base / str(r) for r in rpms),
        log=base / str(entry["log"]),
        spec=base / str(entry.get("spec", "")),
    )

"""What goes into a repository generation: the layout, the inputs, and which packages are
kept, carried over or pruned.

Layout of a published repository::

    REPO_DIR/Packages/*.rpm            binary packages
    REPO_DIR/repodata/                 createrepo_c metadata (+ repomd.xml.asc when signed)
    REPO_DIR/SRPMS/*.src.rpm           source packages, a repository of their own
    REPO_DIR/SRPMS/repodata/
    REPO_DIR/RPM-GPG-KEY-<name>        the public key, when signed
    REPO_DIR/<extra files>             e.g. <app>.repo and puppet/<app>.pp

Everything here decides; nothing writes.  ``yum.py`` carries the decisions out.
"""

from __future__ import annotations

import filecmp
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rpmdeploy.errors import RepoError
from rpmdeploy.repo.rpmfile import RpmFile, compare_evr, read_rpm
from rpmdeploy.sign import signed_by

PACKAGES = "Packages"
SRPMS = "SRPMS"
REPODATA = "repodata"
_RESERVED = (PACKAGES, SRPMS, REPODATA)


@dataclass(frozen=True)
class Plan:
    """The packages of one repository (binary or source) in the next generation."""

    current: tuple[RpmFile, ...]  # the packages asked for
    history: tuple[RpmFile, ...]  # older versions kept from the previous generation (keep > 1)
    pruned: tuple[RpmFile, ...]  # previous packages dropped


def public_key_name(repo_dir: Path) -> str:
    """File name of the exported public key inside a signed repository."""
    return f"RPM-GPG-KEY-{Path(repo_dir).name}"


def relpath(package: RpmFile) -> str:
    """Where ``package`` lives inside the repository."""
    return f"{SRPMS if package.is_source else PACKAGES}/{package.file_name}"


def plan(new: Sequence[RpmFile], old: Sequence[RpmFile], keep: int) -> Plan:
    """Which packages go into the next generation.

    Every package asked for is in, even when an older version than one already published (a
    downgrade).  Names no longer asked for are dropped entirely.  With ``keep`` > 1, each name
    also keeps its newest previous versions, up to ``keep`` versions in all.
    """
    new_names = {p.file_name for p in new}
    history: list[RpmFile] = []
    for name in sorted({p.name for p in new}):
        current = {p.evr for p in new if p.name == name}
        older = {p.evr for p in old if p.name == name and p.evr not in current}
        newest_first = sorted(older, key=functools.cmp_to_key(compare_evr), reverse=True)
        wanted = set(newest_first[: max(0, keep - len(current))])
        history.extend(
            p for p in old if p.name == name and p.evr in wanted and p.file_name not in new_names
        )
    chosen = new_names | {p.file_name for p in history}
    pruned = [p for p in old if p.file_name not in chosen]
    return Plan(tuple(new), tuple(history), tuple(pruned))


def reusable(new: RpmFile, old: RpmFile, fingerprints: Sequence[str] | None) -> bool:
    """Whether the previous generation's ``old`` can stand for the input ``new`` as it is.

    ``fingerprints``: the signing key's, or None when not signing.
    """
    if fingerprints is None:
        return same_bytes(new.path, old.path)
    # The previous copy carries our signature; the input does not.  Same header digest
    # means same header and payload (the header holds the payload digest).
    return (
        new.header_sha256 is not None
        and new.header_sha256 == old.header_sha256
        and signed_by(old.signer, fingerprints)
    )


def same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def read_inputs(paths: Sequence[Path], *, source: bool) -> tuple[RpmFile, ...]:
    """The packages to publish, each read once; a RepoError names a file that does not fit."""
    packages: dict[str, RpmFile] = {}
    for path in paths:
        package = read_rpm(Path(path))
        if package.is_source != source:
            kind = "a source" if package.is_source else "a binary"
            wanted = "srpms" if source else "rpms"
            raise RepoError(f"{path} is {kind} package; it does not belong in {wanted}")
        other = packages.get(package.file_name)
        if other is not None and not same_bytes(other.path, package.path):
            raise RepoError(
                f"two different files for {package.file_name}: {other.path} and {package.path}"
            )
        packages[package.file_name] = package
    return tuple(packages.values())


def scan_previous(previous: Path | None, *, source: bool) -> list[RpmFile]:
    """The previous generation's packages; unreadable files are left behind (pruned)."""
    if previous is None:
        return []
    if source:
        candidates = [*previous.glob(f"{SRPMS}/*.src.rpm"), *previous.glob("*.src.rpm")]
    else:
        candidates = [
            p
            for p in [*previous.glob(f"{PACKAGES}/*.rpm"), *previous.glob("*.rpm")]
            if not p.name.endswith(".src.rpm")
        ]
    found: dict[str, RpmFile] = {}
    for path in sorted(candidates):
        try:
            package = read_rpm(path)
        except RepoError:
            continue
        if package.is_source == source:
            found.setdefault(package.file_name, package)
    return list(found.values())


def check_extra_files(files: Mapping[str, str]) -> dict[str, str]:
    """The extra files, keyed by normalised relative path; a RepoError refuses a bad one."""
    checked: dict[str, str] = {}
    for rel, text in files.items():
        parts = rel.split("/")
        bad = (
            not rel
            or rel.startswith("/")
            or any(part in ("", ".", "..") for part in parts)
            or any(c in rel for c in "\0\n\r\\")
            or parts[0] in _RESERVED
            or parts[0].startswith("RPM-GPG-KEY")
            or rel.endswith(".rpm")
        )
        if bad:
            raise RepoError(
                f"refusing extra file {rel!r}: it must be a relative path inside the "
                f"repository, outside {', '.join(_RESERVED)} and not an .rpm"
            )
        checked[PurePosixPath(rel).as_posix()] = text
    return checked

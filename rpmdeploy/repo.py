"""Stage 7, repo: publish RPMs as a yum repository, atomically and incrementally.

Layout of a published repository::

    REPO_DIR/Packages/*.rpm            binary packages
    REPO_DIR/repodata/                 createrepo_c metadata (+ repomd.xml.asc when signed)
    REPO_DIR/SRPMS/*.src.rpm           source packages, a repository of their own
    REPO_DIR/SRPMS/repodata/
    REPO_DIR/RPM-GPG-KEY-<name>        the public key, when signed
    REPO_DIR/<extra files>             e.g. <app>.repo and puppet/<app>.pp

Atomic swap.  ``REPO_DIR`` is a symbolic link to a sibling *generation* directory
``.NAME.gen-N`` (relative link, so the tree can be served or moved as a whole).  A publish
builds the next generation complete in ``.NAME.staging-N`` beside it (same file system, so
unchanged packages can be hard links and every rename is atomic), fsyncs it, renames it to
``.NAME.gen-N`` and then replaces the link with ``os.replace`` of a new link.  Readers see
the old tree or the new one, never a mix; a failure or SIGKILL at any point before the
replace leaves the old generation, and the link to it, untouched.  The old generation is
removed after the swap.  Anything a dead run left (``.NAME.staging-*``, ``.NAME.link-*``,
generations the link does not point to) is removed by the next publish, under the lock.

A ``REPO_DIR`` that is a plain directory (a first repository made by hand) is adopted: its
packages count as the previous generation, and at the swap it is exchanged with the link in
one ``renameat2(RENAME_EXCHANGE)`` call (falling back to two renames, with a moment without
``REPO_DIR``, where the file system cannot exchange) and kept as ``NAME.before-rpmdeploy``:
it may hold files rpmdeploy does not know, so it is never deleted.  A ``REPO_DIR`` that is a
link to somewhere else is treated the same way as a generation, but its target is left alone.

Incremental and reproducible.  A package whose file is unchanged since the previous
generation is hard-linked from it (same inode, same mtime), and createrepo_c ``--update
--update-md-path PREVIOUS`` reuses its metadata entry instead of reading it again.  When
signing, "unchanged" means the same header SHA-256 (rpmsign does not alter the header or the
payload) and a signature by the same key; new packages are copied, never linked, before
rpmsign changes them in place.  Metadata is written with ``--set-timestamp-to-revision`` and
no sqlite databases (dnf reads the XML; the databases are not byte-reproducible), with a
revision that stays the same when the package set is unchanged and otherwise is the newest
build time, kept strictly increasing.  So publishing the same packages twice gives a
byte-identical tree (the detached ``repomd.xml.asc`` is carried over when ``repomd.xml`` is
unchanged and it still verifies with the key; the generation directory's name and the
inode numbers differ, which no client sees).

Lock.  ``.NAME.lock`` beside ``REPO_DIR`` is held with a non-blocking ``flock`` for the whole
publish and records the holder's pid; the kernel drops it when the holder dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import filecmp
import functools
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import rpm

from rpmdeploy._run import run
from rpmdeploy.cache import link_or_copy
from rpmdeploy.errors import RepoError, UsageError
from rpmdeploy.sign import (
    SigningKey,
    detached_signature_valid,
    export_public_key,
    key_fingerprints,
    rpm_signer,
    sign_repomd,
    sign_rpms,
    signed_by,
)

PACKAGES = "Packages"
SRPMS = "SRPMS"
REPODATA = "repodata"
_RESERVED = (PACKAGES, SRPMS, REPODATA)
_REPO_NS = "{http://linux.duke.edu/metadata/repo}"
_FILE_NAME = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+~^-]*\.rpm$")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class RepoReport:
    """What a publish did.  Paths in added/kept/pruned are relative to the repository."""

    path: Path
    generation: Path
    revision: int
    added: tuple[str, ...]  # new or changed packages (copied, and signed when signing)
    kept: tuple[str, ...]  # carried over unchanged from the previous generation
    pruned: tuple[str, ...]  # in the previous generation, not in this one
    total_size: int  # bytes in the published tree
    signed: bool
    unchanged: bool  # same package set as before: repodata reused as it was
    adopted: Path | None = None  # where a hand-made REPO_DIR directory was moved


@dataclass(frozen=True)
class RpmFile:
    path: Path
    name: str
    epoch: str
    version: str
    release: str
    arch: str
    is_source: bool
    header_sha256: str | None
    signer: str | None
    buildtime: int

    @property
    def evr(self) -> tuple[str, str, str]:
        return (self.epoch, self.version, self.release)

    @property
    def file_name(self) -> str:
        arch = "src" if self.is_source else self.arch
        return f"{self.name}-{self.version}-{self.release}.{arch}.rpm"

    @property
    def relpath(self) -> str:
        return f"{SRPMS if self.is_source else PACKAGES}/{self.file_name}"


@dataclass(frozen=True)
class _Plan:
    current: tuple[RpmFile, ...]  # the packages asked for
    history: tuple[RpmFile, ...]  # older versions kept from the previous generation (keep > 1)
    pruned: tuple[RpmFile, ...]  # previous packages dropped


@dataclass(frozen=True)
class _Assembled:
    revision: int
    added: tuple[str, ...]
    kept: tuple[str, ...]
    pruned: tuple[str, ...]
    unchanged: bool


def public_key_name(repo_dir: Path) -> str:
    """File name of the exported public key inside a signed repository."""
    return f"RPM-GPG-KEY-{Path(repo_dir).name}"


def publish_repo(
    repo_dir: Path,
    rpms: Sequence[Path],
    srpms: Sequence[Path],
    *,
    keep: int = 1,
    signing: SigningKey | None = None,
    extra_files: Mapping[str, str] = {},  # noqa: B006 - read only
    log: Path,
    before_swap: Callable[[Path], None] | None = None,
    locked: bool = False,
) -> RepoReport:
    """Publish ``rpms`` and ``srpms`` as the repository ``repo_dir`` (see the module doc).

    ``before_swap(generation)`` runs on the complete new generation before it goes live (the
    release runs verify there): if it raises, the new generation is discarded and the
    published repository stays as it was.  ``locked``: the caller holds ``repo_lock`` already
    (a release takes it before it starts building, so a second release fails at once).
    """
    if keep < 1:
        raise UsageError(f"keep must be at least 1, not {keep}")
    repo_dir = canonical_repo_dir(repo_dir)
    if os.path.lexists(repo_dir) and not repo_dir.is_symlink() and not repo_dir.is_dir():
        raise RepoError(f"{repo_dir} exists and is not a directory or a link to one")
    extras = _check_extra_files(extra_files)
    new_binary = _read_inputs(rpms, source=False)
    new_source = _read_inputs(srpms, source=True)
    fingerprints = key_fingerprints(signing) if signing is not None else ()

    with contextlib.nullcontext() if locked else repo_lock(repo_dir):
        _remove_leftovers(repo_dir)
        previous = Path(os.path.realpath(repo_dir)) if repo_dir.is_dir() else None
        number = _next_generation_number(repo_dir, previous)
        staging = repo_dir.parent / f".{repo_dir.name}.staging-{number}"
        generation = repo_dir.parent / f".{repo_dir.name}.gen-{number}"
        staging.mkdir()
        built = staging
        try:
            content = _assemble(
                staging,
                previous,
                new_binary,
                new_source,
                keep=keep,
                signing=signing,
                fingerprints=fingerprints,
                extras=extras,
                key_name=public_key_name(repo_dir),
                log=log,
            )
            _fsync_tree(staging)
            os.rename(staging, generation)
            built = generation
            if before_swap is not None:
                before_swap(generation)
            adopted = _swap(repo_dir, generation, number)
        except BaseException:
            if os.path.realpath(repo_dir) != str(generation):  # not yet published: discard
                shutil.rmtree(built, ignore_errors=True)
            raise
        if previous is not None and _is_generation_of(previous, repo_dir):
            shutil.rmtree(previous, ignore_errors=True)  # else the next publish removes it
        return RepoReport(
            path=repo_dir,
            generation=generation,
            revision=content.revision,
            added=content.added,
            kept=content.kept,
            pruned=content.pruned,
            total_size=_tree_size(generation),
            signed=signing is not None,
            unchanged=content.unchanged,
            adopted=adopted,
        )


# --- assembling a generation -------------------------------------------------------------------


def _assemble(
    staging: Path,
    previous: Path | None,
    new_binary: Sequence[RpmFile],
    new_source: Sequence[RpmFile],
    *,
    keep: int,
    signing: SigningKey | None,
    fingerprints: Sequence[str],
    extras: Mapping[str, str],
    key_name: str,
    log: Path,
) -> _Assembled:
    """Fill ``staging``; return what the report says about its content."""
    old_binary = _scan_previous(previous, source=False)
    old_source = _scan_previous(previous, source=True)
    plans = [_plan(new_binary, old_binary, keep), _plan(new_source, old_source, keep)]
    old_by_name = {p.file_name: p for p in [*old_binary, *old_source]}

    added: list[str] = []
    kept: list[str] = []
    to_sign: list[Path] = []
    try:
        for plan in plans:
            for package in plan.current:
                dest = staging / package.relpath
                dest.parent.mkdir(exist_ok=True)
                old = old_by_name.get(package.file_name)
                if old is not None and _reusable(package, old, signing, fingerprints):
                    link_or_copy(old.path, dest)
                    kept.append(package.relpath)
                    continue
                # A copy, never a link: rpmsign rewrites the file in place.
                shutil.copy2(package.path, dest)
                os.chmod(dest, 0o644)
                added.append(package.relpath)
                to_sign.append(dest)
            for package in plan.history:
                dest = staging / package.relpath
                dest.parent.mkdir(exist_ok=True)
                link_or_copy(package.path, dest)
                kept.append(package.relpath)
        if signing is not None:
            sign_rpms(to_sign, signing, log)
        for dest in to_sign:
            _make_mtime_distinct(dest, old_by_name.get(dest.name))
        for rel, text in extras.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if signing is not None:
            export_public_key(signing, staging / key_name, log)
    except OSError as exc:
        raise RepoError(f"assembling the repository in {staging} failed: {exc}") from None

    pruned = sorted(_relpath_in(previous, p.path) for plan in plans for p in plan.pruned)
    unchanged = previous is not None and not added and not pruned
    previous_relpaths = {_relpath_in(previous, p.path) for p in [*old_binary, *old_source]}
    unchanged = unchanged and previous_relpaths == set(kept)
    revision = _revision(previous, plans, unchanged)

    _createrepo(staging, previous, revision, log, source=False)
    if any(plan.current or plan.history for plan in plans[1:]):
        _createrepo(staging / SRPMS, previous / SRPMS if previous else None, revision, log, True)
    for rel in (REPODATA, f"{SRPMS}/{REPODATA}"):
        if not (staging / rel).is_dir():
            continue
        if signing is not None:
            _sign_metadata(staging / rel, previous, rel, signing, log)
        # createrepo_c dates the other metadata files at the revision but repomd.xml "now";
        # its content changes exactly when the revision does, so date it (and its
        # signature) at the revision too: an unchanged repository keeps its Last-Modified.
        for name in ("repomd.xml", "repomd.xml.asc"):
            if (staging / rel / name).is_file():
                os.utime(staging / rel / name, (revision, revision))

    return _Assembled(
        revision=revision,
        added=tuple(sorted(added)),
        kept=tuple(sorted(kept)),
        pruned=tuple(pruned),
        unchanged=unchanged,
    )


def _plan(new: Sequence[RpmFile], old: Sequence[RpmFile], keep: int) -> _Plan:
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
        newest_first = sorted(older, key=functools.cmp_to_key(rpm.labelCompare), reverse=True)
        wanted = set(newest_first[: max(0, keep - len(current))])
        history.extend(
            p for p in old if p.name == name and p.evr in wanted and p.file_name not in new_names
        )
    chosen = new_names | {p.file_name for p in history}
    pruned = [p for p in old if p.file_name not in chosen]
    return _Plan(tuple(new), tuple(history), tuple(pruned))


def _reusable(
    new: RpmFile, old: RpmFile, signing: SigningKey | None, fingerprints: Sequence[str]
) -> bool:
    if signing is None:
        return _same_bytes(new.path, old.path)
    # The previous copy carries our signature; the input does not.  Same header digest
    # means same header and payload (the header holds the payload digest).
    return (
        new.header_sha256 is not None
        and new.header_sha256 == old.header_sha256
        and signed_by(old.signer, fingerprints)
    )


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _make_mtime_distinct(dest: Path, old: RpmFile | None) -> None:
    """Keep createrepo_c --update from reusing a stale entry for a replaced package.

    --update trusts (file name, size, mtime in seconds); a package rebuilt under the same
    name can match all three (signing keeps the size), so give it another mtime.
    """
    if old is None:
        return
    try:
        before, after = old.path.stat(), dest.stat()
    except OSError:
        return
    if before.st_size == after.st_size and int(before.st_mtime) == int(after.st_mtime):
        stamp = int(before.st_mtime) + 1
        os.utime(dest, (stamp, stamp))


def _revision(previous: Path | None, plans: Sequence[_Plan], unchanged: bool) -> int:
    """The repodata revision (a Unix time: --set-timestamp-to-revision needs one)."""
    before = _previous_revision(previous)
    if unchanged and before is not None:
        return before
    build_times = [p.buildtime for plan in plans for p in (*plan.current, *plan.history)]
    revision = max(build_times, default=int(time.time()))
    return max(revision, before + 1) if before is not None else revision


def _previous_revision(previous: Path | None) -> int | None:
    if previous is None:
        return None
    try:
        root = ET.parse(previous / REPODATA / "repomd.xml").getroot()
        text = root.findtext(f"{_REPO_NS}revision")
        return int(text) if text else None
    except (OSError, ET.ParseError, ValueError):
        return None


def _createrepo(
    directory: Path, previous: Path | None, revision: int, log: Path, source: bool
) -> None:
    argv: list[str | os.PathLike[str]] = [
        "createrepo_c",
        "--no-database",
        "--update",
        "--revision",
        str(revision),
        "--set-timestamp-to-revision",
    ]
    if not source:
        argv += ["--excludes", "*.src.rpm"]  # the SRPMS/ subtree is its own repository
    if previous is not None and (previous / REPODATA / "repomd.xml").is_file():
        argv += ["--update-md-path", previous]
    run(
        [*argv, directory],
        log=log,
        what=f"creating {'source ' if source else ''}repository metadata",
        error=RepoError,
    )


def _sign_metadata(
    repodata: Path, previous: Path | None, rel: str, signing: SigningKey, log: Path
) -> None:
    """Sign repomd.xml, or carry over the previous signature of the very same bytes."""
    if previous is not None:
        old_repomd = previous / rel / "repomd.xml"
        old_asc = previous / rel / "repomd.xml.asc"
        if (
            old_asc.is_file()
            and _same_bytes(old_repomd, repodata / "repomd.xml")
            and detached_signature_valid(old_asc, repodata / "repomd.xml", signing)
        ):
            shutil.copy2(old_asc, repodata / "repomd.xml.asc")
            return
    sign_repomd(repodata, signing, log)


# --- reading packages --------------------------------------------------------------------------


def read_rpm(path: Path) -> RpmFile:
    ts = rpm.TransactionSet()
    ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
    try:
        with path.open("rb") as handle:
            header = ts.hdrFromFdno(handle.fileno())
    except (OSError, rpm.error) as exc:
        raise RepoError(f"cannot read RPM {path}: {exc}") from None
    epoch = header[rpm.RPMTAG_EPOCH]
    sha256 = header[rpm.RPMTAG_SHA256HEADER]
    package = RpmFile(
        path=path,
        name=str(header[rpm.RPMTAG_NAME]),
        epoch=str(epoch) if epoch is not None else "0",
        version=str(header[rpm.RPMTAG_VERSION]),
        release=str(header[rpm.RPMTAG_RELEASE]),
        arch=str(header[rpm.RPMTAG_ARCH]),
        is_source=bool(header.isSource()),
        header_sha256=str(sha256) if sha256 else None,
        signer=rpm_signer(header),
        buildtime=int(header[rpm.RPMTAG_BUILDTIME] or 0),
    )
    if not _FILE_NAME.fullmatch(package.file_name):
        raise RepoError(f"{path}: unusable package name {package.file_name!r}")
    return package


def _read_inputs(paths: Sequence[Path], *, source: bool) -> list[RpmFile]:
    packages: dict[str, RpmFile] = {}
    for path in paths:
        package = read_rpm(Path(path))
        if package.is_source != source:
            kind = "a source" if package.is_source else "a binary"
            wanted = "srpms" if source else "rpms"
            raise RepoError(f"{path} is {kind} package; it does not belong in {wanted}")
        other = packages.get(package.file_name)
        if other is not None and not _same_bytes(other.path, package.path):
            raise RepoError(
                f"two different files for {package.file_name}: {other.path} and {package.path}"
            )
        packages[package.file_name] = package
    return list(packages.values())


def _scan_previous(previous: Path | None, *, source: bool) -> list[RpmFile]:
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


def _relpath_in(previous: Path | None, path: Path) -> str:
    return path.relative_to(previous).as_posix() if previous is not None else path.name


def _check_extra_files(files: Mapping[str, str]) -> dict[str, str]:
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


# --- generations, swap, lock -------------------------------------------------------------------


def _generation_parts(entry: Path, repo_dir: Path) -> tuple[str, int] | None:
    """('gen'|'staging'|'link', N) when ``entry`` is one of ``repo_dir``'s own names."""
    prefix = f".{repo_dir.name}."
    if entry.parent != repo_dir.parent or not entry.name.startswith(prefix):
        return None
    kind, _, number = entry.name[len(prefix) :].partition("-")
    if kind in ("gen", "staging", "link") and number.isdigit():
        return kind, int(number)
    return None


def _is_generation_of(path: Path, repo_dir: Path) -> bool:
    parts = _generation_parts(path, repo_dir)
    return parts is not None and parts[0] == "gen"


def _remove_leftovers(repo_dir: Path) -> None:
    """Remove what dead publishers left; the caller holds the lock, so nothing is in use."""
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
                os.rename(adopted, repo_dir)  # put the hand-made repository back
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


def canonical_repo_dir(repo_dir: Path) -> Path:
    """The repository path with a real parent (created): generations are recognised by
    comparing real paths with the link's, and the lock file lives beside it."""
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
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise RepoError(
                f"another rpmdeploy release is publishing to {repo_dir} (pid {holder}); "
                "try again when it finishes"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the flock


def _fsync_tree(root: Path) -> None:
    """Flush the new generation to disk before the link points at it (power loss)."""
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


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())

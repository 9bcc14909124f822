"""Publishing RPMs as a yum repository: incrementally, reproducibly, atomically.

The layout and package selection are in ``content.py``; the atomic swap is a generation of
``generations.py``.  Publishing is three steps, so a caller can check the new repository
before anyone sees it::

    inputs = repo_inputs(rpms, srpms, keep=..., signing=..., extra_files=...)  # validated
    with repo_lock(repo_dir):
        with stage_repo(repo_dir, inputs, log) as staged:   # complete, sealed generation
            ...check staged.path (release runs verify here)...
            report = staged.commit()                         # REPO_DIR points at it

Leaving the block without ``commit`` discards the new generation: the published repository
stays as it was.  ``publish_repo`` does all three at once.

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
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.cache import link_or_copy
from rpmdeploy.errors import RepoError, UsageError
from rpmdeploy.repo import generations
from rpmdeploy.repo.content import (
    REPODATA,
    SRPMS,
    Plan,
    check_extra_files,
    plan,
    public_key_name,
    read_inputs,
    relpath,
    reusable,
    same_bytes,
    scan_previous,
)
from rpmdeploy.repo.generations import canonical_repo_dir, repo_lock
from rpmdeploy.repo.rpmfile import RpmFile
from rpmdeploy.sign import (
    SigningKey,
    detached_signature_valid,
    export_public_key,
    key_fingerprints,
    sign_repomd,
    sign_rpms,
)

_REPO_NS = "{http://linux.duke.edu/metadata/repo}"


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
class RepoInputs:
    """What to publish, read and checked before anything is written (see ``repo_inputs``)."""

    binary: tuple[RpmFile, ...]
    source: tuple[RpmFile, ...]
    keep: int
    signing: SigningKey | None
    fingerprints: tuple[str, ...] | None  # the signing key's; None when not signing
    extra_files: Mapping[str, str]  # relative path -> text, checked


@dataclass(frozen=True)
class _Content:
    """What the report says about an assembled generation's content."""

    revision: int
    added: tuple[str, ...]
    kept: tuple[str, ...]
    pruned: tuple[str, ...]
    unchanged: bool


def repo_inputs(
    rpms: Sequence[Path],
    srpms: Sequence[Path],
    *,
    keep: int = 1,
    signing: SigningKey | None = None,
    extra_files: Mapping[str, str] | None = None,
) -> RepoInputs:
    """Read and check what to publish: bad input fails here, before any lock or write."""
    if keep < 1:
        raise UsageError(f"keep must be at least 1, not {keep}")
    extras = check_extra_files(extra_files or {})
    binary = read_inputs(rpms, source=False)
    source = read_inputs(srpms, source=True)
    fingerprints = key_fingerprints(signing) if signing is not None else None
    return RepoInputs(binary, source, keep, signing, fingerprints, extras)


class StagedRepo:
    """A complete, sealed new generation of a repository, not yet published.

    ``path`` is its directory (what ``commit`` makes ``REPO_DIR`` point at).
    """

    def __init__(
        self, staged: generations.StagedGeneration, content: _Content, signed: bool
    ) -> None:
        self._staged = staged
        self._content = content
        self._signed = signed

    @property
    def path(self) -> Path:
        return self._staged.path

    def commit(self) -> RepoReport:
        """Publish this generation: one atomic swap of the ``REPO_DIR`` link."""
        done = self._staged.commit()
        content = self._content
        return RepoReport(
            path=self._staged.repo_dir,
            generation=done.generation,
            revision=content.revision,
            added=content.added,
            kept=content.kept,
            pruned=content.pruned,
            total_size=generations.tree_size(done.generation),
            signed=self._signed,
            unchanged=content.unchanged,
            adopted=done.adopted,
        )


@contextmanager
def stage_repo(repo_dir: Path, inputs: RepoInputs, log: Path) -> Iterator[StagedRepo]:
    """Assemble the next generation of ``repo_dir`` from ``inputs``, sealed, for the block.

    The caller holds ``repo_lock(repo_dir)``.  Unless the block calls ``commit``, the new
    generation is removed when it ends and the published repository is left as it was.
    """
    repo_dir = canonical_repo_dir(repo_dir)
    with generations.stage(repo_dir) as staged:
        content = _assemble(staged.path, staged.previous, inputs, public_key_name(repo_dir), log)
        staged.seal()
        yield StagedRepo(staged, content, inputs.signing is not None)


def publish_repo(
    repo_dir: Path,
    rpms: Sequence[Path],
    srpms: Sequence[Path],
    *,
    keep: int = 1,
    signing: SigningKey | None = None,
    extra_files: Mapping[str, str] | None = None,
    log: Path,
    locked: bool = False,
) -> RepoReport:
    """Publish ``rpms`` and ``srpms`` as the repository ``repo_dir``, in one go.

    ``locked``: the caller holds ``repo_lock`` already.  To check the new generation before
    it goes live, use ``repo_inputs`` and ``stage_repo`` instead.
    """
    repo_dir = canonical_repo_dir(repo_dir)
    inputs = repo_inputs(rpms, srpms, keep=keep, signing=signing, extra_files=extra_files)
    with contextlib.nullcontext() if locked else repo_lock(repo_dir):
        with stage_repo(repo_dir, inputs, log) as staged:
            return staged.commit()


# --- assembling a generation -------------------------------------------------------------------


def _assemble(
    staging: Path, previous: Path | None, inputs: RepoInputs, key_name: str, log: Path
) -> _Content:
    """Fill ``staging``; return what the report says about its content."""
    old = [*scan_previous(previous, source=False), *scan_previous(previous, source=True)]
    plans = [
        plan(inputs.binary, [p for p in old if not p.is_source], inputs.keep),
        plan(inputs.source, [p for p in old if p.is_source], inputs.keep),
    ]
    try:
        added, kept = _place_packages(staging, plans, old, inputs, log)
        for rel, text in inputs.extra_files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if inputs.signing is not None:
            export_public_key(inputs.signing, staging / key_name, log)
    except OSError as exc:
        raise RepoError(f"assembling the repository in {staging} failed: {exc}") from None

    pruned = sorted(_relpath_in(previous, p.path) for each in plans for p in each.pruned)
    previous_relpaths = {_relpath_in(previous, p.path) for p in old}
    unchanged = previous is not None and not added and not pruned and previous_relpaths == set(kept)
    revision = _revision(previous, plans, unchanged)
    _write_metadata(staging, previous, plans, revision, inputs.signing, log)
    return _Content(
        revision=revision,
        added=tuple(sorted(added)),
        kept=tuple(sorted(kept)),
        pruned=tuple(pruned),
        unchanged=unchanged,
    )


def _place_packages(
    staging: Path, plans: Sequence[Plan], old: Sequence[RpmFile], inputs: RepoInputs, log: Path
) -> tuple[list[str], list[str]]:
    """Put every planned package into ``staging``; return (added, kept) relative paths.

    Unchanged packages are hard links to the previous generation's files; new or changed
    ones are copies, signed when signing.
    """
    old_by_name = {p.file_name: p for p in old}
    added: list[str] = []
    kept: list[str] = []
    to_sign: list[Path] = []
    for each in plans:
        for package in each.current:
            dest = staging / relpath(package)
            dest.parent.mkdir(exist_ok=True)
            before = old_by_name.get(package.file_name)
            if before is not None and reusable(package, before, inputs.fingerprints):
                link_or_copy(before.path, dest)
                kept.append(relpath(package))
                continue
            # A copy, never a link: rpmsign rewrites the file in place.
            shutil.copy2(package.path, dest)
            os.chmod(dest, 0o644)
            added.append(relpath(package))
            to_sign.append(dest)
        for package in each.history:
            dest = staging / relpath(package)
            dest.parent.mkdir(exist_ok=True)
            link_or_copy(package.path, dest)
            kept.append(relpath(package))
    if inputs.signing is not None:
        sign_rpms(to_sign, inputs.signing, log)
    for dest in to_sign:
        _make_mtime_distinct(dest, old_by_name.get(dest.name))
    return added, kept


def _write_metadata(
    staging: Path,
    previous: Path | None,
    plans: Sequence[Plan],
    revision: int,
    signing: SigningKey | None,
    log: Path,
) -> None:
    """createrepo_c for the binary repository and (when it has packages) the source one."""
    _createrepo(staging, previous, revision, log, source=False)
    if any(each.current or each.history for each in plans[1:]):
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


def _relpath_in(previous: Path | None, path: Path) -> str:
    return path.relative_to(previous).as_posix() if previous is not None else path.name


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


def _revision(previous: Path | None, plans: Sequence[Plan], unchanged: bool) -> int:
    """The repodata revision (a Unix time: --set-timestamp-to-revision needs one)."""
    before = _previous_revision(previous)
    if unchanged and before is not None:
        return before
    build_times = [p.buildtime for each in plans for p in (*each.current, *each.history)]
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
            and same_bytes(old_repomd, repodata / "repomd.xml")
            and detached_signature_valid(old_asc, repodata / "repomd.xml", signing)
        ):
            shutil.copy2(old_asc, repodata / "repomd.xml.asc")
            return
    sign_repomd(repodata, signing, log)

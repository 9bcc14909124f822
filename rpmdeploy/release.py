"""Stage 8, release: app directory -> verified yum repository, what `make rpms` runs.

pin (optional) -> every dependency RPM -> the app RPM -> a new repository generation with
the .repo file and Puppet manifest -> verify that generation (dnf installs the app into an
empty root, the WSGI application is called) -> swap it in.  Nothing reaches the published
repository unless every step succeeded: the generation is staged with
``rpmdeploy.repo.stage_repo``, verified, and only then committed.

Every repository carries the release's record (``rpmdeploy.record``), from which
``verify_published`` (``rpmdeploy verify``) checks it again later on its own, its release
history (``rpmdeploy-history.json``, ``rpmdeploy.releases``: what decides each package's
Release and changelog, read back from the published repository by the next release) and
every package's licence (``rpmdeploy-licenses.json``, ``rpmdeploy.licenses``).  With
``lint``, rpmlint checks every package before anything is published (``rpmdeploy.lint``).

A release is two steps, :func:`prepare_release` (build and check; nothing written to the
repository) and :func:`stage_release` (the new generation assembled and verified; its
``commit`` swaps it in), which :func:`release` runs back to back under the repository's lock;
a release of several targets (``rpmdeploy.multirelease``) runs them for every target, and
commits only once all of them verified.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy import htmlreport, licenses
from rpmdeploy.app import app_spec_context
from rpmdeploy.appbuild import build_app
from rpmdeploy.appmodel import App, AppOptions, load_app
from rpmdeploy.errors import RepoError, UsageError
from rpmdeploy.externals import HINTS_FILE
from rpmdeploy.lint import LintReport, lint
from rpmdeploy.pin import PINNED_FILE, PinOptions, compile_pins
from rpmdeploy.pipeline import (
    SILENT,
    PackageOutcome,
    Reporter,
    RpmsOptions,
    build_dependencies,
    build_session,
    published,
    run_log_dir,
    run_notes,
)
from rpmdeploy.puppet import render_puppet_manifest, render_repo_file
from rpmdeploy.record import RELEASE_FILE, ReleaseRecord
from rpmdeploy.releases import HISTORY_FILE, History, Published, check_conflicts
from rpmdeploy.repo import (
    RepoInputs,
    RepoReport,
    StagedRepo,
    canonical_repo_dir,
    check_outside,
    public_key_name,
    read_rpm,
    repo_inputs,
    repo_lock,
    stage_repo,
)
from rpmdeploy.repo.content import scan_previous
from rpmdeploy.repo.generations import tree_size
from rpmdeploy.repo.rpmfile import RpmFile
from rpmdeploy.sign import SigningKey
from rpmdeploy.targets import SYSTEM_PYTHON, Target, find_python, resolve_target
from rpmdeploy.verify import VerifyReport, base_provides_for, verify_repo, wsgi_check


@dataclass(frozen=True)
class ReleaseOptions:
    build: RpmsOptions
    app: AppOptions
    keep: int = 1
    signing: SigningKey | None = None
    base_url: str | None = None  # where servers reach the repo [file://REPO_DIR]
    verify: bool = True
    pin: PinOptions | None = None  # compile dependencies.in first
    lint: bool = False  # rpmlint every package before publishing (an error stops the release)


@dataclass(frozen=True)
class ReleaseReport:
    outcomes: tuple[PackageOutcome, ...]  # the dependencies, then the app
    repo: RepoReport | None  # None when a package failed: nothing was published
    verification: VerifyReport | None
    seconds: float
    licenses: tuple[licenses.Finding, ...] = ()  # the Python packages' licences
    lint: LintReport | None = None  # rpmlint's report, when asked for
    notes: tuple[str, ...] = ()  # said once in the summary (``pipeline.run_notes``)
    logs: Path | None = None  # the run's log directory

    @property
    def doubtful_licenses(self) -> list[str]:
        """One line per guessed or unknown licence."""
        return licenses.report_lines(self.licenses)

    @property
    def failed(self) -> tuple[PackageOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


def release(
    app_dir: Path, repo_dir: Path, options: ReleaseOptions, progress: Reporter = SILENT
) -> ReleaseReport:
    """Release ``app_dir`` into ``repo_dir``: prepared, staged, verified, swapped in."""
    # The repository lock is held from the start: a second release into the same REPO_DIR
    # fails at once instead of after its builds.
    check_outside(repo_dir, app_dir)
    _check_not_several_targets(repo_dir)
    with repo_lock(repo_dir):
        prepared = prepare_release(app_dir, canonical_repo_dir(repo_dir), options, progress)
        if prepared.inputs is None:
            return prepared.report
        with stage_release(prepared, progress) as staged:
            return staged.commit()


def _check_not_several_targets(repo_dir: Path) -> None:
    """A release of several targets' OUT (``puppet/`` beside one repository per target) is
    not a repository: publishing one target there would adopt the whole tree as hand-made."""
    if repo_dir.is_symlink() or not (repo_dir / "puppet").is_dir():
        return
    targets = sorted(
        p.name
        for p in repo_dir.iterdir()
        if not p.name.startswith(".") and (p / RELEASE_FILE).is_file()  # not generations
    )
    if targets:
        raise UsageError(
            f"{repo_dir} holds a release of several targets ({', '.join(targets)}): release "
            f"them again with --targets, or one of them into {repo_dir}/<target>"
        )


@dataclass(frozen=True)
class PreparedRelease:
    """A release built and checked, not yet published: what :func:`stage_release` stages.

    ``inputs`` is None when there is nothing to stage: a package failed, rpmlint found
    errors (``report.repo`` is None: nothing is published), or nothing changed
    (``report.repo`` is the published repository's report, kept as it is).
    """

    app_dir: Path
    repo_dir: Path  # canonical (rpmdeploy.repo.canonical_repo_dir)
    options: ReleaseOptions
    report: ReleaseReport  # so far: the packages, licences, lint
    inputs: RepoInputs | None
    record: ReleaseRecord | None
    logs: Path
    started: float


def prepare_release(
    app_dir: Path, repo_dir: Path, options: ReleaseOptions, progress: Reporter = SILENT
) -> PreparedRelease:
    """Pin (when asked), build every package and the app, lint, and read what would be
    published, checked against what is published; the caller holds ``repo_lock(repo_dir)``
    and passes the canonical ``repo_dir``.  Nothing is written to the repository."""
    started = time.monotonic()
    build = options.build
    logs = run_log_dir(build)

    notes: tuple[str, ...] = ()

    def done(report: ReleaseReport) -> PreparedRelease:
        return PreparedRelease(app_dir, repo_dir, options, report, None, None, logs, started)

    def report(repo: RepoReport | None = None, linted: LintReport | None = None) -> ReleaseReport:
        seconds = time.monotonic() - started
        return ReleaseReport(tuple(outcomes), repo, None, seconds, found, linted, notes, logs)

    if options.pin is not None:
        resolver = options.pin.resolver or "the app's resolver"
        progress.stage(f"pinning dependencies.in ({resolver})")
        compile_pins(app_dir, build.target, options.pin, logs / "pin.log")
    loaded = load_app(app_dir, build.target, options.app)
    for note in missing_externals_note(loaded):
        progress.stage(f"note: {note}")
    # The app's own checks (bin/wsgiapp, version, external dependencies) before any build.
    app_spec_context(loaded, build.target)
    # Read once: the lock is held, so the published repository cannot change meanwhile.
    existing = _published_packages(repo_dir)
    history = published_history(repo_dir, existing)
    with build_session(loaded, build, progress, history=history, logs=logs) as session:
        outcomes = build_dependencies(session)
        progress.stage("building the app RPM")
        app = build_app(session, exclude=repo_dir)
        notes = run_notes(session)
    outcomes.append(app)
    progress.package(app, len(outcomes), len(outcomes))
    found = tuple(o.license for o in outcomes if o.license is not None)
    if any(o.status in ("failed", "skipped") for o in outcomes):
        return done(report())
    if build.metadata.strict_licenses:
        licenses.check_strict(found)
    linted = _lint(outcomes, logs, progress) if options.lint else None
    if linted is not None and linted.errors:
        return done(report(linted=linted))

    record = _record(loaded, app, options)
    so_far = report(linted=linted)
    inputs = repo_inputs(
        [r for o in published(outcomes) for r in o.rpms],
        [o.srpm for o in published(outcomes) if o.srpm is not None],
        keep=options.keep,
        signing=options.signing,
        extra_files={
            **_extra_files(record, repo_dir, options),
            HISTORY_FILE: history.to_json(),
            licenses.LICENSES_FILE: licenses.findings_json(found),
            htmlreport.REPORT_FILE: _html_report(loaded, so_far, repo_dir, options),
        },
    )
    check_published(inputs, existing)
    unchanged = _unchanged_repo(inputs, repo_dir, existing, options)
    if unchanged is not None:
        # Same packages, same record, history and manifests as what is published and was
        # verified when it was: nothing to verify or publish again.
        progress.stage("nothing changed: the published repository is up to date (kept as is)")
        return done(report(unchanged, linted))
    return PreparedRelease(app_dir, repo_dir, options, so_far, inputs, record, logs, started)


class StagedRelease:
    """A prepared release's new generation, assembled and verified (when asked): ``commit``
    swaps it in.  Made by :func:`stage_release` only."""

    def __init__(
        self, prepared: PreparedRelease, staged: StagedRepo, verification: VerifyReport | None
    ) -> None:
        self.prepared = prepared
        self.staged = staged
        self.verification = verification

    def commit(self) -> ReleaseReport:
        """Publish the generation (one rename of the REPO_DIR link); the release's report."""
        repo = self.staged.commit()
        report = self.prepared.report
        seconds = time.monotonic() - self.prepared.started
        return dataclasses.replace(
            report, repo=repo, verification=self.verification, seconds=seconds
        )


@contextmanager
def stage_release(
    prepared: PreparedRelease, progress: Reporter = SILENT
) -> Iterator[StagedRelease]:
    """Assemble ``prepared``'s new generation beside its repository and verify it there.

    Unless the block commits it, the generation is removed when the block ends (a failed
    verification raises before the block runs) and the published repository stays as it was.
    The caller holds the repository's lock.
    """
    if prepared.inputs is None or prepared.record is None:
        raise RepoError(f"{prepared.repo_dir}: nothing to publish")
    options, record = prepared.options, prepared.record
    progress.stage(
        "publishing the repository" + (" (verifying it before the swap)" if options.verify else "")
    )
    # The new generation is verified where it will be served from, before the swap: if
    # verify fails, leaving the block discards it and the published repository stays as it
    # was.
    logs = prepared.logs
    with stage_repo(prepared.repo_dir, prepared.inputs, logs / "repo.log") as staged:
        verification: VerifyReport | None = None
        if options.verify:
            # The generation's key file has the repository's name, not the generation's.
            key = staged.path / public_key_name(prepared.repo_dir) if record.signed else None
            verification = _verify(
                staged.path, record, options.build.target, key, logs / "verify.log"
            )
        yield StagedRelease(prepared, staged, verification)


def _unchanged_repo(
    inputs: RepoInputs, repo_dir: Path, existing: Sequence[RpmFile], options: ReleaseOptions
) -> RepoReport | None:
    """The published repository's report when the new generation would be the same, else None.

    The same: every package to publish is there with the same header (a signature added when
    publishing does not count), the signing is the same, and every extra file but the
    report (which records times) has the same bytes.
    """
    if not repo_dir.is_symlink() or not repo_dir.is_dir():
        return None
    current = Path(os.path.realpath(repo_dir))
    published = {p.file_name: p for p in existing}
    for package in (*inputs.binary, *inputs.source):
        there = published.get(package.file_name)
        if there is None or there.header_sha256 != package.header_sha256:
            return None
        if (options.signing is not None) != (there.signer is not None):
            return None
    for name, text in inputs.extra_files.items():
        if name == htmlreport.REPORT_FILE:
            continue
        path = current / name
        if not path.is_file() or path.read_text(errors="replace") != text:
            return None
    names = sorted(published)
    return RepoReport(
        path=repo_dir,
        generation=current,
        revision=0,
        added=(),
        kept=tuple(names),
        pruned=(),
        total_size=tree_size(current),
        signed=options.signing is not None,
        unchanged=True,
    )


def missing_externals_note(app: App) -> list[str]:
    """The one note a standard app directory without external-dependencies.txt gets."""
    if app.externals is None or (app.path / HINTS_FILE).is_file():
        return []
    return [f"no {HINTS_FILE}: no system packages required"]


def published_history(repo_dir: Path, existing: Sequence[RpmFile]) -> History:
    """The release history of the published repository, knowing every release it holds
    (``existing``: its packages)."""
    history = History.load(repo_dir / HISTORY_FILE)
    history.seed(
        (p.name, f"{p.epoch}:{p.version}" if p.epoch != "0" else p.version, p.release)
        for p in existing
    )
    return history


def check_published(inputs: RepoInputs, existing: Sequence[RpmFile]) -> None:
    """Refuse a package whose NEVR is published already (``existing``) with other content."""
    new = [Published(p.file_name, p.header_sha256) for p in (*inputs.binary, *inputs.source)]
    check_conflicts(new, [Published(p.file_name, p.header_sha256) for p in existing])


def _published_packages(repo_dir: Path) -> list[RpmFile]:
    if not repo_dir.is_dir():
        return []
    previous = Path(os.path.realpath(repo_dir))
    return [*scan_previous(previous, source=False), *scan_previous(previous, source=True)]


def _lint(outcomes: list[PackageOutcome], logs: Path, progress: Reporter) -> LintReport:
    paths = [p for o in published(outcomes) for p in (*o.rpms, *([o.srpm] if o.srpm else []))]
    progress.stage(f"rpmlint on {len(paths)} packages")
    return lint(paths, logs / "rpmlint.log")


def verify_published(repo_dir: Path, log: Path, key: Path | None = None) -> VerifyReport:
    """`rpmdeploy verify`: check a repository published by `release`, as it is now.

    Trusts only the repository's contents and the operator: with ``key`` (the key your
    servers trust), every package and the repodata must be signed by it, whatever the
    repository says of itself.  Without it, a repository that ships a public key is checked
    against that key, and the report says that such a key vouches only for itself.  The
    release record names the app and the target; nothing it names is executed (the host
    target is read off this machine's own python3, not an interpreter the record names).
    """
    record = ReleaseRecord.load(repo_dir)
    shipped = repo_dir / public_key_name(repo_dir)
    if key is not None:
        return _verify(repo_dir, record, _record_target(record), key, log)
    if not shipped.is_file():
        return _verify(repo_dir, record, _record_target(record), None, log)
    report = _verify(repo_dir, record, _record_target(record), shipped, log)
    caveat = (
        "; checked only against the key shipped inside the repository, which vouches for "
        "itself: pass --key with the key your servers trust"
    )
    return dataclasses.replace(report, signatures=report.signatures + caveat)


def _record_target(record: ReleaseRecord) -> Target:
    """The target a record names; a host target is this machine's python3 (never an
    interpreter the record names: the record is the repository's, not the operator's)."""
    return resolve_target(record.target, SYSTEM_PYTHON if record.target == "host" else None)


def _record(loaded: App, app: PackageOutcome, options: ReleaseOptions) -> ReleaseRecord:
    target = options.build.target
    package = read_rpm(app.rpms[0])
    evr = f"{package.version}-{package.release}"
    return ReleaseRecord(
        app=app.name,
        evr=evr if package.epoch == "0" else f"{package.epoch}:{evr}",
        install_dir=options.app.settings.install_dir,
        target=target.name,
        python=target.interpreter,
        site_dirs=tuple(dict.fromkeys((target.purelib, target.platlib)))
        if target.namespaced
        else (),
        assumed_packages=tuple(loaded.needs_externals().runtime_packages),
        assume=loaded.assume,
        signed=options.signing is not None,
    )


def repo_urls(repo_dir: Path, options: ReleaseOptions) -> tuple[str, str | None]:
    """Where servers reach the repository (``--base-url``, else ``file://REPO_DIR``) and its
    public key (None when not signing)."""
    base_url = options.base_url or Path(os.path.abspath(repo_dir)).as_uri()
    signed = options.signing is not None
    return base_url, f"{base_url.rstrip('/')}/{public_key_name(repo_dir)}" if signed else None


def _extra_files(record: ReleaseRecord, repo_dir: Path, options: ReleaseOptions) -> dict[str, str]:
    base_url, key_url = repo_urls(repo_dir, options)
    template_dir = options.build.template_dir
    return {
        f"{record.app}.repo": render_repo_file(
            record.app, base_url, record.signed, key_url, template_dir=template_dir
        ),
        f"puppet/{record.app}.pp": render_puppet_manifest(
            record.app,
            record.app,
            record.evr,
            base_url,
            record.signed,
            key_url,
            record.app,
            template_dir=template_dir,
        ),
        RELEASE_FILE: record.to_json(),
    }


def _html_report(app: App, report: ReleaseReport, repo_dir: Path, options: ReleaseOptions) -> str:
    """report.html of the generation: its log links are file:// URLs (logs stay in the cache)."""
    pinned = app.path / PINNED_FILE
    text = pinned.read_text(encoding="utf-8") if pinned.is_file() else ""
    return htmlreport.release_report(report, text, repo_dir, options.build.template_dir)


def _verify(
    repo: Path, record: ReleaseRecord, target: Target, key: Path | None, log: Path
) -> VerifyReport:
    # An interpreter of the target's X.Y, when this machine has one (pyenv's, say), runs
    # the WSGI check; otherwise the report says the check was skipped.
    pythons = find_python(target.python_version, (SYSTEM_PYTHON,))
    return verify_repo(
        repo,
        record.app,
        target,
        base_provides=base_provides_for(target),
        assumed_packages=record.assumed_packages,
        assume=record.assume,
        check_signatures=key is not None,
        gpg_key=key,
        import_check=wsgi_check(record.install_dir, record.site_dirs),
        log=log,
        interpreter=pythons[0] if pythons else SYSTEM_PYTHON,
    )

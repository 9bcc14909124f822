"""The ``rpms`` pipeline: pinned set -> one SRPM + RPM per pin, cached, in dependency order.

fetch -> wheel -> inspect -> render (prepare) -> schedule -> build, composed here; each
stage is its own module.  One run opens one builder (:func:`build_session`) and uses it for
every package and the app.  A package's build is cached under a key of everything that
decides its result (``buildcache``), so an unchanged package is never rebuilt.  A failing
package does not stop the others; the packages whose builds need it are skipped, naming it.
The output directory only receives files when every package succeeded.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from packaging.utils import canonicalize_name

from rpmdeploy import __version__, buildcache, elfcheck, licenses, pynames, scheduler
from rpmdeploy.app import mapping_distro
from rpmdeploy.appmodel import App
from rpmdeploy.builders import (
    Builder,
    BuilderContext,
    BuildRequest,
    BuildResult,
    builder_class,
    level_builder,
    open_builder,
)
from rpmdeploy.cache import Cache, stable_key
from rpmdeploy.changelog import describe_package
from rpmdeploy.errors import RpmdeployError
from rpmdeploy.externals import load_mapping, map_hints
from rpmdeploy.fetch import Artifact, FetchOptions, fetch_artifacts
from rpmdeploy.metadata import read_wheel_metadata
from rpmdeploy.outdir import publish
from rpmdeploy.pin import Pin, PinnedSet
from rpmdeploy.releases import HISTORY_FILE, History, Planned
from rpmdeploy.render import render
from rpmdeploy.settings import DEFAULT_SOURCE_DATE_EPOCH
from rpmdeploy.specs import (
    PACKAGE_TEMPLATE,
    WHEEL_TOOL,
    MetadataOptions,
    binary_name,
    spec_context,
    templates_fingerprint,
    wheel_tool_source,
)
from rpmdeploy.sysdeps import known_packages, package_hints, system_build_requires
from rpmdeploy.targets import Target
from rpmdeploy.versions import rpm_tag_version
from rpmdeploy.wheelfiles import check_wheel_members
from rpmdeploy.wheels import WheelContext, wheel_for

Status = Literal["built", "cached", "failed", "skipped"]


@dataclass(frozen=True)
class RpmsOptions:
    target: Target
    cache: Cache
    jobs: int = 1
    fetch: FetchOptions = field(default_factory=FetchOptions)
    template_dir: Path | None = None
    builder: str = "rpmbuild"
    builder_settings: Mapping[str, str] = field(default_factory=dict)
    source_date_epoch: int = DEFAULT_SOURCE_DATE_EPOCH
    metadata: MetadataOptions = field(default_factory=MetadataOptions)  # packager, licences
    # [packages.NAME] external: system dependency hints per package (rpmdeploy.sysdeps)
    package_externals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PackageOutcome:
    name: str  # binary package name
    version: str  # as the user knows it (PEP 440 for Python packages)
    status: Status
    srpm: Path | None = None
    rpms: tuple[Path, ...] = ()
    log: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    note: str | None = None  # something the user should know (a damaged cache entry rebuilt)
    # A pinned build dependency, built only so that later builds find it (a builder that
    # builds in the target installs it from its local repository): never published.
    build_only: bool = False
    artifact: str | None = None  # the wheel or sdist it was built from (file name)
    license: licenses.Finding | None = None  # a Python package's licence, and how sure

    @property
    def source(self) -> Literal["wheel", "sdist"] | None:
        """What it was built from: a wheel, or an sdist compiled by the builder (None: the
        app, or nothing known)."""
        if not self.artifact:
            return None
        return "wheel" if self.artifact.endswith(".whl") else "sdist"


def from_sdists(outcomes: Sequence[PackageOutcome]) -> list[str]:
    """The packages built from their sdists (the others came from wheels), for the summary."""
    return [o.name for o in outcomes if o.source == "sdist" and not o.build_only]


@dataclass(frozen=True)
class RpmsReport:
    outcomes: tuple[PackageOutcome, ...]
    out: Path | None
    seconds: float
    # What the run summary says once, not per package (no bytecode: no interpreter of the
    # target's version on this machine), from ``run_notes``.
    notes: tuple[str, ...] = ()
    logs: Path | None = None  # the run's log directory (fetch, repo, verify; not per package)

    @property
    def failed(self) -> tuple[PackageOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status in ("failed", "skipped"))


class Reporter(Protocol):
    """Where a long run says what it is doing (the CLI prints; the library never does)."""

    def stage(self, message: str) -> None: ...

    def started(self, name: str, version: str) -> None:
        """A package's build begins (a heartbeat may follow until ``package`` says it ended)."""
        ...

    def package(self, outcome: PackageOutcome, done: int, total: int) -> None: ...


class Silent:
    def stage(self, message: str) -> None:
        pass

    def started(self, name: str, version: str) -> None:
        pass

    def package(self, outcome: PackageOutcome, done: int, total: int) -> None:
        pass


SILENT = Silent()


# --- one run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSession:
    """One run: the app, its options, the opened builder, where its logs go."""

    app: App
    options: RpmsOptions
    builder: Builder
    wheels: WheelContext
    artifacts: Mapping[str, Artifact]
    logs: Path  # logs of this run that are not one package's own (fetch, repo, verify)
    progress: Reporter = SILENT
    # Work directories made in this run; whatever is left of them when the run ends
    # (interrupted, say) is removed.
    workdirs: set[Path] = field(default_factory=set)
    # Pinned build dependencies built in this run (for a builder that builds in the target).
    build_pins: tuple[Pin, ...] = ()
    # Release numbers and changelogs (rpmdeploy.releases), updated as packages are planned.
    history: History = field(default_factory=History)


@contextmanager
def build_session(
    app: App,
    options: RpmsOptions,
    progress: Reporter = SILENT,
    *,
    fetch: bool = True,
    history: History | None = None,
    logs: Path | None = None,
) -> Iterator[BuildSession]:
    """Fetch the pinned artifacts (``fetch``) and open the builder, once for the whole run.

    ``logs``: the run's log directory (default: a new one, ``run_log_dir``)."""
    pynames.check_distinct((pin.name for pin in app.pins.pins), options.target)
    logs = logs or run_log_dir(options)
    artifacts: dict[str, Artifact] = {}
    if fetch and app.pins.pins:
        progress.stage(f"fetching {len(app.pins.pins)} pinned artifacts (hash-checked, cached)")
        artifacts = fetch_artifacts(
            app.pins,
            options.target,
            _fetch_options(app, options),
            options.cache,
            logs / "fetch.log",
        )
    in_target = builder_class(options.builder).capabilities.in_target
    build_pins = _build_pins(app) if fetch and in_target else ()
    if build_pins and app.build_pins is not None:
        # Built first, found by later builds in the chroot; kept out of what is published.
        progress.stage(f"fetching {len(build_pins)} pinned build dependencies")
        pinned = PinnedSet(build_pins, app.build_pins.index, app.build_pins.source)
        artifacts.update(
            fetch_artifacts(
                pinned, options.target, options.fetch, options.cache, logs / "fetch.log"
            )
        )
    wheels = WheelContext(options.target, options.cache, app.pins, artifacts, in_target)
    context = BuilderContext(
        target=options.target,
        cache=options.cache,
        jobs=options.jobs,
        settings=options.builder_settings,
        build_environment=wheels.build_environment,
    )
    with open_builder(options.builder, context) as builder:
        session = BuildSession(app, options, builder, wheels, artifacts, logs, progress)
        session = dataclasses.replace(session, history=history or History(), build_pins=build_pins)
        try:
            yield session
        finally:
            for workdir in list(session.workdirs):
                shutil.rmtree(workdir, ignore_errors=True)


def _fetch_options(app: App, options: RpmsOptions) -> FetchOptions:
    """The run's no-binary set plus the sdists ``rpmdeploy pin`` recorded in
    build-dependencies.txt: what was pinned as an sdist (``pin --no-binary``) is built from
    it, as its pinned build dependencies were resolved for, even when not asked again."""
    record = app.build_pins.pinned_for if app.build_pins is not None else None
    if record is None or not record.sdists:
        return options.fetch
    names = {canonicalize_name(s.split("==", 1)[0]) for s in record.sdists}
    return dataclasses.replace(options.fetch, no_binary=options.fetch.no_binary | names)


def _build_pins(app: App) -> tuple[Pin, ...]:
    """The app's pinned build dependencies that are not run-time pins already."""
    if app.build_pins is None:
        return ()
    runtime = {pin.name for pin in app.pins.pins}
    return tuple(pin for pin in app.build_pins.pins if pin.name not in runtime)


def published(outcomes: Sequence[PackageOutcome]) -> list[PackageOutcome]:
    """What goes into a repository or --out: everything but build-only packages."""
    return [o for o in outcomes if not o.build_only]


def run_log_dir(options: RpmsOptions) -> Path:
    """A directory for the logs of one run that are not a package's own (fetch, repo)."""
    return options.cache.new_log_dir()


def build_rpms(
    app: App, out: Path, options: RpmsOptions, progress: Reporter = SILENT
) -> RpmsReport:
    """Build every pin of the app into ``out`` (RPMS/, SRPMS/, logs/)."""
    started = time.monotonic()
    history = History.load(out / HISTORY_FILE)
    with build_session(app, options, progress, history=history) as session:
        outcomes = build_dependencies(session)
        notes = run_notes(session)
        logs = session.logs
    written = None
    if not any(o.status in ("failed", "skipped") for o in outcomes):
        if options.metadata.strict_licenses:
            licenses.check_strict(o.license for o in outcomes if o.license is not None)
        publish(published(outcomes), out, history)
        found = [o.license for o in outcomes if o.license is not None]
        (out / licenses.LICENSES_FILE).write_text(licenses.findings_json(found))
        written = out
    return RpmsReport(tuple(outcomes), written, time.monotonic() - started, notes, logs)


def run_notes(session: BuildSession) -> tuple[str, ...]:
    """What the run's summary should say once: the builder's notes (the host's rpmbuild:
    no interpreter of the target's Python version here, so no bytecode)."""
    return tuple(getattr(session.builder, "notes", ()))


# --- the pinned packages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A package prepared for its builder: its request, where it builds, how it is cached."""

    name: str
    version: str
    key: str
    request: BuildRequest
    workdir: Path
    weight: int
    started: float
    note: str | None = None
    # Run on the finished build before it is cached; raises RpmdeployError when the result
    # is unusable (compiled here for another target and not fitting it: ``fit_check``).
    check: Callable[[BuildResult], None] | None = None


def build_dependencies(session: BuildSession) -> list[PackageOutcome]:
    """Build every pin of the session's app (no publishing); outcomes in pin order, then the
    pinned build dependencies a builder in the target needs (``build_only``)."""
    pins = (*session.app.pins.pins, *session.build_pins)
    build_only = {pin.name for pin in session.build_pins}
    options = session.options
    fingerprint = templates_fingerprint(options.template_dir)
    counter = _Counter(session.progress, len(pins))
    session.progress.stage(
        f"building {len(pins)} packages with {session.builder.name}, {options.jobs} at a time"
    )
    outcomes: dict[str, PackageOutcome] = {}
    cached: list[BuildResult] = []
    pending: list[Pin] = []
    notes: dict[str, str] = {}
    # Releases are planned in pin order, here, so the history's entries come in that order.
    plans = {p.name: plan_package(session, session.artifacts[p.name], fingerprint) for p in pins}
    for pin in pins:
        key = plans[pin.name][0]
        found = buildcache.lookup(options.cache, key, binary_name(pin.name, options.target))
        hit = found.build
        if hit is None:
            pending.append(pin)
            if found.problem:
                notes[pin.name] = found.problem
            continue
        outcomes[pin.name] = counter.report(_outcome(hit, pin.version, "cached", 0.0))
        cached.append(BuildResult(hit.srpm, hit.rpms, hit.log))
    if cached:
        session.builder.provide(cached)

    def prepare(pin: Pin) -> Job | PackageOutcome:
        artifact = session.artifacts[pin.name]
        key, planned = plans[pin.name]
        return _prepare(
            session,
            binary_name(pin.name, options.target),
            pin.version,
            key,
            lambda workdir, log: _package_request(session, artifact, workdir, log, key, planned),
            weight=artifact.path.stat().st_size,
            note=notes.get(pin.name),
            check=fit_check(session, artifact),
        )

    jobs: list[Job] = []
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        for pin, prepared in zip(pending, pool.map(prepare, pending), strict=True):
            if isinstance(prepared, Job):
                jobs.append(prepared)
            else:
                outcomes[pin.name] = counter.report(prepared)
    by_name = {binary_name(p.name, options.target): p.name for p in pins}
    failed = {binary_name(n, options.target) for n, o in outcomes.items() if o.status == "failed"}
    for name, outcome in run_jobs(session, jobs, failed, counter).items():
        outcomes[by_name[name]] = outcome
    done = [_with_license(session, outcomes[p.name], plans[p.name][0]) for p in pins]
    return [
        dataclasses.replace(
            o, build_only=p.name in build_only, artifact=session.artifacts[p.name].filename
        )
        for o, p in zip(done, pins, strict=True)
    ]


def run_jobs(
    session: BuildSession, jobs: Sequence[Job], failed: set[str], counter: _Counter
) -> dict[str, PackageOutcome]:
    """Build prepared jobs level by level; a job whose build needs a failed one is skipped."""
    by_name = {job.name: job for job in jobs}
    units = [
        scheduler.Unit(
            job.name,
            frozenset(scheduler.capability_name(p) for p in job.request.provides),
            frozenset(scheduler.capability_name(r) for r in job.request.build_requires),
            job.weight,
        )
        for job in jobs
    ]
    builder = session.builder
    outcomes: dict[str, PackageOutcome] = {}
    try:
        levels = (
            scheduler.levels(units) if builder.capabilities.ordered else scheduler.one_level(units)
        )
    except RpmdeployError as exc:
        for job in jobs:
            outcomes[job.name] = counter.report(_failure(session, job, exc.message))
        return outcomes
    needs = scheduler.dependencies(units)
    unavailable = set(failed)
    for level in levels:
        runnable = []
        for unit in level:
            job = by_name[unit.name]
            blocker = scheduler.blocked_by(unit.name, needs, unavailable)
            if blocker is not None:
                shutil.rmtree(job.workdir, ignore_errors=True)
                outcomes[job.name] = counter.report(
                    PackageOutcome(
                        job.name,
                        job.version,
                        "skipped",
                        error=f"not built: it needs {blocker}, which failed",
                    )
                )
                unavailable.add(job.name)
            else:
                runnable.append(job)
        done = []
        for job, (outcome, result) in _build_level(session, runnable):
            outcomes[job.name] = counter.report(outcome)
            if result is None:
                unavailable.add(job.name)
            else:
                done.append(result)
        if done:
            builder.provide(done)
    return outcomes


def package_inputs(artifact: Artifact, fingerprint: str, options: RpmsOptions) -> dict[str, str]:
    """What goes into a package's RPM besides its release: its release fingerprint."""
    return {
        "artifact": artifact.sha256,
        "artifact_name": artifact.filename,
        "extras": ",".join(sorted(artifact.pin.extras)),
        "templates": fingerprint,
        "target": options.target.cache_identity(),
        "rpmdeploy": __version__,
        "builder": options.builder,
        # Where and how it builds: the mock config, the Copr project and chroot, ...  Two Copr
        # projects sharing a cache must each get their builds (the copr builder reuses what
        # its project already has, so a miss costs a query, not a build).
        "builder_settings": "\n".join(
            f"{k}={v}" for k, v in sorted(options.builder_settings.items())
        ),
        "license": options.metadata.package_licenses.get(artifact.pin.name, ""),
        "source_url": getattr(artifact, "url", "") or "",
        # What decides its system BuildRequires (an sdist only): the app's hints for it and
        # rpmdeploy's table entry (rpmdeploy.sysdeps).
        "system": ""
        if artifact.is_wheel
        else "|".join(
            (
                *options.package_externals.get(artifact.pin.name, ()),
                *known_packages().get(artifact.pin.name, ()),
            )
        ),
    }


def package_cache_key(
    artifact: Artifact, fingerprint: str, options: RpmsOptions, planned: Planned | None = None
) -> str:
    when = planned.key if planned is not None else options.source_date_epoch
    return stable_key("package", package_inputs(artifact, fingerprint, options), when)


def plan_package(
    session: BuildSession, artifact: Artifact, fingerprint: str
) -> tuple[str, Planned]:
    """A package's release in this run (``rpmdeploy.releases``) and its build cache key."""
    options = session.options
    inputs = package_inputs(artifact, fingerprint, options)
    version = rpm_tag_version(artifact.pin.version).evr
    planned = session.history.plan(
        binary_name(artifact.pin.name, options.target),
        version,
        inputs,
        date=options.source_date_epoch,
        packager=options.metadata.packager,
        describe=lambda previous: describe_package(
            previous.record() if previous else None,
            version,
            artifact.pin.version,
            inputs,
            artifact.filename,
        ),
        facts={"upstream": artifact.pin.version},
    )
    return package_cache_key(artifact, fingerprint, options, planned), planned


def _with_license(session: BuildSession, outcome: PackageOutcome, key: str) -> PackageOutcome:
    """The outcome with its package's licence, as recorded when its spec was made."""
    found = session.options.cache.read_json("licenses", f"{key}.json")
    lic = licenses.finding_from_json(found) if found else None
    if lic is None:
        return outcome
    return dataclasses.replace(
        outcome, license=licenses.Finding(outcome.name, outcome.version, lic)
    )


def _package_request(
    session: BuildSession,
    artifact: Artifact,
    workdir: Path,
    log: Path,
    key: str,
    planned: Planned,
) -> BuildRequest:
    target = session.options.target
    wheel = wheel_for(artifact, session.wheels, log)
    if artifact.is_wheel:  # an sdist's wheel is made in %build, where the wheel tool checks it
        check_wheel_members(wheel.path, artifact.pin.requirement)
    meta = read_wheel_metadata(wheel.path, wheel.is_pure)
    ctx = spec_context(meta, artifact, wheel, target, planned, session.options.metadata)
    if not artifact.is_wheel:  # compiled here: the SRPM names the system's headers it needs
        distro = mapping_distro(target, None)[0]
        extra = session.options.package_externals.get(artifact.pin.name, ())
        system = system_build_requires(meta.name, artifact.path, distro, session.app.path, extra)
        ctx = dataclasses.replace(ctx, build_requires=(*ctx.build_requires, *system))
    session.options.cache.write_json(licenses.to_json(ctx.license_info), "licenses", f"{key}.json")
    spec = workdir / f"{ctx.source_name}.spec"
    spec.write_text(render(PACKAGE_TEMPLATE, ctx, session.options.template_dir))
    tool = workdir / WHEEL_TOOL
    shutil.copyfile(wheel_tool_source(), tool)
    return BuildRequest(
        label=f"{ctx.binary_name} {meta.version}",
        spec=spec,
        sources=(artifact.path, tool),
        source_date_epoch=planned.date,
        provides=ctx.provides,
        build_requires=ctx.build_requires,
        python_build_requires=None if artifact.is_wheel else wheel.build_requires,
    )


def fit_check(session: BuildSession, artifact: Artifact) -> Callable[[BuildResult], None] | None:
    """For an sdist compiled by a builder outside the target (the host's rpmbuild building
    for rocky-9): the check that its ELF files fit the target (``rpmdeploy.elfcheck``).
    None where nothing is compiled, or where the build ran inside the target or for the
    host itself."""
    target = session.options.target
    glibc = target.glibc
    if artifact.is_wheel or glibc is None or session.builder.capabilities.in_target:
        return None

    def check(result: BuildResult) -> None:
        baseline = elfcheck.baseline(
            target.name,
            target.arch,
            glibc,
            target.python_version,
            _mapped_externals(session, artifact),
        )
        label = f"{binary_name(artifact.pin.name, target)} {artifact.pin.version}"
        binaries = [r for r in result.rpms if not r.name.endswith(".noarch.rpm")]
        elfcheck.check_rpms(label, binaries, baseline)

    return check


def _mapped_externals(
    session: BuildSession, artifact: Artifact
) -> list[tuple[str | None, tuple[str, ...]]]:
    """(table key, run-time packages) of the package's system dependencies on the target
    (rpmdeploy.sysdeps' hints, mapped as for its BuildRequires)."""
    options = session.options
    distro = mapping_distro(options.target, None)[0]
    extra = options.package_externals.get(artifact.pin.name, ())
    hints = package_hints(artifact.pin.name, artifact.path, extra)
    mapped = map_hints(hints, distro, load_mapping(session.app.path), strict=False)
    return [(m.key, m.run) for m in mapped]


# --- preparing and building one package --------------------------------------------------------


Prepare = Callable[[Path, Path], BuildRequest]


def _prepare(
    session: BuildSession,
    name: str,
    version: str,
    key: str,
    prepare: Prepare,
    weight: int = 0,
    note: str | None = None,
    check: Callable[[BuildResult], None] | None = None,
) -> Job | PackageOutcome:
    """Write a package's spec and sources into a fresh work directory (its request)."""
    started = time.monotonic()
    cache = session.options.cache
    workdir = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache.dir("builds")))
    session.workdirs.add(workdir)
    log = workdir / "build.log"
    try:
        request = prepare(workdir, log)
    except Exception as exc:  # noqa: BLE001 - one package's failure must not hide the others
        message = _message(exc, log)
        with log.open("a") as f:  # the package's log says why, even when nothing ran
            f.write(f"rpmdeploy: {message}\n")
        kept = buildcache.keep_failure(cache, key, workdir)
        seconds = time.monotonic() - started
        return PackageOutcome(
            name, version, "failed", log=kept, error=message, seconds=seconds, note=note
        )
    return Job(name, version, key, request, workdir, weight, started, note, check)


def _build_level(
    session: BuildSession, jobs: Sequence[Job]
) -> Iterator[tuple[Job, tuple[PackageOutcome, BuildResult | None]]]:
    """One level's jobs with their outcomes, each as it finishes: the builder's own
    ``build_level`` when it takes levels whole (a build farm), else ``--jobs`` workers."""
    whole = level_builder(session.builder)
    if not jobs:
        return
    if whole is None:
        with ThreadPoolExecutor(max_workers=max(1, session.options.jobs)) as pool:
            yield from zip(jobs, pool.map(lambda j: _build(session, j), jobs), strict=True)
        return
    left = dict(enumerate(jobs))
    for job in jobs:
        session.progress.started(job.name, job.version)
    work = [(job.request, job.workdir) for job in jobs]
    for index, built in whole.build_level(work, session.progress.stage):
        if index in left:
            job = left.pop(index)
            yield job, _finish(session, job, built)
    for job in left.values():  # a job the builder said nothing about did not build
        yield job, (_failure(session, job, "the builder returned no result for it"), None)


def _build(session: BuildSession, job: Job) -> tuple[PackageOutcome, BuildResult | None]:
    """Build one prepared job and cache the result; a failure is an outcome, not an exception."""
    session.progress.started(job.name, job.version)
    try:
        result = session.builder.build(job.request, job.workdir)
    except Exception as exc:  # noqa: BLE001 - one package's failure must not hide the others
        return _finish(session, job, exc)
    return _finish(session, job, result)


def _finish(
    session: BuildSession, job: Job, built: BuildResult | Exception
) -> tuple[PackageOutcome, BuildResult | None]:
    """Cache a finished job's result (a failure's log is kept) and say how it went."""
    if isinstance(built, Exception):
        return _failure(session, job, _message(built, job.workdir / "build.log")), None
    result = built
    if job.check is not None:
        try:
            job.check(result)
        except Exception as exc:  # noqa: BLE001 - one package's failure must not hide the others
            message = _message(exc, job.workdir / "build.log")
            with (job.workdir / "build.log").open("a") as f:
                f.write(f"rpmdeploy: {message}\n")
            return _failure(session, job, message), None
    stored = buildcache.store(session.options.cache, job.key, job.name, result, job.request.spec)
    shutil.rmtree(job.workdir, ignore_errors=True)
    seconds = time.monotonic() - job.started
    outcome = dataclasses.replace(_outcome(stored, job.version, "built", seconds), note=job.note)
    return outcome, BuildResult(stored.srpm, stored.rpms, stored.log)


def _failure(session: BuildSession, job: Job, message: str) -> PackageOutcome:
    log = buildcache.keep_failure(session.options.cache, job.key, job.workdir)
    return PackageOutcome(
        job.name,
        job.version,
        "failed",
        log=log,
        error=message,
        seconds=time.monotonic() - job.started,
        note=job.note,
    )


def _message(exc: Exception, log: Path) -> str:
    """A failure's one line; an unexpected exception's traceback goes to the package's log."""
    if isinstance(exc, RpmdeployError):
        # The summary names the kept log itself; the path inside the error is the work dir's.
        return exc.message
    with log.open("a") as f:
        f.write("".join(traceback.format_exception(exc)))
    return f"internal error: {type(exc).__name__}: {exc} (traceback in the log)"


def _outcome(
    build: buildcache.CachedBuild, version: str, status: Status, seconds: float
) -> PackageOutcome:
    return PackageOutcome(
        build.name,
        version,
        status,
        srpm=build.srpm,
        rpms=build.rpms,
        log=build.log,
        seconds=seconds,
    )


class _Counter:
    """Reports each finished package with its place in the run (thread-safe)."""

    def __init__(self, progress: Reporter, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0
        self.lock = threading.Lock()

    def report(self, outcome: PackageOutcome) -> PackageOutcome:
        with self.lock:
            self.done += 1
            self.progress.package(outcome, self.done, self.total)
        return outcome

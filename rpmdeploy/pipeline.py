"""The ``rpms`` pipeline: pinned set -> one SRPM + RPM per pin, cached, in parallel.

pin -> fetch -> wheel -> inspect -> render -> build, composed here; each stage is its own
module.  A package's build is cached under a key of everything that decides its result, so
an unchanged package is never rebuilt.  A failing package does not stop the others; the
output directory only receives files when every package succeeded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from rpmdeploy import __version__
from rpmdeploy.app import (
    APP_SOURCES,
    APP_TEMPLATE,
    AppSpecContext,
    app_spec_context,
    write_source_tarball,
)
from rpmdeploy.appconfig import AppSettings
from rpmdeploy.builders import Builder, BuildRequest, get_builder
from rpmdeploy.cache import Cache, link_or_copy, sha256_file, stable_key
from rpmdeploy.errors import RpmdeployError
from rpmdeploy.fetch import Artifact, FetchOptions, fetch_artifacts
from rpmdeploy.metadata import read_wheel_metadata
from rpmdeploy.pin import Pin, PinnedSet, read_pins
from rpmdeploy.render import render
from rpmdeploy.specs import (
    PACKAGE_TEMPLATE,
    WHEEL_TOOL,
    binary_name,
    spec_context,
    templates_fingerprint,
    wheel_tool_source,
)
from rpmdeploy.targets import Target
from rpmdeploy.wheels import WheelContext, wheel_for

Status = Literal["built", "cached", "failed"]
# Default build time stamp: wheels' own minimum date, so builds of one pinned set compare equal.
DEFAULT_SOURCE_DATE_EPOCH = 315532800


@dataclass(frozen=True)
class RpmsOptions:
    target: Target
    cache: Cache
    jobs: int = 1
    fetch: FetchOptions = field(default_factory=FetchOptions)
    template_dir: Path | None = None
    builder: str = "rpmbuild"
    source_date_epoch: int = DEFAULT_SOURCE_DATE_EPOCH


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


@dataclass(frozen=True)
class RpmsReport:
    outcomes: tuple[PackageOutcome, ...]
    out: Path | None
    seconds: float

    @property
    def failed(self) -> tuple[PackageOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


class Reporter(Protocol):
    """Where a long run says what it is doing (the CLI prints; the library never does)."""

    def stage(self, message: str) -> None: ...

    def package(self, outcome: PackageOutcome, done: int, total: int) -> None: ...


class Silent:
    def stage(self, message: str) -> None:
        pass

    def package(self, outcome: PackageOutcome, done: int, total: int) -> None:
        pass


SILENT = Silent()


def build_rpms(
    app_dir: Path, out: Path, options: RpmsOptions, progress: Reporter = SILENT
) -> RpmsReport:
    """Build every pin of ``APP_DIR/dependencies.txt`` into ``out`` (RPMS/, SRPMS/, logs/)."""
    started = time.monotonic()
    outcomes = build_dependencies(app_dir, options, progress)
    published = None
    if not any(o.status == "failed" for o in outcomes):
        publish(outcomes, out)
        published = out
    return RpmsReport(tuple(outcomes), published, time.monotonic() - started)


def build_dependencies(
    app_dir: Path, options: RpmsOptions, progress: Reporter = SILENT
) -> list[PackageOutcome]:
    """Fetch and build every pin of ``APP_DIR/dependencies.txt`` (no publishing)."""
    pinned = read_pins(app_dir, options.target)
    progress.stage(f"fetching {len(pinned.pins)} pinned artifacts (hash-checked, cached)")
    artifacts = fetch_artifacts(
        pinned, options.target, options.fetch, options.cache, run_log_dir(options) / "fetch.log"
    )
    progress.stage(f"building {len(pinned.pins)} packages, {options.jobs} at a time")
    return build_packages(pinned, artifacts, options, progress)


def run_log_dir(options: RpmsOptions) -> Path:
    """A directory for the logs of one run that are not a package's own (fetch, repo)."""
    return Path(tempfile.mkdtemp(prefix="run-", dir=options.cache.dir("logs")))


def build_packages(
    pinned: PinnedSet,
    artifacts: dict[str, Artifact],
    options: RpmsOptions,
    progress: Reporter = SILENT,
) -> list[PackageOutcome]:
    builder = get_builder(options.builder, options.target, options.jobs)
    context = WheelContext(options.target, options.cache, pinned, artifacts)
    fingerprint = templates_fingerprint(options.template_dir)
    total = len(pinned.pins)
    done = 0
    lock = threading.Lock()

    def one(pin: Pin) -> PackageOutcome:
        nonlocal done
        outcome = _build_one(artifacts[pin.name], context, builder, fingerprint, options)
        with lock:
            done += 1
            progress.package(outcome, done, total)
        return outcome

    # Biggest artifacts first (longest-processing-time first): a large package started last
    # would otherwise leave the other workers idle at the end.
    order = sorted(pinned.pins, key=lambda p: -artifacts[p.name].path.stat().st_size)
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        results = dict(zip((p.name for p in order), pool.map(one, order), strict=True))
    return [results[p.name] for p in pinned.pins]


def package_cache_key(artifact: Artifact, fingerprint: str, options: RpmsOptions) -> str:
    return stable_key(
        "package",
        artifact.sha256,
        artifact.pin.extras,
        fingerprint,
        options.target.cache_identity(),
        __version__,
        options.builder,
        options.source_date_epoch,
    )


def _build_one(
    artifact: Artifact,
    context: WheelContext,
    builder: Builder,
    fingerprint: str,
    options: RpmsOptions,
) -> PackageOutcome:
    pin = artifact.pin

    def prepare(workdir: Path, log: Path) -> BuildRequest:
        wheel = wheel_for(artifact, context, log)
        meta = read_wheel_metadata(wheel.path)
        ctx = spec_context(meta, artifact, wheel, options.target)
        spec = workdir / f"{ctx.source_name}.spec"
        spec.write_text(render(PACKAGE_TEMPLATE, ctx, options.template_dir))
        tool = workdir / WHEEL_TOOL
        shutil.copyfile(wheel_tool_source(), tool)
        environment = [("RPMDEPLOY_PYTHON", sys.executable)]  # it has build and installer
        if wheel.backend_python:
            environment.append(("RPMDEPLOY_BACKEND_PYTHON", wheel.backend_python))
        return BuildRequest(
            label=f"{ctx.binary_name} {meta.version}",
            spec=spec,
            sources=(artifact.path, tool),
            environment=tuple(environment),
            source_date_epoch=options.source_date_epoch,
        )

    key = package_cache_key(artifact, fingerprint, options)
    name = binary_name(pin.name, options.target)
    return cached_build(options.cache, key, name, pin.version, prepare, builder)


Prepare = Callable[[Path, Path], BuildRequest]


def cached_build(
    cache: Cache, key: str, name: str, version: str, prepare: Prepare, builder: Builder
) -> PackageOutcome:
    """Build ``name`` unless the cache has ``key``; a failure is an outcome, not an exception.

    ``prepare(workdir, log)`` writes the spec and sources into workdir and returns the request.
    """
    started = time.monotonic()
    cached = _cached_outcome(name, version, cache, key)
    if cached is not None:
        return cached
    workdir = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache.dir("builds")))
    log = workdir / "build.log"
    try:
        request = prepare(workdir, log)
        result = builder.build(request, workdir)
    except Exception as exc:  # noqa: BLE001 - one package's failure must not hide the others
        # The summary names the kept log itself; the path inside the error is the work dir's.
        message = exc.message if isinstance(exc, RpmdeployError) else _internal_error(exc, log)
        failed_log = _keep_failure(workdir, cache, key)
        return PackageOutcome(
            name, version, "failed", log=failed_log, error=message,
            seconds=time.monotonic() - started,
        )  # fmt: skip
    entry = _store_build(cache, key, name, result.srpm, result.rpms, result.log, request.spec)
    shutil.rmtree(workdir, ignore_errors=True)
    return _outcome_from_entry(version, "built", cache, key, entry, time.monotonic() - started)


def _internal_error(exc: Exception, log: Path) -> str:
    """An unexpected exception: its traceback goes to the package's log, not the screen."""
    with log.open("a") as f:
        f.write("".join(traceback.format_exception(exc)))
    return f"internal error: {type(exc).__name__}: {exc} (traceback in the log)"


def _store_build(
    cache: Cache,
    key: str,
    name: str,
    srpm: Path,
    rpms: tuple[Path, ...],
    log: Path,
    spec: Path,
) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": name,
        "srpm": srpm.name,
        "rpms": [r.name for r in rpms],
        "log": "build.log",
        "spec": spec.name,
    }
    with cache.staging("builds", key) as tmp:
        for path in (srpm, *rpms, log, spec):
            shutil.move(str(path), tmp / path.name)
        (tmp / "result.json").write_text(json.dumps(entry, indent=1))
    return entry


def _cached_outcome(name: str, version: str, cache: Cache, key: str) -> PackageOutcome | None:
    entry = cache.read_json("builds", key, "result.json")
    if entry is None or entry.get("name") != name:
        return None
    outcome = _outcome_from_entry(version, "cached", cache, key, entry, 0.0)
    files = [outcome.srpm, *outcome.rpms]
    return outcome if all(f is not None and f.is_file() for f in files) else None


def _outcome_from_entry(
    version: str, status: Status, cache: Cache, key: str, entry: dict[str, object], seconds: float
) -> PackageOutcome:
    base = cache.root / "builds" / key
    rpms = entry["rpms"]
    assert isinstance(rpms, list)
    return PackageOutcome(
        str(entry["name"]),
        version,
        status,
        srpm=base / str(entry["srpm"]),
        rpms=tuple(base / str(r) for r in rpms),
        log=base / str(entry["log"]),
        seconds=seconds,
    )


def _keep_failure(workdir: Path, cache: Cache, key: str) -> Path:
    """Keep a failed build's directory (its log above all) where the user can read it."""
    final = cache.dir("failed") / key
    if final.exists():
        shutil.rmtree(final)
    os.replace(workdir, final)
    return final / "build.log"


# --- the app RPM --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppOptions:
    settings: AppSettings
    distro: str | None = None  # distribution whose names external deps map to
    strict: bool = False  # a guessed mapping is an error


def render_app(
    app_dir: Path, dest: Path, options: RpmsOptions, app: AppOptions, exclude: Path | None = None
) -> tuple[AppSpecContext, Path, tuple[Path, ...]]:
    """Write the app's spec, source tarball and generated files into ``dest``."""
    pinned = read_pins(app_dir, options.target)
    ctx = app_spec_context(
        app_dir, app.settings, pinned, options.target, distro_name=app.distro, strict=app.strict
    )
    spec = dest / f"{ctx.name}.spec"
    spec.write_text(render(APP_TEMPLATE, ctx, options.template_dir))
    tarball = write_source_tarball(
        app_dir, dest / ctx.tarball, ctx.top_dir, options.source_date_epoch, exclude
    )
    sources = [tarball]
    for suffix, template in APP_SOURCES:
        path = dest / f"{ctx.name}{suffix}"
        path.write_text(render(template, ctx, options.template_dir))
        sources.append(path)
    return ctx, spec, tuple(sources)


def build_app_rpm(
    app_dir: Path, out: Path, options: RpmsOptions, app: AppOptions
) -> PackageOutcome:
    """Build the app's own RPM and publish it into ``out`` (RPMS/noarch/, SRPMS/, logs/)."""
    outcome = build_app_outcome(app_dir, options, app, exclude=out)
    if outcome.status != "failed":
        publish([outcome], out)
    return outcome


def build_app_outcome(
    app_dir: Path, options: RpmsOptions, app: AppOptions, exclude: Path | None = None
) -> PackageOutcome:
    """Build the app's own RPM (cached on the content of everything that goes into it)."""
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-app-") as tmp:
        ctx, spec, sources = render_app(app_dir, Path(tmp), options, app, exclude=exclude)
        key = stable_key(
            "app", [sha256_file(p) for p in (spec, *sources)], options.target.cache_identity(),
            options.builder, options.source_date_epoch,
        )  # fmt: skip

        def prepare(workdir: Path, log: Path) -> BuildRequest:
            copies = [Path(shutil.copy(p, workdir / p.name)) for p in (spec, *sources)]
            return BuildRequest(
                label=f"{ctx.name} {ctx.version}",
                spec=copies[0],
                sources=tuple(copies[1:]),
                source_date_epoch=options.source_date_epoch,
            )

        builder = get_builder(options.builder, options.target)
        return cached_build(options.cache, key, ctx.name, ctx.version, prepare, builder)


# --- publishing --------------------------------------------------------------------------------


def publish(outcomes: list[PackageOutcome], out: Path) -> None:
    """Copy results into ``out``: RPMS/<arch>/, SRPMS/, logs/.  Each file appears whole."""
    for outcome in outcomes:
        for rpm_path in outcome.rpms:
            arch = rpm_path.name.rsplit(".", 2)[-2]
            _atomic_copy(rpm_path, out / "RPMS" / arch / rpm_path.name)
        if outcome.srpm is not None:
            _atomic_copy(outcome.srpm, out / "SRPMS" / outcome.srpm.name)
        if outcome.log is not None:
            _atomic_copy(outcome.log, out / "logs" / f"{outcome.name}.log")


def _atomic_copy(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    link_or_copy(source, tmp)
    os.replace(tmp, dest)

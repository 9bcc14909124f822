"""A builder that builds nothing: for unit tests of the pipeline's scheduling and caching.

It is registered for a test by adding ``"fake": "helpers.fake_builder:FakeBuilder"`` to
``rpmdeploy.builders.REGISTRY`` (one registry entry, as for a real builder).  A build writes
small placeholder files named like rpmbuild's results, records the order of builds, and
checks that every capability its request's build requires from another request of the run
was provided (``provide``) before: the proof that builds ran in dependency order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rpmdeploy import pipeline
from rpmdeploy.appconfig import AppSettings
from rpmdeploy.appmodel import App
from rpmdeploy.builders import BuilderContext, BuildRequest, BuildResult, Capabilities
from rpmdeploy.cache import Cache
from rpmdeploy.errors import BuildError
from rpmdeploy.pin import PinnedSet
from rpmdeploy.pipeline import Job, RpmsOptions
from rpmdeploy.scheduler import capability_name
from rpmdeploy.targets import resolve_target


@dataclass
class FakeLedger:
    """What the fake builders of a test did (shared by every instance)."""

    fail: set[str] = field(default_factory=set)  # labels' first words that fail
    built: list[str] = field(default_factory=list)
    provided: list[str] = field(default_factory=list)  # capability names, in order
    opened: int = 0
    closed: int = 0
    ordered: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


LEDGER = FakeLedger()


class FakeBuilder:
    name = "fake"
    capabilities = Capabilities(in_target=True, ordered=True, where="local")

    def __init__(self, context: BuilderContext) -> None:
        self.context = context
        # A test may ask for an unordered builder: an instance attribute shadows the class's.
        self.capabilities = Capabilities(in_target=True, ordered=LEDGER.ordered, where="local")

    def __enter__(self) -> FakeBuilder:
        LEDGER.opened += 1
        return self

    def __exit__(self, *exc: object) -> None:
        LEDGER.closed += 1

    def provide(self, results: Sequence[BuildResult]) -> None:
        with LEDGER.lock:
            for result in results:
                LEDGER.provided.extend(_capabilities_of(result))

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        name = request.label.split()[0]
        log = workdir / "build.log"
        log.write_text(f"fake build of {request.label}\n")
        with LEDGER.lock:
            if name in LEDGER.fail:
                raise BuildError(f"{name}: the fake build failed as asked", str(log))
            have = {capability_name(c) for c in LEDGER.provided}
            missing = [
                r for r in request.build_requires if _wanted(r) and capability_name(r) not in have
            ]
            if missing and LEDGER.ordered:
                raise BuildError(f"{name}: built before {missing} were provided", str(log))
            LEDGER.built.append(name)
        results = workdir / "results"
        results.mkdir()
        srpm = results / f"{name}-1-1.src.rpm"
        rpm = results / f"{name}-1-1.noarch.rpm"
        srpm.write_text("\n".join(request.provides))
        rpm.write_text("\n".join(request.provides))
        return BuildResult(srpm, (rpm,), log)


def _capabilities_of(result: BuildResult) -> list[str]:
    return [line for line in result.rpms[0].read_text().splitlines() if line]


def _wanted(requirement: str) -> bool:
    """Only capabilities of the pinned set matter (not python3-devel and friends)."""
    return requirement.startswith("fake(")


# --- the pipeline's pieces with this builder (shared by the unit tests) ------------------------


def options(tmp_path: Path, jobs: int = 2) -> RpmsOptions:
    """Options of a run with the fake builder (registered as ``fake``) for fedora-43."""
    return RpmsOptions(
        target=resolve_target("fedora-43"),
        cache=Cache(tmp_path / "cache"),
        jobs=jobs,
        builder="fake",
    )


def job(
    tmp_path: Path, name: str, provides: str, needs: tuple[str, ...] = (), weight: int = 0
) -> Job:
    """A prepared package providing ``fake(provides)`` whose build requires ``fake(n)``."""
    workdir = tmp_path / "work" / name
    workdir.mkdir(parents=True)
    spec = workdir / f"{name}.spec"
    spec.write_text("Name: x\n")
    request = BuildRequest(
        label=f"{name} 1",
        spec=spec,
        sources=(),
        provides=(f"fake({provides}) = 1",),
        build_requires=tuple(f"fake({n}) >= 1" for n in needs),
    )
    return Job(name, "1", f"key-{name}", request, workdir, weight, 0.0)


def run_jobs(
    tmp_path: Path,
    jobs: list[Job],
    progress: pipeline.Reporter = pipeline.SILENT,
    check: Callable[[pipeline.BuildSession], None] | None = None,
) -> dict[str, pipeline.PackageOutcome]:
    """``pipeline.run_jobs`` in a session of the fake builder; ``check`` sees the session."""
    app = App(tmp_path, PinnedSet(()), AppSettings(name="app"))
    with pipeline.build_session(app, options(tmp_path), progress, fetch=False) as session:
        if check is not None:
            check(session)
        counter = pipeline._Counter(pipeline.SILENT, len(jobs))
        return pipeline.run_jobs(session, jobs, set(), counter)

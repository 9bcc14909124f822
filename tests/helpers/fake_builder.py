"""A builder that builds nothing: for unit tests of the pipeline's scheduling and caching.

It is registered for a test by adding ``"fake": "helpers.fake_builder:FakeBuilder"`` to
``rpmdeploy.builders.REGISTRY`` (one registry entry, as for a real builder).  A build writes
small placeholder files named like rpmbuild's results, records the order of builds, and
checks that every capability its request's build requires from another request of the run
was provided (``provide``) before: the proof that builds ran in dependency order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rpmdeploy.builders import BuilderContext, BuildRequest, BuildResult, Capabilities
from rpmdeploy.errors import BuildError
from rpmdeploy.scheduler import capability_name


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

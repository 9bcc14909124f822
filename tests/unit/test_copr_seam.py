"""The pipeline's seam for builders that take a whole level at once (``build_level``), with a
fake level builder: no Copr, no rpmbuild.

The fake is the fake builder of ``helpers.fake_builder`` plus ``build_level``: it records each
level it was given, yields the outcomes in reverse order (a farm finishes in any order), and
can be told to say nothing about a request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from helpers import fake_builder
from helpers.fake_builder import FakeBuilder, FakeLedger, job

from rpmdeploy import builders, pipeline
from rpmdeploy.builders import BuildRequest, BuildResult, LevelOutcome, level_builder

LEVELS: list[list[str]] = []
SILENT_ABOUT: set[str] = set()
SAID: list[str] = []


class FakeLevelBuilder(FakeBuilder):
    name = "fake-level"

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        raise AssertionError("a level builder's levels go through build_level")

    def build_level(
        self, work: Sequence[tuple[BuildRequest, Path]], progress: pipeline.Callable[[str], None]
    ) -> Iterator[LevelOutcome]:
        LEVELS.append([request.label.split()[0] for request, _ in work])
        progress(f"level of {len(work)}")
        for index in reversed(range(len(work))):
            request, workdir = work[index]
            if request.label.split()[0] in SILENT_ABOUT:
                continue
            try:
                yield index, FakeBuilder.build(self, request, workdir)
            except Exception as exc:  # noqa: BLE001 - handed to the pipeline as an outcome
                yield index, exc


class Stages:
    def stage(self, message: str) -> None:
        SAID.append(message)

    def started(self, name: str, version: str) -> None:
        pass

    def package(self, outcome: pipeline.PackageOutcome, done: int, total: int) -> None:
        pass


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLedger]:
    monkeypatch.setattr(
        builders, "REGISTRY", {**builders.REGISTRY, "fake": f"{__name__}:FakeLevelBuilder"}
    )
    fresh = FakeLedger()
    monkeypatch.setattr(fake_builder, "LEDGER", fresh)
    LEVELS.clear()
    SILENT_ABOUT.clear()
    SAID.clear()
    yield fresh


def run_jobs(tmp_path: Path, jobs: list[pipeline.Job]) -> dict[str, pipeline.PackageOutcome]:
    def takes_levels(session: pipeline.BuildSession) -> None:
        assert level_builder(session.builder) is session.builder

    return fake_builder.run_jobs(tmp_path, jobs, Stages(), check=takes_levels)


def test_levels_go_to_build_level_in_dependency_order(fake: FakeLedger, tmp_path: Path) -> None:
    jobs = [
        job(tmp_path, "app", "app", ("lib", "backend"), weight=100),
        job(tmp_path, "lib", "lib", ("backend",)),
        job(tmp_path, "backend", "backend"),
        job(tmp_path, "other", "other", weight=50),
    ]
    outcomes = run_jobs(tmp_path, jobs)
    assert {name: o.status for name, o in outcomes.items()} == dict.fromkeys(
        ["app", "lib", "backend", "other"], "built"
    )
    assert LEVELS == [["other", "backend"], ["lib"], ["app"]]
    # Results came back in reverse order and still went to the right packages (and cache).
    assert all(o.srpm is not None and o.name in o.srpm.name for o in outcomes.values())
    assert fake.built.index("backend") < fake.built.index("lib") < fake.built.index("app")
    # Each level's results were provided before the next level was built.
    assert "fake(backend) = 1" in fake.provided
    assert SAID == ["level of 2", "level of 1", "level of 1"]  # the builder's progress


def test_dependants_of_a_failure_never_reach_build_level(fake: FakeLedger, tmp_path: Path) -> None:
    fake.fail.add("backend")
    jobs = [
        job(tmp_path, "backend", "backend"),
        job(tmp_path, "lib", "lib", ("backend",)),
        job(tmp_path, "other", "other"),
    ]
    outcomes = run_jobs(tmp_path, jobs)
    assert outcomes["backend"].status == "failed"
    assert "the fake build failed as asked" in (outcomes["backend"].error or "")
    assert outcomes["backend"].log is not None and outcomes["backend"].log.is_file()
    assert outcomes["lib"].status == "skipped" and "backend" in (outcomes["lib"].error or "")
    assert outcomes["other"].status == "built"
    assert LEVELS == [["backend", "other"]]  # lib was never handed to the builder


def test_a_request_the_builder_says_nothing_about_fails(fake: FakeLedger, tmp_path: Path) -> None:
    SILENT_ABOUT.add("b")
    outcomes = run_jobs(tmp_path, [job(tmp_path, "a", "a"), job(tmp_path, "b", "b")])
    assert outcomes["a"].status == "built"
    assert outcomes["b"].status == "failed"
    assert "returned no result" in (outcomes["b"].error or "")


def test_builders_without_build_level_are_not_level_builders(tmp_path: Path) -> None:
    assert level_builder(FakeBuilder.__new__(FakeBuilder)) is None

"""The pipeline's caching, failure isolation and build order, with a fake builder.

No rpmbuild runs here: ``helpers.fake_builder`` stands in for a builder (one registry
entry, as a real builder would be) and checks that builds come in dependency order.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import fake_builder, make_wheel
from helpers.fake_builder import FakeLedger, job, options, run_jobs

from rpmdeploy import builders, pipeline
from rpmdeploy.appconfig import AppSettings
from rpmdeploy.appmodel import App
from rpmdeploy.fetch import Artifact
from rpmdeploy.pin import Pin, PinnedSet
from rpmdeploy.pipeline import RpmsOptions


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLedger]:
    monkeypatch.setattr(
        builders, "REGISTRY", {**builders.REGISTRY, "fake": "helpers.fake_builder:FakeBuilder"}
    )
    fresh = FakeLedger()
    monkeypatch.setattr(fake_builder, "LEDGER", fresh)
    yield fresh


def wheel_app(tmp_path: Path, names: dict[str, int]) -> tuple[App, dict[str, Artifact]]:
    """An app pinning one hand-made wheel per name (size: bytes of padding, for ordering)."""
    house = tmp_path / "wheels"
    house.mkdir(exist_ok=True)
    pins, artifacts = [], {}
    for name, size in names.items():
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: {name}\n"
        files = {f"{name}/__init__.py": "x = 1\n", f"{name}/pad.txt": "p" * size}
        wheel = make_wheel(house, name, "1.0", meta, files)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        pin = Pin(name, "1.0", (f"sha256:{digest}",))  # type: ignore[arg-type]
        pins.append(pin)
        artifacts[name] = Artifact(pin, wheel, digest)
    app = App(tmp_path, PinnedSet(tuple(pins)), AppSettings(name="app"))
    return app, artifacts


def run(
    app: App, artifacts: dict[str, Artifact], opts: RpmsOptions
) -> list[pipeline.PackageOutcome]:
    with pipeline.build_session(app, opts, fetch=False) as session:
        session = dataclasses.replace(session, artifacts=artifacts)
        return pipeline.build_dependencies(session)


def test_builder_is_opened_once_and_closed(fake: FakeLedger, tmp_path: Path) -> None:
    app, artifacts = wheel_app(tmp_path, {"a": 1, "b": 1})
    run(app, artifacts, options(tmp_path))
    assert (fake.opened, fake.closed) == (1, 1)


def test_second_run_is_all_cache_hits(fake: FakeLedger, tmp_path: Path) -> None:
    app, artifacts = wheel_app(tmp_path, {"a": 1, "b": 1, "c": 1})
    first = run(app, artifacts, options(tmp_path))
    assert [o.status for o in first] == ["built"] * 3
    assert sorted(fake.built) == ["python3-a", "python3-b", "python3-c"]
    fake.built.clear()
    second = run(app, artifacts, options(tmp_path))
    assert [o.status for o in second] == ["cached"] * 3
    assert fake.built == []  # the builder was never asked
    assert [o.rpms for o in second] == [o.rpms for o in first]
    # Cached packages are offered to the builder for later builds (mock's local repo).
    assert "python3dist(a)" in " ".join(fake.provided)


def test_a_changed_builder_is_a_cache_miss(fake: FakeLedger, tmp_path: Path) -> None:
    app, artifacts = wheel_app(tmp_path, {"a": 1})
    run(app, artifacts, options(tmp_path))
    key_fake = pipeline.package_cache_key(artifacts["a"], "fp", options(tmp_path))
    key_rpmbuild = pipeline.package_cache_key(
        artifacts["a"], "fp", dataclasses.replace(options(tmp_path), builder="rpmbuild")
    )
    assert key_fake != key_rpmbuild


def test_another_copr_project_or_mock_config_is_a_cache_miss(
    fake: FakeLedger, tmp_path: Path
) -> None:
    """Two Copr projects (or mock configs) sharing one cache each get their own builds."""
    app, artifacts = wheel_app(tmp_path, {"a": 1})
    shop = dataclasses.replace(options(tmp_path), builder_settings={"copr-project": "me/shop"})
    run(app, artifacts, shop)
    fake.built.clear()
    assert [o.status for o in run(app, artifacts, shop)] == ["cached"]
    other = dataclasses.replace(shop, builder_settings={"copr-project": "me/other"})
    assert [o.status for o in run(app, artifacts, other)] == ["built"]
    mock = dataclasses.replace(shop, builder_settings={"mock-config": "rocky+epel-9-x86_64"})
    assert pipeline.package_cache_key(artifacts["a"], "fp", mock) != pipeline.package_cache_key(
        artifacts["a"], "fp", shop
    )


def test_one_failure_does_not_stop_the_others(fake: FakeLedger, tmp_path: Path) -> None:
    fake.fail.add("python3-b")
    app, artifacts = wheel_app(tmp_path, {"a": 1, "b": 1, "c": 1})
    outcomes = {o.name: o for o in run(app, artifacts, options(tmp_path))}
    assert outcomes["python3-b"].status == "failed"
    assert "the fake build failed as asked" in (outcomes["python3-b"].error or "")
    assert outcomes["python3-b"].log is not None and outcomes["python3-b"].log.is_file()
    assert outcomes["python3-a"].status == outcomes["python3-c"].status == "built"
    # The failure is not cached: fixed, it builds.
    fake.fail.clear()
    again = {o.name: o.status for o in run(app, artifacts, options(tmp_path))}
    assert again == {"python3-a": "cached", "python3-b": "built", "python3-c": "cached"}


def test_a_package_that_cannot_be_prepared_fails_alone(fake: FakeLedger, tmp_path: Path) -> None:
    app, artifacts = wheel_app(tmp_path, {"a": 1, "b": 1})
    artifacts["b"].path.write_bytes(b"not a zip file")
    outcomes = {o.name: o for o in run(app, artifacts, options(tmp_path))}
    assert outcomes["python3-b"].status == "failed"
    assert outcomes["python3-a"].status == "built"


# --- order: run_jobs with hand-made requests ----------------------------------------------------


def test_builds_follow_build_requires(fake: FakeLedger, tmp_path: Path) -> None:
    # app needs lib and backend; lib needs backend: backend, then lib, then app.
    jobs = [
        job(tmp_path, "app", "app", ("lib", "backend"), weight=100),
        job(tmp_path, "lib", "lib", ("backend",)),
        job(tmp_path, "backend", "backend"),
        job(tmp_path, "other", "other", weight=50),
    ]
    outcomes = run_jobs(tmp_path, jobs)
    assert {o.status for o in outcomes.values()} == {"built"}
    assert fake.built.index("backend") < fake.built.index("lib") < fake.built.index("app")


def test_dependants_of_a_failure_are_skipped_naming_it(fake: FakeLedger, tmp_path: Path) -> None:
    fake.fail.add("backend")
    jobs = [
        job(tmp_path, "backend", "backend"),
        job(tmp_path, "lib", "lib", ("backend",)),
        job(tmp_path, "app", "app", ("lib",)),
        job(tmp_path, "other", "other"),
    ]
    outcomes = run_jobs(tmp_path, jobs)
    assert outcomes["backend"].status == "failed"
    assert outcomes["lib"].status == "skipped" and "backend" in (outcomes["lib"].error or "")
    assert outcomes["app"].status == "skipped" and "lib" in (outcomes["app"].error or "")
    assert outcomes["other"].status == "built"
    assert fake.built == ["other"]


def test_a_cycle_fails_every_package_in_it_naming_the_cycle(
    fake: FakeLedger, tmp_path: Path
) -> None:
    jobs = [job(tmp_path, "a", "a", ("b",)), job(tmp_path, "b", "b", ("a",))]
    outcomes = run_jobs(tmp_path, jobs)
    assert {o.status for o in outcomes.values()} == {"failed"}
    assert "cycle: a -> b -> a" in (outcomes["a"].error or "")
    assert fake.built == []


def test_an_unordered_builder_builds_biggest_first_in_one_level(
    fake: FakeLedger, tmp_path: Path
) -> None:
    fake.ordered = False
    jobs = [
        job(tmp_path, "small", "s", weight=1),
        job(tmp_path, "big", "b", weight=9),
        job(tmp_path, "mid", "m", ("s",), weight=5),
    ]
    app = App(tmp_path, PinnedSet(()), AppSettings(name="app"))
    with pipeline.build_session(
        app, dataclasses.replace(options(tmp_path), jobs=1), fetch=False
    ) as session:
        outcomes = pipeline.run_jobs(session, jobs, set(), pipeline._Counter(pipeline.SILENT, 3))
    assert {o.status for o in outcomes.values()} == {"built"}
    assert fake.built == ["big", "mid", "small"]  # no order needed: biggest first

"""Shared fixtures: fixture packages built at test time and served from a local directory.

Nothing here reaches PyPI: the build backends the fixture packages need (setuptools,
flit_core, wheel) are downloaded once by `make test-deps` from tests/data/backend-wheels.txt into
a wheelhouse (hash-checked), and every test points pip at local directories only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    BACKEND_WHEELS,
    FIXTURE_APP_REQUIREMENTS,
    PACKAGES,
    SDIST_PACKAGES,
    WHEEL_PACKAGES,
    AppDir,
    BuiltApp,
    build_package,
    new_app,
    run_cli,
)

# The hermetic tests build for this machine's own Python (the fixture packages are built with
# it), so they name ``host`` as their target: a Debian host has no default target.  Set for the
# whole session (session fixtures run before function ones); tests about the target setting
# itself remove or override it with monkeypatch.
os.environ["RPMDEPLOY_TARGET"] = "host"

# Which fixture packages are served as a wheel, and which only as an sdist (built by rpmdeploy).


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RPMDEPLOY_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs PyPI; set RPMDEPLOY_NETWORK_TESTS=1")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep rpmdeploy's default cache and pin logs out of the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links directory: fixture wheels/sdists plus the build backends."""
    if not BACKEND_WHEELS.is_dir():
        pytest.fail(f"{BACKEND_WHEELS} missing: run `make test-deps` (downloads build backends)")
    house = tmp_path_factory.mktemp("wheelhouse")
    for wheel in BACKEND_WHEELS.glob("*.whl"):
        shutil.copy(wheel, house)
    for name in WHEEL_PACKAGES:
        build_package(PACKAGES / name, house, ("--wheel",))
    for name in SDIST_PACKAGES:
        build_package(PACKAGES / name, house, ("--sdist",))
    return house


@pytest.fixture
def app_factory(tmp_path: Path, wheelhouse: Path) -> Iterator[object]:
    def factory(requirements: str, name: str = "app") -> AppDir:
        return new_app(tmp_path / name, wheelhouse, requirements)

    yield factory


@pytest.fixture(scope="session")
def built_app(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> BuiltApp:
    """The fixture app pinned and built once (two jobs) for the tests that read RPMs back."""
    root = tmp_path_factory.mktemp("built")
    os.environ.setdefault("XDG_CACHE_HOME", str(root / "xdg"))
    app = new_app(root / "app", wheelhouse, FIXTURE_APP_REQUIREMENTS)
    app.pin()
    out, cache = root / "out", root / "cache"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", cache, "--jobs", "2")
    return BuiltApp(app, out, cache, result)


# --- reading RPMs back with the rpm bindings ---------------------------------------------------

"""`rpmdeploy pin` for targets whose interpreter is not on this machine (real uv): markers
and wheels decided for the target's Python and platform, the record in the header, and
`rpms` warning about pins made for another target."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import AppDir, make_wheel, run_cli

from rpmdeploy.pin import parse_pins, read_build_pins
from rpmdeploy.pin_uv import host_glibc
from rpmdeploy.targets import find_python, resolve_target

# Requires-Dist markers decided by the target: Python version and machine.
MARKERED = (
    "Metadata-Version: 2.1\nName: markered\nVersion: 1.0\n"
    'Requires-Dist: delta; python_version < "3.10"\n'
    'Requires-Dist: needs-setuptools; python_version >= "3.12"\n'
    'Requires-Dist: beta; platform_machine == "aarch64"\n'
)


@pytest.fixture
def no_interpreters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide every interpreter but the system's python3 (3.11): pyenv's, and any pythonX.Y
    on PATH."""
    empty = tmp_path / "no-pyenv"
    (empty / "versions").mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(empty))
    monkeypatch.setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    assert find_python("3.9") == [] and find_python("3.14") == []


@pytest.fixture
def links(tmp_path: Path, wheelhouse: Path) -> Path:
    """The wheelhouse plus `markered` and a cext wheel for CPython 3.9 on manylinux_2_17."""
    house = tmp_path / "links"
    shutil.copytree(wheelhouse, house)
    make_wheel(house, "markered", "1.0", MARKERED, {"markered/__init__.py": ""})
    cext_meta = "Metadata-Version: 2.1\nName: cext\nVersion: 0.1\n"
    files = {"cext/__init__.py": ""}
    make_wheel(house, "cext", "0.1", cext_meta, files, tag="cp39-cp39-manylinux_2_17_x86_64")
    return house


def pinned_names(app: AppDir) -> list[str]:
    return [p.name for p in parse_pins(app.pinned.read_text(), app.pinned).pins]


@pytest.mark.usefixtures("no_interpreters")
@pytest.mark.parametrize(
    ("target", "python", "platform", "expected", "sdists"),
    [
        (
            "rocky-9",
            "3.9.18",
            "x86_64-manylinux_2_34",
            ["cext", "delta", "markered"],
            [],  # cext's cp39 manylinux wheel fits: no sdist to build
        ),
        (
            "rocky-9-aarch64",
            "3.9.18",
            "aarch64-manylinux_2_34",
            ["beta", "cext", "delta", "markered"],
            ["beta==0.5.post1", "cext==0.1"],  # an x86_64 wheel does not fit aarch64
        ),
        (
            "fedora-43",
            "3.14.0",
            "x86_64-manylinux_2_40",
            ["cext", "markered", "needs-setuptools", "setuptools"],
            ["cext==0.1"],  # a cp39 wheel does not fit Python 3.14
        ),
    ],
)
def test_pin_for_a_target_without_its_interpreter(
    tmp_path: Path,
    links: Path,
    target: str,
    python: str,
    platform: str,
    expected: list[str],
    sdists: list[str],
) -> None:
    app = AppDir(tmp_path / "app", links)
    app.path.mkdir()
    app.write_in("markered\ncext\n")
    result = app.pin("--target", target)
    name = resolve_target(target).name
    assert f"for {name}, Python {python[:-2].rstrip('.')}" in result.output
    assert pinned_names(app) == expected
    text = app.pinned.read_text()
    for line in (
        f"# rpmdeploy:target = {name}",
        f"# rpmdeploy:python = {python}",
        f"# rpmdeploy:platform = {platform}",
        "# rpmdeploy:resolver = uv",
        f"#    rpmdeploy pin --target {name}",
    ):
        assert line + "\n" in text
    build = read_build_pins(app.path, resolve_target(target))
    assert build.pinned_for is not None and build.pinned_for.build_only
    assert list(build.pinned_for.sdists) == sdists
    assert build.pinned_for.target == name and build.pinned_for.python == python
    assert bool(build.pins) == bool(sdists)
    first, first_build = app.pinned.read_bytes(), app.build_pinned.read_bytes()
    app.pin("--target", target)
    assert app.pinned.read_bytes() == first and app.build_pinned.read_bytes() == first_build


def test_pin_for_the_host_records_its_python_and_glibc(tmp_path: Path, links: Path) -> None:
    app = AppDir(tmp_path / "app", links)
    app.path.mkdir()
    app.write_in("markered\ncext\n")
    app.pin()
    assert pinned_names(app) == ["cext", "markered"]
    host = resolve_target("host")
    glibc = host_glibc()
    assert glibc is not None
    record = parse_pins(app.pinned.read_text(), app.pinned).pinned_for
    assert record is not None
    assert (record.target, record.python) == ("host", host.python_full_version)
    assert record.platform == f"{host.arch}-manylinux_{glibc[0]}_{glibc[1]}"
    assert "#    rpmdeploy pin\n" in app.pinned.read_text()
    sdists = read_build_pins(app.path).pinned_for
    assert sdists is not None and sdists.sdists == ("cext==0.1",)


def test_pip_tools_still_pins_under_the_targets_interpreter(
    tmp_path: Path, links: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = AppDir(tmp_path / "app", links)
    app.path.mkdir()
    app.write_in("markered\n")
    (app.path / "rpmdeploy.toml").write_text("[pin]\nresolver = 'pip-tools'\n")
    result = app.pin()
    assert "with pip-tools" in result.output
    record = parse_pins(app.pinned.read_text(), app.pinned).pinned_for
    assert record is not None and record.resolver == "pip-tools"
    assert pinned_names(app) == ["markered"]  # markers decided by the host's 3.11
    assert "#    rpmdeploy pin --resolver pip-tools\n" in app.pinned.read_text()
    monkeypatch.setenv("RPMDEPLOY_RESOLVER", "uv")  # the environment beats the file
    assert "with uv" in app.pin().output


def test_rpms_warns_about_pins_made_for_another_target(
    tmp_path: Path, links: Path, no_interpreters: None
) -> None:
    app = AppDir(tmp_path / "app", links)
    app.path.mkdir()
    app.write_in("delta\n")
    app.pin("--target", "rocky-9")
    cache = tmp_path / "cache"
    result = run_cli("rpms", app.path, "--out", tmp_path / "out", "--cache-dir", cache)
    first = result.output.splitlines()[0]
    assert first.startswith(f"rpmdeploy: warning: {app.pinned} was pinned for rocky-9-x86_64")
    assert "not for host (Python 3.11" in first and "--target host" in first
    assert "1 built" in result.output, result.output
    app.pin()
    result = run_cli("rpms", app.path, "--out", tmp_path / "out2", "--cache-dir", cache)
    assert "warning" not in result.output


def test_release_warns_before_building(tmp_path: Path, links: Path) -> None:
    app = AppDir(tmp_path / "app", links)
    app.path.mkdir()
    app.write_in("delta\n")
    app.pin("--target", "rocky-9")
    (app.path / "rpmdeploy.toml").write_text("[app]\nname = 'x'\n")  # no version: refused
    env = {**os.environ}
    result = run_cli("release", app.path, "--out", tmp_path / "repo", expect=None)
    assert result.exit_code != 0 and os.environ == env
    warnings = [ln for ln in result.output.splitlines() if ln.startswith("rpmdeploy: warning: ")]
    assert len(warnings) == 1 and "pinned for rocky-9-x86_64" in warnings[0]


@pytest.mark.network
@pytest.mark.usefixtures("no_interpreters")
def test_pin_from_pypi_for_rocky_9_without_python_3_9(tmp_path: Path) -> None:
    """uv decides the markers for Python 3.9 with no 3.9 here; PyPI's hashes are all there."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "dependencies.in").write_text('click\nimportlib-metadata; python_version < "3.10"\n')
    run_cli("pin", app, "--target", "rocky-9", "--uploaded-prior-to", "2025-06-01")
    text = (app / "dependencies.txt").read_text()
    assert "# rpmdeploy:python = 3.9.18\n" in text
    assert "importlib-metadata==" in text  # only pinned because the marker holds on 3.9
    assert "click==8.1." in text  # click 8.2 needs Python 3.10
    pins = parse_pins(text, app / "dependencies.txt").pins
    assert all(len(pin.hashes) >= 2 for pin in pins if pin.name == "click")  # wheel and sdist

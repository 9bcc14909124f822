"""`rpmdeploy pin` (real uv, and real pip-compile with --resolver pip-tools, against a local
find-links directory) and reading pins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import AppDir, make_wheel, run_cli

from rpmdeploy.errors import PinError
from rpmdeploy.pin import parse_pins
from rpmdeploy.targets import resolve_target

HASH = "sha256:" + "ab" * 32


def requirement_lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith((" ", "#", "-"))]


def test_pin_writes_every_dependency_pinned_and_hashed(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha[fast]\n")
    app.pin()
    text = app.pinned.read_text()
    names = [ln.split(" ")[0] for ln in requirement_lines(app.pinned)]
    assert names == ["alpha[fast]==1.0.0", "beta==0.5.post1", "delta==2.0"]
    assert text.count("--hash=sha256:") == 3
    assert "rpmdeploy pin" in text
    assert "--no-index" in text.splitlines()
    assert "    # via -r dependencies.in\n" in text  # pip-tools style annotations
    parsed = parse_pins(text, app.pinned)
    assert [p.name for p in parsed.pins] == ["alpha", "beta", "delta"]
    assert parsed.pins[0].extras == ("fast",)
    assert parsed.index.no_index
    assert parsed.pinned_for is not None and parsed.pinned_for.resolver == "uv"


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_pin_twice_changes_nothing(app_factory, resolver: str) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha\ngamma-flit\n")
    app.pin("--resolver", resolver)
    first, build = app.pinned.read_bytes(), app.build_pinned.read_bytes()
    result = app.pin("--resolver", resolver)
    assert app.pinned.read_bytes() == first and app.build_pinned.read_bytes() == build
    assert "dependencies.txt: unchanged (4 pins)" in result.output


def test_pin_keeps_pins_until_upgrade_is_asked(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    house = tmp_path / "house"
    shutil.copytree(app.wheelhouse, house)
    app = AppDir(app.path, house)
    app.pin()
    assert "delta==2.0" in app.pinned.read_text()
    make_wheel(house, "delta", "2.1", "Metadata-Version: 2.1\nName: delta\nVersion: 2.1\n", {})
    app.pin()
    assert "delta==2.0" in app.pinned.read_text()
    result = app.pin("--upgrade-package", "delta")
    assert "delta==2.1" in app.pinned.read_text()
    assert "1 upgraded (delta 2.0 -> 2.1), 0 unchanged" in result.output


def test_pin_includes_unsafe_packages_needed_at_run_time(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("needs-setuptools\n")
    app.pin()
    lines = requirement_lines(app.pinned)
    assert any(ln.startswith("setuptools==") for ln in lines), lines


def uv_commands(logs: Path) -> list[str]:
    """The uv command lines of the pin logs in ``logs`` (removed for the next pin)."""
    lines = []
    for log in logs.glob("pin-*.log"):
        lines += log.read_text().splitlines()
        log.unlink()
    return [ln for ln in lines if ln.startswith("$ ") and " pip compile " in ln]


def test_pin_lists_wheel_pins_files_while_resolving(
    app_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Pins that all have wheels: their files are listed beside the resolution (offline,
    building nothing), not again after it; an sdist among the pins is listed after it."""
    monkeypatch.setenv("RPMDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    logs = tmp_path / "cache" / "logs"
    app: AppDir = app_factory("delta\nneeds-setuptools\n")
    for _ in ("first pin", "again: today's pins are listed"):
        app.pin()
        commands = uv_commands(logs)
        assert len(commands) == 2, commands
        beside = [c for c in commands if "--offline --no-build" in c]
        assert len(beside) == 1 and all("--no-config" in c for c in commands)
    gamma: AppDir = app_factory("gamma-flit\n", name="gamma")
    gamma.pin()
    commands = uv_commands(logs)
    after = [c for c in commands if "--no-deps" in c and "--no-build" not in c]
    assert after and "--offline" in after[0]  # gamma-flit has no wheel: listed after
    assert "# rpmdeploy:sdist = gamma-flit==" in gamma.build_pinned.read_text()


def test_pin_ignores_machine_pip_configuration(
    app_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nextra-index-url = http://machine-local.invalid/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("PIP_FIND_LINKS", "/machine/local/wheels")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///machine/local/index")
    # uv's configuration: variables, and a user uv.toml (an --index-url there would fail).
    monkeypatch.setenv("UV_INDEX_URL", "http://machine-local.invalid/simple")
    monkeypatch.setenv("UV_FIND_LINKS", "/machine/local/uv-wheels")
    monkeypatch.setenv("UV_CONSTRAINT", str(tmp_path / "machine-constraints.txt"))
    monkeypatch.setenv("UV_EXCLUDE_NEWER", "2001-01-01T00:00:00Z")
    config_home = tmp_path / "config"
    (config_home / "uv").mkdir(parents=True)
    (config_home / "uv" / "uv.toml").write_text(
        '[pip]\nextra-index-url = ["http://machine-local.invalid/simple"]\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    app: AppDir = app_factory("delta\n")
    for resolver in ("uv", "pip-tools"):
        app.pin("--resolver", resolver)
        text = app.pinned.read_text() + app.build_pinned.read_text()
        assert "machine" not in text and "2001" not in text
        assert f"--find-links {app.wheelhouse}" in text


def test_pip_tools_refuses_a_target_whose_python_is_missing(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    result = app.pin("--target", "fedora-43", "--resolver", "pip-tools", expect=1)
    assert "Python 3.14" in result.output and "--resolver uv" in result.output
    assert len(result.output.strip().splitlines()) == 2  # progress line + one error line
    assert "Traceback" not in result.output


def test_pin_refuses_an_interpreter_of_the_wrong_version(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    result = app.pin("--target", "rocky-9", "--python", "/usr/bin/python3", expect=1)
    assert "is not Python 3.9" in result.output


def test_pin_reports_unknown_packages(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("no-such-package-anywhere\n")
    result = app.pin(expect=1)
    assert result.output.count("\n") == 2  # the progress line and one error line
    assert "rpmdeploy: error: uv pip compile of" in result.output
    assert "no-such-package-anywhere was not found" in result.output
    assert not app.pinned.exists() and not app.build_pinned.exists()
    result = app.pin("--resolver", "pip-tools", expect=1)
    assert "rpmdeploy: error: pip-compile" in result.output


def test_pin_without_dependencies_in(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    (app.path / "dependencies.in").unlink()
    result = app.pin(expect=1)
    assert "dependencies.in not found" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alpha>=1\n", "not pinned to one version"),
        ("alpha\n", "not pinned to one version"),
        ("alpha==1.*  --hash=" + HASH + "\n", "not pinned to one version"),
        ("alpha==1.0\n", "has no --hash"),
        ("!!! what\n", "not a requirement"),
        ("alpha==1.0 --hash=md5:abc\n", "malformed hash"),
        ("alpha @ https://example.invalid/a.whl --hash=" + HASH + "\n", "URL requirement"),
        ("-e ./src\n", "not supported"),
        ("-r other.txt\n", "not supported"),
        ("--pre\n", "not supported"),
        ("alpha==1.0 --hash=" + HASH + "\nAlpha==1.0 --hash=" + HASH + "\n", "pinned twice"),
        ("alpha==1.0 --install-option=x --hash=" + HASH + "\n", "unsupported per-requirement"),
        ("https://example.invalid/x.tar.gz\n", "only PyPI-style"),
    ],
)
def test_bad_pinned_files_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(PinError, match=message) as info:
        parse_pins(text, Path("app/dependencies.txt"))
    assert str(info.value).startswith("app/dependencies.txt:")
    assert "\n" not in str(info.value)


def test_pinned_file_syntax() -> None:
    text = (
        "# comment\n"
        "--index-url https://index.invalid/simple\n"
        "--extra-index-url=https://extra.invalid/simple\n"
        "-f ./wheels\n"
        "Alpha_Pkg==1.0 \\\n"
        f"    --hash={HASH} \\\n"
        f"    --hash=sha256:{'cd' * 32}\n"
        "    # via -r dependencies.in\n"
        f"old==2.0 ; python_version < '3' --hash={HASH}\n"
        f"new==3.0 ; python_version >= '3.11' --hash={HASH}\n"
    )
    pinned = parse_pins(text, Path("/srv/app/dependencies.txt"), resolve_target("rocky-9"))
    assert [(p.name, p.version) for p in pinned.pins] == [("alpha-pkg", "1.0")]
    assert len(pinned.pins[0].hashes) == 2
    assert pinned.index.index_url == "https://index.invalid/simple"
    assert pinned.index.extra_index_urls == ("https://extra.invalid/simple",)
    assert pinned.index.pip_args(Path("/srv/app"))[-2:] == ["--find-links", "/srv/app/wheels"]
    host = parse_pins(text, Path("x"), resolve_target("fedora-43"))
    assert [p.name for p in host.pins] == ["alpha-pkg", "new"]


def test_rpms_refuses_an_unpinned_file(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pinned.write_text("delta>=1\n")
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, expect=1)
    assert "run 'rpmdeploy pin'" in result.output
    assert result.output.count("\n") == 1  # the app is read before anything starts: one line
    assert not out.exists()


def test_rpms_without_dependencies_txt(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    result = run_cli("rpms", app.path, "--out", tmp_path / "out", expect=1)
    assert "dependencies.txt not found: run 'rpmdeploy pin" in result.output

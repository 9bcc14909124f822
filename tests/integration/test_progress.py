"""Progress: a line when a package starts and ends, a heartbeat on long builds, -q/-v, and
the global flags accepted after the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import AppDir, run_cli


def slow_templates(tmp_path: Path, seconds: int) -> Path:
    """A template override whose %build sleeps: a build long enough for a heartbeat."""
    override = tmp_path / "templates" / "package"
    override.mkdir(parents=True)
    shipped = Path(__file__).resolve().parents[2] / "rpmdeploy/templates/package"
    spec = (shipped / "python-package.spec.j2").read_text()
    (override / "python-package.spec.j2").write_text(
        spec.replace("%build\n", f"%build\nsleep {seconds}\n", 1)
    )
    return tmp_path / "templates"


def rpmdeploy(*args: str | os.PathLike[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "rpmdeploy", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_start_end_and_heartbeat_lines(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    templates = slow_templates(tmp_path, 3)
    result = rpmdeploy(
        "rpms",
        app.path,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        tmp_path / "c",
        "--template-dir",
        templates,
        env={"RPMDEPLOY_HEARTBEAT": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    start = next(i for i, ln in enumerate(lines) if "start  python3-delta" in ln)
    beat = next(i for i, ln in enumerate(lines) if "still building python3-delta" in ln)
    end = next(i for i, ln in enumerate(lines) if "built  python3-delta" in ln)
    assert start < beat < end


def test_quiet_keeps_failures_and_summary(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    result = run_cli(
        "-q", "rpms", app.path, "--out", tmp_path / "out", "--cache-dir", tmp_path / "c"
    )
    assert "start" not in result.output and "built  python3-delta" not in result.output
    assert "1 packages: 1 built" in result.output


def test_global_flags_after_the_command(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pinned.write_text("delta>=1\n")
    plain = rpmdeploy("rpms", app.path, "--out", tmp_path / "o")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    debug = rpmdeploy("rpms", app.path, "--out", tmp_path / "o", "--debug")
    assert "Traceback" in debug.stderr and "PinError" in debug.stderr
    quiet = rpmdeploy("rpms", app.path, "--out", tmp_path / "o", "-q")
    assert quiet.returncode == 1 and quiet.stderr.startswith("rpmdeploy: error: ")


def test_summary_says_where_logs_are_and_what_came_from_sdists(built_app) -> None:  # type: ignore[no-untyped-def]
    """The summary names the run's own log directory (it exists, holds fetch.log) and the
    packages compiled from sdists: the fixture app's beta, gamma-flit and cext."""
    output = built_app.first_run.output
    [logs_line] = [ln for ln in output.splitlines() if ln.startswith("logs of this run: ")]
    logs = Path(logs_line.removeprefix("logs of this run: "))
    assert logs.is_dir() and (logs / "fetch.log").is_file()
    assert logs.parent == built_app.cache / "logs"
    [sdists] = [ln for ln in output.splitlines() if ln.startswith("compiled from sdists (")]
    assert sdists.endswith("; the others from wheels"), sdists
    assert {"python3-beta", "python3-gamma-flit", "python3-cext"} <= set(
        sdists.split(": ", 1)[1].split(";")[0].split(", ")
    )

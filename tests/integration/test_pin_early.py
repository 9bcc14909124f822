"""The early start of `rpmdeploy pin` (rpmdeploy.prestart), through the real command: uv is
started from the plan the same command line left last time, before the command line is
imported, and taken only if it is exactly the run the command would start."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import AppDir

from rpmdeploy.prestart import NOTE


class Command:
    """`python -m rpmdeploy pin APP` from the wheelhouse, as a user runs it: its own
    process, its own cache and temporary directory."""

    def __init__(self, app: AppDir, root: Path) -> None:
        self.app, self.root = app, root
        self.cache, self.tmp = root / "cache", root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def pin(self, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "rpmdeploy", "pin", str(self.app.path)]
        argv += ["--no-index", "--find-links", str(self.app.wheelhouse)]
        environ = dict(os.environ, RPMDEPLOY_CACHE_DIR=str(self.cache), TMPDIR=str(self.tmp))
        result = subprocess.run(
            argv, cwd=self.root, env=environ | (env or {}), capture_output=True, text=True
        )
        self.assert_nothing_left()
        return result

    def last_log(self) -> str:
        logs = sorted(self.cache.glob("logs/pin-*.log"), key=lambda p: p.stat().st_mtime_ns)
        return logs[-1].read_text()

    def plans(self) -> list[Path]:
        return sorted((self.cache / "launch").glob("*.plan"))

    def assert_nothing_left(self) -> None:
        """No early run's directory and no process of this cache outlive the command."""
        assert not list(self.tmp.glob("rpmdeploy-pin-*")), list(self.tmp.iterdir())
        deadline = time.monotonic() + 5
        while (running := self.processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running, running

    def processes(self) -> list[str]:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(self.cache) in text:
                found.append(text)
        return found


@pytest.fixture
def command(app_factory, tmp_path: Path) -> Command:  # type: ignore[no-untyped-def]
    return Command(app_factory("alpha\ndelta\n"), tmp_path / "run")


def test_the_second_pin_takes_the_run_started_early_and_pins_the_same(command: Command) -> None:
    first = command.pin()
    assert first.returncode == 0, first.stderr
    assert NOTE not in command.last_log()
    pinned, build = command.app.pinned.read_bytes(), command.app.build_pinned.read_bytes()
    [plan] = command.plans()
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600
    assert stat.S_IMODE(plan.parent.stat().st_mode) == 0o700
    fields = plan.read_bytes().split(b"\0")
    assert fields[:4] == [b"rpmdeploy-plan-2", b"9", b"5", b"pin"]  # the key: 5 arguments, ...
    # The plan names the variables passed on; their values are read at the start.
    assert b"PATH" in fields and os.environ["PATH"].encode() not in fields

    command.app.pinned.unlink()
    command.app.build_pinned.unlink()
    second = command.pin()
    assert second.returncode == 0, second.stderr
    assert NOTE in command.last_log()
    assert command.app.pinned.read_bytes() == pinned
    assert command.app.build_pinned.read_bytes() == build
    third = command.pin()  # with today's pins as preferences (the seed), also taken
    assert NOTE in command.last_log()
    assert "dependencies.txt: unchanged (3 pins)" in third.stderr
    assert command.app.pinned.read_bytes() == pinned


def test_the_early_run_reads_the_requirements_as_they_are_now(command: Command) -> None:
    assert command.pin().returncode == 0
    assert "delta==2.0" in command.app.pinned.read_text()
    command.app.write_in("alpha\n")  # after the plan was left: uv reads it when it starts
    result = command.pin()
    assert result.returncode == 0, result.stderr
    assert NOTE in command.last_log()
    assert "delta" not in command.app.pinned.read_text()
    assert "1 removed (delta 2.0)" in result.stderr


def test_an_early_run_that_is_not_the_commands_run_is_stopped(command: Command) -> None:
    assert command.pin().returncode == 0
    before = command.plans()[0].read_text()
    # Another variable in the environment: the run the command starts is not the planned
    # one (uv would see the variable), so the early run is stopped and a new one started.
    result = command.pin(env={"RPMDEPLOY_TEST_EXTRA": "1"})
    assert result.returncode == 0, result.stderr
    assert NOTE not in command.last_log()
    assert "RPMDEPLOY_TEST_EXTRA" in command.plans()[0].read_text() != before


def test_a_command_that_fails_before_uv_stops_the_early_run(command: Command) -> None:
    assert command.pin().returncode == 0
    (command.app.path / "rpmdeploy.toml").write_text("[pin\n")
    result = command.pin()  # asserts that no early run's process or directory is left
    assert result.returncode != 0
    assert "rpmdeploy.toml" in result.stderr


def test_an_early_run_that_fails_fails_as_the_commands_own_run(command: Command) -> None:
    assert command.pin().returncode == 0
    command.app.write_in("no-such-package\n")
    result = command.pin()
    assert result.returncode == 1
    assert NOTE in command.last_log()
    error = errors(result.stderr)
    assert "no-such-package" in error[0], error
    # The same error as without an early start (no plan: the first run of a command line).
    for plan in command.plans():
        plan.unlink()
    again = command.pin()
    assert NOTE not in command.last_log()
    assert errors(again.stderr) == error


def errors(output: str) -> list[str]:
    """The command's error lines, without the log's path (each run has its own log)."""
    lines = [ln for ln in output.splitlines() if ln.startswith("rpmdeploy: error:")]
    return [re.sub(r"log: [^)]+", "log: LOG", ln) for ln in lines]


def test_a_plan_others_could_have_written_is_not_followed(command: Command) -> None:
    assert command.pin().returncode == 0
    [plan] = command.plans()
    plan.chmod(0o666)
    assert command.pin().returncode == 0
    assert NOTE not in command.last_log()
    assert stat.S_IMODE(command.plans()[0].stat().st_mode) == 0o600  # written anew, private
    assert command.pin().returncode == 0
    assert NOTE in command.last_log()


def test_a_plan_is_left_only_in_the_cache_the_command_looks_in(
    command: Command, tmp_path: Path
) -> None:
    """--cache-dir elsewhere: the early start, which runs before the command line is read,
    would never find a plan there, so none is written."""
    other = tmp_path / "other-cache"
    argv = [sys.executable, "-m", "rpmdeploy", "pin", str(command.app.path), "--no-index"]
    argv += ["--find-links", str(command.app.wheelhouse), "--cache-dir", str(other)]
    env = dict(os.environ, RPMDEPLOY_CACHE_DIR=str(command.cache))
    subprocess.run(argv, env=env, check=True, capture_output=True)
    assert not (other / "launch").exists() and not command.plans()


def test_the_early_run_makes_what_the_run_needs_first(command: Command) -> None:
    """uv's cache emptied since the plan was left: the early run makes its directory, as
    the command does before it runs uv (bubblewrap binds only what exists)."""
    assert command.pin().returncode == 0
    shutil.rmtree(command.cache / "tools" / "uv-cache")
    result = command.pin()
    assert result.returncode == 0, result.stderr
    assert NOTE in command.last_log()

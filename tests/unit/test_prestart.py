"""The early start's pieces (rpmdeploy.prestart, rpmdeploy._run.spawn): plans that are not
exactly right start nothing, and a spawned program starts as subprocess would start it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rpmdeploy import _run, prestart
from rpmdeploy.cache import default_cache_dir


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """This test's command line key, and its plans kept under tmp_path (the module's state
    as it was after the test: other tests run the library, which never starts early)."""
    monkeypatch.setenv("RPMDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(prestart, "_key", None)
    monkeypatch.setattr(prestart, "_early", None)
    prestart.start_planned(["pin", "app"])
    assert prestart._key is not None and prestart._early is None
    return prestart._key


def a_run(tmp_path: Path) -> prestart.Run:
    work = tmp_path / "work"
    return prestart.Run(
        ["/bin/true", "x"], {"A": "1"}, tmp_path, work, work / "out.txt", tmp_path / "seed"
    )


def test_the_plan_directory_is_in_the_cache_directory_the_cache_module_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RPMDEPLOY_CACHE_DIR", raising=False)
    for xdg in (str(tmp_path / "xdg"), None):
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        assert prestart.plan_dir() == str(default_cache_dir() / "launch")


def test_a_plan_reads_back_as_the_run_it_was_written_for(key: list[str], tmp_path: Path) -> None:
    run = a_run(tmp_path)
    path = prestart._plan_path(key)
    prestart._write_plan(path, run)
    assert prestart._read_plan(path) == run
    assert prestart._read_plan(path) != prestart.Run(["/bin/false"], {}, "/", "/w", "/w/o")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data.replace(b"rpmdeploy-plan-2", b"rpmdeploy-plan-0"),
        lambda data: data + b"\x001\x00extra",  # a field too many
        lambda data: data.replace(b"\x002\x00/bin/true", b"\x009\x00/bin/true"),  # bad count
        lambda data: data.replace(b"/work/out.txt", b"/elsewhere/out.txt"),  # outside work
        lambda data: b"",
    ],
)
def test_a_damaged_plan_starts_nothing(key: list[str], tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = prestart._plan_path(key)
    prestart._write_plan(path, a_run(tmp_path))
    Path(path).write_bytes(damage(Path(path).read_bytes()))
    assert prestart._read_plan(path) is None


def test_a_plan_for_another_command_line_starts_nothing(
    key: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = prestart._plan_path(key)
    prestart._write_plan(path, a_run(tmp_path))
    monkeypatch.setattr(prestart, "_key", [*key[:-1], "another version"])
    assert prestart._read_plan(path) is None


def test_a_plan_in_a_directory_others_may_write_starts_nothing(
    key: list[str], tmp_path: Path
) -> None:
    path = prestart._plan_path(key)
    prestart._write_plan(path, a_run(tmp_path))
    os.chmod(os.path.dirname(path), 0o777)
    assert prestart._read_plan(path) is None
    os.chmod(os.path.dirname(path), 0o700)
    assert prestart._read_plan(path) is not None


def ignored_signals(status: str) -> int:
    [line] = [ln for ln in status.splitlines() if ln.startswith("SigIgn:")]
    return int(line.split()[1], 16)


def test_spawn_starts_a_program_as_subprocess_does(tmp_path: Path) -> None:
    """Its own working directory, standard input from /dev/null, output appended to the
    file after the command line, and SIGPIPE and SIGXFSZ, which Python ignores, back to
    their defaults as subprocess sets them.  (glibc's posix_spawn leaves its own two
    internal signals, 32 and 33, ignored; glibc's start-up in the program sets them.)"""
    script = "pwd; cat; grep SigIgn /proc/self/status; exit 3"
    out = tmp_path / "out.log"
    out.write_text("before\n")
    started = _run.spawn(["/bin/sh", "-c", script], output=str(out), env={}, cwd="/usr")
    with pytest.raises(_run.BuildError, match=r"sh failed \(exit 3\)"):
        started.wait(log=out, what="sh")
    lines = out.read_text().splitlines()
    assert lines[:3] == ["before", f"$ /bin/sh -c {script}", "/usr"]
    popen = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, cwd="/")
    python_ignores = 1 << (13 - 1) | 1 << (25 - 1)  # SIGPIPE, SIGXFSZ
    assert ignored_signals(popen.stdout) & python_ignores == 0
    assert ignored_signals(lines[3]) & python_ignores == 0
    assert ignored_signals(Path("/proc/self/status").read_text()) & python_ignores


def test_a_killed_early_run_is_gone(tmp_path: Path) -> None:
    started = _run.spawn(["/bin/sleep", "60"], output=str(tmp_path / "log"), env={}, cwd="/")
    started.kill()
    assert started.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(started.pid, 0)


def test_plans_are_pruned_to_the_most_recent(
    key: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(prestart.MAX_PLANS + 5):
        monkeypatch.setattr(prestart, "_key", [*key, str(n)])
        path = prestart._plan_path(prestart._key)
        prestart._write_plan(path, a_run(tmp_path))
        os.utime(path, ns=(n * 10**9, n * 10**9))  # written a second apart
    plans = sorted(Path(prestart.plan_dir()).glob("*.plan"), key=lambda p: p.stat().st_mtime)
    assert len(plans) == prestart.MAX_PLANS
    assert plans[-1] == Path(path)  # the newest kept, the oldest gone
    assert plans[0].stat().st_mtime == 5


def test_the_early_start_imports_nothing_that_would_delay_it() -> None:
    """What the early start imports is on `rpmdeploy pin`'s critical path (README: the
    bench_pin figures): without site, so that only rpmdeploy's own imports count."""
    root = Path(prestart.__file__).resolve().parent.parent
    code = (
        f"import sys; sys.path.insert(0, {str(root)!r}); before = set(sys.modules); "
        "import rpmdeploy.prestart; print(' '.join(sorted(set(sys.modules) - before)))"
    )
    found = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    slow = {"typing", "json", "re", "pathlib", "subprocess", "dataclasses", "tempfile", "enum"}
    assert "rpmdeploy.prestart" in found and not slow & set(found), found


def test_the_command_runs_in_a_directory_that_is_gone(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    code = f"import os; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
    code += "import sys; sys.argv = ['rpmdeploy', '--version']; from rpmdeploy.__main__ import main; main()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "rpmdeploy, version" in done.stdout, done.stderr

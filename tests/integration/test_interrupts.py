"""Interrupted and failing runs leave nothing behind and say one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import AppDir, run_cli


def test_sigterm_mid_build_leaves_nothing_behind(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha[fast]\ngamma-flit\ncext\n")
    app.pin()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    cache, out = tmp_path / "cache", tmp_path / "out"
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rpmdeploy", "rpms", str(app.path), "--out", str(out),
         "--cache-dir", str(cache), "--jobs", "2"],
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until builds are under way
        if line.startswith("-- building"):
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 143, rest
    assert "rpmdeploy: terminated" in rest and "Traceback" not in rest
    assert not out.exists()
    assert [p.name for p in (cache / "builds").iterdir() if p.name.startswith(".")] == []
    assert list(tmp.iterdir()) in ([], [tmp / f"rpmdeploy-build-{os.getuid()}"])
    assert (
        list((tmp / f"rpmdeploy-build-{os.getuid()}").glob("*")) == []
        or not (tmp / f"rpmdeploy-build-{os.getuid()}").exists()
    )


def test_os_errors_are_one_line(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    locked = tmp_path / "readonly"
    locked.mkdir()
    (locked / "out").mkdir()
    os.chmod(locked / "out", 0o500)
    try:
        # root ignores mode bits: a read-only bind is what a full or read-only disk looks like
        result = run_cli("rpms", app.path, "--out", "/proc/rpmdeploy-out", "--cache-dir",
                         tmp_path / "cache", expect=1)  # fmt: skip
    finally:
        os.chmod(locked / "out", 0o700)
    assert result.output.count("\n") <= 6
    assert "rpmdeploy: error:" in result.output and "Traceback" not in result.output
    assert "/proc/rpmdeploy-out" in result.output

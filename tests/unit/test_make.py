"""The Makefile's own help, and what `make rpms` installs (only what releasing needs)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def test_make_help_lists_every_target() -> None:
    out = subprocess.run(
        ["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    for target in ("rpms", "test", "lint", "bench", "bench-mock", "clean"):
        assert f"make {target} " in out


def test_make_rpms_installs_no_test_tools() -> None:
    """A dry run of `make rpms` on a fresh checkout names no test tool or test extra."""
    plan = subprocess.run(
        ["make", "-n", "-B", "rpms", "VENV=/nonexistent-venv"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'.[test]'" not in plan and "puppet" not in plan and "test-wheelhouse" not in plan
    assert "pip install -q -e ." in plan and "rpmdeploy release" in plan

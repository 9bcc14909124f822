"""Running puppet without letting it write outside a temporary directory."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

needs_puppet = pytest.mark.skipif(
    shutil.which("puppet") is None,
    reason="puppet is not installed (Debian: apt-get install puppet)",
)


def puppet(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run puppet with every directory it writes to under tmp_path (nothing under /var)."""
    dirs: list[str] = []
    for option in ("confdir", "vardir", "codedir", "logdir", "rundir", "ssldir"):
        dirs += [f"--{option}", str(tmp_path / "puppet" / option)]
    return subprocess.run(
        ["puppet", *args[:2], *dirs, *args[2:]], capture_output=True, text=True, check=False
    )

"""Running a verify step's program and turning its output into one line for the user."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.errors import RpmdeployError, VerifyError

_MAX_MESSAGE = 400


def run_logged(argv: Sequence[str | os.PathLike[str]], log: Path, what: str) -> tuple[bool, str]:
    """Run through the one runner; return (succeeded, this run's output read back from log).

    The failure is not raised: the caller reads the output to say *what* failed.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    start = log.stat().st_size if log.exists() else 0
    ok = True
    try:
        run(argv, log=log, what=what, error=VerifyError)
    except RpmdeployError:
        ok = False
    with log.open("rb") as handle:
        handle.seek(start)
        return ok, handle.read().decode(errors="replace")


def failure_summary(output: str) -> str:
    """The error lines of a tool's output (or its last line), as one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error", "error:")) or "FAILED" in line]
    picked = errors or lines[-1:] or ["no output"]
    return truncate(" / ".join(dict.fromkeys(picked)))


def truncate(text: str) -> str:
    """One line of at most a few hundred characters; the log has the rest."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 15] + " ... (see log)"

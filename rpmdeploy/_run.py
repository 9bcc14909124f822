"""The one place rpmdeploy runs external programs.

Argument lists only (never a shell string), an explicit environment, output captured into a
per-step log file, and a typed error when the program fails: one line naming the step, the
cause found in what the program printed (``rpmdeploy.diagnose``) and the log.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rpmdeploy import diagnose
from rpmdeploy.errors import BuildError, RpmdeployError

#: Reads a failed program's output and says what went wrong in one line, or None.
Explain = Callable[[str], str | None]

#: Environment variables that let a machine's pip configuration leak into what rpmdeploy does.
_PIP_PREFIXES = ("PIP_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def isolated_pip_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for pip and pip-compile that ignores the machine's pip configuration.

    Global pip config files and PIP_* variables add machine-local indexes, find-links and
    constraints; a pinned file or a fetch must depend only on the options the user gave.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PIP_PREFIXES)}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    if "PIP_CERT" in os.environ:  # a CA bundle is trust, not configuration: keep it
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    env.update(extra or {})
    return env


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def output_since(log: Path, start: int) -> str:
    """What was appended to ``log`` from byte ``start`` on (one run's output)."""
    try:
        with log.open("rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    log: Path,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    error: type[RpmdeployError] = BuildError,
    timeout: float | None = None,
    explain: Explain | None = None,
) -> None:
    """Run ``argv``, appending its output to ``log``; raise ``error`` when it fails.

    ``what`` describes the step for the user ("building python3-foo"); the raised error names
    it, the cause and the log, and the log itself records the exact command line.  The cause
    is what ``explain`` finds in this run's output; by default ``rpmdeploy.diagnose`` reads
    it as the output of the tool ``argv`` runs.  Without a cause: the exit status.
    """
    args = [os.fspath(a) for a in argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        out.write(("$ " + " ".join(args) + "\n").encode())
        out.flush()
        try:
            proc = subprocess.run(  # noqa: S603 - argument list, no shell
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise _make_error(error, f"{what}: program not found: {args[0]}", log) from exc
        except subprocess.TimeoutExpired as exc:
            raise _make_error(error, f"{what}: timed out after {timeout:.0f}s", log) from exc
    if proc.returncode != 0:
        explain = explain or (lambda text: diagnose.explain(text, diagnose.tool_of(args)))
        cause = explain(output_since(log, start))
        message = f"{what} failed (exit {proc.returncode}){': ' + cause if cause else ''}"
        raise _make_error(error, message, log)


def capture(
    argv: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    error: type[RpmdeployError] = RpmdeployError,
) -> str:
    """Run a short query program and return its standard output (stderr in the error)."""
    args = [os.fspath(a) for a in argv]
    try:
        proc = subprocess.run(  # noqa: S603 - argument list, no shell
            args,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError as exc:
        raise error(f"{what}: program not found: {args[0]}") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise error(f"{what} failed (exit {proc.returncode}): {last}")
    return proc.stdout


def _make_error(cls: type[RpmdeployError], message: str, log: Path) -> RpmdeployError:
    return cls(message, log=str(log))

"""The one place rpmdeploy runs external programs.

Argument lists only (never a shell string), an explicit environment, output captured into a
per-step log file, and a typed error when the program fails: one line naming the step, the
cause found in what the program printed (``rpmdeploy.diagnose``) and the log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from rpmdeploy.errors import BuildError, RpmdeployError

# subprocess (and pathlib) are imported where used: the early start of `rpmdeploy pin`
# (rpmdeploy.prestart) starts its program with :func:`spawn` before anything else is
# imported, and what subprocess imports would delay it by a tenth of the whole pin.
TYPE_CHECKING = False  # type checkers read it as True
if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

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


def output_since(log: str | os.PathLike[str], start: int) -> str:
    """What was appended to ``log`` from byte ``start`` on (one run's output)."""
    try:
        with open(log, "rb") as f:
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
    try:
        started = start(argv, output=log, env=env, cwd=cwd)
    except FileNotFoundError as exc:
        raise _make_error(error, f"{what}: program not found: {os.fspath(argv[0])}", log) from exc
    started.wait(log=log, what=what, error=error, timeout=timeout, explain=explain)


class Started:
    """A program :func:`start` or :func:`spawn` started, its output going to a file;
    :meth:`wait` ends it as :func:`run` would."""

    def __init__(
        self,
        pid: int,
        args: list[str],
        output: str | os.PathLike[str],
        offset: int,
        proc: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.pid, self.args, self.output, self.offset, self.proc = pid, args, output, offset, proc
        self.returncode: int | None = None

    def wait(
        self,
        *,
        log: Path,
        what: str,
        error: type[RpmdeployError] = BuildError,
        timeout: float | None = None,
        explain: Explain | None = None,
        note: str = "",
    ) -> None:
        """Wait for the program; its output (after ``note``, a line for the log) is added
        to ``log`` if it went elsewhere; ``error`` as :func:`run` raises it.  ``timeout``
        only for a program :func:`start` started."""
        import subprocess

        try:
            returncode = self._wait(timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise _make_error(error, f"{what}: timed out after {timeout:.0f}s", log) from exc
        start = self.offset
        if os.fspath(log) != os.fspath(self.output):
            log.parent.mkdir(parents=True, exist_ok=True)
            start = log.stat().st_size if log.exists() else 0
            with log.open("ab") as out:
                out.write(note.encode() + output_since(self.output, self.offset).encode())
        if returncode != 0:
            tool = _tool_of(self.args)
            cause = (explain or tool)(output_since(log, start))
            message = f"{what} failed (exit {returncode}){': ' + cause if cause else ''}"
            raise _make_error(error, message, log)

    def _wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if self.proc is not None:
                self.returncode = self.proc.wait(timeout)
            else:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        """Stop the program (a confined one takes what it runs along: --die-with-parent)."""
        import signal  # not on the early start's path: only an unwanted run is killed

        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)  # not waited for yet: the pid is still its
            except ProcessLookupError:
                pass
            self._wait()


def start(
    argv: Sequence[str | os.PathLike[str]],
    *,
    output: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Started:
    """Start ``argv`` with its output appended to ``output`` after the command line; raises
    FileNotFoundError when there is no such program."""
    import subprocess

    args = [os.fspath(a) for a in argv]
    output.parent.mkdir(parents=True, exist_ok=True)
    offset = output.stat().st_size if output.exists() else 0
    with output.open("ab") as out:
        out.write(("$ " + " ".join(args) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
    return Started(proc.pid, args, output, offset, proc)


def spawn(argv: Sequence[str], *, output: str, env: Mapping[str, str], cwd: str) -> Started:
    """:func:`start` with nothing but :mod:`os`, for the early start (rpmdeploy.prestart):
    ``argv[0]`` is a path, ``output`` is created (private) or appended to.  As
    :func:`start` does (through subprocess): standard input from /dev/null, the signals
    Python ignores back to their defaults, no other descriptor inherited (Python opens
    them close-on-exec).  Raises OSError when the program cannot be started."""
    args = list(argv)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        offset = os.fstat(fd).st_size
        os.write(fd, ("$ " + " ".join(args) + "\n").encode())
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, fd, 1),
            (os.POSIX_SPAWN_DUP2, fd, 2),
        ]
        # posix_spawn has no working directory of its own (not before Python 3.13's
        # POSIX_SPAWN_... chdir); the process is still single-threaded here.
        here = os.getcwd()
        os.chdir(cwd)
        try:
            pid = os.posix_spawn(
                args[0], args, dict(env), file_actions=actions, setsigdef=_IGNORED_BY_PYTHON
            )
        finally:
            os.chdir(here)
    finally:
        os.close(fd)
    return Started(pid, args, output, offset)


#: SIGPIPE and SIGXFSZ: Python ignores them, and a program would inherit that (13, 25 on
#: Linux; the numbers, because importing signal imports enum).
_IGNORED_BY_PYTHON = (13, 25)


def _tool_of(args: list[str]) -> Explain:
    """``rpmdeploy.diagnose`` reading the output of the tool ``args`` runs (imported only
    when something failed: its rules are compiled on import)."""
    from rpmdeploy import diagnose

    return lambda text: diagnose.explain(text, diagnose.tool_of(args))


def capture(
    argv: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    error: type[RpmdeployError] = RpmdeployError,
) -> str:
    """Run a short query program and return its standard output (stderr in the error)."""
    import subprocess

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

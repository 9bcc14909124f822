"""The early start: `rpmdeploy pin` starts uv before Python has imported the command line.

A pin against a warm cache is mostly uv waiting on the index, and before rpmdeploy could
start uv, Python had to start and import the command line, the settings and the target
table: about 0.1 s, a quarter of the whole pin.  So the ``rpmdeploy`` command, first thing
(:func:`start_planned`, before importing anything else), looks for the plan the same command
line (same arguments, same directory, same rpmdeploy) left when it last ran and starts that
run at once; then the command goes its normal way.  When it comes to run uv, it takes the
early run (:func:`take`) only if it is exactly the run it would start now: the same program
and arguments, environment and working directory (the early run's work directory standing
for its own), and the same input files, unchanged since the early run started.  Otherwise
the early run is killed, its directory removed, and the run started as always: an early
start can make a pin faster, never different.  A run that was taken says so in the log
(:data:`NOTE`).

Plans are kept in ``launch/`` of the cache directory that ``RPMDEPLOY_CACHE_DIR`` names
(else the default one), one file per command line, and only runs of that cache leave plans.
A plan holds the command's arguments and the *names* of the environment variables passed on
(their values are taken from the environment at the start, except the few rpmdeploy sets
itself); it is written by its owner for its owner only, and a plan that anyone else could
have written is ignored, as is one that does not parse.

Only the ``rpmdeploy`` command starts early; the library used from Python never does.  This
module imports only :mod:`os` and what rpmdeploy's runner needs before the early run has
started (the point is to be quick): paths are strings here, and a plan is not JSON but
NUL-separated strings, the way the kernel keeps a process's arguments (``/proc/PID/cmdline``):
importing json, with the regular expressions it compiles, would take longer than everything
else done here.
"""

from __future__ import annotations

import atexit
import os
import sys
import zlib
from collections.abc import Mapping, Sequence

from rpmdeploy import __version__
from rpmdeploy._run import Started, spawn

#: The first line of a taken early run's output in the log.
NOTE = "# started early, before the command line was read: the same run\n"
#: A plan file starts with this field.
MAGIC = "rpmdeploy-plan-2"

AnyPath = str | os.PathLike[str]


# A plain class, not a frozen dataclass: importing dataclasses costs more than all the rest
# this module does before the early run starts.
class Run:
    """A run as the command would start it: ``argv`` in ``cwd`` with ``env``, writing
    ``output``, a file in its own directory ``work``; ``seed``, when it exists, is copied to
    ``output`` before the run; ``inputs`` are files the run reads; ``dirs`` are made (when
    missing) before the run.  Equal when all are."""

    __slots__ = ("argv", "env", "cwd", "work", "output", "seed", "inputs", "dirs")

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: AnyPath,
        work: AnyPath,
        output: AnyPath,
        seed: AnyPath | None = None,
        inputs: Sequence[AnyPath] = (),
        dirs: Sequence[AnyPath] = (),
    ) -> None:
        self.argv, self.env = tuple(argv), dict(env)
        self.cwd, self.work, self.output = os.fspath(cwd), os.fspath(work), os.fspath(output)
        self.seed = os.fspath(seed) if seed is not None else None
        self.inputs = tuple(os.fspath(p) for p in inputs)
        self.dirs = tuple(os.fspath(p) for p in dirs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    __hash__ = None  # type: ignore[assignment]  # equal by value, and the env is a dict

    def moved(self, work: str) -> Run:
        """This run with ``work`` for its work directory, wherever that path appears."""
        old = self.work

        def moved(text: str) -> str:
            return work + text[len(old) :] if text == old or text.startswith(old + "/") else text

        argv = [moved(a) for a in self.argv]
        return Run(
            argv,
            self.env,
            moved(self.cwd),
            work,
            moved(self.output),
            self.seed,
            self.inputs,
            self.dirs,
        )


class Taken:
    """An early run taken by the command: ``started`` is its program, ``run`` says where
    its output is."""

    def __init__(self, started: Started, run: Run) -> None:
        self.started, self.run = started, run

    def finish(self, output: AnyPath) -> None:
        """Move the run's output to ``output`` (where the command expected it) and remove
        the run's work directory."""
        try:
            os.replace(self.run.output, output)
        finally:
            _remove(self.run.work)

    def discard(self) -> None:
        """Remove the run's work directory (the run failed: its output is not wanted)."""
        _remove(self.run.work)


class _Early:
    def __init__(self, run: Run, started: Started, files: dict[str, tuple[int, ...] | None]):
        self.run = run  # as started, in its own work directory
        self.started = started
        self.files = files  # each input and the seed: as found at the start


#: This command line's key (None: not the rpmdeploy command) and its early run, if any.
_key: list[str] | None = None
_early: _Early | None = None


def plan_dir(environ: Mapping[str, str] = os.environ) -> str:
    """Where plans are kept: ``launch/`` in the cache named by RPMDEPLOY_CACHE_DIR, else the
    default cache."""
    # The default as rpmdeploy.cache.default_cache_dir() has it (the tests check they
    # agree): that module imports pathlib, json and tempfile, which would delay the start.
    home = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    cache = environ.get("RPMDEPLOY_CACHE_DIR") or os.path.join(home, "rpmdeploy")
    return os.path.join(os.path.abspath(cache), "launch")


def start_planned(args: Sequence[str]) -> None:
    """Called by the ``rpmdeploy`` command with its arguments before anything else: start
    the run the plan for this command line names, if there is one.  Never fails: without a
    usable plan nothing starts."""
    global _key, _early
    try:
        here = os.getcwd()
    except OSError:
        return  # the working directory is gone: no command line to know
    _key = [str(len(args)), *args, here, sys.executable, __version__]
    run = _read_plan(_plan_path(_key))
    if run is None:
        return
    try:
        work = _new_work_dir()
    except OSError:
        return
    atexit.register(_discard)  # an early run nobody took ends with the command
    mine = run.moved(work)
    try:
        files = {p: _signature(p) for p in (*run.inputs, *([run.seed] if run.seed else []))}
        for path in run.dirs:
            os.makedirs(path, exist_ok=True)
        if run.seed is not None and os.path.isfile(run.seed):
            _copy(run.seed, mine.output)
        output = os.path.join(work, ".early.log")
        started = spawn(mine.argv, output=output, env=mine.env, cwd=mine.cwd)
    except OSError:
        _remove(work)
        return
    _early = _Early(mine, started, files)


def take(run: Run, cache: AnyPath) -> Taken | None:
    """The early run if it is ``run`` (in its own work directory), else None (an early run
    that is not ``run`` is stopped).  ``cache``: the command's cache directory; when plans are
    kept there, ``run`` becomes this command line's plan."""
    global _early
    early, _early = _early, None
    if early is not None:
        unchanged = all(_signature(p) == sig for p, sig in early.files.items())
        if unchanged and run.moved(early.run.work) == early.run:
            return Taken(early.started, early.run)
        _stop(early)
    here = os.path.join(os.path.abspath(cache), "launch")
    if _key is not None and plan_dir() == here:
        _write_plan(_plan_path(_key), run)
    return None


def _new_work_dir() -> str:
    """A new private directory where tempfile would make one (not imported: see above)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    path = os.path.join(base, f"rpmdeploy-pin-{os.urandom(6).hex()}")
    os.mkdir(path, 0o700)
    return path


def _signature(path: str) -> tuple[int, ...] | None:
    """What tells a file changed (or appeared, or went) between the early start and now."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _copy(source: str, dest: str) -> None:
    with open(source, "rb") as src, open(dest, "xb") as out:
        out.write(src.read())


def _remove(work: str) -> None:
    import shutil

    shutil.rmtree(work, ignore_errors=True)


def _stop(early: _Early) -> None:
    early.started.kill()
    _remove(early.run.work)


def _discard() -> None:
    global _early
    if _early is not None:
        _stop(_early)
        _early = None


def _plan_path(key: Sequence[str]) -> str:
    text = "\0".join(key).encode(errors="surrogateescape")
    return os.path.join(plan_dir(), f"{zlib.crc32(text):08x}-{len(text)}.plan")


# A plan file: fields joined by NUL, each a count and that many strings (MAGIC first, then
# the key, argv, the variables' names, NAME=VALUE of those rpmdeploy set, the working
# directory, work directory, output, seed (none or one), inputs and directories made).  No
# field can hold a NUL: none can be an argument, a path or an environment variable.
def _encode(fields: Sequence[Sequence[str]]) -> bytes:
    flat = [MAGIC]
    for field in fields:
        flat += [str(len(field)), *field]
    return "\0".join(flat).encode(errors="surrogateescape")


def _decode(data: bytes) -> list[list[str]]:
    flat = data.decode(errors="surrogateescape").split("\0")
    if flat[0] != MAGIC:
        raise ValueError("not a plan")
    fields, at = [], 1
    while at < len(flat):
        count = int(flat[at]) if flat[at].isdigit() else -1
        if count < 0 or at + 1 + count > len(flat):
            raise ValueError("not a plan")
        fields.append(flat[at + 1 : at + 1 + count])
        at += 1 + count
    return fields


def _read_plan(path: str) -> Run | None:
    """The run the plan at ``path`` names, if the plan is this command line's and only its
    owner could have written it (and its directory), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not (_private(os.fstat(fd)) and _private(os.stat(os.path.dirname(path)))):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            key, argv, names, own, cwd, work, output, seed, inputs, dirs = _decode(f.read())
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    scalars = (cwd, work, output)
    if key != _key or not argv or any(len(s) != 1 for s in scalars) or len(seed) > 1:
        return None
    if os.path.dirname(output[0]) != work[0] or not os.path.isabs(work[0]):
        return None  # the seed is copied to the output: never anywhere else
    env = {name: os.environ[name] for name in names if name in os.environ}
    env |= dict(pair.partition("=")[::2] for pair in own)
    return Run(argv, env, cwd[0], work[0], output[0], seed[0] if seed else None, inputs, dirs)


def _private(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022  # no group/other write


def _write_plan(path: str, run: Run) -> None:
    """Keep ``run`` as this command line's plan (by rename, owner-only); a plan that cannot
    be written only means no early start next time."""
    assert _key is not None
    own = {k: v for k, v in run.env.items() if os.environ.get(k) != v}
    data = _encode(
        [
            _key,
            run.argv,
            sorted(k for k in run.env if k not in own),
            [f"{k}={v}" for k, v in sorted(own.items())],
            [run.cwd],
            [run.work],
            [run.output],
            [run.seed] if run.seed else [],
            run.inputs,
            run.dirs,
        ]
    )
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        _prune(os.path.dirname(path), keep=path)
    except OSError:
        pass


#: Plans kept: command lines in throwaway directories (CI, tests) would leave one each.
MAX_PLANS = 64


def _prune(directory: str, keep: str) -> None:
    """Remove the plans used least recently beyond :data:`MAX_PLANS` (a taken plan is read,
    not written: its access time says when it was last used, where the mount records it)."""
    plans = [e for e in os.scandir(directory) if e.name.endswith(".plan") and e.path != keep]
    if len(plans) >= MAX_PLANS:
        plans.sort(key=lambda e: max(e.stat().st_atime_ns, e.stat().st_mtime_ns))
        for entry in plans[: len(plans) - MAX_PLANS + 1]:
            os.unlink(entry.path)

"""Build with the host's rpmbuild, one isolated %_topdir per package.

The host builder does not build inside the target: BuildRequires are not installed (the
build runs with ``--nodeps``: Debian's rpmdb knows no Fedora packages) and %build uses the
host's interpreters.  Those are host details, kept here: the interpreter that runs the
wheel tool (rpmdeploy's own, which has ``build`` and ``installer``) and the build
environment of an sdist's backend reach the spec through the environment, never as macros,
so no path of this machine is expanded into the spec stored in the SRPM.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from rpmdeploy import diagnose
from rpmdeploy._run import capture, run
from rpmdeploy.builders import BuilderContext, BuildRequest, BuildResult, Capabilities
from rpmdeploy.cache import link_or_copy
from rpmdeploy.confine import confined, interpreter_dirs
from rpmdeploy.errors import BuildError, RpmdeployError
from rpmdeploy.targets import Target, find_python

# Reproducible output: timestamps from SOURCE_DATE_EPOCH, fixed build host (rpm >= 4.14).
REPRODUCIBLE = (
    ("_buildhost", "rpmdeploy.invalid"),
    ("use_source_date_epoch_as_buildtime", "1"),
    ("clamp_mtime_to_source_date_epoch", "1"),
)


class RpmbuildBuilder:
    name = "rpmbuild"
    capabilities = Capabilities(in_target=False, ordered=False, where="local")

    def __init__(self, context: BuilderContext) -> None:
        self.context = context
        self.target = context.target
        # rpmbuild parallelises file processing itself (OpenMP); with several builds side
        # by side, share the cores instead of oversubscribing them.
        self.threads = max(1, (os.cpu_count() or 1) // max(1, context.jobs))
        # Bytecode embeds the interpreter's magic number: the wheel tool compiles it with an
        # interpreter of the target's Python version (RPMDEPLOY_BYTECODE_PYTHON), found once,
        # in the background: asking a candidate its version overlaps preparing the first build.
        finder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bytecode-python")
        self._bytecode_python = finder.submit(bytecode_python, self.target)
        finder.shutdown(wait=False)  # the thread ends with its one task

    @property
    def bytecode_python(self) -> str | None:
        return self._bytecode_python.result()

    @property
    def notes(self) -> tuple[str, ...]:
        """What the run summary says once (rpmdeploy.pipeline.run_notes)."""
        if self.bytecode_python is not None:
            return ()
        version = self.target.python_version
        return (
            f"no bytecode (.pyc) in the packages: no Python {version} (the target's) on "
            "this machine; install one, or build in the target (--builder mock)",
        )

    def __enter__(self) -> RpmbuildBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def provide(self, results: Sequence[BuildResult]) -> None:
        """Nothing to do: host builds do not install BuildRequires."""

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        log = workdir / "build.log"
        macros = [*self._macros(request), ("_smp_build_nthreads", str(self.threads))]
        environment = self._environment(request, log)
        # %build and %install run the package's own code: confined (rpmdeploy.confine).
        readable = [self.context.cache.root, *interpreter_dirs()]
        if "RPMDEPLOY_BACKEND_PYTHON" in environment:  # a venv made from another Python
            readable += interpreter_dirs(environment["RPMDEPLOY_BACKEND_PYTHON"])
        if self.bytecode_python:
            readable += interpreter_dirs(self.bytecode_python)
        srpms, rpms = rpmbuild(
            request, workdir, "-ba", macros, environment, log, confine_readable=readable
        )
        if len(srpms) != 1 or not rpms:
            raise BuildError(f"rpmbuild of {request.label} produced no packages", str(log))
        return BuildResult(srpms[0], rpms, log)

    def _environment(self, request: BuildRequest, log: Path) -> dict[str, str]:
        env = {
            **os.environ,
            "RPMDEPLOY_PYTHON": sys.executable,  # it has build and installer
            "SOURCE_DATE_EPOCH": str(request.source_date_epoch),
            "LC_ALL": "C",
        }
        env.pop("RPMDEPLOY_BYTECODE_PYTHON", None)
        if self.bytecode_python:
            env["RPMDEPLOY_BYTECODE_PYTHON"] = self.bytecode_python
        if request.python_build_requires is not None:
            if self.context.build_environment is None:
                raise BuildError(f"{request.label}: no build environment for its sdist")
            env["RPMDEPLOY_BACKEND_PYTHON"] = self.context.build_environment(
                request.python_build_requires, log
            )
        return env

    def _macros(self, request: BuildRequest) -> list[tuple[str, str]]:
        macros = [
            ("_binary_payload", self.target.payload),
            ("_source_payload", self.target.payload),
            *REPRODUCIBLE,
            *request.macros,
        ]
        if self.target.dist:
            macros.append(("dist", self.target.dist))
        return macros


def bytecode_python(target: Target) -> str | None:
    """An interpreter of the target's Python version on this machine (its real path, not a
    pyenv shim: builds run confined), or None."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if running == target.python_version:
        return sys.executable
    extra = (target.interpreter,) if target.is_host else ()
    found = find_python(target.python_version, extra)
    if not found:
        return None
    if f"{os.sep}shims{os.sep}" not in found[0]:
        # Compiling needs only the interpreter and its stdlib: the file it resolves to
        # serves (a venv's site-packages are not needed), without running it again.
        return os.path.realpath(found[0])
    try:  # a pyenv shim: a script, so ask the interpreter behind it
        return capture([found[0], "-c", "import sys; print(sys.executable)"], what="python").strip()
    except RpmdeployError:
        return None


def source_rpm(request: BuildRequest, workdir: Path, payload: str, log: Path) -> Path:
    """The SRPM of ``request``, made with ``rpmbuild -bs`` (nothing of the package runs).

    For builders that build elsewhere (a chroot, a build farm) from the SRPM.
    """
    macros = [("_source_payload", payload), *REPRODUCIBLE, *request.macros]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(request.source_date_epoch), "LC_ALL": "C"}
    srpms, _ = rpmbuild(request, workdir, "-bs", macros, env, log)
    if len(srpms) != 1:
        raise BuildError(f"rpmbuild -bs of {request.label} produced no source package", str(log))
    return srpms[0]


def rpmbuild(
    request: BuildRequest,
    workdir: Path,
    mode: str,
    macros: Sequence[tuple[str, str]],
    environment: dict[str, str],
    log: Path,
    confine_readable: Sequence[Path] | None = None,
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Run ``rpmbuild MODE`` on the request in a private topdir; move the results to
    ``workdir/results`` and return (SRPMs, binary RPMs).

    With ``confine_readable`` (the directories outside the topdir it reads: the cache, the
    interpreters), rpmbuild runs confined: unprivileged, no network, writing only its topdir.
    """
    with _stable_topdir(request) as topdir:
        for sub in ("SOURCES", "SPECS", "BUILD", "RPMS", "SRPMS", "BUILDROOT"):
            (topdir / sub).mkdir(parents=True, exist_ok=True)
        for source in request.sources:
            link_or_copy(source, topdir / "SOURCES" / source.name)
        spec = topdir / "SPECS" / request.spec.name
        shutil.copyfile(request.spec, spec)
        # --nodeps: BuildRequires are for chroots (Debian's rpmdb knows no Fedora packages),
        # and it keeps rpmbuild from writing the host's rpmdb.
        argv = ["rpmbuild", mode, "--nodeps"]
        for name, value in [("_topdir", str(topdir)), *macros]:
            argv += ["--define", f"{name} {value}"]
        argv.append(str(spec))
        if confine_readable is not None:
            readable = [*confine_readable, workdir]
            argv = confined(argv, writable=[topdir], readable=readable, cwd=workdir)
        what = f"rpmbuild of {request.label}"
        explain = partial(explain_build, request=request, tool="rpmbuild")
        run(argv, log=log, what=what, env=environment, cwd=workdir, explain=explain)
        results = workdir / "results"
        results.mkdir(exist_ok=True)
        srpms = sorted((topdir / "SRPMS").glob("*.src.rpm"))
        rpms = sorted((topdir / "RPMS").glob("*/*.rpm"))
        moved = [Path(shutil.move(str(p), results / p.name)) for p in (*srpms, *rpms)]
    return tuple(moved[: len(srpms)]), tuple(moved[len(srpms) :])


def explain_build(
    output: str, *, request: BuildRequest, tool: str, chroot: bool = False
) -> str | None:
    """The cause of a failed build of ``request`` in rpmbuild's output: the step that failed
    and the decisive line (rpmdeploy.diagnose), e.g. ``%build: no pkg-config module ...``."""
    sdist = next((s for s in request.sources if diagnose.project_of_sdist(s)), None)
    project = diagnose.project_of_sdist(sdist) if sdist else None
    cause = diagnose.explain(output, tool, package=request.label, project=project, chroot=chroot)
    step = diagnose.failed_step(output)
    if step and cause and not cause.startswith(step):
        return f"{step}: {cause}"
    return cause or (f"{step} failed" if step else None)


@contextmanager
def _stable_topdir(request: BuildRequest) -> Iterator[Path]:
    """A %_topdir whose path depends only on what is built, not on where rpmdeploy runs.

    rpm stores the expanded build scripts in the SRPM header (and paths leak into compiled
    code), so the same inputs must build under the same path for identical headers.  The
    path is predictable, so its parent must be this user's own private directory (checked,
    never taken over from another user), and the lock is opened without following links.
    A lock serialises the rare concurrent build of identical inputs.
    """
    digest = hashlib.sha256(request.spec.read_bytes())
    for source in sorted(request.sources):
        digest.update(source.name.encode() + b"\0" + str(source.stat().st_size).encode())
    base = private_directory(Path(tempfile.gettempdir()) / f"rpmdeploy-build-{os.getuid()}")
    topdir = base / digest.hexdigest()[:24]
    lock_path = base / f"{topdir.name}.lock"
    fd = _lock(lock_path)
    try:
        shutil.rmtree(topdir, ignore_errors=True)
        try:
            yield topdir
        finally:
            shutil.rmtree(topdir, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _lock(path: Path) -> int:
    """An exclusive lock on ``path`` (no links followed), removed by its last holder.

    A lock file that was removed while we waited is no lock: take the one now there.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def private_directory(path: Path) -> Path:
    """``path`` as a directory only this user can use: created 0700, or checked if it exists
    (a real directory, not a link, owned by this user, no access for anyone else)."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise BuildError(
            f"{path} is not a private directory of this user (owner uid {st.st_uid}, mode "
            f"{stat.S_IMODE(st.st_mode):o}{', a link' if stat.S_ISLNK(st.st_mode) else ''}): "
            "remove it, or set TMPDIR to a directory of your own"
        )
    return path

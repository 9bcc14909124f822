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
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.builders import BuilderContext, BuildRequest, BuildResult, Capabilities
from rpmdeploy.cache import link_or_copy
from rpmdeploy.errors import BuildError

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
        srpms, rpms = rpmbuild(request, workdir, "-ba", macros, environment, log)
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
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Run ``rpmbuild MODE`` on the request in a private topdir; move the results to
    ``workdir/results`` and return (SRPMs, binary RPMs)."""
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
        run(argv, log=log, what=f"rpmbuild of {request.label}", env=environment, cwd=workdir)
        results = workdir / "results"
        results.mkdir(exist_ok=True)
        srpms = sorted((topdir / "SRPMS").glob("*.src.rpm"))
        rpms = sorted((topdir / "RPMS").glob("*/*.rpm"))
        moved = [Path(shutil.move(str(p), results / p.name)) for p in (*srpms, *rpms)]
    return tuple(moved[: len(srpms)]), tuple(moved[len(srpms) :])


@contextmanager
def _stable_topdir(request: BuildRequest) -> Iterator[Path]:
    """A %_topdir whose path depends only on what is built, not on where rpmdeploy runs.

    rpm stores the expanded build scripts in the SRPM header (and paths leak into compiled
    code), so the same inputs must build under the same path for identical headers.  A lock
    serialises the rare concurrent build of identical inputs.
    """
    digest = hashlib.sha256(request.spec.read_bytes())
    for source in sorted(request.sources):
        digest.update(source.name.encode() + b"\0" + str(source.stat().st_size).encode())
    base = Path(tempfile.gettempdir()) / f"rpmdeploy-build-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    topdir = base / digest.hexdigest()[:24]
    with (base / f"{topdir.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(topdir, ignore_errors=True)
        try:
            yield topdir
        finally:
            shutil.rmtree(topdir, ignore_errors=True)
            fcntl.flock(lock, fcntl.LOCK_UN)

"""Build with the host's rpmbuild, one isolated %_topdir per package."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.builders import BuildRequest, BuildResult
from rpmdeploy.cache import link_or_copy
from rpmdeploy.errors import BuildError
from rpmdeploy.targets import Target

# Reproducible output: timestamps from SOURCE_DATE_EPOCH, fixed build host (rpm >= 4.14).
_REPRODUCIBLE = (
    ("_buildhost", "rpmdeploy.invalid"),
    ("use_source_date_epoch_as_buildtime", "1"),
    ("clamp_mtime_to_source_date_epoch", "1"),
)


class RpmbuildBuilder:
    name = "rpmbuild"

    def __init__(self, target: Target, jobs: int = 1) -> None:
        self.target = target
        # rpmbuild parallelises file processing itself (OpenMP); with several builds side
        # by side, share the cores instead of oversubscribing them.
        self.threads = max(1, (os.cpu_count() or 1) // max(1, jobs))

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        log = workdir / "build.log"
        with _stable_topdir(request) as topdir:
            for sub in ("SOURCES", "SPECS", "BUILD", "RPMS", "SRPMS", "BUILDROOT"):
                (topdir / sub).mkdir(parents=True, exist_ok=True)
            for source in request.sources:
                link_or_copy(source, topdir / "SOURCES" / source.name)
            spec = topdir / "SPECS" / request.spec.name
            shutil.copyfile(request.spec, spec)
            argv = ["rpmbuild", "-ba", "--nodeps"]  # BuildRequires are for chroots: Debian's
            for name, value in self._macros(topdir, request):  # rpmdb knows no Fedora packages
                argv += ["--define", f"{name} {value}"]
            argv.append(str(spec))
            env = {
                **os.environ,
                **dict(request.environment),
                "SOURCE_DATE_EPOCH": str(request.source_date_epoch),
                "LC_ALL": "C",
            }
            run(argv, log=log, what=f"rpmbuild of {request.label}", env=env, cwd=workdir)
            srpms = sorted((topdir / "SRPMS").glob("*.src.rpm"))
            rpms = sorted((topdir / "RPMS").glob("*/*.rpm"))
            if len(srpms) != 1 or not rpms:
                raise BuildError(f"rpmbuild of {request.label} produced no packages", str(log))
            results = workdir / "results"
            results.mkdir(exist_ok=True)
            moved = [Path(shutil.move(str(p), results / p.name)) for p in (*srpms, *rpms)]
        return BuildResult(moved[0], tuple(moved[1:]), log)

    def _macros(self, topdir: Path, request: BuildRequest) -> list[tuple[str, str]]:
        macros = [
            ("_topdir", str(topdir)),
            ("_binary_payload", self.target.payload),
            ("_source_payload", self.target.payload),
            ("_smp_build_nthreads", str(self.threads)),
            *_REPRODUCIBLE,
            *request.macros,
        ]
        if self.target.dist:
            macros.append(("dist", self.target.dist))
        return macros


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

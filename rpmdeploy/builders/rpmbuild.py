"""Build with the host's rpmbuild, one isolated %_topdir per package."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.builders import BuildRequest, BuildResult
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
        topdir = workdir / "rpmbuild"
        for sub in ("SOURCES", "SPECS", "BUILD", "RPMS", "SRPMS", "BUILDROOT"):
            (topdir / sub).mkdir(parents=True, exist_ok=True)
        for source in request.sources:
            _link_or_copy(source, topdir / "SOURCES" / source.name)
        spec = topdir / "SPECS" / request.spec.name
        shutil.copyfile(request.spec, spec)
        log = workdir / "build.log"
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
        argv = ["rpmbuild", "-ba", "--nodeps"]  # BuildRequires are for chroots: Debian's
        for name, value in macros:  # rpmdb knows no Fedora packages
            argv += ["--define", f"{name} {value}"]
        argv.append(str(spec))
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(request.source_date_epoch), "LC_ALL": "C"}
        run(argv, log=log, what=f"rpmbuild of {request.label}", env=env, cwd=workdir)
        srpms = sorted((topdir / "SRPMS").glob("*.src.rpm"))
        rpms = sorted((topdir / "RPMS").glob("*/*.rpm"))
        if len(srpms) != 1 or not rpms:
            raise BuildError(f"rpmbuild of {request.label} produced no packages", str(log))
        return BuildResult(srpms[0], tuple(rpms), log)


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)

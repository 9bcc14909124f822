"""Verifying one repository: the steps in order, each timed, and the report."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.errors import UsageError, VerifyError
from rpmdeploy.rpmnames import PACKAGE_NAME
from rpmdeploy.targets import SYSTEM_PYTHON, Target
from rpmdeploy.verify.dnf import install, installed, repoclosure, write_dnf_config
from rpmdeploy.verify.installroot import (
    ImportCheck,
    TargetPythonUnavailable,
    run_in_installroot_python,
)
from rpmdeploy.verify.signatures import check_package_signatures
from rpmdeploy.verify.standin import build_stand_in


@dataclass(frozen=True)
class VerifyReport:
    repo: Path
    package: str
    installed: tuple[str, ...]  # NEVRAs dnf installed, the stand-in included
    assumed: tuple[str, ...]  # capabilities the stand-in declared: assumed, not proven
    assumed_packages: tuple[str, ...]
    signatures: str  # what was checked, or "not checked"
    import_check: str  # "passed", "skipped: ...", or "not requested"
    import_output: str
    timings: tuple[tuple[str, float], ...]

    def text(self) -> str:
        elf = [c for c in self.assumed if ".so" in c or c.startswith("rtld(")]
        other = [c for c in self.assumed if c not in elf]
        lines = [
            f"verified {self.package} from {self.repo}: dnf installed "
            f"{len(self.installed)} package(s) into an empty root",
            "  installed: " + ", ".join(self.installed),
            f"  signatures: {self.signatures}",
            f"  import check: {self.import_check}"
            + (f" ({self.import_output.strip()})" if self.import_output.strip() else ""),
            "  ASSUMED, not proven (a stand-in RPM declared these for the target system): "
            + ", ".join(other)
            + f", and {len(elf)} ELF library capabilities (glibc, GCC runtime)",
            "  assumed distribution packages: "
            + (", ".join(self.assumed_packages) if self.assumed_packages else "none"),
            "  scriptlets were not run (the stand-in has no shell)",
            "  timings: " + ", ".join(f"{step} {secs:.1f}s" for step, secs in self.timings),
        ]
        return "\n".join(lines)


def verify_repo(
    repo_dir: Path,
    package: str,
    target: Target,
    *,
    base_provides: Sequence[str],
    assumed_packages: Sequence[str] = (),
    check_signatures: bool,
    gpg_key: Path | None,
    import_check: ImportCheck | None = None,
    log: Path,
    interpreter: str = SYSTEM_PYTHON,
) -> VerifyReport:
    """Install ``package`` from ``repo_dir`` into an empty root; raise VerifyError if it fails.

    ``import_check`` runs with ``interpreter`` (which must be the target's X.Y, else the
    check is reported as skipped) against the installed files.
    """
    repo_dir = Path(os.path.abspath(repo_dir))
    if not PACKAGE_NAME.fullmatch(package):
        raise UsageError(f"invalid package name {package!r}")
    if not (repo_dir / "repodata" / "repomd.xml").is_file():
        raise VerifyError(f"{repo_dir} is not a repository (no repodata/repomd.xml)")
    key = _signature_key(repo_dir, check_signatures, gpg_key)

    timings: list[tuple[str, float]] = []

    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            timings.append((name, time.monotonic() - start))

    with tempfile.TemporaryDirectory(prefix="rpmdeploy-verify-") as tmp:
        work = Path(tmp)
        with step("stand-in"):
            base_repo = build_stand_in(work, base_provides, assumed_packages, log)
        signatures = "not checked"
        if key is not None:
            with step("signatures"):
                count = check_package_signatures(repo_dir, key, work / "keyring", log)
            signatures = (
                f"{count} package(s) signed by {key.name} (rpmkeys --checksig); "
                "dnf gpgcheck and repo_gpgcheck on"
            )
        config = write_dnf_config(work, repo_dir, base_repo, key)
        with step("repoclosure"):
            repoclosure(config, work / "closure-root", target, log)
        root = work / "root"
        with step("install"):
            install(config, root, package, target, log)
            nevras = installed(root)
        result, output = "not requested", ""
        if import_check is not None:
            with step("import check"):
                try:
                    output = run_in_installroot_python(
                        root,
                        target,
                        import_check.code,
                        arguments=import_check.arguments,
                        interpreter=interpreter,
                    )
                    result = "passed"
                except TargetPythonUnavailable as exc:
                    result = f"skipped: {exc.message}"
    return VerifyReport(
        repo=repo_dir,
        package=package,
        installed=nevras,
        assumed=tuple(dict.fromkeys(base_provides)),
        assumed_packages=tuple(assumed_packages),
        signatures=signatures,
        import_check=result,
        import_output=output,
        timings=tuple(timings),
    )


def _signature_key(repo_dir: Path, check_signatures: bool, gpg_key: Path | None) -> Path | None:
    """The key file to check signatures with (absolute), or None when not checking."""
    if not check_signatures:
        return None
    if gpg_key is None:
        raise UsageError("checking signatures needs the public key file (gpg_key)")
    key = Path(os.path.abspath(gpg_key))
    if not key.is_file():
        raise UsageError(f"public key file {key} not found")
    if not (repo_dir / "repodata" / "repomd.xml.asc").is_file():
        raise VerifyError(f"{repo_dir} is not signed: repodata/repomd.xml.asc is missing")
    return key

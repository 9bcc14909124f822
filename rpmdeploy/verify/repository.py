"""Verifying one repository: the steps in order, each timed, and the report."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.errors import UsageError, VerifyError
from rpmdeploy.rpmnames import PACKAGE_NAME
from rpmdeploy.targets import SYSTEM_PYTHON, Target
from rpmdeploy.verify._logged import truncate
from rpmdeploy.verify.declared import DeclaredBase, declare_base
from rpmdeploy.verify.dnf import install, installed, repoclosure, write_dnf_config
from rpmdeploy.verify.installroot import (
    ImportCheck,
    ModuleImports,
    TargetPythonUnavailable,
    module_imports,
    run_in_installroot_python,
)
from rpmdeploy.verify.packages import RepoPackage, read_repo_packages
from rpmdeploy.verify.signatures import check_package_signatures
from rpmdeploy.verify.standin import build_stand_in

# The loader's words for a library it cannot find: "libpq.so.5: cannot open shared object file".
_MISSING_LIBRARY = re.compile(r"([^\s:]+\.so[^\s:]*): cannot open shared object file")


@dataclass(frozen=True)
class VerifyReport:
    """What a verification proved and what it assumed (``text()`` says it for people)."""

    repo: Path
    package: str
    installed: tuple[str, ...]  # NEVRAs dnf installed, the stand-in included
    assumed: tuple[str, ...]  # capabilities the stand-in declared: assumed, not proven
    assumed_packages: tuple[str, ...]  # distribution packages among them
    signatures: str  # what was checked, or "not checked"
    import_check: str  # "passed", "skipped: ...", "not proven: ...", or "not requested"
    import_output: str
    timings: tuple[tuple[str, float], ...]
    # Declarations beyond the system table, as (capability, where it came from), and those
    # of them some package of the repository requires.
    declared: tuple[tuple[str, str], ...] = ()
    relied_on: tuple[str, ...] = ()
    # "passed: N module(s) of M package(s)" (and what could not be proven here),
    # "not run: ..." (no interpreter of the target's Python), or "not requested".
    module_imports: str = "not requested"

    def text(self) -> str:
        system = [c for c in self.assumed if c not in dict(self.declared)]
        elf = [c for c in system if ".so" in c or c.startswith("rtld(")]
        other = [c for c in system if c not in elf]
        by_source: dict[str, list[str]] = {}
        for capability, source in self.declared:
            by_source.setdefault(source, []).append(capability)
        grown = "; ".join(f"{source}: {', '.join(caps)}" for source, caps in by_source.items())
        lines = [
            f"verified {self.package} from {self.repo}: dnf installed "
            f"{len(self.installed)} package(s) into an empty root",
            "  installed: " + ", ".join(self.installed),
            f"  signatures: {self.signatures}",
            f"  module imports: {self.module_imports}",
            f"  import check: {self.import_check}"
            + (f" ({self.import_output.strip()})" if self.import_output.strip() else ""),
            "  ASSUMED, not proven (a stand-in RPM declared these for the target system): "
            + ", ".join(other)
            + f", and {len(elf)} ELF library capabilities (glibc, GCC runtime)",
            "  assumed distribution packages: "
            + (", ".join(self.assumed_packages) if self.assumed_packages else "none"),
            "  ASSUMED for this app and its packages: " + (grown or "nothing"),
            "  of which the packages relied on: "
            + (", ".join(self.relied_on) if self.relied_on else "none"),
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
    assume: Sequence[str] = (),
    check_signatures: bool,
    gpg_key: Path | None,
    import_check: ImportCheck | None = None,
    import_modules: bool = True,
    log: Path,
    interpreter: str = SYSTEM_PYTHON,
) -> VerifyReport:
    """Install ``package`` from ``repo_dir`` into an empty root; raise VerifyError if it fails.

    The stand-in declares ``base_provides`` (the system table) grown by ``declared`` from
    ``assumed_packages`` (the app's mapped externals), ``assume`` (the app's ``[verify]
    assume``) and what the repository's packages need.  With ``import_modules`` every
    installed package's top-level modules are imported; then ``import_check`` runs.  Both
    run with ``interpreter``, which must be the target's X.Y, else they are reported as not
    run.  An import that fails only because a library the stand-in assumed is not on this
    machine is reported as not proven, not as a failure.
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
            packages = read_repo_packages(repo_dir)
            declared = declare_base(
                target,
                base_provides,
                app_packages=assumed_packages,
                assume=assume,
                packages=packages,
            )
            base_repo = build_stand_in(work, declared.capabilities, (), log)
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
            repoclosure(config, work / "closure-root", target, log, declared.explain)
        root = work / "root"
        with step("install"):
            install(config, root, package, target, log)
            nevras = installed(root)
        imports = "not requested"
        if import_modules:
            with step("module imports"):
                imports = _import_modules(root, target, interpreter, declared, packages)
        result, output = "not requested", ""
        if import_check is not None:
            with step("import check"):
                result, output = _import_check(root, target, interpreter, import_check, declared)
    return VerifyReport(
        repo=repo_dir,
        package=package,
        installed=nevras,
        assumed=declared.capabilities,
        assumed_packages=declared.package_names,
        signatures=signatures,
        import_check=result,
        import_output=output,
        timings=tuple(timings),
        declared=tuple((d.capability, d.source) for d in declared.grown()),
        relied_on=tuple(d.capability for d in declared.relied_on(packages)),
        module_imports=imports,
    )


def _import_modules(
    root: Path,
    target: Target,
    interpreter: str,
    declared: DeclaredBase,
    packages: Sequence[RepoPackage],
) -> str:
    """Import every installed package's top-level modules; the summary, or a VerifyError."""
    installed = {k: v for package in packages for k, v in package.top_level_modules().items()}
    check = module_imports(installed)
    try:
        output = run_in_installroot_python(
            root, target, check.code, arguments=check.arguments, interpreter=interpreter
        )
    except TargetPythonUnavailable as exc:
        return f"not run: {exc.message}"
    answer = ModuleImports.from_output(output)
    unproven, failed = [], []
    for dist, module, error in answer.failed:
        library = _assumed_library(error, declared)
        if library is not None:
            unproven.append(f"{module} ({dist}) needs {library}")
        else:
            failed.append(f"{module} ({dist}): {error}")
    if failed:
        raise VerifyError(
            truncate(f"importing the installed packages' modules failed: {'; '.join(failed)}")
        )
    summary = f"passed: {len(answer.imported)} module(s) of {answer.packages} package(s)"
    if unproven:
        summary += (
            "; not proven here, a library the target is assumed to have is not on this "
            "machine: " + "; ".join(unproven)
        )
    return summary


def _import_check(
    root: Path, target: Target, interpreter: str, check: ImportCheck, declared: DeclaredBase
) -> tuple[str, str]:
    """Run ``check``: ("passed", its output), ("skipped: ...", "") or ("not proven: ...", "")."""
    try:
        output = run_in_installroot_python(
            root, target, check.code, arguments=check.arguments, interpreter=interpreter
        )
    except TargetPythonUnavailable as exc:
        return f"skipped: {exc.message}", ""
    except VerifyError as exc:
        library = _assumed_library(exc.message, declared)
        if library is None:
            raise
        return (
            f"not proven: it needs {library}, which the target is assumed to have and this "
            "machine lacks",
            "",
        )
    return "passed", output


def _assumed_library(error: str, declared: DeclaredBase) -> str | None:
    """The assumed soname an import error says the loader could not find, if that is all."""
    match = _MISSING_LIBRARY.search(error)
    if match is not None and match[1] in declared.assumed_sonames():
        return match[1]
    return None


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

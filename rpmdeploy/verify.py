"""Stage 8, verify: prove a published repository installs, before any server sees it.

Steps, each timed:

1. *stand-in*: build ``rpmdeploy-target-base``, an RPM with no files that only ``Provides:``
   what the target system is declared to have (``data/base-provides.toml``: python(abi),
   /usr/bin/python3, /bin/sh, glibc and GCC runtime sonames...) plus the distribution
   packages the app needs (``assumed_packages``), in a file:// repository of its own.  This is
   a declaration, not proof: the report lists every capability it assumed.
2. *signatures* (when asked): every package of the repository, binary and source, checked with
   ``rpmkeys --checksig`` against a keyring made for this run from ``gpg_key`` (never the
   host's rpmdb), with ``_pkgverify_level all`` so an unsigned package fails too.
3. *repoclosure*: ``dnf repoclosure`` of the repository against itself and the stand-in.
4. *install*: ``dnf install PACKAGE`` into an empty temporary installroot with only those two
   repositories (``gpgcheck``/``repo_gpgcheck`` on when checking signatures).
5. *import check* (optional): a Python snippet run by the host's Python against the installed
   files (see ``run_in_installroot_python``).

Isolation from the host: dnf gets a private config file (``-c``), its own reposdir, no
plugins but repoclosure, and ``--installroot``, under which it keeps its cache, history,
logs and rpmdb (Debian's rpm keeps the rpmdb at ``~/.rpmdb``, which becomes
``ROOT/root/.rpmdb``).  Nothing is written to the host's /var/lib/rpm, /var/lib/dnf,
/var/cache/dnf or /var/log.  dnf must run as root (it chroots into the installroot).
Scriptlets are not run (``tsflags=noscripts``): the stand-in has no shell to run them with.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rpmdeploy._run import capture, run
from rpmdeploy.errors import RpmdeployError, UsageError, VerifyError
from rpmdeploy.targets import Target, host_arch, python_version_of

STAND_IN = "rpmdeploy-target-base"
APP_REPO = "rpmdeploy-app"
BASE_REPO = "rpmdeploy-target-base"
HOST_PYTHON = "/usr/bin/python3"
_CAPABILITY = re.compile(r"^[^\s%,'\"\\]+(?: (?:=|<|>|<=|>=) [^\s%,'\"\\]+)?$")
_PACKAGE = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]*$")
_64BIT = ("x86_64", "aarch64", "ppc64le", "s390x", "riscv64")
_MAX_MESSAGE = 400
# Runs first in the checked interpreter: drop the current directory from sys.path, and let
# the installed site-packages process their .pth files as they would on the target.
_BOOTSTRAP = """\
import os, site, sys
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    if entry:
        site.addsitedir(entry)
code = sys.argv.pop(1)
exec(compile(code, "<import check>", "exec"), {"__name__": "__main__"})
"""


class TargetPythonUnavailable(VerifyError):
    """The target's Python X.Y is not on this machine, so installed code cannot be run."""


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


# --- the declared base -------------------------------------------------------------------------


def base_provides_for(target: Target) -> tuple[str, ...]:
    """The capabilities ``data/base-provides.toml`` declares for ``target``."""
    data = _base_table()
    arch = data["arch"].get(target.arch)
    if arch is None:
        raise UsageError(f"no base capabilities declared for architecture {target.arch}")
    suffix = "(64bit)" if target.arch in _64BIT else ""
    glibc = _version_tuple(target.glibc or _host_glibc())
    result = [c.format(python=target.python_version) for c in data["common"]["capabilities"]]
    nodes = [n for n in arch["glibc_nodes"] if _version_tuple(n) <= glibc]
    for lib in [*data["elf"]["glibc_libraries"], arch["loader"]]:
        result.append(f"{lib}(){suffix}")
        result.extend(f"{lib}(GLIBC_{node}){suffix}" for node in nodes)
    rows = [r for r in data["gcc_runtime"] if _version_tuple(r["glibc"]) <= glibc]
    libgcc, libstdcxx = data["elf"]["libgcc"], data["elf"]["libstdcxx"]
    result += [f"{libgcc}(){suffix}", f"{libstdcxx}(){suffix}"]
    if rows:
        row = rows[-1]
        result.extend(f"{libgcc}(GCC_{node}){suffix}" for node in row["gcc"])
        glibcxx = ["3.4", *(f"3.4.{n}" for n in range(1, row["glibcxx"] + 1))]
        cxxabi = ["1.3", *(f"1.3.{n}" for n in range(1, row["cxxabi"] + 1)), *row["cxxabi_extra"]]
        result.extend(f"{libstdcxx}(GLIBCXX_{v}){suffix}" for v in glibcxx)
        result.extend(f"{libstdcxx}(CXXABI_{v}){suffix}" for v in cxxabi)
    return tuple(dict.fromkeys(result))


def _base_table() -> dict[str, Any]:
    text = resources.files("rpmdeploy").joinpath("data/base-provides.toml").read_text()
    return tomllib.loads(text)


def _host_glibc() -> str:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        text = ""
    match = re.search(r"(\d+\.\d+)", text)
    if match is None:
        raise UsageError("cannot tell this machine's glibc version; use a distribution target")
    return match.group(1)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def build_stand_in(
    workdir: Path, capabilities: Sequence[str], assumed_packages: Sequence[str], log: Path
) -> Path:
    """Build the stand-in RPM and a repository holding it; return the repository directory."""
    for capability in [*capabilities, *assumed_packages]:
        if not _CAPABILITY.fullmatch(capability):
            raise UsageError(f"invalid base capability {capability!r}")
    topdir = workdir / "stand-in-build"
    (topdir / "SPECS").mkdir(parents=True)
    declared = dict.fromkeys([*capabilities, *assumed_packages])
    provides = "".join(f"Provides: {c}\n" for c in declared)
    spec = topdir / "SPECS" / f"{STAND_IN}.spec"
    spec.write_text(
        f"Name: {STAND_IN}\nVersion: 1\nRelease: 1\nLicense: MIT\nBuildArch: noarch\n"
        "Summary: Stand-in for the target system (declared, not proven)\n"
        f"{provides}"
        "%description\nDeclares what the target system is assumed to provide; no files.\n"
        "%files\n"
    )
    repo = workdir / "stand-in-repo"
    run(
        [
            "rpmbuild",
            "-bb",
            # Without --nodeps rpmbuild opens the host's rpmdb to check BuildRequires (and
            # touches it); the private dbpath keeps any other access away from it too.
            "--nodeps",
            "--define",
            f"_dbpath {topdir / 'rpmdb'}",
            "--define",
            f"_topdir {topdir}",
            "--define",
            f"_rpmdir {repo}",
            "--define",
            f"_tmppath {topdir / 'tmp'}",
            spec,
        ],
        log=log,
        what="building the stand-in for the target system",
        error=VerifyError,
    )
    run(
        ["createrepo_c", "--no-database", repo],
        log=log,
        what="creating the stand-in repository",
        error=VerifyError,
    )
    return repo


# --- verify ------------------------------------------------------------------------------------


def verify_repo(
    repo_dir: Path,
    package: str,
    target: Target,
    *,
    base_provides: Sequence[str],
    assumed_packages: Sequence[str] = (),
    check_signatures: bool,
    gpg_key: Path | None,
    import_check: str | None = None,
    log: Path,
    interpreter: str = HOST_PYTHON,
) -> VerifyReport:
    """Install ``package`` from ``repo_dir`` into an empty root; raise VerifyError if it fails."""
    repo_dir = Path(os.path.abspath(repo_dir))
    if not _PACKAGE.fullmatch(package):
        raise UsageError(f"invalid package name {package!r}")
    if not (repo_dir / "repodata" / "repomd.xml").is_file():
        raise VerifyError(f"{repo_dir} is not a repository (no repodata/repomd.xml)")
    if check_signatures and gpg_key is None:
        raise UsageError("checking signatures needs the public key file (gpg_key)")
    key = Path(os.path.abspath(gpg_key)) if gpg_key is not None and check_signatures else None
    if key is not None:
        if not key.is_file():
            raise UsageError(f"public key file {key} not found")
        if not (repo_dir / "repodata" / "repomd.xml.asc").is_file():
            raise VerifyError(f"{repo_dir} is not signed: repodata/repomd.xml.asc is missing")

    timings: list[tuple[str, float]] = []
    step = _timer(timings)
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
        config = _dnf_config(work, repo_dir, base_repo, key)
        with step("repoclosure"):
            _repoclosure(config, work / "closure-root", target, log)
        root = work / "root"
        with step("install"):
            _install(config, root, package, target, log)
            installed = _installed(root)
        result, output = "not requested", ""
        if import_check is not None:
            with step("import check"):
                try:
                    output = run_in_installroot_python(
                        root, target, import_check, interpreter=interpreter
                    )
                    result = "passed"
                except TargetPythonUnavailable as exc:
                    result = f"skipped: {exc.message}"
    return VerifyReport(
        repo=repo_dir,
        package=package,
        installed=installed,
        assumed=tuple(dict.fromkeys(base_provides)),
        assumed_packages=tuple(assumed_packages),
        signatures=signatures,
        import_check=result,
        import_output=output,
        timings=tuple(timings),
    )


def check_package_signatures(repo_dir: Path, key: Path, keyring: Path, log: Path) -> int:
    """Check every RPM of the repository against ``key`` alone; return how many were checked."""
    packages = sorted(
        [*repo_dir.glob("Packages/*.rpm"), *repo_dir.glob("SRPMS/*.rpm"), *repo_dir.glob("*.rpm")]
    )
    if not packages:
        raise VerifyError(f"{repo_dir} holds no packages")
    keyring.mkdir(parents=True)
    run(
        ["rpmkeys", "--dbpath", keyring, "--import", key],
        log=log,
        what=f"importing {key} into a private keyring",
        error=VerifyError,
    )
    # "all": a package without a signature fails too, instead of passing on digests alone.
    argv: list[str | os.PathLike[str]] = [
        "rpmkeys",
        "--dbpath",
        keyring,
        "--define",
        "_pkgverify_level all",
        "--checksig",
        *packages,
    ]
    ok, output = _run_logged(
        argv,
        log,
        "checking package signatures",
    )
    bad = []
    for line in output.splitlines():
        path, sep, verdict = line.partition(": ")
        if sep and path.endswith(".rpm") and (not verdict.endswith("OK") or "NOT OK" in verdict):
            bad.append(f"{os.path.relpath(path, repo_dir)} ({verdict.strip()})")
    if bad or not ok:
        detail = "; ".join(bad) if bad else "rpmkeys failed"
        raise VerifyError(
            _truncate(f"signature check failed against {key.name}: {detail}"), log=str(log)
        )
    return len(packages)


def _dnf_config(work: Path, repo_dir: Path, base_repo: Path, key: Path | None) -> Path:
    """A private dnf.conf and reposdir: nothing of the host's dnf configuration applies."""
    reposdir = work / "repos.d"
    reposdir.mkdir()
    signed = key is not None
    app = [
        f"[{APP_REPO}]",
        "name=repository under verification",
        f"baseurl={repo_dir.as_uri()}",
        "enabled=1",
        "metadata_expire=0",
        f"gpgcheck={int(signed)}",
        f"repo_gpgcheck={int(signed)}",
    ]
    if key is not None:
        app.append(f"gpgkey={key.as_uri()}")
    base = [
        f"[{BASE_REPO}]",
        "name=stand-in for the target system (declared, not proven)",
        f"baseurl={base_repo.as_uri()}",
        "enabled=1",
        "metadata_expire=0",
        "gpgcheck=0",
    ]
    (reposdir / "verify.repo").write_text("\n".join([*app, "", *base, ""]))
    config = work / "dnf.conf"
    config.write_text(
        "[main]\n"
        f"reposdir={reposdir}\n"
        "install_weak_deps=False\n"
        "best=True\n"
        "skip_if_unavailable=False\n"
        "keepcache=False\n"
        # The stand-in has no /bin/sh: scriptlets cannot run in this root.
        "tsflags=noscripts\n"
    )
    return config


def _dnf(config: Path, root: Path, target: Target) -> list[str | os.PathLike[str]]:
    argv: list[str | os.PathLike[str]] = [
        "dnf",
        "-y",
        "--config",
        config,
        "--installroot",
        root,
        "--releasever",
        "1",
        f"--setopt=reposdir={config.parent / 'repos.d'}",
    ]
    if target.arch != host_arch():
        argv += ["--forcearch", target.arch]
    return argv


def _repoclosure(config: Path, root: Path, target: Target, log: Path) -> None:
    ok, output = _run_logged(
        [
            *_dnf(config, root, target),
            "--disableplugin=*",
            "--enableplugin=repoclosure",
            "repoclosure",
            "--check",
            APP_REPO,
        ],
        log,
        "dnf repoclosure",
    )
    if ok:
        return
    problems = _unresolved(output)
    if not problems:
        raise VerifyError(f"dnf repoclosure failed: {_failure_summary(output)}", log=str(log))
    count = sum(len(deps) for _pkg, deps in problems)
    detail = "; ".join(f"{pkg} needs {', '.join(deps)}" for pkg, deps in problems)
    raise VerifyError(
        _truncate(f"{count} unresolved dependenc{'y' if count == 1 else 'ies'}: {detail}"),
        log=str(log),
    )


def _unresolved(output: str) -> list[tuple[str, list[str]]]:
    """Parse dnf repoclosure's report: 'package: NEVRA from REPO' then indented deps."""
    problems: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        if line.startswith("package: "):
            problems.append((line[len("package: ") :].split(" from ")[0].strip(), []))
        elif problems and line.startswith("    ") and line.strip():
            problems[-1][1].append(line.strip())
    return [(pkg, deps) for pkg, deps in problems if deps]


def _install(config: Path, root: Path, package: str, target: Target, log: Path) -> None:
    ok, output = _run_logged(
        [*_dnf(config, root, target), "--noplugins", "install", package],
        log,
        f"dnf install {package}",
    )
    if not ok:
        raise VerifyError(
            f"installing {package} into an empty root failed: {_failure_summary(output)}",
            log=str(log),
        )


def _installed(root: Path) -> tuple[str, ...]:
    out = capture(
        ["rpm", "--root", root, "-qa", "--qf", "%{NEVRA}\\n"],
        what="listing the packages installed in the verify root",
        error=VerifyError,
    )
    return tuple(sorted(line for line in out.splitlines() if line.strip()))


# --- running installed code --------------------------------------------------------------------


def run_in_installroot_python(
    root: Path,
    target: Target,
    code: str,
    extra_paths: Sequence[str] = (),
    *,
    interpreter: str = HOST_PYTHON,
) -> str:
    """Run ``code`` with the host's Python on the files installed under ``root``; return stdout.

    The host's interpreter stands in for the target's, so it must be the same X.Y, or
    TargetPythonUnavailable ("skipped: ...") is raised.  It runs with ``-S`` so the host's own
    site-packages cannot supply a module the RPMs failed to install; ``sys.path`` holds the
    root's purelib and platlib (and ``extra_paths``), with their .pth files processed.
    Failure raises VerifyError with the last line of stderr (the exception, usually).
    """
    version = python_version_of(interpreter)
    if version != target.python_version:
        found = f"{interpreter} is {version}" if version else f"no {interpreter}"
        raise TargetPythonUnavailable(
            f"target Python {target.python_version} not on this machine ({found})"
        )
    paths = [
        str(root / target.purelib.lstrip("/")),
        str(root / target.platlib.lstrip("/")),
        *extra_paths,
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "LC_ALL": "C.UTF-8",
        "RPMDEPLOY_INSTALLROOT": str(root),  # lets the check find the app's installed files
    }
    return capture(
        [interpreter, "-S", "-c", _BOOTSTRAP, code],
        what=f"running the import check against {root}",
        env=env,
        error=VerifyError,
    )


# --- helpers -----------------------------------------------------------------------------------


def _run_logged(argv: Sequence[str | os.PathLike[str]], log: Path, what: str) -> tuple[bool, str]:
    """Run through the one runner; return (succeeded, this run's output read back from log)."""
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


def _failure_summary(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error", "error:")) or "FAILED" in line]
    picked = errors or lines[-1:] or ["no output"]
    return _truncate(" / ".join(dict.fromkeys(picked)))


def _truncate(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 15] + " ... (see log)"


def _timer(timings: list[tuple[str, float]]) -> Callable[[str], Any]:
    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            timings.append((name, time.monotonic() - start))

    return step

"""dnf, isolated from the host: a private configuration, repoclosure, an install into an
empty root, and what got installed.

Isolation: dnf gets a private config file (``--config``, from ``verify/dnf.conf.j2``), its
own reposdir (``verify/verify.repo.j2``: only the repository under verification and the
stand-in's), no plugins but repoclosure, and ``--installroot``, under which it keeps its
cache, history, logs and rpmdb (Debian's rpm keeps the rpmdb at ``~/.rpmdb``, which becomes
``ROOT/root/.rpmdb``).  Nothing is written to the host's /var/lib/rpm, /var/lib/dnf,
/var/cache/dnf or /var/log.  dnf must run as root (it chroots into the installroot).
Scriptlets are not run (``tsflags=noscripts``): the stand-in has no shell to run them with.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from rpmdeploy import diagnose
from rpmdeploy._run import capture
from rpmdeploy.errors import UsageError, VerifyError
from rpmdeploy.externals.hints import HINTS_FILE
from rpmdeploy.render import render
from rpmdeploy.targets import Target, host_arch
from rpmdeploy.verify._logged import failure_summary, run_logged, truncate

APP_REPO = "rpmdeploy-app"
BASE_REPO = "rpmdeploy-target-base"
CONF_TEMPLATE = "verify/dnf.conf.j2"
REPOS_TEMPLATE = "verify/verify.repo.j2"


@dataclass(frozen=True)
class DnfConfig:
    """The values of the private dnf configuration (both templates)."""

    reposdir: str
    app_repo: str
    app_url: str  # file:// URL of the repository under verification
    key_url: str  # file:// URL of the key to check it with; "" when not checking
    base_repo: str
    base_url: str  # file:// URL of the stand-in's repository

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            # A newline would start another setting (or section) of the file.
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
                raise UsageError(f"refusing control characters in dnf setting {value!r}")


def write_dnf_config(work: Path, repo_dir: Path, base_repo: Path, key: Path | None) -> Path:
    """Write the private dnf.conf and reposdir under ``work``; return the dnf.conf path."""
    reposdir = work / "repos.d"
    reposdir.mkdir()
    config = DnfConfig(
        reposdir=str(reposdir),
        app_repo=APP_REPO,
        app_url=repo_dir.as_uri(),  # as_uri percent-encodes spaces and control characters
        key_url=key.as_uri() if key is not None else "",
        base_repo=BASE_REPO,
        base_url=base_repo.as_uri(),
    )
    (reposdir / "verify.repo").write_text(render(REPOS_TEMPLATE, config))
    path = work / "dnf.conf"
    path.write_text(render(CONF_TEMPLATE, config))
    return path


def repoclosure(
    config: Path,
    root: Path,
    target: Target,
    log: Path,
    explain: Callable[[str], str] = str,
) -> None:
    """Every dependency of the repository under verification resolves; else one line.

    ``explain`` turns a missing capability into its description for the message (which
    package would provide it: ``DeclaredBase.explain``).
    """
    ok, output = run_logged(
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
    problems = unresolved(output)
    if not problems:
        raise VerifyError(f"dnf repoclosure failed: {failure_summary(output)}", log=str(log))
    count = sum(len(deps) for _pkg, deps in problems)
    detail = "; ".join(f"{pkg} needs {', '.join(map(explain, deps))}" for pkg, deps in problems)
    raise VerifyError(
        truncate(
            f"{count} unresolved dependenc{'y' if count == 1 else 'ies'} (declare what the "
            f"target system has in {HINTS_FILE} or [verify] assume in rpmdeploy.toml): {detail}"
        ),
        log=str(log),
    )


def unresolved(output: str) -> list[tuple[str, list[str]]]:
    """Parse dnf repoclosure's report: 'package: NEVRA from REPO' then indented deps."""
    problems: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        if line.startswith("package: "):
            problems.append((line[len("package: ") :].split(" from ")[0].strip(), []))
        elif problems and line.startswith("    ") and line.strip():
            problems[-1][1].append(line.strip())
    return [(pkg, deps) for pkg, deps in problems if deps]


def install(config: Path, root: Path, package: str, target: Target, log: Path) -> None:
    """``dnf install package`` into ``root``; a VerifyError says why it failed."""
    ok, output = run_logged(
        [*_dnf(config, root, target), "--noplugins", "install", package],
        log,
        f"dnf install {package}",
    )
    if not ok:
        why = diagnose.explain(output, "dnf") or failure_summary(output)
        raise VerifyError(f"installing {package} into an empty root failed: {why}", log=str(log))


def installed(root: Path) -> tuple[str, ...]:
    """The NEVRAs installed in ``root``, sorted."""
    out = capture(
        ["rpm", "--root", root, "-qa", "--qf", "%{NEVRA}\\n"],
        what="listing the packages installed in the verify root",
        error=VerifyError,
    )
    return tuple(sorted(line for line in out.splitlines() if line.strip()))


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

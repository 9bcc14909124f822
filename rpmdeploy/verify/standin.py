"""The stand-in for the target system: an RPM with no files that only declares capabilities.

``verify`` installs the app into an empty root with no distribution repository, so nothing
there provides the interpreter, the C library or a shell.  ``rpmdeploy-target-base``
``Provides:`` them instead (``base.py``), plus the distribution packages the app is known to
need, from a file:// repository of its own.  Its spec is the template
``verify/stand-in.spec.j2``; it is built with rpmbuild through the one runner.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.errors import UsageError, VerifyError
from rpmdeploy.render import render

STAND_IN = "rpmdeploy-target-base"
SPEC_TEMPLATE = "verify/stand-in.spec.j2"
# One capability: a name, optionally "OP VERSION"; nothing rpm or a spec line would expand
# or split (no whitespace inside a part, no %, comma or quotes).
_CAPABILITY = re.compile(r"^[^\s%,'\"\\]+(?: (?:=|<|>|<=|>=) [^\s%,'\"\\]+)?$")


@dataclass(frozen=True)
class StandInSpec:
    """The stand-in spec's values (``verify/stand-in.spec.j2``)."""

    name: str
    provides: tuple[str, ...]  # checked capabilities, each once


def stand_in_spec(capabilities: Sequence[str], assumed_packages: Sequence[str]) -> StandInSpec:
    """Check the declared capabilities; a UsageError names one that is malformed."""
    for capability in [*capabilities, *assumed_packages]:
        if not _CAPABILITY.fullmatch(capability):
            raise UsageError(f"invalid base capability {capability!r}")
    return StandInSpec(STAND_IN, tuple(dict.fromkeys([*capabilities, *assumed_packages])))


def build_stand_in(
    workdir: Path, capabilities: Sequence[str], assumed_packages: Sequence[str], log: Path
) -> Path:
    """Build the stand-in RPM and a repository holding it; return the repository directory."""
    text = render(SPEC_TEMPLATE, stand_in_spec(capabilities, assumed_packages))
    topdir = workdir / "stand-in-build"
    (topdir / "SPECS").mkdir(parents=True)
    spec = topdir / "SPECS" / f"{STAND_IN}.spec"
    spec.write_text(text)
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

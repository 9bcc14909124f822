"""What the binary packages of a repository require and provide, read from their headers.

The declared base grows from it (``declared``) and the report says which declarations the
packages relied on.  Headers are read with the ``rpm`` bindings, imported when called (as
``repo.rpmfile`` does); signatures are not checked here (``signatures`` does that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from rpmdeploy.errors import VerifyError

_DIST_INFO = re.compile(
    r"^(?P<site>/.+/(?:site|dist)-packages)/(?P<dist_info>[^/]+\.dist-info)(?:/|$)"
)
_PYTHON_DIST = re.compile(r"^python3(?:\.\d+)?dist\((?P<name>[^()\[\]]+)\)$")


@dataclass(frozen=True)
class RepoPackage:
    """One binary package: its name, arch, and dependencies as ``NAME [OP EVR]`` strings."""

    name: str
    arch: str
    requires: tuple[str, ...]  # rpmlib() internals left out
    provides: tuple[str, ...]
    files: tuple[str, ...] = ()  # the paths it installs

    def top_level_modules(self) -> dict[str, list[str]]:
        """Its ``.dist-info`` directories (target paths) -> the top-level modules it installs
        beside each: what the module-import check imports when a distribution has neither
        ``top_level.txt`` nor ``RECORD`` (rpm packages drop RECORD, as Fedora's do)."""
        found: dict[str, list[str]] = {}
        for path in self.files:
            match = _DIST_INFO.match(path)
            if match is None:
                continue
            site, dist_info = match["site"], f"{match['site']}/{match['dist_info']}"
            names = {
                _module_name(f[len(site) + 1 :]) for f in self.files if f.startswith(site + "/")
            }
            found[dist_info] = sorted(n for n in names if n)
        return found

    @property
    def python_dists(self) -> tuple[str, ...]:
        """Canonical PyPI names it provides (``python3dist(NAME)``, ``python3.Xdist(NAME)``)."""
        return python_dist_names(self.provides)


def _module_name(relative: str) -> str | None:
    """The importable top-level name of a path inside site-packages, if it is one."""
    first, _sep, rest = relative.partition("/")
    if rest:
        name = first  # a package (or namespace package) directory
    elif first.endswith(".py"):
        name = first[: -len(".py")]
    elif ".so" in first:
        name = first.split(".")[0]  # NAME.cpython-39-x86_64-linux-gnu.so, NAME.abi3.so
    else:
        return None
    return name if name.isidentifier() and name != "__pycache__" else None


def requirement_name(requirement: str) -> str:
    """The capability name of ``NAME [OP EVR]``."""
    return requirement.split(" ", 1)[0]


def python_dist_names(provides: Iterable[str]) -> tuple[str, ...]:
    names = []
    for provide in provides:
        match = _PYTHON_DIST.match(requirement_name(provide))
        if match is not None:
            names.append(canonicalize_name(match["name"]))
    return tuple(dict.fromkeys(names))


def read_repo_packages(repo_dir: Path) -> tuple[RepoPackage, ...]:
    """The binary packages of ``repo_dir`` (``Packages/*.rpm``, and ``*.rpm`` at its top)."""
    import rpm  # lazily: see repo.rpmfile

    ts = rpm.TransactionSet()
    ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
    # An empty keyring of its own: rpm would otherwise open the host's rpmdb for its keys,
    # and verify leaves the host's rpm state alone.
    ts.setKeyring(rpm.keyring())
    found = []
    for path in sorted([*repo_dir.glob("Packages/*.rpm"), *repo_dir.glob("*.rpm")]):
        try:
            with path.open("rb") as handle:
                header = ts.hdrFromFdno(handle.fileno())
        except (OSError, rpm.error) as exc:
            raise VerifyError(f"cannot read {path.name}: {exc}") from None
        if header.isSource():
            continue
        found.append(
            RepoPackage(
                name=str(header[rpm.RPMTAG_NAME]),
                arch=str(header[rpm.RPMTAG_ARCH]),
                requires=_dependencies(header, "requirename"),
                provides=_dependencies(header, "providename"),
                files=tuple(_text(f) for f in header[rpm.RPMTAG_FILENAMES] or ()),
            )
        )
    return tuple(found)


def _dependencies(header: object, tag: str) -> tuple[str, ...]:
    # DNEVR() is "R name >= 1.0" / "P name": the kind letter and a space come first.
    found = [ds.DNEVR()[2:] for ds in header.dsFromHeader(tag)]  # type: ignore[attr-defined]
    return tuple(dict.fromkeys(d for d in found if not d.startswith("rpmlib(")))


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value

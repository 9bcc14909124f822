"""Targets: what the RPMs are built *for* (Python version, paths, dist tag, architecture).

A target is either ``host`` (the machine's own python3, read off the interpreter at run time)
or an RPM-family release of ``distributions.py`` such as ``fedora-43-x86_64`` (any name
``distributions.find_release`` accepts; without an ``-ARCH`` suffix, this machine's arch).
The same Target also carries the naming and install location, so the private namespace mode
of fedora-conventions.md (``--name-prefix``/``--install-prefix``) is one value to pass around.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from rpmdeploy import distributions
from rpmdeploy._run import capture
from rpmdeploy.distributions import host_arch
from rpmdeploy.errors import RpmdeployError, UsageError

HOST = "host"
#: The distributions' python3 (shebangs, run time) and the host interpreter by default.
SYSTEM_PYTHON = "/usr/bin/python3"
_NAME_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9.+_-]*-$")

__all__ = [
    "HOST",
    "SYSTEM_PYTHON",
    "Target",
    "find_python",
    "host_arch",
    "host_target",
    "known_targets",
    "python_version_of",
    "resolve_target",
]


@dataclass(frozen=True)
class Target:
    name: str
    python_version: str  # "X.Y"
    python_full_version: str  # "X.Y.Z", for python_full_version markers
    interpreter: str  # the target system's interpreter: shebangs and run time
    arch: str = "x86_64"
    dist: str = ""
    glibc: str | None = None  # None: the host's own, pip picks wheels for the running Python
    mock_config: str | None = None
    payload: str = "w3.zstdio"  # %_binary_payload / %_source_payload
    name_prefix: str = "python3-"
    install_prefix: str = "/usr"
    is_host: bool = field(default=False, compare=False)

    @property
    def namespaced(self) -> bool:
        return self.name_prefix != "python3-" or self.install_prefix != "/usr"

    @property
    def purelib(self) -> str:
        return f"{self.install_prefix}/lib/python{self.python_version}/site-packages"

    @property
    def platlib(self) -> str:
        return f"{self.install_prefix}/lib64/python{self.python_version}/site-packages"

    @property
    def bindir(self) -> str:
        return f"{self.install_prefix}/bin"

    @property
    def private_site_dirs(self) -> tuple[str, ...]:
        """Site directories an app must add to sys.path itself (private namespace only)."""
        return tuple(dict.fromkeys((self.purelib, self.platlib))) if self.namespaced else ()

    @property
    def dist_symbol(self) -> str:
        """``python3dist`` by default; ``myapp-python3dist`` in a private namespace."""
        return self.name_prefix.rstrip("-") + "dist"

    @property
    def versioned_dist_symbol(self) -> str | None:
        """``python3.Xdist``, only where the dist provides are the distribution's own."""
        return None if self.namespaced else f"python{self.python_version}dist"

    @property
    def requires_dist_symbol(self) -> str:
        """What Requires on another Python package use: ``python3.Xdist``, as Fedora's
        generator (pythondistdeps.py --requires) writes them; ``myapp-python3dist`` in a
        private namespace."""
        return self.versioned_dist_symbol or self.dist_symbol

    def marker_environment(self) -> dict[str, str]:
        """Values for PEP 508 markers as they are on the target system."""
        return distributions.marker_environment(self.python_full_version, self.arch)

    @property
    def python_tag(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    def with_namespace(self, name_prefix: str | None, install_prefix: str | None) -> Target:
        if name_prefix is not None and not _NAME_PREFIX_RE.match(name_prefix):
            raise UsageError(
                f"invalid --name-prefix {name_prefix!r}: use lowercase letters, digits, '.', "
                "'_', '+', '-', ending in '-' (e.g. 'myapp-python3-')"
            )
        if install_prefix is not None and not _is_clean_abs_path(install_prefix):
            raise UsageError(f"invalid --install-prefix {install_prefix!r}: need an absolute path")
        return replace(
            self,
            name_prefix=name_prefix or self.name_prefix,
            install_prefix=(install_prefix or self.install_prefix).rstrip("/") or "/",
        )

    def cache_identity(self) -> str:
        """Everything about the target that changes what gets built, as a stable string."""
        fields = {
            "name": self.name,
            "python": self.python_full_version,
            "interpreter": self.interpreter,
            "arch": self.arch,
            "dist": self.dist,
            "glibc": self.glibc,
            "name_prefix": self.name_prefix,
            "install_prefix": self.install_prefix,
            "payload": self.payload,
        }
        return json.dumps(fields, sort_keys=True)


def known_targets() -> list[str]:
    """``host`` and every RPM-family release, without an arch suffix."""
    return [HOST, *sorted(row.name for row in distributions.releases() if row.is_target)]


def resolve_target(name: str | None = None, python: str | None = None) -> Target:
    """Return the Target called ``name`` (default: host).

    ``python`` names the interpreter of a host target (default ``/usr/bin/python3``); for a
    distribution target it is not used here (pinning looks for the target's interpreter).
    A release must be built for the arch (named, or this machine's): else UsageError.
    """
    if not name or name == HOST:
        return host_target(python or SYSTEM_PYTHON)
    row = distributions.find_release(name)
    if row is None or not row.is_target:
        why = f" ({row.name} uses .deb packages)" if row is not None else ""
        raise UsageError(
            f"unknown target {name!r}{why}; known targets: {', '.join(known_targets())} "
            "(optionally with an -ARCH suffix such as -x86_64)"
        )
    if row.arch is None:
        row = row.with_arch(host_arch())
    arch = row.arch or host_arch()
    return Target(
        name=f"{row.name}-{arch}",
        python_version=row.python_version,
        python_full_version=row.python_full_version,
        interpreter=SYSTEM_PYTHON,
        arch=arch,
        dist=row.dist or "",
        glibc=row.glibc,
        mock_config=row.mock_config_for(arch),
        payload=row.payload or Target.payload,
    )


def host_target(interpreter: str) -> Target:
    """The machine's own Python, as the target the RPMs are built for."""
    path = shutil.which(interpreter)
    if path is None:
        raise UsageError(f"python interpreter not found: {interpreter}")
    if os.path.realpath(path) == os.path.realpath(sys.executable):
        out = platform.python_version()  # the interpreter running rpmdeploy: no need to ask
    else:
        out = capture(
            [path, "-c", "import platform; print(platform.python_version())"],
            what=f"asking {interpreter} for its version",
            error=UsageError,
        ).strip()
    major_minor = ".".join(out.split(".")[:2])
    return Target(
        name=HOST,
        python_version=major_minor,
        python_full_version=out,
        interpreter=interpreter if interpreter.startswith("/") else path,
        arch=host_arch(),
        dist=_host_dist(),
        is_host=True,
    )


def _host_dist() -> str:
    """The dist tag of this machine's release where it is an RPM distribution rpmdeploy
    knows (``.el9`` on Rocky 9: the names that differ per release follow it), else ""."""
    row = distributions.host_rpm_release()
    return (row.dist or "") if row is not None else ""


def find_python(version: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Working interpreters of Python ``version`` (X.Y) on this machine, best first.

    ``extra`` candidates come first.  pyenv's shims answer only for the selected version,
    so pyenv's installs are looked at directly.
    """
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installed = sorted(str(p) for p in (root / "versions").glob(f"{version}.*/bin/python{version}"))
    shims = f"{root / 'shims'}{os.sep}"
    found = []
    for candidate in (*extra, f"python{version}", *installed):
        path = shutil.which(candidate)
        # A shim costs a pyenv run (0.1 s) to say what the installs above say directly.
        if path is None or path in found or (installed and path.startswith(shims)):
            continue
        if python_version_of(path) == version:
            found.append(path)
    return found


def python_version_of(python: str) -> str | None:
    """X.Y of an interpreter, or None when it does not run."""
    try:
        out = capture(  # -I -S: the version only; no site (half the start-up of a pyenv 3.9)
            [python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            what="python version",
        )
    except RpmdeployError:
        return None
    return out.strip()


def _is_clean_abs_path(path: str) -> bool:
    parts = Path(path).parts
    safe = re.fullmatch(r"[A-Za-z0-9/._+-]+", path) is not None
    return path.startswith("/") and ".." not in parts and safe

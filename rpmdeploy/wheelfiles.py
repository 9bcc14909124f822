"""Which file names a wheel may carry into an RPM.

rpm reads a ``%files`` list as spec syntax: a manifest line is macro-expanded twice, and
``%attr(...)``, ``%caps(...)``, ``%config(...)`` and the other directives are recognised
anywhere on it.  A wheel member named ``%(id)`` would run a shell command in rpmbuild, one
named ``%attr(4755,root,root)`` would make a file setuid root.  No escaping survives both
expansions reliably, so a name with ``%`` (every directive and macro starts with it) is
refused, as are names rpm's file list cannot carry (globs, quotes, backslashes, control
characters) or that leave the wheel (absolute, ``..``).

The wheel tool that installs wheels inside rpmbuild (``_wheel_tool.py``, which must stand
alone) applies the same rule again to what it installs; this module checks before any
build, so the error names the package and the file.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from rpmdeploy.errors import BuildError

#: Characters that make a path spec syntax (%), a glob, a quote or an escape in %files.
UNSAFE = re.compile(r'[%\x00-\x1f\x7f*?\[\]{}"\\]')


def unsafe_member(name: str) -> bool:
    parts = name.split("/")
    return name.startswith("/") or ".." in parts or UNSAFE.search(name) is not None


def check_wheel_members(wheel: Path, package: str) -> None:
    """Raise BuildError naming the first member of ``wheel`` rpm would not read literally."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise BuildError(f"{package}: {wheel.name} is not a readable wheel ({exc})") from None
    for name in names:
        if unsafe_member(name):
            raise BuildError(
                f"{package}: refusing file name {name!r} in {wheel.name}: rpm would read it "
                "as spec syntax (%), a pattern or a path outside the package"
            )

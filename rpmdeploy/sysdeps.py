"""System build dependencies of Python packages built from their sdists.

A package compiled from its sdist needs the system's headers and tools (psycopg2 needs
libpq's, lxml libxml2's and libxslt's).  Its SRPM must say so in BuildRequires, or it cannot
be rebuilt in a clean chroot of the target (mock, Copr).  Three sources of external hints,
all in the syntax of an app's ``external-dependencies.txt``:

1. rpmdeploy's table of well-known packages (``data/package-externals.toml``);
2. the sdist's own PEP 725 ``[external]`` table (``build-requires``, ``host-requires``),
   read from its ``pyproject.toml`` without running anything;
3. the app's ``[packages.NAME] external = [...]`` in rpmdeploy.toml (added to the others).

They are mapped through the distribution table (``rpmdeploy.externals``) to the target's
package names.  Wheels get none: they bundle what they link against.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from packaging.utils import canonicalize_name

from rpmdeploy.errors import ExternalsError
from rpmdeploy.externals import Distro, Hint, load_mapping, map_hints, parse_hints
from rpmdeploy.externals import rpm_build_requires as _rpm_build_requires

TABLE = "package-externals.toml"
_PEP725_KEYS = ("build-requires", "host-requires")


@cache
def known_packages() -> dict[str, tuple[str, ...]]:
    """rpmdeploy's table: canonical PyPI name -> external hints."""
    text = resources.files("rpmdeploy").joinpath("data", TABLE).read_text()
    data = tomllib.loads(text).get("packages", {})
    return {canonicalize_name(k): tuple(v) for k, v in data.items()}


def package_hints(name: str, sdist: Path | None, extra: Sequence[str] = ()) -> list[Hint]:
    """Every external hint of package ``name`` built from ``sdist``."""
    lines = [*known_packages().get(canonicalize_name(name), ()), *extra]
    if sdist is not None:
        lines += pep725_hints(sdist)
    text = "".join(f"{line}\n" for line in dict.fromkeys(lines))
    return parse_hints(text, source=f"the system dependencies of {name}")


def pep725_hints(sdist: Path) -> list[str]:
    """PEP 725 ``[external]`` build-time requirements of an sdist (static, nothing runs)."""
    from rpmdeploy.pin_build import top_level_files  # the sdist reader of pinning

    files = top_level_files(sdist, ("pyproject.toml",))
    if "pyproject.toml" not in files:
        return []
    try:
        data = tomllib.loads(files["pyproject.toml"].decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []  # the PEP 517 build reports a broken pyproject.toml itself
    external = data.get("external", {})
    found: list[str] = []
    for key in _PEP725_KEYS:
        values = external.get(key, []) if isinstance(external, dict) else []
        found += [v for v in values if isinstance(v, str)]
    return found


def system_build_requires(
    name: str,
    sdist: Path | None,
    distro: Distro,
    app_dir: Path | None,
    extra: Sequence[str] = (),
) -> tuple[str, ...]:
    """BuildRequires for package ``name``'s SRPM on ``distro`` (empty for most packages)."""
    hints = package_hints(name, sdist, extra)
    if not hints:
        return ()
    try:
        mapped = map_hints(hints, distro, load_mapping(app_dir), strict=False)
    except ExternalsError as exc:
        raise ExternalsError(f"{name}: {exc.message} (mapping for {distro.name})") from None
    return tuple(_rpm_build_requires(mapped))

"""Package names of a PyPI project as the target distribution names them.

One function per name, used by everything that refers to a pin's RPM (the spec, the build
cache, the release history, the build labels, the app's checks), so a name is the same
everywhere:

* :func:`binary_name`: ``python3-dateutil`` for ``python-dateutil``: the table of known names
  (``data/package-names.toml``, per dist tag where releases differ), else Fedora's rule:
  ``python3-`` + the PEP 503 name with one leading ``python-`` or trailing ``-python`` taken
  off.  A package named as the distribution names it replaces the distribution's package of
  the same project instead of clashing with it on every file.
* :func:`source_name`: ``python-`` + the same base (the SRPM), as Fedora's source packages.
* :func:`alternative_names`: ``python-dateutil``, ``python3.X-dateutil``: what Fedora's
  automatic ``pythonname`` generator (``%py_provides``) provides for a ``python3-`` package.
* :func:`previous_name`: ``python3-python-dateutil``, the name rpmdeploy gave the package
  before names followed the distribution: the spec obsoletes and provides it, so a published
  repository upgrades cleanly.

The private namespace mode (``--name-prefix``/``--install-prefix``) keeps
``PREFIX<PEP 503 name>`` for both: its packages never share a name or a file with the
distribution's, so a rename would avoid no clash there, while PEP 503 names are unique on
PyPI and renamed ones are not (``python-foo`` and ``foo`` would both become ``PREFIXfoo``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from packaging.utils import canonicalize_name

from rpmdeploy.errors import RpmdeployError, UsageError
from rpmdeploy.rpmnames import PACKAGE_NAME
from rpmdeploy.targets import Target

TABLE = "package-names.toml"
#: The binary packages' prefix where names follow the distribution.
PREFIX = "python3-"
_DIST_TAG = re.compile(r"^\.[a-z]+[0-9]+$")


@dataclass(frozen=True)
class KnownName:
    """One row of ``data/package-names.toml``."""

    name: str  # current Fedora / EPEL 10
    by_dist: Mapping[str, str] = field(default_factory=dict)  # ".el9" -> name

    def for_dist(self, dist: str) -> str:
        return self.by_dist.get(dist, self.name)


@lru_cache(maxsize=1)
def known_names() -> Mapping[str, KnownName]:
    """The table, checked: every name a ``python3-`` package name rpm and rpmdeploy accept."""
    text = resources.files("rpmdeploy").joinpath("data", TABLE).read_text(encoding="utf-8")
    return parse_table(text, TABLE)


def parse_table(text: str, source: str) -> dict[str, KnownName]:
    try:
        rows = tomllib.loads(text).get("packages", {})
    except tomllib.TOMLDecodeError as exc:
        raise RpmdeployError(f"{source}: {exc}") from None
    table: dict[str, KnownName] = {}
    for key, row in rows.items():
        if key != canonicalize_name(key) or not isinstance(row, dict):
            raise RpmdeployError(f"{source}: [packages.{key}] must be a canonical PyPI name")
        by_dist = row.get("dist", {})
        names = [row.get("name"), *by_dist.values()]
        if not all(isinstance(n, str) and _is_binary_name(n) for n in names):
            raise RpmdeployError(f"{source}: [packages.{key}] names must be python3-NAME")
        if not all(_DIST_TAG.match(tag) for tag in by_dist):
            raise RpmdeployError(f"{source}: [packages.{key}] dist keys are tags like '.el9'")
        table[key] = KnownName(row["name"], dict(by_dist))
    return table


def _is_binary_name(name: str) -> bool:
    return name.startswith(PREFIX) and len(name) > len(PREFIX) and bool(PACKAGE_NAME.match(name))


def rule_base(name: str) -> str:
    """Fedora's rule: the PEP 503 name without one leading ``python-``/trailing ``-python``."""
    canonical = canonicalize_name(name)
    if canonical.startswith("python-") and len(canonical) > len("python-"):
        return canonical.removeprefix("python-")
    if canonical.endswith("-python") and len(canonical) > len("-python"):
        return canonical.removesuffix("-python")
    return canonical


def binary_name(name: str, target: Target) -> str:
    """The binary RPM of PyPI project ``name`` for ``target`` (see the module doc)."""
    canonical = canonicalize_name(name)
    if target.namespaced:
        return f"{target.name_prefix}{canonical}"
    known = known_names().get(canonical)
    if known is not None:
        return known.for_dist(target.dist)
    return PREFIX + rule_base(canonical)


def source_name(name: str, target: Target) -> str:
    """The SRPM: ``python-BASE`` for binary ``python3-BASE``; a private namespace keeps its
    own prefix for both, so its SRPMs cannot be mistaken for the distribution's."""
    if target.namespaced:
        return f"{target.name_prefix}{canonicalize_name(name)}"
    return "python-" + binary_name(name, target).removeprefix(PREFIX)


def previous_name(name: str, target: Target) -> str | None:
    """The name rpmdeploy used to give this package (``python3-<PEP 503 name>``) when the
    target's name differs from it, else None (also in a private namespace: never renamed)."""
    if target.namespaced:
        return None
    old = PREFIX + canonicalize_name(name)
    return old if old != binary_name(name, target) else None


def alternative_names(binary: str, target: Target) -> tuple[str, ...]:
    """``python-BASE`` and ``python3.X-BASE`` for ``python3-BASE``, as Fedora's pythonname
    generator provides them; none in a private namespace (they are the distribution's)."""
    if target.namespaced or not binary.startswith(PREFIX):
        return ()
    base = binary.removeprefix(PREFIX)
    return (f"python-{base}", f"python{target.python_version}-{base}")


def check_distinct(names: Iterable[str], target: Target) -> None:
    """UsageError when two PyPI projects of one set would get the same package name
    (``python-foo`` and ``foo`` are both ``python3-foo`` by Fedora's rule)."""
    seen: dict[str, str] = {}
    for name in names:
        rpm_name = binary_name(name, target)
        other = seen.setdefault(rpm_name, canonicalize_name(name))
        if other != canonicalize_name(name):
            raise UsageError(
                f"{other} and {canonicalize_name(name)} would both be packaged as {rpm_name}; "
                "pin only one of them, or build in a private namespace (--name-prefix)"
            )

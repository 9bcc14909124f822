"""The declared base system, grown from what the app and its packages say they need.

The stand-in (``standin``) declares the target system.  Its core is ``base`` (the
interpreter, glibc, the GCC runtime: ``data/base-provides.toml``).  :func:`declare_base`
adds, each with where it came from:

1. *distribution packages*: the app's ``external-dependencies.txt`` mapped to the target's
   names (the release record's ``assumed_packages``); for each compiled package of the
   repository, the system libraries rpmdeploy's table says it uses
   (``data/package-externals.toml``, through ``rpmdeploy.sysdeps``), mapped the same way;
   and any distribution package a package of the repository ``Requires`` by a name the
   mapping table knows for the target (how per-package externals reach the RPMs);
2. *their sonames*: ``data/sonames.toml`` says which shared libraries each of those
   packages ships on the target's distribution (libpq -> ``libpq.so.5()(64bit)``);
3. *the app's own declarations*: ``[verify] assume`` in its rpmdeploy.toml (the record's
   ``assume``), capabilities taken as they are;
4. *manylinux system libraries*: a soname a compiled package requires that every manylinux
   policy lets a wheel link against (``libz.so.1``, ``libexpat.so.1``: ``rpmdeploy.elfcheck``'s
   table, from auditwheel), since PEP 600 takes those as present on every compatible system,
   and rpm's requirement pulls the distribution's package in at install time;
5. the symbol versions packages need of a soname declared by 2, 3 or 4
   (``libssl.so.3(OPENSSL_3.0.0)(64bit)``): the table cannot list every version node.

All of it is a declaration, not proof: the report lists it, and which of it the packages
actually relied on.  A capability still missing is explained by :meth:`DeclaredBase.explain`
(the package that ships it, when the table knows, and how to declare it).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from rpmdeploy.distributions import Distribution
from rpmdeploy.errors import RpmdeployError
from rpmdeploy.externals.hints import HINTS_FILE
from rpmdeploy.targets import Target
from rpmdeploy.verify.base import ELF_64BIT
from rpmdeploy.verify.packages import RepoPackage, requirement_name

SONAMES_TABLE = "sonames.toml"
FROM_APP = HINTS_FILE
FROM_ASSUME = "[verify] assume"

# soname(VERSION)SUFFIX, as rpm's elfdeps writes a library dependency.
_SONAME_DEP = re.compile(
    r"^(?P<soname>[^\s()]+\.so(?:\.[^\s()]*)?)\((?P<node>[^()]*)\)(?P<suffix>(?:\(64bit\))?)$"
)


@dataclass(frozen=True)
class Declared:
    """One capability the stand-in declares beyond the system table, and why."""

    capability: str
    source: str  # "libpq (external-dependencies.txt)", "[verify] assume", ...


@dataclass(frozen=True)
class DeclaredBase:
    """What the stand-in declares for one verification (see the module doc)."""

    system: tuple[str, ...]  # data/base-provides.toml for the target
    packages: tuple[Declared, ...]  # distribution packages
    libraries: tuple[Declared, ...]  # their sonames, assumed ones and symbol versions
    distro: str | None  # the distribution whose names were used; None: none known
    # For explain(): package -> the mapping table's hint name; soname -> package.
    hint_of: Mapping[str, str] = field(default_factory=dict)
    shipped_by: Mapping[str, str] = field(default_factory=dict)

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Everything the stand-in provides, each once."""
        grown = [d.capability for d in (*self.packages, *self.libraries)]
        return tuple(dict.fromkeys([*self.system, *grown]))

    @property
    def package_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.capability for d in self.packages))

    def grown(self) -> tuple[Declared, ...]:
        """The declarations beyond the system table, each capability once."""
        seen: dict[str, Declared] = {}
        for item in (*self.packages, *self.libraries):
            seen.setdefault(item.capability, item)
        return tuple(seen.values())

    def relied_on(self, packages: Iterable[RepoPackage]) -> tuple[Declared, ...]:
        """The grown declarations some package of the repository requires."""
        provided = {p for package in packages for p in package.provides}
        needed = {
            requirement_name(r)
            for package in packages
            for r in package.requires
            if requirement_name(r) not in provided
        }
        return tuple(d for d in self.grown() if d.capability in needed)

    def assumed_sonames(self) -> frozenset[str]:
        """The bare sonames declared beyond the system table (libpq.so.5)."""
        matches = [_SONAME_DEP.match(d.capability) for d in self.libraries]
        return frozenset(m["soname"] for m in matches if m is not None)

    def explain(self, requirement: str) -> str:
        """``requirement`` with what would provide it, for a one-line error."""
        name = requirement_name(requirement)
        match = _SONAME_DEP.match(name)
        package = self.shipped_by.get(match["soname"]) if match else None
        where = f" on {self.distro}" if self.distro else ""
        if package is not None:
            hint = self.hint_of.get(package, package)
            return f"{requirement} (shipped by {package}{where}: add {hint} to {HINTS_FILE})"
        if name in self.hint_of:
            return f"{requirement} (a package{where}: add {self.hint_of[name]} to {HINTS_FILE})"
        return requirement


def declare_base(
    target: Target,
    system: Sequence[str],
    *,
    app_packages: Sequence[str] = (),
    assume: Sequence[str] = (),
    packages: Sequence[RepoPackage] = (),
) -> DeclaredBase:
    """The declared base for ``target``: ``system`` grown as the module doc says."""
    distro = _distro_of(target)
    run_index = _run_packages(distro) if distro is not None else {}
    declared = [Declared(p, f"{p} ({FROM_APP})") for p in app_packages]
    declared += _needed_packages(packages, distro, run_index)
    suffix = "()(64bit)" if target.arch in ELF_64BIT else "()"
    libraries = [
        Declared(soname + suffix, item.source)
        for item in declared
        for soname in (_sonames(item.capability, distro) if distro is not None else ())
    ]
    libraries += [Declared(c, FROM_ASSUME) for c in assume]
    libraries += _manylinux_libraries(packages, system)
    libraries += _symbol_versions(libraries, packages)
    return DeclaredBase(
        system=tuple(system),
        packages=tuple(declared),
        libraries=tuple(libraries),
        distro=distro.name if distro is not None else None,
        hint_of=MappingProxyType(run_index),
        shipped_by=MappingProxyType(_shipped_by(distro) if distro is not None else {}),
    )


def _needed_packages(
    packages: Sequence[RepoPackage], distro: Distribution | None, run_index: Mapping[str, str]
) -> list[Declared]:
    """Distribution packages the repository's packages need (item 1 of the module doc)."""
    declared: list[Declared] = []
    for package in packages:
        if package.arch != "noarch":  # only compiled code links system libraries
            for dist in package.python_dists:
                for name in _package_externals(dist, distro):
                    declared.append(Declared(name, f"{name} (system library of {dist})"))
        for requirement in package.requires:
            name = requirement_name(requirement)
            if name in run_index:
                declared.append(Declared(name, f"{name} (required by {package.name})"))
    return declared


def _manylinux_libraries(packages: Sequence[RepoPackage], system: Sequence[str]) -> list[Declared]:
    """Sonames compiled packages require from the manylinux policies' system list (item 4)."""
    from rpmdeploy.elfcheck import system_sonames  # reads its table only when asked

    allowed = system_sonames()
    present = set(system)
    found: list[Declared] = []
    for package in packages:
        for requirement in package.requires:
            match = _SONAME_DEP.match(requirement_name(requirement))
            if match is None or match["soname"] not in allowed:
                continue
            bare = f"{match['soname']}(){match['suffix']}"
            if bare not in present:
                source = f"{match['soname']} (a manylinux system library, for {package.name})"
                found.append(Declared(bare, source))
    return found


def _symbol_versions(
    libraries: Sequence[Declared], packages: Sequence[RepoPackage]
) -> list[Declared]:
    """The symbol versions packages need of declared sonames (item 4 of the module doc)."""
    bare = {d.capability: d.source for d in libraries}
    found: list[Declared] = []
    for package in packages:
        for requirement in package.requires:
            name = requirement_name(requirement)
            match = _SONAME_DEP.match(name)
            if match is None or not match["node"]:
                continue
            source = bare.get(f"{match['soname']}(){match['suffix']}")
            if source is not None:
                found.append(Declared(name, source))
    return found


def _distro_of(target: Target) -> Distribution | None:
    """The distribution whose package names the target uses (as the app's RPM does)."""
    from rpmdeploy.app import mapping_distro  # the one rule for it; app imports much

    try:
        return mapping_distro(target, None)[0]
    except RpmdeployError:
        return None  # a host nobody knows: nothing grows but what the app assumes


def _package_externals(dist: str, distro: Distribution | None) -> list[str]:
    """Run-time packages of rpmdeploy's system-library hints for ``dist`` on ``distro``."""
    from rpmdeploy.externals import load_mapping, map_hints
    from rpmdeploy.sysdeps import package_hints

    if distro is None:
        return []
    try:
        mapped = map_hints(package_hints(dist, None), distro, load_mapping(None), strict=False)
    except RpmdeployError:
        return []  # a hint the table cannot map: the missing capability will say so
    names = [alt.strip() for item in mapped for run in item.run for alt in run.split("|")]
    return list(dict.fromkeys(n for n in names if n))


@cache
def _run_packages(distro: Distribution) -> dict[str, str]:
    """Every run-time package the mapping table names for ``distro`` -> its hint name."""
    from rpmdeploy.externals import load_mapping
    from rpmdeploy.externals.table import resolve_entry

    index: dict[str, str] = {}
    for key, entry in load_mapping(None).entries.items():
        resolved = resolve_entry(entry, distro)
        for run in resolved.run if resolved is not None else ():
            for alt in run.split("|"):
                index.setdefault(alt.strip(), key)
    return index


def _sonames(package: str, distro: Distribution) -> tuple[str, ...]:
    """The sonames ``data/sonames.toml`` lists for ``package`` on ``distro`` (most specific
    layer first: release, base, family)."""
    layers = _soname_table().get(package, {})
    for layer in (distro.table_name, distro.base, distro.family):
        if layer in layers:
            return tuple(layers[layer])
    return ()


@cache
def _shipped_by(distro: Distribution) -> dict[str, str]:
    """soname -> the package ``data/sonames.toml`` says ships it on ``distro``."""
    found: dict[str, str] = {}
    for name in _soname_table():
        for soname in _sonames(name, distro):
            found.setdefault(soname, name)
    return found


@cache
def _soname_table() -> dict[str, dict[str, list[str]]]:
    text = resources.files("rpmdeploy").joinpath("data", SONAMES_TABLE).read_text()
    data: dict[str, Any] = tomllib.loads(text)
    return dict(data.get("packages", {}))

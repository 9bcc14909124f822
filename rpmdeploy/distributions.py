"""Distributions: every release rpmdeploy knows, from one table, and how each is named.

``rpmdeploy/data/distributions.toml`` lists each release once (``Distribution``): its Python,
glibc, dist tag, mock config, payload, architectures, and which layers of the external
dependency mapping name its packages.  RPM-family releases are the build targets of
``targets.py``; every release, ``.deb`` ones included, is a distribution of ``externals``.

Contracts:

- ``load_table(text, source)`` returns a validated ``DistributionTable``; anything malformed
  raises ``RpmdeployError`` with one line naming ``source``, the row and the field.
  ``shipped_table()`` is the shipped file, read once.
- ``find_release(name)`` accepts every spelling (``fedora-43``, ``rocky-9-x86_64``,
  ``rocky+epel-9``, ``rhel-9.4``, ``el9``, ``noble``, ``debian``...) and returns ``None`` for
  a name no release has; with an ``-ARCH`` suffix the result's ``arch`` is set to the arch's
  canonical name, and a release not built for that arch is a ``UsageError``.
- ``host_distribution()`` reads ``/etc/os-release``; ``UsageError`` when it cannot be read or
  names no known release.
- ``ARCHES`` is the one architecture table; ``host_arch()`` is this machine's, by its name.
- ``marker_environment()`` is the one PEP 508 environment of a target system.

Nothing here imports ``rpm``: naming a distribution needs no RPM tooling.
"""

from __future__ import annotations

import platform
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rpmdeploy.errors import RpmdeployError, UsageError

FAMILIES = ("rpm", "deb")
#: Which distribution's package names a release uses in the mapping table.
BASES = ("fedora", "el", "debian", "ubuntu")
OS_RELEASE = Path("/etc/os-release")
SHIPPED = "rpmdeploy/data/distributions.toml"


# ----------------------------------------------------------------------------- architectures


@dataclass(frozen=True)
class Arch:
    """One CPU architecture under each of its names.

    ``name`` is RPM's (target names, mock configs, ``--forcearch``); ``machine`` is what
    ``platform.machine()`` says on Linux, so PEP 508's ``platform_machine``; ``deb`` is
    Debian's.  ``aliases`` are further spellings accepted in names.
    """

    name: str
    machine: str
    deb: str
    bits: int
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, self.machine, self.deb, *self.aliases)))


ARCHES: tuple[Arch, ...] = (
    Arch("x86_64", "x86_64", "amd64", 64),
    Arch("aarch64", "aarch64", "arm64", 64),
    Arch("ppc64le", "ppc64le", "ppc64el", 64),
    Arch("s390x", "s390x", "s390x", 64),
    Arch("riscv64", "riscv64", "riscv64", 64),
    Arch("i686", "i686", "i386", 32, aliases=("i586",)),
    # Fedora's basearch for 32-bit ARM was armhfp
    Arch("armv7hl", "armv7l", "armhf", 32, aliases=("armhfp",)),
)
_ARCH_BY_NAME: Mapping[str, Arch] = MappingProxyType(
    {spelling: arch for arch in ARCHES for spelling in arch.names}
)


def arch_named(name: str) -> Arch | None:
    """The Arch any of whose names is ``name`` (case-insensitive), or None."""
    return _ARCH_BY_NAME.get(name.strip().lower())


def host_arch() -> str:
    """This machine's architecture by its RPM name (the raw machine name if unknown)."""
    machine = platform.machine()
    arch = arch_named(machine)
    return arch.name if arch is not None else machine


# ----------------------------------------------------------------------------- markers


def marker_environment(python_full_version: str, arch: str) -> dict[str, str]:
    """PEP 508 marker values on Linux with CPython ``python_full_version`` on ``arch``.

    ``python_full_version`` is ``X.Y.Z``; ``arch`` is any of an architecture's names (its
    ``platform_machine`` is what ``platform.machine()`` says there; an unknown one is used
    as given).
    ``platform_release``/``platform_version`` (the kernel) are not known for a target: they
    are empty rather than this machine's, which would otherwise fill them in.
    """
    python_version = ".".join(python_full_version.split(".")[:2])
    known = arch_named(arch)
    return {
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": known.machine if known is not None else arch,
        "platform_release": "",
        "platform_version": "",
        "python_version": python_version,
        "python_full_version": python_full_version,
        "implementation_name": "cpython",
        "implementation_version": python_full_version,
        "platform_python_implementation": "CPython",
        "extra": "",
    }


# ----------------------------------------------------------------------------- releases


@dataclass(frozen=True)
class Distribution:
    """One distribution release, as a row of ``distributions.toml`` says it.

    ``arch`` is None for the release as such, or the canonical name of the architecture a
    name asked for (``rocky-9-x86_64``); ``with_arch`` checks it is one of ``arches``.
    ``dist``, ``mock_config`` (a pattern with ``{arch}``) and ``payload`` are set exactly
    for the ``rpm`` family.
    """

    id: str  # fedora, rhel, rocky, almalinux, centos-stream, amazonlinux, debian, ubuntu
    release: str  # "43", "rawhide", "9", "2023", "12", "24.04"
    family: str  # rpm | deb
    base: str  # mapping table: fedora | el | debian | ubuntu
    layer: str  # the mapping table's release layer, e.g. el-9 for rocky-9
    pretty_name: str
    python_version: str  # X.Y of the release's default python3
    python_full_version: str  # X.Y.Z, for python_full_version markers
    glibc: str
    arches: tuple[str, ...]
    dist: str | None = None
    mock_config: str | None = None
    payload: str | None = None
    aliases: tuple[str, ...] = ()
    codenames: tuple[str, ...] = ()
    arch: str | None = None

    @property
    def name(self) -> str:
        return f"{self.id}-{self.release}"

    @property
    def table_name(self) -> str:
        """The release layer of the mapping table, e.g. ``el-9`` for rocky-9."""
        return self.layer

    @property
    def is_target(self) -> bool:
        """RPMs can be built for it (the ``rpm`` family)."""
        return self.family == "rpm"

    def with_arch(self, name: str) -> Distribution:
        """This release on architecture ``name`` (any spelling); UsageError if not built for it."""
        arch = arch_named(name)
        if arch is None or arch.name not in self.arches:
            raise UsageError(
                f"{self.name} is not built for {name}; its architectures: " + ", ".join(self.arches)
            )
        return replace(self, arch=arch.name)

    def mock_config_for(self, arch: str) -> str:
        """The mock-core-configs name of this release on ``arch``."""
        if self.mock_config is None:
            raise UsageError(f"{self.name} uses .deb packages: there is no mock config for it")
        return self.mock_config.format(arch=arch)

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values on this release (x86_64 when no arch was named)."""
        return marker_environment(self.python_full_version, self.arch or "x86_64")


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class DistributionTable:
    """The validated table: releases in file order, and every accepted name for each."""

    releases: tuple[Distribution, ...]
    id_aliases: Mapping[str, str]  # alias -> id
    names: Mapping[str, Distribution]  # lower-case spelling without arch -> release

    def find(self, name: str) -> Distribution | None:
        """The release called ``name`` (see the module's contract), or None."""
        text = name.strip().lower()
        arch = None
        for spelling in _ARCH_BY_NAME:
            if text.endswith("-" + spelling):
                text, arch = text[: -len(spelling) - 1], spelling
                break
        # mock's EPEL-enabled configs: rhel+epel-9, alma+epel-10, centos-stream+epel-9
        text = re.sub(r"\+epel(?:-next)?", "", text)
        found = self.names.get(text)
        if found is None:
            # minor releases of Enterprise Linux: rhel-9.4 -> rhel-9
            match = re.fullmatch(r"(.+?)-?(\d+)\.\d+", text)
            if match:
                major = self.names.get(f"{match.group(1)}-{match.group(2)}")
                if major is not None and major.base == "el":
                    found = major
        if found is None or arch is None:
            return found
        return found.with_arch(arch)

    def from_os_release(self, fields: Mapping[str, str]) -> Distribution | None:
        """The release an os-release file describes, or None when none of the table's."""
        names = self.names
        distro_id = fields.get("ID", "").lower()
        distro_id = self.id_aliases.get(distro_id, distro_id)
        like = fields.get("ID_LIKE", "").lower().split()
        version = fields.get("VERSION_ID", "").lower()
        major = version.split(".")[0]
        if any(row.id == distro_id for row in self.releases):
            found = names.get(f"{distro_id}-{version}")
            if found is None and major != version:
                found = names.get(f"{distro_id}-{major}")
                found = found if found is not None and found.base == "el" else None
            if found is None and fields.get("REDHAT_SUPPORT_PRODUCT_VERSION", "") == "rawhide":
                found = names.get(f"{distro_id}-rawhide")
            if found is None:
                named = names.get(fields.get("VERSION_CODENAME", "").lower() or "-")
                found = named if named is not None and named.id == distro_id else None
            return found
        # derivatives say what they are built from
        if "ubuntu" in like:
            return names.get(fields.get("UBUNTU_CODENAME", "").lower() or "-")
        if "debian" in like:
            codename = fields.get("DEBIAN_CODENAME") or fields.get("VERSION_CODENAME", "")
            return names.get(codename.lower() or "-")
        if {"rhel", "centos"} & set(like):
            return names.get(f"rhel-{major}")
        if "fedora" in like:
            return names.get(f"rhel-{major}") or names.get(f"fedora-{version}")
        return None


_ROW_FIELDS = {
    # field: (required for rpm, required for deb)
    "id": (True, True),
    "release": (True, True),
    "family": (True, True),
    "base": (True, True),
    "layer": (False, False),
    "pretty_name": (True, True),
    "python": (True, True),
    "python_full": (True, True),
    "glibc": (True, True),
    "arches": (True, True),
    "dist": (True, False),
    "mock_config": (True, False),
    "payload": (True, False),
    "aliases": (False, False),
    "codenames": (False, False),
}
_RPM_ONLY = ("dist", "mock_config", "payload")
_LIST_FIELDS = ("arches", "aliases", "codenames")
_NAME_RE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_RELEASE_RE = re.compile(r"[a-z0-9][a-z0-9.]*")
_XY_RE = re.compile(r"\d+\.\d+")
_XYZ_RE = re.compile(r"\d+\.\d+\.\d+")


def load_table(text: str, source: str) -> DistributionTable:
    """Parse and validate a distributions table (see ``data/distributions.toml``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RpmdeployError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"schema", "id_aliases", "release"}
    if unknown:
        raise RpmdeployError(
            f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
            "expected schema, [id_aliases] and [[release]]"
        )
    if data.get("schema") != 1:
        raise RpmdeployError(
            f"{source}: schema {data.get('schema')!r} is not supported (expected 1)"
        )
    rows = data.get("release")
    if not isinstance(rows, list) or not rows:
        raise RpmdeployError(f"{source}: no [[release]] rows")
    releases = tuple(
        _parse_row(row, f"{source}: [[release]] #{n}") for n, row in enumerate(rows, 1)
    )
    ids = {row.id for row in releases}
    id_aliases = data.get("id_aliases", {})
    if not isinstance(id_aliases, dict):
        raise RpmdeployError(f"{source}: [id_aliases] must map aliases to IDs")
    for alias, real in id_aliases.items():
        if real not in ids or alias in ids or not _NAME_RE.fullmatch(alias):
            raise RpmdeployError(
                f"{source}: [id_aliases] {alias} = {real!r}: an alias must be a new lower-case "
                "name for an ID the table has"
            )
    _check_order(releases, source)
    layers = {f"{row.base}-{row.release}" for row in releases}
    for row in releases:
        if row.layer not in layers or not row.layer.startswith(row.base + "-"):
            raise RpmdeployError(
                f"{source}: {row.name}: layer {row.layer!r} is not a {row.base} release's layer"
            )
    names = _accepted_names(releases, id_aliases, source)
    return DistributionTable(releases, MappingProxyType(dict(id_aliases)), names)


def _parse_row(row: Any, where: str) -> Distribution:
    if not isinstance(row, dict):
        raise RpmdeployError(f"{where}: must be a table")
    if "id" in row and "release" in row:
        where = f"{where} ({row['id']}-{row['release']})"
    family = _check_fields(row, where)
    lists = _check_types(row, where)
    _check_values(row, family, lists["arches"], where)
    return Distribution(
        id=row["id"],
        release=row["release"],
        family=family,
        base=row["base"],
        layer=row.get("layer", f"{row['base']}-{row['release']}"),
        pretty_name=row["pretty_name"],
        python_version=row["python"],
        python_full_version=row["python_full"],
        glibc=row["glibc"],
        arches=lists["arches"],
        dist=row.get("dist"),
        mock_config=row.get("mock_config"),
        payload=row.get("payload"),
        aliases=tuple(alias.lower() for alias in lists["aliases"]),
        codenames=tuple(codename.lower() for codename in lists["codenames"]),
    )


def _check_fields(row: dict[str, Any], where: str) -> str:
    """The row's family, once its fields are the ones that family has."""
    unknown = set(row) - set(_ROW_FIELDS)
    if unknown:
        raise RpmdeployError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
            f"fields are {', '.join(_ROW_FIELDS)}"
        )
    family = row.get("family")
    if family not in FAMILIES:
        raise RpmdeployError(f"{where}: family must be one of {', '.join(FAMILIES)}")
    for name, (for_rpm, for_deb) in _ROW_FIELDS.items():
        if name not in row and (for_rpm if family == "rpm" else for_deb):
            raise RpmdeployError(f"{where}: {name} is missing")
    present = [name for name in _RPM_ONLY if name in row]
    if family == "deb" and present:
        raise RpmdeployError(f"{where}: {', '.join(present)} only apply to RPM releases")
    return str(family)


def _check_types(row: dict[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    """The row's list fields; every other field must be a string."""
    for name, value in row.items():
        if name not in _LIST_FIELDS and not isinstance(value, str):
            raise RpmdeployError(f"{where}: {name} must be a string")
    return {name: _string_list(row.get(name, []), f"{where}: {name}") for name in _LIST_FIELDS}


def _check_values(row: dict[str, Any], family: str, arches: tuple[str, ...], where: str) -> None:
    checks = (
        ("id", _NAME_RE.fullmatch(row["id"]), "a lower-case name such as centos-stream"),
        ("release", _RELEASE_RE.fullmatch(row["release"]), "such as 43, rawhide or 24.04"),
        ("base", row["base"] in BASES, f"one of {', '.join(BASES)}"),
        ("python", _XY_RE.fullmatch(row["python"]), "X.Y"),
        ("python_full", _XYZ_RE.fullmatch(row["python_full"]), "X.Y.Z"),
        ("glibc", _XY_RE.fullmatch(row["glibc"]), "X.Y"),
        ("dist", family == "deb" or row["dist"].startswith("."), "a %{dist} such as .fc43"),
        ("mock_config", family == "deb" or "{arch}" in row["mock_config"], "a name with {arch}"),
        ("arches", arches, "a non-empty list"),
    )
    for name, ok, expected in checks:
        if not ok:
            raise RpmdeployError(f"{where}: {name} {row.get(name)!r} is not {expected}")
    if not row["python_full"].startswith(row["python"] + "."):
        raise RpmdeployError(
            f"{where}: python_full {row['python_full']!r} is not a release of {row['python']}"
        )
    for arch in arches:
        known = arch_named(arch)
        if known is None or known.name != arch:
            raise RpmdeployError(
                f"{where}: arches: {arch!r} is not an RPM architecture name "
                f"({', '.join(a.name for a in ARCHES)})"
            )


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RpmdeployError(f"{where} must be a list of strings")
    return tuple(value)


def _check_order(releases: tuple[Distribution, ...], source: str) -> None:
    """Each name once; numbered releases of one ID oldest first (a bare ID means the last)."""
    seen: dict[str, Distribution] = {}
    newest: dict[str, tuple[int, ...]] = {}
    for row in releases:
        if row.name in seen:
            raise RpmdeployError(f"{source}: {row.name} is listed twice")
        seen[row.name] = row
        if not row.release[0].isdigit():
            continue
        number = tuple(int(part) for part in row.release.split(".") if part.isdigit())
        if row.id in newest and number <= newest[row.id]:
            raise RpmdeployError(
                f"{source}: {row.name} is listed after a newer {row.id} release; "
                "list each ID's releases oldest first"
            )
        newest[row.id] = number


def _accepted_names(
    releases: tuple[Distribution, ...], id_aliases: Mapping[str, str], source: str
) -> Mapping[str, Distribution]:
    """Every spelling -> its release; two releases claiming one spelling is an error."""
    names: dict[str, Distribution] = {}
    for name, row, weak in _spellings(releases, id_aliases):
        if name in _ARCH_BY_NAME:
            raise RpmdeployError(f"{source}: {row.name}: {name!r} is an architecture name")
        other = names.setdefault(name, row)
        if other != row and not weak:
            raise RpmdeployError(f"{source}: {name!r} names both {other.name} and {row.name}")
    return MappingProxyType(names)


def _spellings(
    releases: tuple[Distribution, ...], id_aliases: Mapping[str, str]
) -> Iterator[tuple[str, Distribution, bool]]:
    """(spelling, release, weak): a release's own names first, then the weak ones (ID
    aliases, bare names), which yield to a spelling already taken instead of clashing."""
    for row in releases:
        for name in _own_names(row):
            yield name, row, False
    newest = {row.id: row for row in releases if row.release[0].isdigit()}  # oldest first
    for alias, real in id_aliases.items():
        for row in releases:
            if row.id == real:
                yield f"{alias}-{row.release}", row, True
                yield f"{alias}{row.release}", row, True
        if real in newest:
            yield alias, newest[real], True
    for distro_id, row in newest.items():
        yield distro_id, row, True


def _own_names(row: Distribution) -> list[str]:
    names = [row.name, *row.aliases]
    if row.base == "el":
        names.append(f"{row.id}{row.release}")  # rhel9, rocky9
    for codename in row.codenames:
        names += [codename, f"{row.id}-{codename}"]
    return names


@lru_cache(maxsize=1)
def shipped_table() -> DistributionTable:
    """The table shipped in ``rpmdeploy/data/distributions.toml`` (read once)."""
    resource = resources.files("rpmdeploy").joinpath("data", "distributions.toml")
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError as exc:
        raise RpmdeployError(f"{SHIPPED} is unreadable: {exc}") from exc
    return load_table(text, SHIPPED)


def releases() -> tuple[Distribution, ...]:
    """Every release of the shipped table, in its order."""
    return shipped_table().releases


def find_release(name: str) -> Distribution | None:
    """The shipped release called ``name`` (see ``DistributionTable.find``), or None."""
    return shipped_table().find(name)


# ----------------------------------------------------------------------------- the host


def parse_os_release(text: str) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (values unquoted the shell way)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value.strip("\"'")]
        fields[key.strip()] = " ".join(words)
    return fields


def host_rpm_release() -> Distribution | None:
    """This machine's release when it is an RPM distribution rpmdeploy knows (then ``host``
    is a real target: the default one, with its dist tag), else None (Debian, an unknown or
    unreadable ``/etc/os-release``)."""
    try:
        row = host_distribution(OS_RELEASE)
    except UsageError:
        return None
    return row if row.is_target else None


def host_distribution(os_release: Path = OS_RELEASE) -> Distribution:
    """This machine's release, from ``os_release``, with ``arch`` set to ``host_arch()``."""
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot tell the host distribution ({os_release}: {exc.strerror}); "
            "pass --distro, e.g. --distro fedora-43"
        ) from exc
    fields = parse_os_release(text)
    found = shipped_table().from_os_release(fields)
    if found is None:
        described = fields.get("PRETTY_NAME") or fields.get("ID") or "unknown"
        raise UsageError(
            f"the host distribution ({described}, from {os_release}) is not one rpmdeploy "
            "has a mapping for; pass --distro (known: "
            + ", ".join(row.name for row in releases())
            + ")"
        )
    # the machine's own arch, even one the release is not built for: it is what runs here
    return replace(found, arch=host_arch() or None)

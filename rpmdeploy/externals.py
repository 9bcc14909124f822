"""External dependencies: the system packages an app needs, for a target distribution.

An app directory lists its system-level needs in ``external-dependencies.txt``, one hint per
line, written in any of the styles people use (see ``parse_hints``).  ``map_hints`` turns each
hint into the build-time (headers) and run-time package names of one distribution, from the
curated table shipped in ``rpmdeploy/data/externals.toml`` plus the app's own
``external-mappings.toml``.  A hint the table does not know is mapped by a fallback that is
always labelled: ``pkgconfig(NAME)`` for an explicit pkg-config hint on RPM targets
(``resolved == "pkgconfig"``), otherwise a heuristic guess (``resolved == "guess"``), which
``strict=True`` turns into an error.

Package-name strings in ``MappedHint.build``/``run`` are plain names, except that a guess may
offer alternatives written ``"a | b"`` (Debian's Depends syntax); for RPM they are rendered as a
rich dependency ``(a or b)``.  A hint's version constraint applies to the first (primary) name
of each list.
"""

from __future__ import annotations

import difflib
import json
import platform
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from rpmdeploy.errors import ExternalsError, UsageError

HINTS_FILE = "external-dependencies.txt"
MAPPINGS_FILE = "external-mappings.toml"
FORMATS = ("text", "json", "spec")
ALL = "all"

RESOLVED_TABLE = "table"
RESOLVED_OVERRIDE = "override"
RESOLVED_PKGCONFIG = "pkgconfig"
RESOLVED_GUESS = "guess"

KINDS = ("library", "header-only", "build-tool", "program")
FAMILY_LAYERS = ("rpm", "deb")
BASE_LAYERS = ("fedora", "el", "debian", "ubuntu")
_LAYER_FIELDS = ("build", "run", "repo", "note")
_ENTRY_FIELDS = ("summary", "kind", "aliases", "pkgconfig", "versioned")

_SHIPPED = "shipped"


# ----------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Constraint:
    """One version comparison; ``op`` is one of ``< <= = >= > !=``."""

    op: str
    version: str


@dataclass(frozen=True)
class Hint:
    """One line of external-dependencies.txt.

    ``name`` is the normalised lookup name: ``libpq``, ``pkgconfig(libxml-2.0)``,
    ``dep:generic/libxml2``, ``dep:virtual/compiler/c``.  ``style`` says which of
    ``name``/``pkgconfig``/``pep725`` it was written in.
    """

    raw: str
    name: str
    style: str
    constraints: tuple[Constraint, ...]
    marker: str | None
    source: str
    line: int

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True)
class Distro:
    """A target distribution release whose package names the mapping produces."""

    id: str  # fedora, rhel, rocky, almalinux, centos-stream, debian, ubuntu
    release: str  # "43", "rawhide", "9", "12", "24.04"
    family: str  # rpm | deb
    pretty_name: str
    base: str  # mapping table: fedora | el | debian | ubuntu
    python_version: str  # the release's default python3, for environment markers
    arch: str | None = None

    @property
    def name(self) -> str:
        return f"{self.id}-{self.release}"

    @property
    def table_name(self) -> str:
        """The release layer of the mapping table, e.g. ``el-9`` for rocky-9."""
        return f"{self.base}-{self.release}"


@dataclass(frozen=True)
class MappedHint:
    """A hint mapped for one distribution.

    ``resolved`` says how: ``table`` (shipped entry), ``override`` (the app's
    external-mappings.toml supplied a name), ``pkgconfig`` (explicit pkg-config hint with no
    entry, RPM only) or ``guess`` (heuristic; check it).  ``constraints`` are the version
    constraints actually applied to the primary names (empty when they had to be dropped;
    ``notes`` then says why).
    """

    hint: Hint
    distro: Distro
    key: str | None
    build: tuple[str, ...]
    run: tuple[str, ...]
    resolved: str
    constraints: tuple[Constraint, ...] = ()
    repo: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def guess(self) -> bool:
        return self.resolved == RESOLVED_GUESS


@dataclass(frozen=True)
class Layer:
    """One per-target table of an entry; ``None`` means "not set here"."""

    build: tuple[str, ...] | None = None
    run: tuple[str, ...] | None = None
    repo: str | None = None
    note: str | None = None
    # field name -> where its value came from (_SHIPPED or the app's mapping file)
    origins: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    key: str
    summary: str
    kind: str
    aliases: tuple[str, ...]
    pkgconfig: tuple[str, ...]
    versioned: bool
    layers: Mapping[str, Layer]
    # the entry fields its file actually set (an app file overrides only those)
    explicit: frozenset[str] = field(default=frozenset(), compare=False)


@dataclass(frozen=True)
class MappingTable:
    """The shipped mapping table merged with an app's own ``external-mappings.toml``."""

    entries: Mapping[str, Entry]
    index: Mapping[str, str]  # normalised hint name -> key
    sources: Mapping[str, str]
    files: tuple[str, ...]

    def lookup(self, name: str) -> Entry | None:
        key = self.index.get(_normalise(name))
        return None if key is None else self.entries[key]


# ----------------------------------------------------------------------------- distributions

# id, release, family, table base, pretty name, default python3
_DISTRO_ROWS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("fedora", "42", "rpm", "fedora", "Fedora Linux 42", "3.13"),
    ("fedora", "43", "rpm", "fedora", "Fedora Linux 43", "3.14"),
    ("fedora", "44", "rpm", "fedora", "Fedora Linux 44", "3.14"),
    ("fedora", "rawhide", "rpm", "fedora", "Fedora Linux Rawhide", "3.14"),
    ("rhel", "8", "rpm", "el", "Red Hat Enterprise Linux 8", "3.6"),
    ("rhel", "9", "rpm", "el", "Red Hat Enterprise Linux 9", "3.9"),
    ("rhel", "10", "rpm", "el", "Red Hat Enterprise Linux 10", "3.12"),
    ("rocky", "8", "rpm", "el", "Rocky Linux 8", "3.6"),
    ("rocky", "9", "rpm", "el", "Rocky Linux 9", "3.9"),
    ("rocky", "10", "rpm", "el", "Rocky Linux 10", "3.12"),
    ("almalinux", "8", "rpm", "el", "AlmaLinux 8", "3.6"),
    ("almalinux", "9", "rpm", "el", "AlmaLinux 9", "3.9"),
    ("almalinux", "10", "rpm", "el", "AlmaLinux 10", "3.12"),
    ("centos-stream", "8", "rpm", "el", "CentOS Stream 8", "3.6"),
    ("centos-stream", "9", "rpm", "el", "CentOS Stream 9", "3.9"),
    ("centos-stream", "10", "rpm", "el", "CentOS Stream 10", "3.12"),
    ("debian", "12", "deb", "debian", "Debian 12 (bookworm)", "3.11"),
    ("debian", "13", "deb", "debian", "Debian 13 (trixie)", "3.13"),
    ("ubuntu", "22.04", "deb", "ubuntu", "Ubuntu 22.04 LTS (jammy)", "3.10"),
    ("ubuntu", "24.04", "deb", "ubuntu", "Ubuntu 24.04 LTS (noble)", "3.12"),
)
_ID_ALIASES = {
    "el": "rhel",
    "redhat": "rhel",
    "alma": "almalinux",
    "centos": "centos-stream",
    "centosstream": "centos-stream",
}
_CODENAMES = {
    "bookworm": ("debian", "12"),
    "trixie": ("debian", "13"),
    "jammy": ("ubuntu", "22.04"),
    "noble": ("ubuntu", "24.04"),
}
_ARCHES = (
    "x86_64",
    "aarch64",
    "ppc64le",
    "s390x",
    "i686",
    "i386",
    "armhfp",
    "riscv64",
    "amd64",
    "arm64",
)
_LAYER_NAMES = frozenset(
    (*FAMILY_LAYERS, *BASE_LAYERS, *(f"{row[3]}-{row[1]}" for row in _DISTRO_ROWS))
)


def known_distros() -> list[Distro]:
    """Every distribution release the table covers, in a stable order."""
    return [
        Distro(
            id=distro_id,
            release=release,
            family=family,
            pretty_name=pretty_name,
            base=base,
            python_version=python_version,
        )
        for distro_id, release, family, base, pretty_name, python_version in _DISTRO_ROWS
    ]


def table_distros() -> list[Distro]:
    """One distribution per table release (``el-9`` stands for RHEL, Rocky, Alma, Stream)."""
    seen: dict[str, Distro] = {}
    for distro in known_distros():
        seen.setdefault(distro.table_name, distro)
    return list(seen.values())


def resolve_distro(name: str | None, os_release: Path = Path("/etc/os-release")) -> Distro:
    """The Distro called ``name`` (``fedora-43``, ``rocky-9-x86_64``, ``debian``, ``noble``...).

    ``None`` (or ``host``) means the machine's own distribution, read from ``os_release``.
    A bare name (``fedora``, ``debian``) is its newest numbered release here.
    """
    if name is None or name.strip() in ("", "host"):
        return _host_distro(os_release)
    text = name.strip().lower()
    arch = None
    for candidate in _ARCHES:
        if text.endswith("-" + candidate):
            text, arch = text[: -len(candidate) - 1], candidate
            break
    # mock's EPEL-enabled configs: rhel+epel-9, alma+epel-10, centos-stream+epel-9
    text = re.sub(r"\+epel(?:-next)?", "", text)
    distro = _accepted_names().get(text)
    if distro is None:
        # minor releases of Enterprise Linux: rhel-9.4 -> rhel-9
        match = re.fullmatch(r"(.+?)-?(\d+)\.\d+", text)
        if match:
            found = _accepted_names().get(f"{match.group(1)}-{match.group(2)}")
            if found is not None and found.base == "el":
                distro = found
    if distro is None:
        raise UsageError(
            f"unknown distribution {name!r}; known: "
            + ", ".join(d.name for d in known_distros())
            + f", their bare names (newest release), mock names such as rocky-9-x86_64, "
            f"or '{ALL}'"
        )
    return distro if arch is None else replace(distro, arch=arch)


@lru_cache(maxsize=1)
def _accepted_names() -> Mapping[str, Distro]:
    names: dict[str, Distro] = {}
    newest: dict[str, Distro] = {}
    for distro in known_distros():
        names[distro.name] = distro
        if distro.base == "el":
            names[f"{distro.id}{distro.release}"] = distro  # rhel9, rocky9
        if distro.release[0].isdigit():
            newest[distro.id] = distro  # rows are in release order
    for alias, real in _ID_ALIASES.items():
        for distro in known_distros():
            if distro.id == real:
                names.setdefault(f"{alias}-{distro.release}", distro)
                names.setdefault(f"{alias}{distro.release}", distro)
        if real in newest:
            names.setdefault(alias, newest[real])
    for codename, (distro_id, release) in _CODENAMES.items():
        distro = names[f"{distro_id}-{release}"]
        names[codename] = distro
        names[f"{distro_id}-{codename}"] = distro
    for distro_id, distro in newest.items():
        names.setdefault(distro_id, distro)
    return MappingProxyType(names)


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


def _host_distro(os_release: Path) -> Distro:
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot tell the host distribution ({os_release}: {exc.strerror}); "
            "pass --distro, e.g. --distro fedora-43"
        ) from exc
    fields = parse_os_release(text)
    found = _distro_from_os_release(fields)
    if found is None:
        described = fields.get("PRETTY_NAME") or fields.get("ID") or "unknown"
        raise UsageError(
            f"the host distribution ({described}, from {os_release}) is not one rpmdeploy "
            "has a mapping for; pass --distro (known: "
            + ", ".join(d.name for d in known_distros())
            + ")"
        )
    return replace(found, arch=platform.machine() or None)


def _distro_from_os_release(fields: Mapping[str, str]) -> Distro | None:
    names = _accepted_names()
    distro_id = fields.get("ID", "").lower()
    like = fields.get("ID_LIKE", "").lower().split()
    version = fields.get("VERSION_ID", "")
    major = version.split(".")[0]
    if distro_id == "fedora":
        found = names.get(f"fedora-{version}")
        if found is None and fields.get("REDHAT_SUPPORT_PRODUCT_VERSION", "") == "rawhide":
            found = names["fedora-rawhide"]
        return found
    if distro_id in ("rhel", "rocky", "almalinux", "centos"):
        return names.get(f"{_ID_ALIASES.get(distro_id, distro_id)}-{major}")
    if distro_id in ("debian", "ubuntu"):
        return names.get(f"{distro_id}-{version}") or names.get(
            fields.get("VERSION_CODENAME", "").lower() or "-"
        )
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


# ----------------------------------------------------------------------------- hint parsing

_OPS = ("===", "<=", ">=", "==", "!=", "~=", "<<", ">>", "<", ">", "=")
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~_:-]*")
_PKGCONFIG_RE = re.compile(r"pkgconfig\(\s*([A-Za-z0-9][A-Za-z0-9._+-]*)\s*\)", re.IGNORECASE)
_PURL_RE = re.compile(
    r"(?P<scheme>dep|pkg|virtual):(?P<path>[A-Za-z0-9][A-Za-z0-9._+/-]*)"
    r"(?:\?[^\s;()<>=!~,@]*)?(?:@(?P<version>[A-Za-z0-9][A-Za-z0-9.+~_:-]*))?"
)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*(?::[a-z0-9_]+)?")
_PACKAGE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+:-]*(?:\([A-Za-z0-9._+/-]+\))?")


def parse_hints(text: str, source: str = HINTS_FILE) -> list[Hint]:
    """Parse external-dependencies.txt; garbage raises ExternalsError naming ``source:line``.

    Accepted on each line (``#`` starts a comment):
    ``libpq (>=9.1)``, ``C``, ``libxml2-dev``, ``openssl-devel >= 1.1``,
    ``pkgconfig(libxml-2.0) >= 2.9``, ``dep:generic/openssl>=3``, ``dep:virtual/compiler/c``,
    the older ``pkg:generic/...`` and ``virtual:compiler/c`` spellings, each optionally
    followed by ``; <PEP 508 environment marker>``.
    """
    hints = []
    for number, line in enumerate(text.splitlines(), start=1):
        body = _strip_comment(line).strip()
        if body:
            hints.append(_parse_line(body, source, number))
    return hints


def read_hints(app_dir: Path, *, missing_ok: bool = False) -> list[Hint]:
    """The hints of ``app_dir/external-dependencies.txt``.

    A missing file is an error (map-externals has nothing to map), unless ``missing_ok``,
    which the app builder uses to treat "no file" as "no external dependencies".
    """
    path = Path(app_dir) / HINTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return []
        raise ExternalsError(
            f"{path} is missing: the app directory must list its system packages there "
            "(an app that needs none can ship an empty file)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExternalsError(f"cannot read {path}: {exc}") from exc
    return parse_hints(text, source=str(path))


def _unquoted_index(text: str, wanted: str) -> int | None:
    """Index of the first ``wanted`` outside quotes (markers quote their strings)."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == wanted:
            return index
    return None


def _strip_comment(line: str) -> str:
    index = _unquoted_index(line, "#")
    return line if index is None else line[:index]


def _split_marker(body: str) -> tuple[str, str | None]:
    index = _unquoted_index(body, ";")
    if index is None:
        return body, None
    return body[:index].strip(), body[index + 1 :].strip()


def _parse_line(body: str, source: str, number: int) -> Hint:
    where = f"{source}:{number}"
    requirement, marker = _split_marker(body)
    if marker is not None:
        if not marker:
            raise ExternalsError(f"{where}: empty environment marker after ';' in {body!r}")
        try:
            Marker(marker)
        except InvalidMarker as exc:
            reason = str(exc).splitlines()[0]
            raise ExternalsError(
                f"{where}: invalid environment marker {marker!r}: {reason}"
            ) from exc
    if "|" in requirement:
        raise ExternalsError(
            f"{where}: alternatives ('|') are not supported in {requirement!r}; "
            "write one hint per line, or map the name in external-mappings.toml"
        )
    name, style, rest, purl_version = _parse_head(requirement, where)
    constraints = _parse_constraints(rest, where, requirement)
    if purl_version is not None:
        if constraints:
            raise ExternalsError(f"{where}: both '@version' and a version range in {body!r}")
        constraints = (Constraint("=", purl_version),)
    return Hint(
        raw=body,
        name=name,
        style=style,
        constraints=constraints,
        marker=marker,
        source=source,
        line=number,
    )


def _parse_head(requirement: str, where: str) -> tuple[str, str, str, str | None]:
    """(normalised name, style, text after the name, purl @version)."""
    match = _PKGCONFIG_RE.match(requirement)
    if match:
        return f"pkgconfig({match.group(1)})", "pkgconfig", requirement[match.end() :], None
    if requirement.lower().startswith("pkgconfig("):
        raise ExternalsError(f"{where}: malformed pkg-config hint {requirement!r}")
    match = _PURL_RE.match(requirement)
    if match:
        scheme, path = match.group("scheme").lower(), match.group("path").lower().rstrip("/")
        # PEP 725 drafts wrote pkg:generic/x and virtual:compiler/c; the PEP says dep:
        name = f"dep:virtual/{path}" if scheme == "virtual" else f"dep:{path}"
        if "/" not in path:
            raise ExternalsError(f"{where}: incomplete PEP 725 key {requirement!r}")
        return name, "pep725", requirement[match.end() :], match.group("version")
    match = _NAME_RE.match(requirement)
    if match:
        return _normalise(match.group(0)), "name", requirement[match.end() :], None
    raise ExternalsError(
        f"{where}: cannot read {requirement!r} as a hint; expected a name such as "
        "'libpq (>=9.1)', 'libxml2-dev', 'pkgconfig(libxml-2.0)' or 'dep:generic/libxml2'"
    )


def _parse_constraints(rest: str, where: str, requirement: str) -> tuple[Constraint, ...]:
    text = rest.strip()
    if not text:
        return ()
    if text.startswith("("):
        if not text.endswith(")"):
            raise ExternalsError(f"{where}: unbalanced parentheses in {requirement!r}")
        text, bare_means_equal = text[1:-1].strip(), True
    elif text.startswith(_OPS):
        bare_means_equal = False
    else:
        raise ExternalsError(
            f"{where}: unexpected {text!r} after the name in {requirement!r}; versions go "
            "in parentheses, as in 'libpq (>=9.1)'"
        )
    if not text:
        return ()
    constraints: list[Constraint] = []
    for part in text.split(","):
        constraints.extend(_parse_constraint(part.strip(), bare_means_equal, where, requirement))
    return tuple(constraints)


def _parse_constraint(
    part: str, bare_means_equal: bool, where: str, requirement: str
) -> list[Constraint]:
    op = next((candidate for candidate in _OPS if part.startswith(candidate)), "")
    version = part[len(op) :].strip()
    if op == "===":
        raise ExternalsError(f"{where}: '===' is not usable for system packages in {requirement!r}")
    if not op and not bare_means_equal:
        raise ExternalsError(f"{where}: missing comparison operator in {requirement!r}")
    if not _VERSION_RE.fullmatch(version or "-"):
        detail = "wildcard versions cannot be expressed" if "*" in version else "bad version"
        raise ExternalsError(f"{where}: {detail} {version!r} in {requirement!r}")
    canonical = {"": "=", "==": "=", "<<": "<", ">>": ">"}.get(op, op)
    if canonical != "~=":
        return [Constraint(canonical, version)]
    # PEP 440 compatible release: ~=1.4.2 means >=1.4.2 and <1.5
    pieces = version.split(".")
    if len(pieces) < 2 or not all(piece.isdigit() for piece in pieces):
        raise ExternalsError(
            f"{where}: '~=' needs a numeric version with at least two parts in {requirement!r}"
        )
    upper = ".".join([*pieces[:-2], str(int(pieces[-2]) + 1)])
    return [Constraint(">=", version), Constraint("<", upper)]


def _normalise(name: str) -> str:
    text = name.strip().lower()
    if text.startswith("pkgconfig("):
        return "pkgconfig(" + text[len("pkgconfig(") :].rstrip(")").strip() + ")"
    if ":" in text and not text.startswith(("dep:", "pkg:", "virtual:")):
        # Debian architecture qualifiers: python3-dev:any, libssl-dev:amd64
        text = text.split(":", 1)[0]
    return text


# ----------------------------------------------------------------------------- environment markers


def marker_environment(distro: Distro) -> dict[str, str]:
    """PEP 508 marker values as they are on ``distro`` (x86_64 when no arch was named)."""
    full = distro.python_version + ".0"
    return {
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": distro.arch or "x86_64",
        "platform_release": "",
        "platform_version": "",
        "python_version": distro.python_version,
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def hint_applies(hint: Hint, distro: Distro) -> bool:
    """Whether ``hint``'s environment marker (if any) is true on ``distro``."""
    if hint.marker is None:
        return True
    try:
        return Marker(hint.marker).evaluate(marker_environment(distro))
    except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExternalsError(
            f"{hint.location}: cannot evaluate marker {hint.marker!r}: {reason}"
        ) from exc


# ----------------------------------------------------------------------------- the mapping table


def load_mapping(app_dir: Path | None) -> MappingTable:
    """The shipped table, merged field by field with ``app_dir/external-mappings.toml``."""
    shipped = _shipped_document()
    entries = dict(shipped.entries)
    alias_overrides: dict[str, str] = {}
    files = [shipped.source]
    sources = dict(shipped.sources)
    if app_dir is not None:
        path = Path(app_dir) / MAPPINGS_FILE
        if path.is_file():
            document = _parse_document(_read_toml(path), str(path), origin=str(path))
            files.append(str(path))
            sources.update(document.sources)
            for key, entry in document.entries.items():
                entries[key] = _merge_entry(entries.get(key), entry)
                for alias in entry.aliases:
                    alias_overrides[_normalise(alias)] = key
    index = _build_index(entries, alias_overrides)
    return MappingTable(
        entries=MappingProxyType(entries),
        index=MappingProxyType(index),
        sources=MappingProxyType(sources),
        files=tuple(files),
    )


@dataclass(frozen=True)
class _Document:
    entries: Mapping[str, Entry]
    sources: Mapping[str, str]
    source: str


@lru_cache(maxsize=1)
def _shipped_document() -> _Document:
    resource = resources.files("rpmdeploy").joinpath("data", "externals.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExternalsError(f"the shipped mapping table is unreadable: {exc}") from exc
    document = _parse_document(data, "rpmdeploy/data/externals.toml", origin=_SHIPPED)
    _check_aliases(document)
    return document


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ExternalsError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ExternalsError(f"cannot read {path}: {exc.strerror}") from exc


def _parse_document(data: Mapping[str, Any], where: str, *, origin: str) -> _Document:
    unknown = set(data) - {"schema", "sources", "keys"}
    if unknown:
        raise ExternalsError(
            f"{where}: unknown top-level table(s) {', '.join(sorted(unknown))}; "
            "expected schema, [sources] and [keys.NAME]"
        )
    if data.get("schema", 1) != 1:
        raise ExternalsError(f"{where}: schema {data['schema']!r} is not supported (expected 1)")
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise ExternalsError(f"{where}: [sources] must map names to strings")
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise ExternalsError(f"{where}: 'keys' must be a table of [keys.NAME] entries")
    entries = {}
    for key, body in keys.items():
        entry = _parse_entry(str(key), body, where, origin=origin)
        entries[entry.key] = entry
    return _Document(MappingProxyType(entries), MappingProxyType(dict(sources)), where)


def _parse_entry(key: str, body: Any, where: str, *, origin: str) -> Entry:
    here = f"{where}: [keys.{key}]"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+_-]*", key):
        raise ExternalsError(f"{here}: key names are lower case letters, digits and . + _ -")
    if not isinstance(body, dict):
        raise ExternalsError(f"{here}: must be a table")
    layers: dict[str, Layer] = {}
    for name, value in body.items():
        if name in _ENTRY_FIELDS:
            continue
        if name not in _LAYER_NAMES:
            raise ExternalsError(
                f"{here}: unknown field {name!r}; fields are {', '.join(_ENTRY_FIELDS)} and "
                f"the layers {', '.join(sorted(_LAYER_NAMES))}"
            )
        layers[name] = _parse_layer(value, f"{here}.{name}", origin=origin)
    kind = body.get("kind", "library")
    if kind not in KINDS:
        raise ExternalsError(f"{here}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    versioned = body.get("versioned", True)
    if not isinstance(versioned, bool):
        raise ExternalsError(f"{here}: versioned must be true or false")
    summary = body.get("summary", "")
    if not isinstance(summary, str):
        raise ExternalsError(f"{here}: summary must be a string")
    return Entry(
        key=key,
        summary=summary,
        kind=kind,
        aliases=_string_list(body.get("aliases", []), f"{here}.aliases"),
        pkgconfig=_string_list(body.get("pkgconfig", []), f"{here}.pkgconfig"),
        versioned=versioned,
        layers=MappingProxyType(layers),
        explicit=frozenset(name for name in _ENTRY_FIELDS if name in body),
    )


def _parse_layer(value: Any, here: str, *, origin: str) -> Layer:
    if not isinstance(value, dict):
        raise ExternalsError(f"{here}: must be a table such as {{ build = [...], run = [...] }}")
    unknown = set(value) - set(_LAYER_FIELDS)
    if unknown:
        raise ExternalsError(
            f"{here}: unknown field(s) {', '.join(sorted(unknown))}; "
            f"expected {', '.join(_LAYER_FIELDS)}"
        )
    names = {}
    for which in ("build", "run"):
        if which in value:
            names[which] = _string_list(value[which], f"{here}.{which}")
            for package in names[which]:
                if not _is_package_field(package):
                    raise ExternalsError(f"{here}.{which}: {package!r} is not a package name")
    for which in ("repo", "note"):
        if which in value and not isinstance(value[which], str):
            raise ExternalsError(f"{here}.{which}: must be a string")
    return Layer(
        build=names.get("build"),
        run=names.get("run"),
        repo=value.get("repo"),
        note=value.get("note"),
        origins=MappingProxyType({name: origin for name in value}),
    )


def _is_package_field(text: str) -> bool:
    return all(_PACKAGE_NAME_RE.fullmatch(part.strip()) for part in text.split("|"))


def _string_list(value: Any, here: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ExternalsError(f"{here}: must be a list of strings")
    return tuple(value)


def _merge_entry(base: Entry | None, app: Entry) -> Entry:
    if base is None:
        return app
    layers = dict(base.layers)
    for name, layer in app.layers.items():
        old = layers.get(name)
        if old is None:
            layers[name] = layer
            continue
        layers[name] = Layer(
            build=layer.build if layer.build is not None else old.build,
            run=layer.run if layer.run is not None else old.run,
            repo=layer.repo if layer.repo is not None else old.repo,
            note=layer.note if layer.note is not None else old.note,
            origins=MappingProxyType({**old.origins, **layer.origins}),
        )
    return Entry(
        key=base.key,
        summary=app.summary if "summary" in app.explicit else base.summary,
        kind=app.kind if "kind" in app.explicit else base.kind,
        aliases=tuple(dict.fromkeys((*app.aliases, *base.aliases))),
        pkgconfig=tuple(dict.fromkeys((*app.pkgconfig, *base.pkgconfig))),
        versioned=app.versioned if "versioned" in app.explicit else base.versioned,
        layers=MappingProxyType(layers),
        explicit=base.explicit | app.explicit,
    )


def _check_aliases(document: _Document) -> None:
    """Two shipped entries claiming one alias or pkg-config name is a bug in the table."""
    owner: dict[str, str] = {}
    for entry in document.entries.values():
        explicit = [*entry.aliases, *(f"pkgconfig({name})" for name in entry.pkgconfig)]
        for name in explicit:
            normal = _normalise(name)
            if normal in document.entries and normal != entry.key:
                other = normal
            else:
                other = owner.setdefault(normal, entry.key)
            if other != entry.key:
                raise ExternalsError(
                    f"{document.source}: {name!r} is claimed by both [keys.{other}] and "
                    f"[keys.{entry.key}]"
                )


def _build_index(
    entries: Mapping[str, Entry], alias_overrides: Mapping[str, str]
) -> dict[str, str]:
    """Normalised name -> key, most trusted first: keys, aliases, pkg-config, package names.

    A package name shared by two entries (gcc is in both c and build-essential) is left out
    of the index, so it can only be found through an explicit alias.
    """
    index: dict[str, str] = {}
    for key in entries:
        index[_normalise(key)] = key
        index.setdefault(f"dep:generic/{key}", key)
    for name, key in alias_overrides.items():
        index[name] = key
    for key, entry in entries.items():
        for alias in entry.aliases:
            index.setdefault(_normalise(alias), key)
    for key, entry in entries.items():
        for module in entry.pkgconfig:
            index.setdefault(f"pkgconfig({module.lower()})", key)
    weak: dict[str, set[str]] = {}
    for key, entry in entries.items():
        for module in entry.pkgconfig:
            weak.setdefault(module.lower(), set()).add(key)
        for layer in entry.layers.values():
            for package in (*(layer.build or ()), *(layer.run or ())):
                for part in package.split("|"):
                    weak.setdefault(_normalise(part), set()).add(key)
    for name, keys in weak.items():
        if len(keys) == 1:
            index.setdefault(name, next(iter(keys)))
    return index


def _layers_for(distro: Distro) -> tuple[str, ...]:
    return (distro.table_name, distro.base, distro.family)


def _resolve_entry(
    entry: Entry, distro: Distro
) -> tuple[tuple[str, ...], tuple[str, ...], str | None, tuple[str, ...], bool] | None:
    """(build, run, repo, notes, from the app) for ``distro``; None if the entry lacks it."""
    values: dict[str, Any] = {}
    overridden = False
    for name in _layers_for(distro):
        layer = entry.layers.get(name)
        if layer is None:
            continue
        for which in _LAYER_FIELDS:
            value = getattr(layer, which)
            if which not in values and value is not None:
                values[which] = value
                overridden |= which in ("build", "run") and layer.origins.get(which) != _SHIPPED
    if "build" not in values or "run" not in values:
        return None
    notes = (values["note"],) if "note" in values else ()
    return values["build"], values["run"], values.get("repo"), notes, overridden


# ----------------------------------------------------------------------------- mapping


def map_hints(
    hints: Iterable[Hint], distro: Distro, table: MappingTable, *, strict: bool = False
) -> list[MappedHint]:
    """Map the hints whose markers hold on ``distro``.

    Raises ExternalsError for hints that map to nothing, and with ``strict`` for guesses,
    naming every such hint in one message.
    """
    mapped: list[MappedHint] = []
    problems: list[str] = []
    for hint in hints:
        if not hint_applies(hint, distro):
            continue
        result = _map_one(hint, distro, table)
        if isinstance(result, str):
            problems.append(result)
            continue
        if strict and result.guess:
            problems.append(
                f"{hint.location}: no table entry for {hint.raw!r} on {distro.name} "
                f"(would guess {', '.join(result.build) or '-'}; --strict allows no guesses)"
                + _suggestion_text(hint.name, table)
            )
        mapped.append(result)
    if problems:
        raise ExternalsError(
            "; ".join(problems) + f"; map them in {MAPPINGS_FILE} in the app directory"
        )
    return mapped


def _map_one(hint: Hint, distro: Distro, table: MappingTable) -> MappedHint | str:
    """The mapping, or a message saying why there is none."""
    for candidate in _lookup_names(hint):
        entry = table.lookup(candidate)
        if entry is None:
            continue
        resolved = _resolve_entry(entry, distro)
        if resolved is None:
            break  # an app entry without this family: fall through to the fallbacks
        build, run, repo, notes, overridden = resolved
        constraints = hint.constraints
        if constraints and not entry.versioned:
            notes = (
                *notes,
                f"version constraint dropped: {entry.key} packages do not carry the "
                "upstream version",
            )
            constraints = ()
        return MappedHint(
            hint=hint,
            distro=distro,
            key=entry.key,
            build=tuple(build),
            run=tuple(run),
            resolved=RESOLVED_OVERRIDE if overridden else RESOLVED_TABLE,
            constraints=constraints,
            repo=repo,
            notes=tuple(notes),
        )
    return _fallback(hint, distro, table)


def _lookup_names(hint: Hint) -> list[str]:
    names = [hint.name]
    if hint.name.startswith("dep:generic/"):
        names.append(hint.name[len("dep:generic/") :])
    if hint.style == "pkgconfig":
        names.append(hint.name[len("pkgconfig(") : -1])
    return names


_RUN_NOTE_RPM = "rpm adds the run-time library itself from the built binaries' soname dependencies"
_RUN_NOTE_DEB = "the run-time package carries the soname; see apt-cache depends on the -dev package"


def _fallback(hint: Hint, distro: Distro, table: MappingTable) -> MappedHint | str:
    name = hint.name
    if hint.style == "pkgconfig" and distro.family == "rpm":
        return MappedHint(
            hint=hint,
            distro=distro,
            key=None,
            build=(name,),
            run=(),
            resolved=RESOLVED_PKGCONFIG,
            constraints=hint.constraints,
            notes=(_RUN_NOTE_RPM,),
        )
    if hint.style == "pep725":
        if not name.startswith("dep:generic/"):
            kind = (
                "a Python package: list it in dependencies.in"
                if name.startswith("dep:pypi/")
                else "no table entry and no safe guess"
            )
            return (
                f"{hint.location}: cannot map {hint.raw!r} for {distro.name}: {kind}"
                + _suggestion_text(name, table)
            )
        name = name[len("dep:generic/") :]
    elif hint.style == "pkgconfig":
        name = name[len("pkgconfig(") : -1]
    guess = _guess(name.lower(), hint.style, distro.family)
    if guess is None:
        return (
            f"{hint.location}: cannot map {hint.raw!r} for {distro.name}: no table entry and "
            "no safe guess" + _suggestion_text(hint.name, table)
        )
    build, reason = guess
    constraints = hint.constraints
    notes = [f"guess: {reason}"]
    if (
        distro.family == "deb"
        and any("|" in b for b in build)
        and (len(constraints) > 1 or any(c.op == "!=" for c in constraints))
    ):
        notes.append("version constraint dropped: not expressible across alternatives")
        constraints = ()
    notes.append(_RUN_NOTE_RPM if distro.family == "rpm" else _RUN_NOTE_DEB)
    suggestions = _suggestions(hint.name, table)
    if suggestions:
        notes.append("known keys with similar names: " + ", ".join(suggestions))
    return MappedHint(
        hint=hint,
        distro=distro,
        key=None,
        build=build,
        run=(),
        resolved=RESOLVED_GUESS,
        constraints=constraints,
        notes=tuple(notes),
    )


_GUESSABLE_RE = re.compile(r"[a-z0-9][a-z0-9._+-]*")


def _guess(name: str, style: str, family: str) -> tuple[tuple[str, ...], str] | None:
    """A labelled best guess at the build package for an unknown name, or None."""
    if not _GUESSABLE_RE.fullmatch(name) or len(name) < 2:
        return None
    if family == "rpm":
        if name.endswith("-devel"):
            return (name,), "written as an RPM -devel name; used unchanged"
        if name.endswith("-dev"):
            base = _strip_soversion(name[: -len("-dev")])
            candidates = [f"{base}-devel"]
            if base.startswith("lib") and len(base) > 4:
                candidates.append(f"{base[3:]}-devel")
            return (
                (" | ".join(dict.fromkeys(candidates)),),
                "Debian -dev name turned into RPM -devel names (whichever exists)",
            )
        return (f"pkgconfig({name})",), "assumed to be a pkg-config module name"
    if name.endswith("-dev"):
        return (name,), "written as a Debian -dev name; used unchanged"
    if name.endswith("-devel"):
        base = name[: -len("-devel")]
    elif style == "pkgconfig":
        base = _strip_soversion(re.sub(r"-\d+(?:\.\d+)*$", "", name))
    else:
        base = name
    if base.startswith("lib"):
        return (f"{base}-dev",), "name turned into a Debian lib…-dev name"
    return (f"lib{base}-dev | {base}-dev",), "name turned into Debian -dev names (whichever exists)"


def _strip_soversion(base: str) -> str:
    # libssh2-1 -> libssh2, libdbus-1 -> libdbus, libxslt1 -> libxslt, libcairo2 -> libcairo
    stripped = re.sub(r"-\d+(?:\.\d+)*$", "", base)
    if stripped == base:
        stripped = re.sub(r"(?<=[a-z])\d+(?:\.\d+)*$", "", base)
    return stripped if len(stripped) >= 2 else base


def _core_name(name: str) -> str:
    core = name
    for prefix in ("dep:generic/", "dep:virtual/", "pkgconfig("):
        if core.startswith(prefix):
            core = core[len(prefix) :].rstrip(")")
    for suffix in ("-devel", "-dev"):
        if core.endswith(suffix):
            core = core[: -len(suffix)]
    return core


def _suggestions(name: str, table: MappingTable) -> list[str]:
    core = _core_name(_normalise(name))
    words: dict[str, str] = {}
    for key, entry in table.entries.items():
        words.setdefault(key, key)
        for alias in entry.aliases:
            words.setdefault(_core_name(_normalise(alias)), key)
    close = difflib.get_close_matches(core, list(words), n=6, cutoff=0.6)
    return list(dict.fromkeys(words[word] for word in close))[:3]


def _suggestion_text(name: str, table: MappingTable) -> str:
    suggestions = _suggestions(name, table)
    return f"; closest known: {', '.join(suggestions)}" if suggestions else ""


# ----------------------------------------------------------------------------- rendering


def rpm_requires(mapped: Sequence[MappedHint]) -> list[str]:
    """``Requires:`` values (run-time names, RPM version syntax), in order, without repeats."""
    return _rpm_lines(mapped, "run")


def rpm_build_requires(mapped: Sequence[MappedHint]) -> list[str]:
    """``BuildRequires:`` values (build-time names, RPM version syntax), without repeats."""
    return _rpm_lines(mapped, "build")


def _rpm_lines(mapped: Sequence[MappedHint], which: str) -> list[str]:
    lines: dict[str, None] = {}
    for item in mapped:
        if item.distro.family != "rpm":
            raise UsageError(f"RPM requirements need an RPM distribution, not {item.distro.name}")
        for line in _rendered(item, which):
            lines.setdefault(line, None)
    return list(lines)


def _rendered(item: MappedHint, which: str) -> list[str]:
    """The requirement strings of one mapped hint, in its distribution's syntax."""
    names: tuple[str, ...] = getattr(item, which)
    out: list[str] = []
    for position, name in enumerate(names):
        constraints = item.constraints if position == 0 else ()
        if item.distro.family == "rpm":
            out.extend(_rpm_requirement(name, constraints))
        else:
            out.append(_deb_relation(name, constraints))
    return out


def _rpm_atoms(name: str, constraints: Sequence[Constraint]) -> list[str]:
    if not constraints:
        return [name]
    atoms = []
    for constraint in constraints:
        if constraint.op == "!=":
            atoms.append(f"({name} < {constraint.version} or {name} > {constraint.version})")
        else:
            atoms.append(f"{name} {constraint.op} {constraint.version}")
    return atoms


def _rpm_requirement(field_text: str, constraints: Sequence[Constraint]) -> list[str]:
    alternatives = [part.strip() for part in field_text.split("|")]
    if len(alternatives) == 1:
        return _rpm_atoms(alternatives[0], constraints)
    parts = []
    for alternative in alternatives:
        atoms = _rpm_atoms(alternative, constraints)
        parts.append(atoms[0] if len(atoms) == 1 else "(" + " with ".join(atoms) + ")")
    return ["(" + " or ".join(parts) + ")"]


_DEB_OPS = {"<": "<<", "<=": "<=", "=": "=", ">=": ">=", ">": ">>"}


def _deb_relation(field_text: str, constraints: Sequence[Constraint]) -> str:
    alternatives = [part.strip() for part in field_text.split("|")]
    if len(alternatives) > 1:
        return " | ".join(_deb_relation(part, constraints) for part in alternatives)
    name = alternatives[0]
    if not constraints:
        return name
    relations = []
    for constraint in constraints:
        if constraint.op == "!=":
            relations.append(f"{name} (<< {constraint.version}) | {name} (>> {constraint.version})")
        else:
            relations.append(f"{name} ({_DEB_OPS[constraint.op]} {constraint.version})")
    return ", ".join(relations)


def report(
    app_dir: Path,
    distro: str | None,
    fmt: str,
    strict: bool,
    *,
    os_release: Path = Path("/etc/os-release"),
) -> str:
    """The complete text ``rpmdeploy map-externals`` prints.

    ``distro`` is a name for ``resolve_distro`` (None: the host) or ``all`` for every table
    release; ``fmt`` is ``text``, ``json`` or ``spec`` (RPM distributions only).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    app_dir = Path(app_dir)
    hints = read_hints(app_dir)
    table = load_mapping(app_dir)
    hints_file = str(app_dir / HINTS_FILE)
    if distro is not None and distro.strip().lower() == ALL:
        if fmt == "spec":
            raise UsageError("--format spec needs one RPM distribution, not 'all'")
        results = [
            (target, map_hints(hints, target, table, strict=strict)) for target in table_distros()
        ]
        if fmt == "json":
            return _json_all(hints_file, hints, results)
        return _text_all(hints, results)
    target = resolve_distro(distro, os_release)
    if fmt == "spec" and target.family != "rpm":
        raise UsageError(f"--format spec needs an RPM distribution; {target.name} uses .deb")
    mapped = map_hints(hints, target, table, strict=strict)
    skipped = [hint for hint in hints if not hint_applies(hint, target)]
    if fmt == "json":
        document = {"schema": 1, "hints_file": hints_file, **_json_distro(target, mapped, skipped)}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"
    if fmt == "spec":
        return _spec_text(hints_file, target, mapped)
    return _text_one(hints_file, target, mapped, skipped)


def _json_distro(
    distro: Distro, mapped: Sequence[MappedHint], skipped: Sequence[Hint]
) -> dict[str, Any]:
    build: dict[str, None] = {}
    run: dict[str, None] = {}
    items = []
    for item in mapped:
        rendered_build = _rendered(item, "build")
        rendered_run = _rendered(item, "run")
        build.update(dict.fromkeys(rendered_build))
        run.update(dict.fromkeys(rendered_run))
        items.append(
            {
                "hint": item.hint.raw,
                "line": item.hint.line,
                "name": item.hint.name,
                "style": item.hint.style,
                "marker": item.hint.marker,
                "versions": [[c.op, c.version] for c in item.hint.constraints],
                "key": item.key,
                "resolved": item.resolved,
                "guess": item.guess,
                "build": rendered_build,
                "run": rendered_run,
                "build_packages": list(item.build),
                "run_packages": list(item.run),
                "repo": item.repo,
                "notes": list(item.notes),
            }
        )
    return {
        "distro": {
            "name": distro.name,
            "id": distro.id,
            "release": distro.release,
            "family": distro.family,
            "pretty_name": distro.pretty_name,
            "table": distro.table_name,
            "arch": distro.arch,
        },
        "hints": items,
        "skipped": [
            {"hint": hint.raw, "line": hint.line, "marker": hint.marker} for hint in skipped
        ],
        "build": list(build),
        "run": list(run),
    }


def _json_all(
    hints_file: str, hints: Sequence[Hint], results: Sequence[tuple[Distro, list[MappedHint]]]
) -> str:
    distros = []
    for distro, mapped in results:
        skipped = [hint for hint in hints if not hint_applies(hint, distro)]
        distros.append(_json_distro(distro, mapped, skipped))
    document = {"schema": 1, "hints_file": hints_file, "distros": distros}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _joined(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "-"


def _annotations(item: MappedHint) -> str:
    parts = []
    if item.repo:
        parts.append(f"[{item.repo}]")
    if item.resolved == RESOLVED_PKGCONFIG:
        parts.append("(pkg-config)")
    if item.resolved == RESOLVED_OVERRIDE:
        parts.append("(app override)")
    for note in item.notes:
        if note.startswith("guess: "):
            parts.append(f"(guess: {note[len('guess: ') :]})")
        elif note.startswith("version constraint dropped"):
            parts.append(f"({note})")
    return ("  " + " ".join(parts)) if parts else ""


def _text_one(
    hints_file: str, distro: Distro, mapped: Sequence[MappedHint], skipped: Sequence[Hint]
) -> str:
    lines = [f"# {distro.name} ({distro.pretty_name}): packages for {hints_file}"]
    width = min(max((len(item.hint.raw) for item in mapped), default=0), 40)
    for item in mapped:
        lines.append(
            f"{item.hint.raw:<{width}} -> build: {_joined(_rendered(item, 'build'))} ; "
            f"run: {_joined(_rendered(item, 'run'))}{_annotations(item)}"
        )
    for hint in skipped:
        lines.append(f"# skipped, marker false on {distro.name}: {hint.raw}")
    if not mapped and not skipped:
        lines.append("# no external dependencies listed")
    return "\n".join(lines) + "\n"


def _text_all(hints: Sequence[Hint], results: Sequence[tuple[Distro, list[MappedHint]]]) -> str:
    header = ("HINT", "DISTRO", "BUILD", "RUN", "HOW")
    rows: list[tuple[str, str, str, str, str]] = []
    for hint in hints:
        first = True
        for distro, mapped in results:
            item = next((m for m in mapped if m.hint is hint), None)
            label = hint.raw if first else ""
            first = False
            if item is None:
                rows.append((label, distro.table_name, "-", "-", "skipped (marker)"))
                continue
            how = item.resolved + (f" [{item.repo}]" if item.repo else "")
            rows.append(
                (
                    label,
                    distro.table_name,
                    _joined(_rendered(item, "build")),
                    _joined(_rendered(item, "run")),
                    how,
                )
            )
    if not rows:
        return "# no external dependencies listed\n"
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(4)]
    lines = []
    for row in (header, *rows):
        cells = [row[column].ljust(widths[column]) for column in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines) + "\n"


def _spec_text(hints_file: str, distro: Distro, mapped: Sequence[MappedHint]) -> str:
    lines = [f"# external dependencies for {distro.name}, from {hints_file} (rpmdeploy)"]
    for tag, which in (("BuildRequires:", "build"), ("Requires:", "run")):
        seen: set[str] = set()
        for item in mapped:
            new = [line for line in _rendered(item, which) if line not in seen]
            if not new:
                continue
            if item.guess:
                reason = next(
                    (n[len("guess: ") :] for n in item.notes if n.startswith("guess: ")), ""
                )
                lines.append(
                    f"# guess for {item.hint.raw!r} ({item.hint.location}): {reason}; check it"
                )
            if item.repo:
                lines.append(f"# from {item.repo}: {item.hint.raw}")
            for line in new:
                seen.add(line)
                # rpm expands % in tag values; package names never contain one, but be safe
                lines.append(f"{tag:<15} {line.replace('%', '%%')}")
    return "\n".join(lines) + "\n"

"""Stage 3, inspect: read a built wheel's metadata into a frozen PackageMetadata.

Everything read here is untrusted (it comes from PyPI): values are kept as the text they are,
and it is the spec renderer's job to make them inert.  Names and versions are validated here,
because they become file names, RPM names and dependency strings.
"""

from __future__ import annotations

import configparser
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.metadata import RawMetadata, parse_email
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from rpmdeploy import licenses
from rpmdeploy.errors import MetadataError

UNKNOWN_LICENSE = licenses.UNKNOWN
_SCRIPT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_EXTRA_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class PackageMetadata:
    name: NormalizedName
    display_name: str
    version: str
    summary: str
    description: str
    url: str
    license_info: licenses.License  # the SPDX expression and how it was found
    requires_dist: tuple[str, ...]
    provides_extra: tuple[str, ...]
    requires_python: str
    console_scripts: tuple[str, ...]
    gui_scripts: tuple[str, ...]
    is_pure: bool
    wheel_tags: tuple[str, ...]
    dist_info: str  # the .dist-info directory name inside the wheel
    license_files: tuple[str, ...]  # paths inside the wheel
    description_type: str = ""  # Description-Content-Type (text/markdown, text/x-rst...)

    @property
    def license(self) -> str:
        """The SPDX expression (or LicenseRef-...)."""
        return self.license_info.expression


def read_wheel_metadata(wheel: Path) -> PackageMetadata:
    """Inspect ``wheel`` (a built wheel file) without installing it."""
    try:
        name, version, _build, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise MetadataError(f"{wheel.name}: not a valid wheel file name ({exc})") from None
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = zf.namelist()
            dist_info = _find_dist_info(members, wheel.name)
            metadata_text = zf.read(f"{dist_info}/METADATA").decode("utf-8", "replace")
            wheel_text = zf.read(f"{dist_info}/WHEEL").decode("utf-8", "replace")
            entry_points = _read_optional(zf, f"{dist_info}/entry_points.txt")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise MetadataError(f"{wheel.name}: unreadable wheel ({exc})") from None
    raw, _unparsed = parse_email(metadata_text)
    meta_name = canonicalize_name(raw.get("name", ""))
    if meta_name != name:
        raise MetadataError(f"{wheel.name}: METADATA names {raw.get('name')!r}, not {name}")
    _check_version(raw.get("version", ""), version, wheel.name)
    console, gui = _scripts(entry_points, wheel.name)
    return PackageMetadata(
        name=name,
        display_name=raw.get("name", name),
        version=str(version),
        summary=raw.get("summary", "") or "",
        description=raw.get("description", "") or "",
        url=_homepage(raw),
        license_info=licenses.from_metadata(raw),
        requires_dist=tuple(raw.get("requires_dist", [])),
        provides_extra=_extras(raw, wheel.name),
        requires_python=raw.get("requires_python", "") or "",
        console_scripts=console,
        gui_scripts=gui,
        is_pure=_is_pure(wheel_text, tags),
        wheel_tags=tuple(sorted(str(t) for t in tags)),
        dist_info=dist_info,
        license_files=_license_files(raw, members, dist_info),
        description_type=raw.get("description_content_type", "") or "",
    )


def _find_dist_info(members: list[str], wheel_name: str) -> str:
    dirs = {m.split("/", 1)[0] for m in members if m.split("/", 1)[0].endswith(".dist-info")}
    if len(dirs) != 1:
        raise MetadataError(f"{wheel_name}: expected one .dist-info directory, found {len(dirs)}")
    return dirs.pop()


def _read_optional(zf: zipfile.ZipFile, member: str) -> str:
    try:
        return zf.read(member).decode("utf-8", "replace")
    except KeyError:
        return ""


def _check_version(meta_version: str, file_version: Version, wheel_name: str) -> None:
    try:
        if Version(meta_version) != file_version:
            raise MetadataError(f"{wheel_name}: METADATA version {meta_version!r} differs")
    except InvalidVersion:
        raise MetadataError(f"{wheel_name}: invalid version {meta_version!r}") from None


def _homepage(raw: RawMetadata) -> str:
    urls = raw.get("project_urls", {}) or {}
    for label in ("Homepage", "homepage", "Home", "Source", "Source Code", "Repository"):
        if urls.get(label):
            return urls[label]
    return raw.get("home_page", "") or ""


def _extras(raw: RawMetadata, wheel_name: str) -> tuple[str, ...]:
    extras = []
    for extra in raw.get("provides_extra", []):
        normal = canonicalize_name(extra)  # PEP 685
        if not _EXTRA_RE.match(normal):
            raise MetadataError(f"{wheel_name}: invalid extra name {extra!r}")
        extras.append(normal)
    return tuple(sorted(set(extras)))


def _scripts(entry_points: str, wheel_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(entry_points)
    except configparser.Error as exc:
        raise MetadataError(f"{wheel_name}: malformed entry_points.txt ({exc})") from None
    found: list[tuple[str, ...]] = []
    for section in ("console_scripts", "gui_scripts"):
        names = tuple(sorted(parser[section])) if parser.has_section(section) else ()
        for script in names:
            # Script names become file names in /usr/bin.
            if not _SCRIPT_NAME_RE.match(script):
                raise MetadataError(f"{wheel_name}: unsafe script name {script!r}")
        found.append(names)
    return found[0], found[1]


def _is_pure(wheel_text: str, tags: frozenset[Tag]) -> bool:
    """Pure = Root-Is-Purelib and every tag is ``none-any``: decided by what was built."""
    headers = HeaderParser().parsestr(wheel_text)
    purelib = (headers.get("Root-Is-Purelib") or "").strip().lower() == "true"
    return purelib and all(t.abi == "none" and t.platform == "any" for t in tags)


def _license_files(raw: RawMetadata, members: list[str], dist_info: str) -> tuple[str, ...]:
    declared = set(raw.get("license_files", []) or [])
    found = []
    for member in members:
        if not member.startswith(dist_info + "/") or member.endswith("/"):
            continue
        inner = member[len(dist_info) + 1 :]
        base = inner.rsplit("/", 1)[-1]
        if inner.startswith("licenses/") or inner in declared or _looks_like_license(base):
            found.append(member)
    return tuple(sorted(found))


def _looks_like_license(basename: str) -> bool:
    return re.match(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", basename, re.IGNORECASE) is not None


def spdx_license(raw: RawMetadata) -> str:
    """The SPDX expression of ``raw`` (see ``rpmdeploy.licenses`` for where it comes from)."""
    return licenses.from_metadata(raw).expression

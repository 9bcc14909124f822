"""Stage 3, inspect: read a package's metadata into a frozen PackageMetadata.

The metadata comes from a wheel file, or for an sdist from the ``.dist-info`` directory its
build backend prepared (PEP 517 ``prepare_metadata_for_build_wheel``, ``rpmdeploy.wheels``):
the sdist's wheel itself is built once, in %build.

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


def read_wheel_metadata(path: Path, is_pure: bool | None = None) -> PackageMetadata:
    """Inspect ``path`` without installing it: a wheel file, or the ``.dist-info`` directory
    an sdist's backend prepared.  ``is_pure``: whether the sdist's wheel will be pure, as
    decided without building it (``rpmdeploy.wheels``); None reads it from the WHEEL file."""
    if path.is_dir():
        return _read_dist_info_dir(path, is_pure)
    try:
        name, version, _build, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        raise MetadataError(f"{path.name}: not a valid wheel file name ({exc})") from None
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
            dist_info = _find_dist_info(members, path.name)
            metadata_text = zf.read(f"{dist_info}/METADATA").decode("utf-8", "replace")
            wheel_text = zf.read(f"{dist_info}/WHEEL").decode("utf-8", "replace")
            entry_points = _read_optional(zf, f"{dist_info}/entry_points.txt")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise MetadataError(f"{path.name}: unreadable wheel ({exc})") from None
    pure = _is_pure(wheel_text, tags) if is_pure is None else is_pure
    return _metadata(
        path.name, name, version, metadata_text, entry_points, pure, tags, dist_info, members
    )


def _read_dist_info_dir(path: Path, is_pure: bool | None) -> PackageMetadata:
    """A prepared ``NAME-VERSION.dist-info`` directory (hatchling writes only METADATA;
    setuptools no WHEEL: whether it is pure is then ``is_pure``)."""
    label = path.name
    stem = label.removesuffix(".dist-info")
    if stem == label or stem.count("-") != 1:
        raise MetadataError(f"{label}: not a NAME-VERSION.dist-info directory")
    dir_name, dir_version = stem.split("-")
    try:
        version = Version(dir_version)
    except InvalidVersion:
        raise MetadataError(f"{label}: invalid version {dir_version!r}") from None
    files = {p.name: p for p in path.iterdir() if p.is_file() and not p.is_symlink()}
    if "METADATA" not in files:
        raise MetadataError(f"{label}: no METADATA in the prepared metadata")

    def text(name: str) -> str:
        found = files.get(name)
        return found.read_text("utf-8", "replace") if found else ""

    wheel_text = text("WHEEL")
    tags = _wheel_file_tags(wheel_text)
    if is_pure is None:
        if not wheel_text:
            raise MetadataError(f"{label}: no WHEEL file says whether the package is pure")
        is_pure = _is_pure(wheel_text, tags)
    members = sorted(
        f"{label}/{p.relative_to(path).as_posix()}" for p in path.rglob("*") if p.is_file()
    )
    return _metadata(
        label,
        canonicalize_name(dir_name),
        version,
        text("METADATA"),
        text("entry_points.txt"),
        is_pure,
        tags,
        label,
        members,
    )


def _wheel_file_tags(wheel_text: str) -> frozenset[Tag]:
    """The tags a WHEEL file names (``Tag:`` lines), none when there is no such file."""
    found: set[Tag] = set()
    for value in HeaderParser().parsestr(wheel_text).get_all("Tag") or []:
        parts = value.strip().split("-")
        if len(parts) == 3:
            found.add(Tag(*parts))
    return frozenset(found)


def _metadata(
    label: str,
    name: NormalizedName,
    version: Version,
    metadata_text: str,
    entry_points: str,
    is_pure: bool,
    tags: frozenset[Tag],
    dist_info: str,
    members: list[str],
) -> PackageMetadata:
    raw, _unparsed = parse_email(metadata_text)
    meta_name = canonicalize_name(raw.get("name", ""))
    if meta_name != name:
        raise MetadataError(f"{label}: METADATA names {raw.get('name')!r}, not {name}")
    _check_version(raw.get("version", ""), version, label)
    console, gui = _scripts(entry_points, label)
    return PackageMetadata(
        name=name,
        display_name=raw.get("name", name),
        version=str(version),
        summary=raw.get("summary", "") or "",
        description=raw.get("description", "") or "",
        url=_homepage(raw),
        license_info=licenses.from_metadata(raw),
        requires_dist=tuple(raw.get("requires_dist", [])),
        provides_extra=_extras(raw, label),
        requires_python=raw.get("requires_python", "") or "",
        console_scripts=console,
        gui_scripts=gui,
        is_pure=is_pure,
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


def wheel_is_pure(wheel_text: str, tags: frozenset[Tag] | None = None) -> bool:
    """Pure = Root-Is-Purelib and every tag (the file name's, else the WHEEL file's) is
    ``none-any``."""
    return _is_pure(wheel_text, _wheel_file_tags(wheel_text) if tags is None else tags)


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

"""Build dependencies: the build backends of the app's sdists, pinned with hashes.

A pin is built from its sdist when no wheel of it that fits the target is among its
hashes (fetching takes only those), or when ``no-binary`` asks for it (``[rpms] no-binary``,
``--no-binary``).  For each such sdist its build requirements are read *statically*: the
sdist is downloaded hash-checked and ``[build-system] requires`` read from its
``pyproject.toml``; no package code runs.  An sdist without that table gets setuptools and
wheel, as PEP 517 says; a setuptools backend also gets wheel (setuptools before 70.1 asks for
it) and setup.cfg's ``setup_requires``.

The requirements of every sdist are resolved together with uv for the target (one version of
each build dependency), and the build dependencies that are themselves sdists only add their
own build requirements, recursively.  The result is ``build-dependencies.txt``: build-only
pins, marked so in its header, that ``rpms`` installs build environments from with
``--require-hashes`` (see ``rpmdeploy.wheels``) and never more.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
)

from rpmdeploy.errors import FetchError, PinError
from rpmdeploy.pin import (
    ALL,
    BUILD_IN_FILE,
    BUILD_PINNED_FILE,
    Pin,
    PinnedFor,
    PinnedSet,
    PinOptions,
    parse_pins,
)
from rpmdeploy.pin_uv import (
    ArtifactFiles,
    Listing,
    UvRun,
    artifact_files,
    listing_covers,
    requirement_lines,
)
from rpmdeploy.targets import Target

#: PEP 517: a source tree without [build-system] is built with setuptools' legacy backend.
LEGACY_REQUIRES = ("setuptools>=40.8.0", "wheel")
#: Build dependencies that are themselves sdists nest at most this deep.
MAX_DEPTH = 8
_MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class BuildPins:
    """What ``compile_build_pins`` resolved: the record for the header and the pins' text."""

    record: PinnedFor
    body: str


@dataclass(frozen=True)
class Sdist:
    """An sdist whose build requirements are pinned: ``label`` is ``name==version``."""

    label: str
    url: str
    sha256: str


def compile_build_pins(
    app_dir: Path,
    target: Target,
    options: PinOptions,
    pinned: PinnedSet,
    record: PinnedFor,
    log: Path,
    listed: Listing | None = None,
) -> BuildPins:
    """Pin the build dependencies of the sdists among ``pinned`` (and theirs) for ``target``.

    ``listed``: the pins' files as listed while they were resolved, used when
    :func:`~rpmdeploy.pin_uv.listing_covers` them; else they are listed now.
    """
    build_record = replace(record, resolver="uv", build_only=True)
    no_binary = options.no_binary or frozenset()
    if listed is not None and listing_covers(listed, pinned.pins, no_binary):
        files = listed
    else:
        files = artifact_files(requirement_lines(pinned.pins), target, options, app_dir, log)
    pending = [_sdist(pin, files, no_binary) for pin in pinned.pins]
    todo = [sdist for sdist in pending if sdist is not None]
    extra = _extra_requires(app_dir)
    if not todo and not extra:
        return BuildPins(build_record, "")
    requires: dict[str, tuple[str, ...]] = {}  # sdist label -> its build requirements
    body = ""
    uv = UvRun(target, options, app_dir, log)
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-build-deps-") as tmp:
        work = Path(tmp)
        for _depth in range(MAX_DEPTH):
            for sdist in todo:
                requires[sdist.label] = static_build_requires(fetch_sdist(sdist, options, work))
            body = _resolve(uv, {**requires, **extra}, app_dir, work)
            build_set = parse_pins(body, work / BUILD_PINNED_FILE)
            lines = requirement_lines(build_set.pins)
            files = artifact_files(lines, target, options, app_dir, log)
            found = [_sdist(pin, files, frozenset()) for pin in build_set.pins]
            todo = [s for s in found if s is not None and s.label not in requires]
            if not todo:
                break
        else:
            raise PinError(
                f"build dependencies of {app_dir} nest deeper than {MAX_DEPTH} sdists "
                f"({', '.join(s.label for s in todo)})"
            )
    return BuildPins(replace(build_record, sdists=tuple(sorted(requires))), body)


def _extra_requires(app_dir: Path) -> dict[str, tuple[str, ...]]:
    """``APP_DIR/build-dependencies.in``: build requirements to pin besides what the sdists
    declare (a backend that asks for more at build time, say), as one more input."""
    path = app_dir / BUILD_IN_FILE
    if not path.is_file():
        return {}
    lines = [ln.split(" #")[0].strip() for ln in path.read_text().splitlines()]
    return {BUILD_IN_FILE: tuple(ln for ln in lines if ln and not ln.startswith("#"))}


def _sdist(
    pin: Pin, files: Mapping[NormalizedName, ArtifactFiles], no_binary: frozenset[str]
) -> Sdist | None:
    """The sdist ``pin`` is built from, or None when a wheel of it is used."""
    found = files.get(pin.name)
    forced = ALL in no_binary or pin.name in no_binary
    if found is not None and found.has_pinned_wheel(pin) and not forced:
        return None
    if found is None or found.sdist_url is None or found.sdist_sha256 is None:
        why = "it is forced to (no-binary)" if forced else "no pinned wheel of it fits the target"
        raise PinError(
            f"{pin.name} {pin.version} must be built from its sdist ({why}), but the "
            "configured indexes have no sdist of it"
        )
    if f"sha256:{found.sdist_sha256}" not in pin.hashes:
        raise PinError(f"{pin.name} {pin.version}: its sdist's hash is not among the pinned ones")
    return Sdist(f"{pin.name}=={pin.version}", found.sdist_url, found.sdist_sha256)


def _resolve(uv: UvRun, requires: dict[str, tuple[str, ...]], app_dir: Path, work: Path) -> str:
    """One uv resolution of every sdist's build requirements: an input file per sdist, named
    after it, so each pin's ``# via`` names the sdists that need it."""
    inputs = work / "inputs"
    shutil.rmtree(inputs, ignore_errors=True)
    inputs.mkdir()
    for label, reqs in sorted(requires.items()):
        (inputs / label).write_text("".join(f"{r}\n" for r in reqs))
    output = work / BUILD_PINNED_FILE
    if not output.exists() and (app_dir / BUILD_PINNED_FILE).is_file():
        shutil.copyfile(app_dir / BUILD_PINNED_FILE, output)  # today's pins are preferred
    what = f"uv pip compile of the build dependencies of {app_dir}"
    uv.compile(sorted(requires), output, inputs, what)
    return output.read_text()


# --- the sdists --------------------------------------------------------------------------------


def fetch_sdist(sdist: Sdist, options: PinOptions, work: Path) -> Path:
    """The sdist's file, downloaded (or copied from a find-links directory) and hash-checked;
    kept in ``options.tools_dir`` by its hash."""
    from rpmdeploy.indexes import Found, download  # urllib and ssl: only when there are sdists

    filename = _sdist_filename(sdist)
    store = (options.tools_dir / "sdists" / sdist.sha256) if options.tools_dir else work / "sdists"
    try:
        return download(Found(filename, sdist.url, sdist.sha256), store)
    except FetchError as exc:
        raise PinError(
            f"{sdist.label}: cannot fetch its sdist to read its build requirements: {exc.message}"
        ) from None


def _sdist_filename(sdist: Sdist) -> str:
    filename = unquote(urlparse(sdist.url).path.rsplit("/", 1)[-1])
    try:
        name, _version = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        raise PinError(f"{sdist.label}: {sdist.url} is not an sdist") from None
    if filename.startswith(".") or canonicalize_name(name) != sdist.label.split("==")[0]:
        raise PinError(f"{sdist.label}: {sdist.url} is not its sdist")
    return filename


# --- build requirements, read statically -------------------------------------------------------


def static_build_requires(path: Path) -> tuple[str, ...]:
    """The build requirements of an sdist, from its files alone (nothing in it runs)."""
    files = top_level_files(path, ("pyproject.toml", "setup.cfg"))
    where = f"{path.name}: pyproject.toml"
    data: dict[str, Any] = {}
    if "pyproject.toml" in files:
        try:
            data = tomllib.loads(files["pyproject.toml"].decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PinError(f"{where} is not valid TOML: {exc}") from None
    system = data.get("build-system")
    if system is None:
        requires, backend = list(LEGACY_REQUIRES), None
    else:
        requires, backend = system.get("requires"), system.get("build-backend")
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise PinError(f"{where}: [build-system] requires must be a list of strings")
    if backend is None or str(backend).startswith("setuptools.build_meta"):
        requires = [*requires, "wheel", *_setup_requires(files.get("setup.cfg"), path.name)]
    elif str(backend).startswith("hatchling.build"):
        requires = [*requires, *_hatch_dependencies(data)]
    for text in requires:
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            raise PinError(f"{path.name}: invalid build requirement {text!r} ({reason})") from None
    return tuple(dict.fromkeys(requires))


def _hatch_dependencies(data: dict[str, Any]) -> list[str]:
    """What hatchling asks for at build time besides [build-system] requires: the
    ``dependencies`` of its build configuration and of its build hooks (static TOML)."""
    build = _table(_table(_table(data, "tool"), "hatch"), "build")
    wheel = _table(_table(build, "targets"), "wheel")
    tables = [build, wheel, *_table(build, "hooks").values(), *_table(wheel, "hooks").values()]
    found: list[str] = []
    for table in tables:
        deps = table.get("dependencies") if isinstance(table, dict) else None
        if isinstance(deps, list):
            found += [d for d in deps if isinstance(d, str)]
    return found


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _setup_requires(config: bytes | None, sdist: str) -> list[str]:
    """``[options] setup_requires`` of a setup.cfg (setuptools asks for them at build time)."""
    if config is None:
        return []
    import configparser  # only for an sdist with a setup.cfg: not on every pin's start

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(config.decode())
    except (configparser.Error, UnicodeDecodeError):
        return []  # setuptools would fail on it too; the build says so
    text = parser.get("options", "setup_requires", fallback="")
    lines = [ln.split("#")[0].strip() for ln in text.replace(";", "\n").splitlines()]
    return [ln for ln in lines if ln]


def top_level_files(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """Files directly in the sdist's top directory (``NAME-VERSION/pyproject.toml``)."""
    import tarfile  # only when there is an sdist to read: not on every pin's start
    import zipfile

    found: dict[str, bytes] = {}
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    name = _wanted(info.filename, names)
                    if name and not info.is_dir() and info.file_size <= _MAX_CONFIG_BYTES:
                        found.setdefault(name, zf.read(info))
        else:
            with tarfile.open(path, "r:*") as tf:
                for member in tf:
                    name = _wanted(member.name, names)
                    if name and member.isfile() and member.size <= _MAX_CONFIG_BYTES:
                        handle = tf.extractfile(member)
                        if handle is not None:
                            found.setdefault(name, handle.read())
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise PinError(f"{path.name}: cannot read the sdist: {exc}") from None
    return found


def _wanted(member: str, names: tuple[str, ...]) -> str | None:
    parts = [p for p in member.split("/") if p not in ("", ".")]
    return parts[1] if len(parts) == 2 and parts[1] in names else None

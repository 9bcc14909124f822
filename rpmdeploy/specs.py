"""Stage 4, render: compute every value of a package's spec, then fill the Jinja2 template.

The template holds layout only.  All untrusted text (summary, description, URL, license from
PyPI) goes through the ``rpm_line``/``rpm_text`` filters, which make it inert for rpm: ``%``
doubled so no macro, ``%(...)`` shell or ``%{lua:...}`` expands; no raw newline in a tag; and no
description line that could turn into a section header (rpm expands ``%%prep`` to ``%prep``
*before* it looks for section headers, so doubling alone is not enough).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from rpmdeploy import __version__, descriptions, licenses, pynames
from rpmdeploy.changelog import ChangelogEntry
from rpmdeploy.errors import MetadataError, SpecError
from rpmdeploy.fetch import Artifact
from rpmdeploy.metadata import PackageMetadata
from rpmdeploy.releases import DEFAULT_PACKAGER, Planned, neutral_plan
from rpmdeploy.render import fingerprint
from rpmdeploy.targets import Target
from rpmdeploy.versions import rpm_requires, rpm_tag_version, rpm_version
from rpmdeploy.wheels import BuiltWheel

PACKAGE_TEMPLATE = "package/python-package.spec.j2"
# The package's own [E:]V-R in its spec.
_SPEC_EVR = "%{?epoch:%{epoch}:}%{version}-%{release}"
WHEEL_TOOL = "rpmdeploy-wheel-tool.py"
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")  # "!": epochs in wheel names
# A download URL rpm can take as Source0: no macro, fragment, query or whitespace in it.
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9._~:/+!@,;=-]+$")


@dataclass(frozen=True)
class MetadataOptions:
    """Release-metadata settings: ``[rpms] packager``, ``strict-licenses``, ``[packages]``."""

    packager: str = DEFAULT_PACKAGER
    strict_licenses: bool = False
    package_licenses: Mapping[str, str] = field(default_factory=dict)  # name -> SPDX

    def license_for(self, meta: PackageMetadata) -> licenses.License:
        """The package's licence: the ``[packages.NAME] license`` override, else its own."""
        given = self.package_licenses.get(canonicalize_name(meta.name))
        if given is None:
            return meta.license_info
        return licenses.override(given, f"[packages.{meta.name}] license")


@dataclass(frozen=True)
class ExtraPackage:
    extra: str
    requires: tuple[str, ...]
    provides: tuple[str, ...]
    obsoletes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpecContext:
    """Every value the package template needs, computed and validated."""

    source_name: str
    binary_name: str
    epoch: int
    version: str
    release: str
    summary: str  # raw text: the template escapes it
    description: str  # raw text: the template escapes it
    license: str
    url: str
    source_file: str  # the file in the SRPM
    source_url: str  # Source0: where the file was downloaded from (else the file name)
    source_sha256: str
    is_sdist: bool
    sdist_top_dir: str
    noarch: bool
    provides: tuple[str, ...]
    requires: tuple[str, ...]
    build_requires: tuple[str, ...]
    extras: tuple[ExtraPackage, ...]
    python_version: str
    interpreter: str
    purelib: str
    platlib: str
    bindir: str
    data_prefix: str
    headers: str
    changelog: tuple[ChangelogEntry, ...]  # newest first; raw text: the template escapes it
    license_info: licenses.License
    obsoletes: tuple[str, ...] = ()  # the package's previous name (rpmdeploy.pynames)
    rpmdeploy_version: str = __version__
    wheel_tool: str = WHEEL_TOOL


# The names live in rpmdeploy.pynames; kept here for the modules that import them from specs.
binary_name = pynames.binary_name
source_name = pynames.source_name


def spec_context(
    meta: PackageMetadata,
    artifact: Artifact,
    wheel: BuiltWheel,
    target: Target,
    planned: Planned | None = None,
    options: MetadataOptions | None = None,
) -> SpecContext:
    """Every value of the package's spec.  ``planned``: its release and changelog
    (``rpmdeploy.releases``; default a first release)."""
    _check_requires_python(meta, target)
    options = options or MetadataOptions()
    converted = rpm_version(meta.version)  # for python3dist(): trailing zeros dropped
    tag = rpm_tag_version(meta.version)  # for the Version tag: as upstream wrote it
    name = binary_name(meta.name, target)
    requires, extra_requires = _requirements(meta, target)
    if planned is None:
        changes = [f"Packaged {meta.version} from {artifact.filename}"]
        planned = neutral_plan(0, options.packager, f"{tag.evr}-1", changes)
    url = _single_token_url(meta.url)
    fallback = f"The {meta.display_name} Python package"
    license_info = options.license_for(meta)
    return SpecContext(
        source_name=source_name(meta.name, target),
        binary_name=name,
        epoch=tag.epoch,
        version=tag.version,
        release=str(planned.release),
        summary=descriptions.summary(meta.summary, fallback),
        description=descriptions.description(
            meta.description, meta.description_type, f"{fallback}.", url
        ),
        license=license_info.expression,
        url=url,
        source_file=_safe_file_name(artifact.filename),
        source_url=source_url(artifact),
        source_sha256=artifact.sha256,
        is_sdist=not artifact.is_wheel,
        sdist_top_dir=_safe_file_name(wheel.sdist_top_dir or ""),
        noarch=meta.is_pure,
        provides=_provides(meta.name, converted.evr, target, name, extra=None),
        obsoletes=_obsoletes(meta.name, target, extra=None),
        requires=(f"python(abi) = {target.python_version}", *requires),
        build_requires=_build_requires(wheel, target, meta, artifact.is_wheel),
        extras=tuple(
            ExtraPackage(
                extra,
                (f"{name} = {_SPEC_EVR}", *reqs),
                _provides(meta.name, converted.evr, target, name, extra=extra),
                _obsoletes(meta.name, target, extra=extra),
            )
            for extra, reqs in extra_requires.items()
            # Only extras the pinned set asks for: the others' dependencies are not pinned,
            # so their subpackages could never be installed from the repo.
            if extra in artifact.pin.extras
        ),
        python_version=target.python_version,
        interpreter=target.interpreter,
        purelib=target.purelib,
        platlib=target.platlib,
        bindir=target.bindir,
        data_prefix=target.install_prefix,
        headers=f"{target.install_prefix}/include/python{target.python_version}/{meta.name}",
        changelog=planned.changelog,
        license_info=license_info,
    )


def source_url(artifact: Artifact) -> str:
    """Source0: the URL the artifact was downloaded from when rpm can take it as one (its
    last path segment is the file's name), else the file's name."""
    url = getattr(artifact, "url", "") or ""
    name = _safe_file_name(artifact.filename)
    if not _SAFE_URL.match(url) or unquote(urlsplit(url).path.rsplit("/", 1)[-1]) != name:
        return name
    return url


def _check_requires_python(meta: PackageMetadata, target: Target) -> None:
    if not meta.requires_python:
        return
    try:
        allowed = SpecifierSet(meta.requires_python)
    except InvalidSpecifier:
        raise MetadataError(
            f"{meta.name}: invalid Requires-Python {meta.requires_python!r}"
        ) from None
    if not allowed.contains(target.python_full_version, prereleases=True):
        raise MetadataError(
            f"{meta.name} {meta.version} requires Python {meta.requires_python}; target "
            f"{target.name} has {target.python_full_version}"
        )


def _provides(
    name: str, evr: str, target: Target, binary: str, extra: str | None
) -> tuple[str, ...]:
    """python3dist()/python3.Xdist() as Fedora's generator provides them; for the main
    package python-BASE and python3.X-BASE as its pythonname generator does; and the
    package's previous name, as Fedora's renaming guidelines ask (with the Obsoletes)."""
    label = f"{name}[{extra}]" if extra else name
    provides = [f"{target.dist_symbol}({label}) = {evr}"]
    if target.versioned_dist_symbol:
        provides.append(f"{target.versioned_dist_symbol}({label}) = {evr}")
    if extra is None:
        provides.extend(f"{alt} = {_SPEC_EVR}" for alt in pynames.alternative_names(binary, target))
    previous = pynames.previous_name(name, target)
    if previous is not None:
        provides.append(f"{previous}{'+' + extra if extra else ''} = {_SPEC_EVR}")
    return tuple(provides)


def _obsoletes(name: str, target: Target, extra: str | None) -> tuple[str, ...]:
    """``Obsoletes: OLD <= [E:]V`` for a package rpmdeploy used to name OLD.

    No release in the bound, so every release of OLD at this version or below is replaced,
    whatever release numbers it reached (the new name's numbering starts again at 1, so
    Fedora's ``< V-R`` of the new package would miss an old ``V-3``).  Nothing newer can
    come under the old name: rpmdeploy no longer makes it."""
    previous = pynames.previous_name(name, target)
    if previous is None:
        return ()
    return (f"{previous}{'+' + extra if extra else ''} <= %{{?epoch:%{{epoch}}:}}%{{version}}",)


def _requirements(meta: PackageMetadata, target: Target) -> tuple[list[str], dict[str, list[str]]]:
    """Requires of the main package, and of each extra's subpackage (markers for the target)."""
    env = target.marker_environment()
    main: list[str] = []
    extras: dict[str, list[str]] = {extra: [] for extra in meta.provides_extra}
    for text in meta.requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise MetadataError(f"{meta.name}: invalid Requires-Dist {text!r}: {exc}") from None
        # python3.Xdist(), as Fedora's generator writes Requires (pythondistdeps.py).
        deps = _dependency_strings(
            req, target.requires_dist_symbol, context=f"package {meta.name}, requirement {text!r}"
        )
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            main.extend(d for d in deps if d not in main)
            continue
        for extra in extras:
            if req.marker.evaluate({**env, "extra": extra}):
                extras[extra].extend(d for d in deps if d not in extras[extra])
    return main, extras


def _dependency_strings(req: Requirement, symbol: str, context: str) -> list[str]:
    """``SYMBOL(name) SPEC`` and ``SYMBOL(name[extra]) SPEC`` for each extra (the plain name
    too, as Fedora's generator does, so ``--whatrequires`` finds it)."""
    name = canonicalize_name(req.name)
    labels = [name, *(f"{name}[{canonicalize_name(e)}]" for e in sorted(req.extras))]
    spec = str(req.specifier)
    return [rpm_requires(f"{symbol}({label})", spec, context=context) for label in labels]


def _build_requires(
    wheel: BuiltWheel, target: Target, meta: PackageMetadata, from_wheel: bool
) -> tuple[str, ...]:
    """BuildRequires for a chroot build (mock); the host builder builds with --nodeps."""
    result = [f"python{target.python_version.split('.')[0]}-devel", "python3-installer"]
    if from_wheel:
        return tuple(result)
    result.append("python3-build")
    if not meta.is_pure:
        result.append("gcc")
    env = target.marker_environment()
    for text in wheel.build_requires:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate(env):
            # Build requirements come from the distribution (or the local repo): python3dist(),
            # as Fedora's %pyproject_buildrequires writes them.
            result.extend(
                _dependency_strings(req, "python3dist", context=f"build requirement {text!r}")
            )
    return tuple(dict.fromkeys(result))


def _single_token_url(url: str) -> str:
    """rpm's URL tag takes one token: a value with whitespace in it is no URL, leave it out."""
    url = url.strip()
    return url if url and not any(c.isspace() for c in url) else ""


def _safe_file_name(name: str) -> str:
    if name and not _SAFE_FILE.match(name):
        raise SpecError(f"refusing unsafe file name {name!r}")
    return name


def wheel_tool_source() -> Path:
    return Path(__file__).resolve().parent / "_wheel_tool.py"


def templates_fingerprint(directory: Path | None = None) -> str:
    """Hash of the package templates and the wheel tool: part of each package's cache key."""
    return fingerprint("package", directory, (wheel_tool_source(),))

"""Stage 5, app: the app's own RPM, from the app directory and its pinned set.

The app directory is installed whole under a prefix (default ``/opt/NAME``), with a launcher
that serves ``bin/wsgiapp:application`` (gunicorn when the app pins it, else the standard
library's wsgiref), a systemd unit running it as a dedicated user, and its settings in
``/etc/sysconfig/NAME``.  The RPM requires every pin at exactly its pinned version, so
installing the app pulls in exactly the pinned set, and the system packages its
``external-dependencies.txt`` hints map to on the target distribution.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rpmdeploy import __version__, appgit, changelog, descriptions, pynames
from rpmdeploy.appconfig import AppSettings
from rpmdeploy.changelog import ChangelogEntry
from rpmdeploy.errors import UsageError
from rpmdeploy.externals import (
    Distro,
    resolve_distro,
)
from rpmdeploy.pin import PinnedSet
from rpmdeploy.releases import DEFAULT_PACKAGER, Entry, Planned, neutral_plan
from rpmdeploy.targets import Target
from rpmdeploy.versions import rpm_version

if TYPE_CHECKING:  # appmodel imports mapping_distro from here
    from rpmdeploy.appmodel import App

APP_TEMPLATE = "app/app.spec.j2"
WSGI_SCRIPT = Path("bin") / "wsgiapp"
# Never packaged: version control, caches, virtualenvs and rpmdeploy's own output.
_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
    }
)
_EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".rpm")


# Files rendered for the app RPM and shipped as spec Sources: (name suffix, template).
APP_SOURCES = (
    ("-serve", "app/app-launcher.py.j2"),
    (".service", "app/app.service.j2"),
    (".sysconfig", "app/app.sysconfig.j2"),
    (".sysusers", "app/app.sysusers.j2"),
)


@dataclass(frozen=True)
class AppSpecContext:
    name: str
    version: str
    release: str
    summary: str
    description: str
    license: str
    url: str
    install_dir: str
    user: str
    bind: str
    workers: int
    server: str  # "gunicorn" or "wsgiref"
    interpreter: str
    python_version: str
    site_dirs: tuple[str, ...]  # private-namespace site-packages the launcher adds
    tarball: str
    top_dir: str
    requires: tuple[str, ...]
    build_requires: tuple[str, ...]
    distro: str
    notes: tuple[str, ...]  # mapping guesses and fallbacks, written into the spec
    changelog: tuple[ChangelogEntry, ...] = ()  # newest first; the template escapes it
    rpmdeploy_version: str = __version__


# --- checks ------------------------------------------------------------------------------------


def check_wsgi_script(app_dir: Path) -> Path:
    """``bin/wsgiapp`` must exist and compile; a UsageError says which is not so.

    Whether it yields a callable ``application`` is decided by loading it, which needs the
    app's dependencies installed: ``verify`` does that in the installed tree
    (``rpmdeploy/verify/wsgi_check.py``).  A static reading here would reject valid apps
    (Pyramid's ``with Configurator() as config:``, an assignment inside ``try:``).
    """
    script = app_dir / WSGI_SCRIPT
    if not script.is_file():
        raise UsageError(f"{app_dir} is not a WSGI app directory: {WSGI_SCRIPT} is missing")
    try:
        # Compiled, never run: compile() also rejects what parses but cannot be a module
        # (a module-level `return`, say).
        compile(script.read_bytes(), str(script), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise UsageError(f"{script}: not valid Python: {' '.join(str(exc).split())}") from None
    return script


# --- requirements ------------------------------------------------------------------------------


def pinned_requires(pinned: PinnedSet, target: Target) -> list[str]:
    """``python3.Xdist(x) = V`` (as Fedora's generator writes Requires; ``PREFIXdist`` in a
    private namespace) for every pin and each pinned extra: exactly the pinned set.

    UsageError when two pins would be packaged under one name (``pynames.check_distinct``).
    """
    pynames.check_distinct((pin.name for pin in pinned.pins), target)
    requires = []
    for pin in pinned.pins:
        evr = rpm_version(pin.version).evr
        for label in (pin.name, *(f"{pin.name}[{extra}]" for extra in pin.extras)):
            requires.append(f"{target.requires_dist_symbol}({label}) = {evr}")
    return requires


def mapping_distro(target: Target, override: str | None) -> tuple[Distro, str | None]:
    """The distribution whose package names the app requires, and a note when chosen for it."""
    if override:
        return resolve_distro(override), None
    if not target.is_host:
        return resolve_distro(target.name), None
    host = resolve_distro(None)
    if host.family == "rpm":
        return host, None
    fedora = resolve_distro("fedora")
    note = f"host {host.name} does not use RPM: external dependencies use {fedora.name} names"
    return fedora, note


# --- the spec context --------------------------------------------------------------------------


def app_version(app: App) -> str:
    """The app's version: ``--version`` / ``[app] version``, else its git checkout's."""
    # The release engineer's version is used as given (a legal RPM version, checked in
    # appconfig); no PEP 440 normalisation that would turn 1.0.0 into 1.
    if app.settings.version is not None:
        return app.settings.version
    found = appgit.checkout(app.path)
    if found is None:
        raise UsageError(
            f"the app has no version: set [app] version in {app.path / 'rpmdeploy.toml'}, "
            "pass --app-version, or release it from its git checkout"
        )
    return found.version()


def app_spec_context(
    app: App, target: Target, planned: Planned | None = None, packager: str = DEFAULT_PACKAGER
) -> AppSpecContext:
    """Every value of the app's spec, checked: bin/wsgiapp, the version, the externals.

    ``planned``: the release and changelog (``rpmdeploy.releases``); by default the
    ``[app] release`` with a one-entry changelog."""
    check_wsgi_script(app.path)
    settings = app.settings
    version = app_version(app)
    if planned is None:
        evr = f"{version}-{settings.release}"
        planned = neutral_plan(0, packager, evr, [f"{settings.name} {version}"])
        release = settings.release
    else:
        release = str(planned.release)
    externals = app.needs_externals()
    top_dir = f"{settings.name}-{version}"
    fallback = f"The {settings.name} WSGI application"
    summary = descriptions.summary(settings.summary, fallback)
    return AppSpecContext(
        name=settings.name,
        version=version,
        release=release,
        summary=summary,
        description=f"{summary}.",
        license=settings.license,
        url=settings.url if settings.url and " " not in settings.url else "",
        install_dir=settings.install_dir,
        user=settings.service_user,
        bind=settings.bind,
        workers=settings.workers,
        server="gunicorn" if app.pins.get("gunicorn") else "wsgiref",
        interpreter=target.interpreter,
        python_version=target.python_version,
        site_dirs=target.private_site_dirs,
        tarball=f"{top_dir}.tar.gz",
        top_dir=top_dir,
        requires=(
            f"python(abi) = {target.python_version}",
            *pinned_requires(app.pins, target),
            *externals.requires,
        ),
        build_requires=tuple(externals.build_requires),
        distro=externals.distro.name,
        notes=tuple(externals.notes),
        changelog=planned.changelog,
    )


# --- releases of the app -----------------------------------------------------------------------


def app_facts(app: App) -> dict[str, object]:
    """What a release of the app records for the next one to compare with."""
    found = appgit.checkout(app.path)
    pins = {pin.name: pin.version for pin in app.pins.pins}
    return {"pins": pins, **({"commit": found.commit} if found else {})}


def describe_app(
    app: App, previous: Entry | None, version: str, inputs: Mapping[str, str]
) -> list[str]:
    """The changelog items of a new release of the app: its version, the pins that changed,
    what else went into the RPM, and its own git log or CHANGES excerpt."""
    facts = app_facts(app)
    if previous is None:
        items = [f"Release {version}"]
    elif previous.version != version:
        items = [f"Update to {version} (from {previous.version})"]
    else:
        items = []
    if previous is not None:  # a first release lists no pins: they are all "added"
        pins = facts["pins"] if isinstance(facts["pins"], Mapping) else {}
        before = previous.facts.get("pins") or {}
        items += [f"Pinned: {line}" for line in changelog.describe_pins(before, pins)]
        if not items:
            items.append(changelog.rebuilt(previous.inputs, inputs))
    commit = previous.facts.get("commit") if previous is not None else None
    excerpt = appgit.subjects(app.path, str(commit) if commit else None)
    if not excerpt:
        excerpt = changelog.changes_excerpt(app.path)
    return items + excerpt


def app_content_digest(app_dir: Path, exclude: Path | None = None) -> str:
    """sha256 over what the source tarball holds (paths, modes, bytes), not its mtimes."""
    digest = hashlib.sha256()
    for path in _app_files(app_dir, exclude):
        rel = path.relative_to(app_dir).as_posix()
        executable = path.is_dir() or os.access(path, os.X_OK)
        digest.update(f"{rel}\0{int(executable)}\0".encode())
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def with_version(settings: AppSettings, version: str | None) -> AppSettings:
    return settings if version is None else replace(settings, version=version)


# --- the source tarball ------------------------------------------------------------------------


def _is_output(path: Path, output: Path | None) -> bool:
    """rpmdeploy's own output inside the app dir: OUT, or a repo's generations and lock."""
    if output is None:
        return False
    output = Path(os.path.abspath(output))
    path = Path(os.path.abspath(path))
    return path == output or (
        path.parent == output.parent and path.name.startswith(f".{output.name}.")
    )


def write_source_tarball(
    app_dir: Path, dest: Path, top_dir: str, mtime: int, exclude: Path | None
) -> Path:
    """A reproducible ``.tar.gz`` of the app directory: sorted, owner root, clamped mtimes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _app_files(app_dir, exclude):
            rel = path.relative_to(app_dir).as_posix()
            info = tar.gettarinfo(str(path), arcname=f"{top_dir}/{rel}" if rel != "." else top_dir)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = min(int(info.mtime), mtime)
            info.mode = 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644
            if info.isreg():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    with dest.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as gz:
        gz.write(buffer.getvalue())
    return dest


def _app_files(app_dir: Path, exclude: Path | None) -> Iterator[Path]:
    yield app_dir
    for root, dirs, files in os.walk(app_dir):
        base = Path(root)
        dirs[:] = sorted(
            d for d in dirs if d not in _EXCLUDED_DIRS and not _is_output(base / d, exclude)
        )
        files = [f for f in files if not _is_output(base / f, exclude)]
        for name in sorted([*dirs, *files]):
            path = base / name
            if path.is_symlink():
                raise UsageError(f"{path}: symbolic links are not packaged; copy the file instead")
            if name.endswith(_EXCLUDED_SUFFIXES) or not (path.is_file() or path.is_dir()):
                continue
            yield path

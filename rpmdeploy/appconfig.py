"""The app directory's own settings: ``APP_DIR/rpmdeploy.toml`` (optional).

Command-line options override what the file says, so a release job can run the same command
for every app and keep per-app choices with the app::

    [app]
    name = "hello-wsgi"            # RPM name (default: the directory's name)
    version = "1.4.2"              # default: from the app's git checkout (git describe)
    release = "1"                  # only for `rpmdeploy spec`: releases count themselves
    summary = "Hello world WSGI app"
    license = "MIT"
    url = "https://example.com/hello"
    prefix = "/opt/hello-wsgi"     # where the app directory is installed
    user = "hello-wsgi"            # dedicated system user the service runs as
    bind = "127.0.0.1:8000"        # default listen address (changeable in /etc/sysconfig/NAME)
    workers = 2                    # gunicorn workers

    [rpms]
    no-binary = ["itsdangerous"]   # build these from their sdists (":all:" for every package)
    target = "rocky-9"             # and the other build settings: see rpmdeploy.settings

    [builder]
    name = "rpmbuild"              # rpmbuild, mock or copr (`rpmdeploy rpms --help`)

    [release]
    keep = 2                       # release settings: see rpmdeploy.settings

    [packages.psycopg2]            # per Python package: what its metadata gets wrong
    license = "LGPL-3.0-or-later WITH openvpn-openssl-exception"

    [verify]                       # what the target system has beyond rpmdeploy's tables
    assume = ["libfoo.so.1()(64bit)", "foo-libs"]

This module reads the file and checks the [app], [packages.NAME] and [verify] tables;
``rpmdeploy.settings`` interprets the others, with the command line and the environment
taking precedence over them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from rpmdeploy.errors import UsageError

CONFIG_FILE = "rpmdeploy.toml"
_ALL = ":all:"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9._+~^]+$")
_BIND_RE = re.compile(r"^[A-Za-z0-9.:\[\]-]+:\d{1,5}$|^unix:/[A-Za-z0-9/._-]+$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9/._+-]*$")
#: One RPM capability as a Provides/Requires line takes it: NAME, optionally " OP EVR".  NAME
#: is a package name, a path or NAME(...)... (libfoo.so.1()(64bit), pkgconfig(foo),
#: perl(Foo::Bar)); nothing rpm would expand or split (%, whitespace inside, commas,
#: quotes) and no rich dependency (a leading parenthesis).
RPM_CAPABILITY = re.compile(
    r"^[A-Za-z0-9_/][A-Za-z0-9_.+/-]*(?:\([A-Za-z0-9_.+/:-]*\))*"
    r"(?: (?:=|<|>|<=|>=) [A-Za-z0-9._+~^:-]+)?$"
)
_MAX_CAPABILITY = 256


@dataclass(frozen=True)
class AppSettings:
    """The [app] table: what the app RPM is called and how its service runs."""

    name: str
    version: str | None = None
    release: str = "1"
    summary: str = ""
    license: str = "LicenseRef-Proprietary"
    url: str = ""
    prefix: str = ""  # default /opt/<name>
    user: str = ""  # default <name>
    bind: str = "127.0.0.1:8000"
    workers: int = 2

    @property
    def install_dir(self) -> str:
        return self.prefix or f"/opt/{self.name}"

    @property
    def service_user(self) -> str:
        return self.user or self.name


#: Tables rpmdeploy.toml may have besides [app]; rpmdeploy.settings checks their keys.
SETTINGS_TABLES = ("rpms", "builder", "release", "pin")


@dataclass(frozen=True)
class PackageSettings:
    """One ``[packages.NAME]`` table: settings for one pinned Python package."""

    license: str | None = None  # SPDX expression over what its metadata says
    # System dependency hints added to rpmdeploy's own for it (rpmdeploy.sysdeps).
    external: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifySettings:
    """The ``[verify]`` table: what ``verify`` may assume of the target system.

    ``assume`` lists RPM capabilities (``libfoo.so.1()(64bit)``, a package name) the
    target has beyond what rpmdeploy declares from its own tables; the verify stand-in
    declares them too and the report lists them as assumed.
    """

    assume: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppConfig:
    app: AppSettings
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # rpms, builder...
    path: Path | None = None  # the file, when there is one
    packages: Mapping[str, PackageSettings] = field(default_factory=dict)  # canonical names
    verify: VerifySettings = field(default_factory=VerifySettings)


def read_app_config(app_dir: Path) -> AppConfig:
    path = app_dir / CONFIG_FILE
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    unknown = set(data) - {"app", "packages", "verify", *SETTINGS_TABLES}
    if unknown:
        raise UsageError(f"{path}: unknown table(s): {', '.join(sorted(unknown))}")
    return AppConfig(
        app=_app_settings(_table(data, "app", path), app_dir, path),
        tables={name: _table(data, name, path) for name in SETTINGS_TABLES},
        path=path if path.is_file() else None,
        packages=_packages(_table(data, "packages", path), path),
        verify=_verify(_table(data, "verify", path), path),
    )


def _verify(table: dict[str, Any], path: Path) -> VerifySettings:
    """``[verify]``: ``assume``, a list of RPM capabilities, each checked (untrusted text
    that becomes a line of the stand-in's spec)."""
    unknown = set(table) - {f.name for f in fields(VerifySettings)}
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [verify]: {', '.join(sorted(unknown))}")
    assume = table.get("assume", [])
    if not isinstance(assume, list):
        raise UsageError(f"{path}: [verify] assume must be a list of RPM capabilities")
    for value in assume:
        if not is_rpm_capability(value):
            raise UsageError(
                f"{path}: [verify] assume: {value!r} is not an RPM capability (NAME or "
                'NAME OP VERSION, such as "libfoo.so.1()(64bit)" or "foo-libs >= 2")'
            )
    return VerifySettings(tuple(dict.fromkeys(assume)))


def is_rpm_capability(value: object) -> bool:
    """Whether ``value`` is one capability as ``RPM_CAPABILITY`` describes it."""
    return (
        isinstance(value, str)
        and len(value) <= _MAX_CAPABILITY
        and RPM_CAPABILITY.fullmatch(value) is not None
    )


def _packages(table: dict[str, Any], path: Path) -> dict[str, PackageSettings]:
    """``[packages.NAME]`` tables, keyed by canonical name; values checked for type."""
    known = {f.name for f in fields(PackageSettings)}
    packages: dict[str, PackageSettings] = {}
    for name, values in table.items():
        if not isinstance(values, dict):
            raise UsageError(f"{path}: [packages.{name}] must be a table")
        unknown = set(values) - known
        if unknown:
            raise UsageError(
                f"{path}: unknown key(s) in [packages.{name}]: {', '.join(sorted(unknown))}"
            )
        checked = dict(values)
        for key, value in values.items():
            if key == "external":
                if not isinstance(value, list) or not all(
                    isinstance(v, str) and v.strip() and "\n" not in v for v in value
                ):
                    raise UsageError(f"{path}: [packages.{name}] external must be a list of hints")
                checked[key] = tuple(value)
            elif not isinstance(value, str) or not value.strip() or "\n" in value:
                raise UsageError(f"{path}: [packages.{name}] {key} must be a one-line string")
        packages[canonicalize_name(name)] = PackageSettings(**checked)
    return packages


def with_overrides(settings: AppSettings, **overrides: Any) -> AppSettings:
    """Command-line values (None: not given) over the file's, validated again."""
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return _validated(AppSettings(**values), "command line")


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [{name}] must be a table")
    return table


def _app_settings(table: dict[str, Any], app_dir: Path, path: Path) -> AppSettings:
    known = {f.name for f in fields(AppSettings)}
    unknown = set(table) - known
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [app]: {', '.join(sorted(unknown))}")
    values = dict(table)
    values.setdefault("name", canonicalize_name(app_dir.resolve().name))
    for key, value in values.items():
        expected = int if key == "workers" else str
        if not isinstance(value, expected) or isinstance(value, bool):
            raise UsageError(f"{path}: [app] {key} must be a {expected.__name__}")
    return _validated(AppSettings(**values), str(path))


def _validated(app: AppSettings, where: str) -> AppSettings:
    checks = [
        ("name", app.name, _NAME_RE.match(app.name)),
        ("version", app.version, app.version is None or _VERSION_RE.match(app.version)),
        ("release", app.release, _VERSION_RE.match(app.release)),
        ("prefix", app.prefix, not app.prefix or _PATH_RE.match(app.prefix)),
        ("user", app.user, not app.user or _NAME_RE.match(app.user)),
        ("bind", app.bind, _BIND_RE.match(app.bind)),
        ("workers", app.workers, 1 <= app.workers <= 256),
    ]
    for key, value, ok in checks:
        if not ok:
            raise UsageError(f"{where}: invalid app {key} {value!r}")
    if ".." in app.prefix.split("/"):
        raise UsageError(f"{where}: invalid app prefix {app.prefix!r}")
    if app.prefix and app.prefix.rstrip("/") in _SYSTEM_DIRS | {""}:
        raise UsageError(
            f"{where}: app prefix {app.prefix!r} is a system directory: the app would be "
            "installed over the distribution's files; use a directory of its own (/opt/NAME)"
        )
    _check_port(app.bind, where)
    for key in ("summary", "license", "url"):
        _check_text(key, getattr(app, key), where)
    return app


#: Directories an app must never be installed as: the distribution's own.
_SYSTEM_DIRS = frozenset(
    "/usr /usr/local /usr/lib /usr/lib64 /usr/share /usr/bin /usr/sbin /usr/libexec /bin /sbin "
    "/lib /lib64 /etc /var /var/lib /opt /srv /home /root /tmp /boot /dev /proc /sys /run".split()
)


def _check_port(bind: str, where: str) -> None:
    if bind.startswith("unix:"):
        return
    port = int(bind.rsplit(":", 1)[1])
    if not 1 <= port <= 65535:
        raise UsageError(f"{where}: invalid app bind {bind!r}: port {port} is not 1-65535")


def _check_text(key: str, value: str, where: str) -> None:
    """One line of text that reaches a spec tag and the systemd unit: no control characters
    (a newline would start a new unit line), no trailing backslash (it continues the line)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value) or value.rstrip().endswith("\\"):
        raise UsageError(
            f"{where}: invalid app {key} {value!r}: one line, without control characters or "
            "a trailing backslash"
        )

"""Settings: every options object built in one place, with one precedence.

A setting's value comes from the first of:

1. the command line (an option given there);
2. the environment: ``RPMDEPLOY_<NAME>`` (``RPMDEPLOY_JOBS=4``, ``RPMDEPLOY_TARGET=rocky-9``);
3. the app's ``rpmdeploy.toml``, in the setting's table (``[rpms] jobs = 4``);
4. the default.

The exception is ``no-binary``, whose names from every source add up (the command line
asks for more sdists; it cannot un-ask the app's own).  The settings themselves are data
(:data:`SETTINGS`); the CLI only collects what was given and calls the builders below.
Relative paths from ``rpmdeploy.toml`` are relative to the app directory; from the command
line or the environment, to the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from rpmdeploy import builders, distributions
from rpmdeploy.appconfig import SETTINGS_TABLES, AppConfig, AppSettings, read_app_config
from rpmdeploy.appconfig import with_overrides as app_with_overrides
from rpmdeploy.cache import Cache, default_cache_dir
from rpmdeploy.errors import UsageError
from rpmdeploy.pin import ALL, IndexOptions, PinOptions
from rpmdeploy.targets import Target, resolve_target

if TYPE_CHECKING:  # imported where used: `rpmdeploy pin` and `--help` start quickly
    from rpmdeploy.appmodel import App, AppOptions
    from rpmdeploy.pipeline import RpmsOptions
    from rpmdeploy.release import ReleaseOptions

#: SOURCE_DATE_EPOCH when none is given: wheels' own minimum date (the pipeline's default).
DEFAULT_SOURCE_DATE_EPOCH = 315532800

ENV_PREFIX = "RPMDEPLOY_"
Convert = Callable[[Any, str], Any]  # (raw value, where it came from) -> checked value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: expected a non-empty string, got {value!r}")
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise UsageError(f"{where}: control characters are not allowed: {value!r}")
    return value


def _count(low: int, high: int) -> Convert:
    def convert(value: Any, where: str) -> int:
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise UsageError(f"{where}: expected a whole number from {low} to {high}: {value!r}")
        return number

    return convert


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "1",
        "true",
        "yes",
        "on",
        "0",
        "false",
        "no",
        "off",
    ):
        return value.lower() in ("1", "true", "yes", "on")
    raise UsageError(f"{where}: expected true or false: {value!r}")


def _names(value: Any, where: str) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple | frozenset | set) or not all(
        isinstance(n, str) for n in items
    ):
        raise UsageError(f"{where}: expected a list of package names")
    return frozenset(n if n == ALL else canonicalize_name(n) for n in map(str.strip, items) if n)


def _target_names(value: Any, where: str) -> tuple[str, ...]:
    """Several targets: a list, or one string of comma-separated names (the command line and
    the environment)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(n, str) for n in items):
        raise UsageError(f"{where}: expected a list of target names")
    names = tuple(_text(n.strip(), where) for n in items if n.strip())
    if not names:
        raise UsageError(f"{where}: expected at least one target name")
    return names


def _builder(value: Any, where: str) -> str:
    name = _text(value, where)
    if name not in builders.REGISTRY:
        raise UsageError(
            f"{where}: unknown builder {name!r}; available: {', '.join(builders.available())}"
        )
    return name


@dataclass(frozen=True)
class Setting:
    """One setting: where it lives in rpmdeploy.toml, how it is checked, its default."""

    name: str  # the command line's parameter name (python identifier)
    table: str  # its table in rpmdeploy.toml
    convert: Convert
    default: Any = None
    key: str = ""  # its key in the table [default: the name with '-' for '_']
    is_path: bool = False
    adds_up: bool = False  # values from every source are merged (no-binary)
    # rpmdeploy.toml belongs to the app, which is untrusted input: settings that name a
    # program or code to run (as root, on a build host) come from the operator only.
    operator_only: bool = False

    @property
    def toml_key(self) -> str:
        return self.key or self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    # No fixed default: see target_name().
    Setting("target", "rpms", _text),
    Setting("python", "rpms", _text, is_path=False),
    Setting("jobs", "rpms", _count(1, 64), os.cpu_count() or 1),
    Setting("cache_dir", "rpms", _text, is_path=True),
    Setting("name_prefix", "rpms", _text),
    Setting("install_prefix", "rpms", _text),
    Setting("template_dir", "rpms", _text, is_path=True),
    Setting("no_binary", "rpms", _names, frozenset(), adds_up=True),
    # Release metadata (rpmdeploy.releases, rpmdeploy.licenses): who the changelog names,
    # whether a guessed or unknown licence is an error.
    Setting("packager", "rpms", _text, "rpmdeploy"),
    Setting("strict_licenses", "rpms", _flag, False),
    Setting("builder", "builder", _builder, builders.DEFAULT, key="name"),
    # The mock builder's config: a name mock knows or a .cfg path [the target's].  A .cfg is
    # Python that mock runs as root: from rpmdeploy.toml, only a name.
    Setting("mock_config", "builder", _text, key="mock-config"),
    Setting("mock_command", "builder", _text, key="mock-command", operator_only=True),
    Setting("mock_chroot_name", "builder", _text, key="mock-chroot-name"),
    # The copr builder: its project (OWNER/PROJECT), its chroot [the target's], how long to
    # wait for a level (seconds), and Copr's configuration file, which holds the credentials:
    # a path, so from the operator only.
    Setting("copr_project", "builder", _text, key="copr-project"),
    Setting("copr_chroot", "builder", _text, key="copr-chroot"),
    Setting("copr_timeout", "builder", _count(1, 7 * 24 * 3600), key="copr-timeout"),
    Setting("copr_config", "builder", _text, key="copr-config", operator_only=True),
    Setting("keep", "release", _count(1, 1000), 1),
    Setting("base_url", "release", _text),
    Setting("sign", "release", _text),
    Setting("gnupghome", "release", _text, is_path=True),
    Setting("verify", "release", _flag, True),
    Setting("lint", "release", _flag, False),
    # A release of several targets (rpmdeploy.multirelease): see release_targets().
    Setting("targets", "release", _target_names),
    Setting("resolver", "pin", _text, "uv"),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Resolved:
    """The settings of one command, with where each value came from."""

    app_dir: Path
    config: AppConfig
    values: Mapping[str, Any]
    sources: Mapping[str, str]  # name -> "command line" | "RPMDEPLOY_X" | "rpmdeploy.toml" | ...

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def resolve(
    app_dir: Path, given: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> Resolved:
    """Every setting for APP_DIR: ``given`` holds the command line's values (None: not given)."""
    env = os.environ if env is None else env
    config = read_app_config(app_dir)
    _check_tables(config)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        values[setting.name], sources[setting.name] = _resolve_one(
            setting, given.get(setting.name), env, config, app_dir
        )
    return Resolved(app_dir, config, values, sources)


def _resolve_one(
    setting: Setting, given: Any, env: Mapping[str, str], config: AppConfig, app_dir: Path
) -> tuple[Any, str]:
    table = config.tables.get(setting.table, {})
    where_file = f"{config.path}: [{setting.table}] {setting.toml_key}"
    found: list[tuple[Any, str]] = []
    if given not in (None, (), frozenset()):
        option = "--" + setting.name.replace("_", "-")
        found.append((setting.convert(given, option), "command line"))
    if env.get(setting.env):
        found.append((setting.convert(env[setting.env], setting.env), setting.env))
    if setting.toml_key in table:
        value = setting.convert(table[setting.toml_key], where_file)
        _check_from_file(setting, value, where_file)
        if setting.is_path:
            value = str(app_dir / value)  # relative to the app, not to where rpmdeploy runs
        found.append((value, "rpmdeploy.toml"))
    if not found:
        return setting.default, "default"
    if setting.adds_up:
        return frozenset().union(*(v for v, _ in found)), "+".join(s for _, s in found)
    return found[0]


def _check_from_file(setting: Setting, value: Any, where: str) -> None:
    if setting.operator_only or (setting.name == "mock_config" and "/" in str(value)):
        raise UsageError(
            f"{where}: not accepted from the app's rpmdeploy.toml (it would choose code that "
            f"runs as root); set {setting.env} or the command-line option instead"
        )


def _check_tables(config: AppConfig) -> None:
    for table in SETTINGS_TABLES:
        known = {s.toml_key for s in SETTINGS if s.table == table}
        keys = set(config.tables.get(table, {}))
        # [builder] also carries the chosen builder's own settings (mock-config, ...).
        unknown = keys - known if table != "builder" else set()
        if unknown:
            raise UsageError(
                f"{config.path}: unknown key(s) in [{table}]: {', '.join(sorted(unknown))}"
            )


# --- the options objects -----------------------------------------------------------------------


def target_name(resolved: Resolved) -> str:
    """The target asked for, else ``host`` where the host is an RPM distribution.

    On any other host (Debian, Ubuntu, ...) ``host`` would mean RPMs for that machine's
    Python with Fedora's package names: a combination no real system has.  So there the
    target must be named (``--target``, ``[rpms] target``, RPMDEPLOY_TARGET); ``--target
    host`` stays available to whoever wants exactly that.
    """
    name: str | None = resolved["target"]
    if name:
        return name
    if distributions.host_rpm_release() is not None:
        return "host"
    raise UsageError(
        "no target: this machine is not an RPM distribution, so name the one the RPMs are "
        "for with --target, [rpms] target in rpmdeploy.toml or RPMDEPLOY_TARGET "
        "(`rpmdeploy targets` lists them; --target host builds for this machine's Python)"
    )


#: How strong each source of a setting is (see the module's docstring).
_RANK = {"command line": 0, "rpmdeploy.toml": 2, "default": 3}


def release_targets(resolved: Resolved) -> tuple[str, ...]:
    """The targets of a release of several (``--targets``, RPMDEPLOY_TARGETS, ``[release]
    targets``), or () for a release of one (``target``).

    Between the two, the one precedence decides: the setting given at the stronger level
    wins (``--target rocky-9`` releases one target whatever ``[release] targets`` says;
    RPMDEPLOY_TARGETS wins over ``[rpms] target``).  Both on the command line, or both in
    the environment, is a usage error; in rpmdeploy.toml ``[release] targets`` is the
    release's own and wins over ``[rpms] target`` (which `rpms`, `app` and `pin` use).
    """
    targets: tuple[str, ...] | None = resolved["targets"]
    if not targets:
        return ()
    if resolved["target"] is None:
        return targets
    many = _RANK.get(resolved.sources["targets"], 1)
    one = _RANK.get(resolved.sources["target"], 1)
    if many == one and many < 2:
        where = "on the command line" if many == 0 else "in the environment"
        raise UsageError(
            f"--target and --targets both given {where}: they are exclusive (--target releases "
            "one target, --targets several)"
        )
    return targets if many <= one else ()


def for_target(resolved: Resolved, name: str) -> Resolved:
    """``resolved`` with ``target`` set to ``name`` (one target of a release of several)."""
    return replace(
        resolved,
        values={**resolved.values, "target": name, "targets": None},
        sources={**resolved.sources, "target": "--targets", "targets": "default"},
    )


def target_of(resolved: Resolved) -> Target:
    target = resolve_target(target_name(resolved), resolved["python"])
    return target.with_namespace(resolved["name_prefix"], resolved["install_prefix"])


def cache_of(resolved: Resolved) -> Cache:
    return cache_at(resolved["cache_dir"])


def cache_at(path: str | None) -> Cache:
    """The cache at ``path`` [the default one]: an absolute path, since sdist builds run in
    other directories."""
    return Cache(Path(os.path.abspath(path)) if path else default_cache_dir())


def source_date_epoch(env: Mapping[str, str] | None = None) -> int:
    """SOURCE_DATE_EPOCH (reproducible-builds.org), or rpmdeploy's fixed default."""
    env = os.environ if env is None else env
    text = env.get("SOURCE_DATE_EPOCH")
    if not text:
        return DEFAULT_SOURCE_DATE_EPOCH
    return int(_count(0, 2**63 - 1)(text, "SOURCE_DATE_EPOCH"))


def builder_settings(resolved: Resolved) -> dict[str, str]:
    """The chosen builder's own settings: [builder] keys besides ``name``, with the builder
    settings that have options (``mock-config``) resolved like any other setting."""
    table = resolved.config.tables.get("builder", {})
    found = {k: str(v) for k, v in table.items() if k != "name"}
    for setting in SETTINGS:
        if setting.table == "builder" and setting.name != "builder":
            value = resolved[setting.name]
            if value is not None:
                found[setting.toml_key] = str(value)
            else:
                found.pop(setting.toml_key, None)
    return found


def rpms_options(resolved: Resolved, env: Mapping[str, str] | None = None) -> RpmsOptions:
    from rpmdeploy.fetch import FetchOptions  # urllib, ssl: for the commands that fetch
    from rpmdeploy.pipeline import RpmsOptions
    from rpmdeploy.specs import MetadataOptions

    template_dir = resolved["template_dir"]
    if template_dir and not Path(template_dir).is_dir():
        raise UsageError(f"template directory {template_dir} does not exist")
    return RpmsOptions(
        target=target_of(resolved),
        cache=cache_of(resolved),
        jobs=resolved["jobs"],
        fetch=FetchOptions(resolved["no_binary"]),
        template_dir=Path(template_dir) if template_dir else None,
        builder=resolved["builder"],
        builder_settings=builder_settings(resolved),
        source_date_epoch=source_date_epoch(env),
        metadata=MetadataOptions(
            packager=resolved["packager"],
            strict_licenses=resolved["strict_licenses"],
            package_licenses={
                name: package.license
                for name, package in resolved.config.packages.items()
                if package.license
            },
        ),
        package_externals={
            name: package.external
            for name, package in resolved.config.packages.items()
            if package.external
        },
    )


def app_settings(resolved: Resolved, name: str | None, version: str | None) -> AppSettings:
    """The [app] table with the command line's name and version over it."""
    return app_with_overrides(resolved.config.app, name=name, version=version)


def app_options(
    resolved: Resolved,
    *,
    name: str | None = None,
    version: str | None = None,
    distro: str | None = None,
    strict: bool = False,
) -> AppOptions:
    from rpmdeploy.appmodel import AppOptions

    return AppOptions(
        app_settings(resolved, name, version),
        distro,
        strict,
        resolved["no_binary"],
        assume=resolved.config.verify.assume,
    )


def load(
    resolved: Resolved,
    options: RpmsOptions,
    *,
    name: str | None = None,
    version: str | None = None,
    externals: bool = True,
    distro: str | None = None,
    strict: bool = False,
) -> App:
    """The app directory loaded once for a command, with its resolved settings."""
    from rpmdeploy.appmodel import load_app

    app = app_options(resolved, name=name, version=version, distro=distro, strict=strict)
    return load_app(resolved.app_dir, options.target, app, externals=externals)


@dataclass(frozen=True)
class PinJob:
    target: Target
    options: PinOptions
    log: Path


def pin_job(
    resolved: Resolved, index: IndexOptions, upgrade: bool, upgrade_packages: tuple[str, ...]
) -> PinJob:
    """What `rpmdeploy pin` runs: for a distribution target, ``python`` is the interpreter
    pip-compile runs under (it must be of the target's version); for host, the host's."""
    name = target_name(resolved)
    is_host = name == "host"
    target = resolve_target(name, resolved["python"] if is_host else None)
    cache = cache_of(resolved)
    options = PinOptions(
        index,
        upgrade,
        upgrade_packages,
        None if is_host else resolved["python"],
        cache.dir("tools"),
    )
    return PinJob(target, options, cache.new_log_file("pin"))


def release_options(
    resolved: Resolved,
    index: IndexOptions | None,
    *,
    name: str | None = None,
    version: str | None = None,
    distro: str | None = None,
    strict: bool = False,
) -> ReleaseOptions:
    """Everything `rpmdeploy release` needs; ``index`` set means: pin first, with it."""
    from rpmdeploy.release import ReleaseOptions
    from rpmdeploy.sign import SigningKey

    build = rpms_options(resolved)
    gnupghome = resolved["gnupghome"]
    return ReleaseOptions(
        build=build,
        app=app_options(resolved, name=name, version=version, distro=distro, strict=strict),
        keep=resolved["keep"],
        signing=SigningKey(resolved["sign"], Path(gnupghome) if gnupghome else None)
        if resolved["sign"]
        else None,
        base_url=resolved["base_url"],
        verify=resolved["verify"],
        lint=resolved["lint"],
        pin=PinOptions(
            index,
            tools_dir=build.cache.dir("tools"),
            resolver=resolved["resolver"],
            no_binary=resolved["no_binary"],
        )
        if index is not None
        else None,
    )


def setting(name: str) -> Setting:
    return _BY_NAME[name]

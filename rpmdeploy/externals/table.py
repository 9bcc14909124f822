"""The mapping table: hint names to package names, per distribution layer.

Contract: ``load_mapping`` returns the shipped ``data/externals.toml`` merged field by field
with an app's ``external-mappings.toml`` (the app wins), validated and indexed; a malformed
file raises ``ExternalsError`` with one line naming the file and the entry.  Layer names are
the families, the bases and the release layers of ``distributions.toml``.
``resolve_entry`` picks, for one distribution, each field from the most specific layer that
sets it (release layer, then base, then family).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rpmdeploy.distributions import BASES, FAMILIES, Distribution, releases
from rpmdeploy.errors import ExternalsError
from rpmdeploy.externals.hints import normalise

MAPPINGS_FILE = "external-mappings.toml"
KINDS = ("library", "header-only", "build-tool", "program")
FAMILY_LAYERS = FAMILIES
BASE_LAYERS = BASES
_LAYER_FIELDS = ("build", "run", "repo", "note")
_ENTRY_FIELDS = ("summary", "kind", "aliases", "pkgconfig", "versioned")
_PACKAGE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+:-]*(?:\([A-Za-z0-9._+/-]+\))?")

# Layer.origins value of the shipped table (an app's file is named by its path)
SHIPPED = "shipped"


@dataclass(frozen=True)
class Layer:
    """One per-target table of an entry; ``None`` means "not set here"."""

    build: tuple[str, ...] | None = None
    run: tuple[str, ...] | None = None
    repo: str | None = None
    note: str | None = None
    # field name -> where its value came from (SHIPPED or the app's mapping file)
    origins: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """One ``[keys.NAME]`` of the table: what a library or tool is, and its layers."""

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
        key = self.index.get(normalise(name))
        return None if key is None else self.entries[key]


@dataclass(frozen=True)
class Resolved:
    """An entry's fields for one distribution; ``from_app``: build or run came from the app."""

    build: tuple[str, ...]
    run: tuple[str, ...]
    repo: str | None
    notes: tuple[str, ...]
    from_app: bool


def layer_names() -> frozenset[str]:
    """Every layer name an entry may use: families, bases, release layers."""
    return frozenset((*FAMILY_LAYERS, *BASE_LAYERS, *(row.layer for row in releases())))


def resolve_entry(entry: Entry, distro: Distribution) -> Resolved | None:
    """The entry's fields for ``distro``; None if no layer gives both build and run."""
    values: dict[str, Any] = {}
    overridden = False
    for name in (distro.table_name, distro.base, distro.family):
        layer = entry.layers.get(name)
        if layer is None:
            continue
        for which in _LAYER_FIELDS:
            value = getattr(layer, which)
            if which not in values and value is not None:
                values[which] = value
                overridden |= which in ("build", "run") and layer.origins.get(which) != SHIPPED
    if "build" not in values or "run" not in values:
        return None
    notes = (values["note"],) if "note" in values else ()
    return Resolved(values["build"], values["run"], values.get("repo"), notes, overridden)


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
                    alias_overrides[normalise(alias)] = key
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
    document = _parse_document(data, "rpmdeploy/data/externals.toml", origin=SHIPPED)
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
    known_layers = layer_names()
    for name, value in body.items():
        if name in _ENTRY_FIELDS:
            continue
        if name not in known_layers:
            raise ExternalsError(
                f"{here}: unknown field {name!r}; fields are {', '.join(_ENTRY_FIELDS)} and "
                f"the layers {', '.join(sorted(known_layers))}"
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
            normal = normalise(name)
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
        index[normalise(key)] = key
        index.setdefault(f"dep:generic/{key}", key)
    index.update(alias_overrides)
    for key, entry in entries.items():
        for alias in entry.aliases:
            index.setdefault(normalise(alias), key)
    for key, entry in entries.items():
        for module in entry.pkgconfig:
            index.setdefault(f"pkgconfig({module.lower()})", key)
    for name, keys in _package_names(entries).items():
        if len(keys) == 1:
            index.setdefault(name, next(iter(keys)))
    return index


def _package_names(entries: Mapping[str, Entry]) -> dict[str, set[str]]:
    """Each bare pkg-config module and package name -> the keys that list it."""
    users: dict[str, set[str]] = {}
    for key, entry in entries.items():
        for module in entry.pkgconfig:
            users.setdefault(module.lower(), set()).add(key)
        for layer in entry.layers.values():
            for package in (*(layer.build or ()), *(layer.run or ())):
                for part in package.split("|"):
                    users.setdefault(normalise(part), set()).add(key)
    return users

"""The app directory, loaded once: its pins, its settings, its mapped external dependencies.

An app directory follows the WSGI deployment standard: ``dependencies.txt`` (pinned, hashed),
``external-dependencies.txt`` (system dependency hints), ``bin/wsgiapp``, and optionally
``rpmdeploy.toml``.  :func:`load_app` reads what a command needs, once, into an :class:`App`
that every stage takes; no stage reads the directory's files again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rpmdeploy.appconfig import AppSettings
from rpmdeploy.errors import ExternalsError, UsageError
from rpmdeploy.externals import (
    HINTS_FILE,
    Distro,
    MappedHint,
    load_mapping,
    map_hints,
    read_hints,
    rpm_build_requires,
    rpm_requires,
)
from rpmdeploy.pin import BUILD_PINNED_FILE, PinnedSet, read_build_pins, read_pins
from rpmdeploy.targets import Target


@dataclass(frozen=True)
class AppExternals:
    """The app's external-dependency hints mapped to one RPM distribution's package names."""

    distro: Distro
    mapped: tuple[MappedHint, ...]
    distro_note: str | None = None  # why this distribution was chosen, when not obvious

    @property
    def requires(self) -> list[str]:
        return rpm_requires(self.mapped)

    @property
    def build_requires(self) -> list[str]:
        return rpm_build_requires(self.mapped)

    @property
    def notes(self) -> list[str]:
        """Guesses, fallbacks and dropped constraints, written into the app's spec."""
        notes = [self.distro_note] if self.distro_note else []
        for item in self.mapped:
            if item.resolved in ("guess", "pkgconfig"):
                names = ", ".join([*item.build, *item.run]) or "nothing"
                notes.append(f"{item.hint.raw}: {item.resolved} ({names})")
            notes.extend(f"{item.hint.raw}: {note}" for note in item.notes)
        return notes

    @property
    def runtime_packages(self) -> list[str]:
        """Package names required at run time (every alternative named)."""
        names = [alt.strip() for item in self.mapped for f in item.run for alt in f.split("|")]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class App:
    """One app directory as the stages see it."""

    path: Path
    pins: PinnedSet
    settings: AppSettings
    externals: AppExternals | None = None  # None: not needed by this command
    no_binary: frozenset[str] = field(default_factory=frozenset)
    # build-dependencies.txt: the sdists' pinned build backends (None: the app has none).
    build_pins: PinnedSet | None = None
    # [verify] assume: capabilities the target is declared to have (written into the
    # release record for verify's stand-in).
    assume: tuple[str, ...] = ()

    def needs_externals(self) -> AppExternals:
        if self.externals is None:
            raise UsageError(f"{self.path}: external dependencies were not loaded")
        return self.externals


@dataclass(frozen=True)
class AppOptions:
    """How to read an app directory: its settings, and how its externals are mapped."""

    settings: AppSettings
    distro: str | None = None  # distribution whose names externals map to [the target's]
    strict: bool = False  # a guessed package name is an error
    no_binary: frozenset[str] = field(default_factory=frozenset)
    assume: tuple[str, ...] = ()  # [verify] assume, checked by appconfig


def load_app(path: Path, target: Target, options: AppOptions, *, externals: bool = True) -> App:
    """Read the app directory for ``target``.

    ``externals`` maps ``external-dependencies.txt`` for the target's distribution (or
    ``options.distro``); without it the app is only its pins (all ``rpms`` needs).
    """
    pins = read_pins(path, target)
    mapped = map_externals(path, target, options.distro, options.strict) if externals else None
    build = read_build_pins(path, target) if (path / BUILD_PINNED_FILE).is_file() else None
    return App(path, pins, options.settings, mapped, options.no_binary, build, options.assume)


def map_externals(
    path: Path, target: Target, override: str | None = None, strict: bool = False
) -> AppExternals:
    """The app's hints mapped for the distribution its RPMs are for."""
    from rpmdeploy.app import mapping_distro  # app.py imports this module's types

    distro, note = mapping_distro(target, override)
    if distro.family != "rpm":
        raise UsageError(f"{distro.name} does not use RPM: pick an RPM distribution with --distro")
    # The standard has the file, but apps in the wild often leave it out when they need
    # nothing: a missing file means "none", said once (in the notes, and the spec).
    hints = read_hints(path, missing_ok=True)
    if not (path / HINTS_FILE).is_file():
        missing = f"no {HINTS_FILE}: no system packages required"
        note = f"{note}; {missing}" if note else missing
    try:
        mapped = map_hints(hints, distro, load_mapping(path), strict=strict)
    except ExternalsError as exc:
        raise ExternalsError(f"{exc.message} (mapping for {distro.name})") from None
    return AppExternals(distro, tuple(mapped), note)

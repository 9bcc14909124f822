"""Mapping: each hint to the build-time and run-time package names of one distribution.

Contract: ``map_hints`` maps the hints whose environment markers hold on the distribution
(``hint_applies``), in order.  A hint the table knows maps to its entry (``resolved`` is
``table``, or ``override`` when the app's file supplied the names).  Otherwise a fallback
that is always labelled: ``pkgconfig(NAME)`` for an explicit pkg-config hint on RPM
distributions (``pkgconfig``), else a heuristic guess (``guess``), which ``strict=True``
turns into an error.  Hints that map to nothing raise ``ExternalsError`` naming every such
hint in one line.

Package-name strings in ``MappedHint.build``/``run`` are plain names, except that a guess may
offer alternatives written ``"a | b"`` (Debian's Depends syntax); ``relations`` renders them
for RPM as a rich dependency ``(a or b)``.  A hint's version constraint applies to the first
(primary) name of each list.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from rpmdeploy.errors import ExternalsError
from rpmdeploy.externals.distros import Distro
from rpmdeploy.externals.hints import Constraint, Hint, normalise
from rpmdeploy.externals.table import MAPPINGS_FILE, MappingTable, resolve_entry

RESOLVED_TABLE = "table"
RESOLVED_OVERRIDE = "override"
RESOLVED_PKGCONFIG = "pkgconfig"
RESOLVED_GUESS = "guess"


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


def hint_applies(hint: Hint, distro: Distro) -> bool:
    """Whether ``hint``'s environment marker (if any) is true on ``distro``."""
    if hint.marker is None:
        return True
    try:
        return Marker(hint.marker).evaluate(distro.marker_environment())
    except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExternalsError(
            f"{hint.location}: cannot evaluate marker {hint.marker!r}: {reason}"
        ) from exc


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
        resolved = resolve_entry(entry, distro)
        if resolved is None:
            break  # an app entry without this family: fall through to the fallbacks
        notes = resolved.notes
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
            build=resolved.build,
            run=resolved.run,
            resolved=RESOLVED_OVERRIDE if resolved.from_app else RESOLVED_TABLE,
            constraints=constraints,
            repo=resolved.repo,
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
    core = _core_name(normalise(name))
    words: dict[str, str] = {}
    for key, entry in table.entries.items():
        words.setdefault(key, key)
        for alias in entry.aliases:
            words.setdefault(_core_name(normalise(alias)), key)
    close = difflib.get_close_matches(core, list(words), n=6, cutoff=0.6)
    return list(dict.fromkeys(words[word] for word in close))[:3]


def _suggestion_text(name: str, table: MappingTable) -> str:
    suggestions = _suggestions(name, table)
    return f"; closest known: {', '.join(suggestions)}" if suggestions else ""

"""The ``rpmdeploy map-externals`` report: an app's hints mapped, as text, JSON or spec lines.

Contract: ``report`` returns the complete text to print (the library never prints) for one
distribution or for ``all`` (one per mapping-table layer), in one of ``FORMATS``; the same
input gives byte-identical output.  Bad options raise ``UsageError``; hints that cannot be
mapped (or guesses, with ``strict``) raise ``ExternalsError``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rpmdeploy.distributions import OS_RELEASE
from rpmdeploy.errors import UsageError
from rpmdeploy.externals.distros import ALL, Distro, resolve_distro, table_distros
from rpmdeploy.externals.hints import HINTS_FILE, Hint, read_hints
from rpmdeploy.externals.mapping import (
    RESOLVED_OVERRIDE,
    RESOLVED_PKGCONFIG,
    MappedHint,
    hint_applies,
    map_hints,
)
from rpmdeploy.externals.relations import rendered
from rpmdeploy.externals.table import load_mapping

FORMATS = ("text", "json", "spec")


def report(
    app_dir: Path,
    distro: str | None,
    fmt: str,
    strict: bool,
    *,
    os_release: Path = OS_RELEASE,
) -> str:
    """The complete text ``rpmdeploy map-externals`` prints.

    ``distro`` is a name for ``resolve_distro`` (None: the host) or ``all`` for every table
    release; ``fmt`` is ``text``, ``json`` or ``spec`` (RPM distributions only).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    app_dir = Path(app_dir)
    hints = read_hints(app_dir)
    table = load_mapping(app_dir)
    hints_file = str(app_dir / HINTS_FILE)
    if distro is not None and distro.strip().lower() == ALL:
        if fmt == "spec":
            raise UsageError("--format spec needs one RPM distribution, not 'all'")
        results = [
            (target, map_hints(hints, target, table, strict=strict)) for target in table_distros()
        ]
        if fmt == "json":
            return _json_all(hints_file, hints, results)
        return _text_all(hints, results)
    target = resolve_distro(distro, os_release)
    if fmt == "spec" and target.family != "rpm":
        raise UsageError(f"--format spec needs an RPM distribution; {target.name} uses .deb")
    mapped = map_hints(hints, target, table, strict=strict)
    skipped = [hint for hint in hints if not hint_applies(hint, target)]
    if fmt == "json":
        document = {"schema": 1, "hints_file": hints_file, **_json_distro(target, mapped, skipped)}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"
    if fmt == "spec":
        return _spec_text(hints_file, target, mapped)
    return _text_one(hints_file, target, mapped, skipped)


def _json_distro(
    distro: Distro, mapped: Sequence[MappedHint], skipped: Sequence[Hint]
) -> dict[str, Any]:
    build: dict[str, None] = {}
    run: dict[str, None] = {}
    items = []
    for item in mapped:
        rendered_build = rendered(item, "build")
        rendered_run = rendered(item, "run")
        build.update(dict.fromkeys(rendered_build))
        run.update(dict.fromkeys(rendered_run))
        items.append(
            {
                "hint": item.hint.raw,
                "line": item.hint.line,
                "name": item.hint.name,
                "style": item.hint.style,
                "marker": item.hint.marker,
                "versions": [[c.op, c.version] for c in item.hint.constraints],
                "key": item.key,
                "resolved": item.resolved,
                "guess": item.guess,
                "build": rendered_build,
                "run": rendered_run,
                "build_packages": list(item.build),
                "run_packages": list(item.run),
                "repo": item.repo,
                "notes": list(item.notes),
            }
        )
    return {
        "distro": {
            "name": distro.name,
            "id": distro.id,
            "release": distro.release,
            "family": distro.family,
            "pretty_name": distro.pretty_name,
            "table": distro.table_name,
            "arch": distro.arch,
        },
        "hints": items,
        "skipped": [
            {"hint": hint.raw, "line": hint.line, "marker": hint.marker} for hint in skipped
        ],
        "build": list(build),
        "run": list(run),
    }


def _json_all(
    hints_file: str, hints: Sequence[Hint], results: Sequence[tuple[Distro, list[MappedHint]]]
) -> str:
    distros = []
    for distro, mapped in results:
        skipped = [hint for hint in hints if not hint_applies(hint, distro)]
        distros.append(_json_distro(distro, mapped, skipped))
    document = {"schema": 1, "hints_file": hints_file, "distros": distros}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _joined(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "-"


def _annotations(item: MappedHint) -> str:
    parts = []
    if item.repo:
        parts.append(f"[{item.repo}]")
    if item.resolved == RESOLVED_PKGCONFIG:
        parts.append("(pkg-config)")
    if item.resolved == RESOLVED_OVERRIDE:
        parts.append("(app override)")
    for note in item.notes:
        if note.startswith("guess: "):
            parts.append(f"(guess: {note[len('guess: ') :]})")
        elif note.startswith("version constraint dropped"):
            parts.append(f"({note})")
    return ("  " + " ".join(parts)) if parts else ""


def _text_one(
    hints_file: str, distro: Distro, mapped: Sequence[MappedHint], skipped: Sequence[Hint]
) -> str:
    lines = [f"# {distro.name} ({distro.pretty_name}): packages for {hints_file}"]
    width = min(max((len(item.hint.raw) for item in mapped), default=0), 40)
    for item in mapped:
        lines.append(
            f"{item.hint.raw:<{width}} -> build: {_joined(rendered(item, 'build'))} ; "
            f"run: {_joined(rendered(item, 'run'))}{_annotations(item)}"
        )
    for hint in skipped:
        lines.append(f"# skipped, marker false on {distro.name}: {hint.raw}")
    if not mapped and not skipped:
        lines.append("# no external dependencies listed")
    return "\n".join(lines) + "\n"


def _text_all(hints: Sequence[Hint], results: Sequence[tuple[Distro, list[MappedHint]]]) -> str:
    header = ("HINT", "DISTRO", "BUILD", "RUN", "HOW")
    rows: list[tuple[str, str, str, str, str]] = []
    for hint in hints:
        first = True
        for distro, mapped in results:
            item = next((m for m in mapped if m.hint is hint), None)
            label = hint.raw if first else ""
            first = False
            if item is None:
                rows.append((label, distro.table_name, "-", "-", "skipped (marker)"))
                continue
            how = item.resolved + (f" [{item.repo}]" if item.repo else "")
            rows.append(
                (
                    label,
                    distro.table_name,
                    _joined(rendered(item, "build")),
                    _joined(rendered(item, "run")),
                    how,
                )
            )
    if not rows:
        return "# no external dependencies listed\n"
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(4)]
    lines = []
    for row in (header, *rows):
        cells = [row[column].ljust(widths[column]) for column in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines) + "\n"


def _spec_text(hints_file: str, distro: Distro, mapped: Sequence[MappedHint]) -> str:
    lines = [f"# external dependencies for {distro.name}, from {hints_file} (rpmdeploy)"]
    for tag, which in (("BuildRequires:", "build"), ("Requires:", "run")):
        seen: set[str] = set()
        for item in mapped:
            new = [line for line in rendered(item, which) if line not in seen]
            if not new:
                continue
            if item.guess:
                reason = next(
                    (n[len("guess: ") :] for n in item.notes if n.startswith("guess: ")), ""
                )
                lines.append(
                    f"# guess for {item.hint.raw!r} ({item.hint.location}): {reason}; check it"
                )
            if item.repo:
                lines.append(f"# from {item.repo}: {item.hint.raw}")
            for line in new:
                seen.add(line)
                # rpm expands % in tag values; package names never contain one, but be safe
                lines.append(f"{tag:<15} {line.replace('%', '%%')}")
    return "\n".join(lines) + "\n"

"""``%changelog`` entries: what each release of a package or of the app changed.

One entry per release (``rpmdeploy.releases`` decides when there is a new one), in Fedora's
form::

    * Tue Jan 01 1980 rpmdeploy - 1.9.0-2
    - Rebuilt: the package templates changed

The date is the build's ``SOURCE_DATE_EPOCH``, but never before 1995-01-02: rpm refuses
%changelog dates before 1990 ("bad date") and rpmlint warns before 1995, and rpmdeploy's
default ``SOURCE_DATE_EPOCH`` is the wheel epoch, 1980-01-01.  The packager is ``[rpms] packager``
(default ``rpmdeploy``).  What an entry says is computed from what went into the RPM, compared
with the previous release: a new upstream version, or which inputs changed (artifact,
templates, target, rpmdeploy version...); for the app, the pins that changed and an excerpt
of its own ``git log`` or CHANGES file.

All of it is untrusted text (a version, a commit subject, a CHANGES line): the spec templates
print every item through ``rpm_line`` behind a ``- `` or two spaces, so no line of it can
open a section, start an entry or expand a macro.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WIDTH = 79
EARLIEST = 789004800  # 1995-01-02T00:00:00Z (rpmlint allows 26 hours): see the module doc
MAX_ENTRIES = 30  # entries shown in a spec (the history keeps every one)
MAX_EXCERPT = 10  # lines of an app's git log or CHANGES excerpt
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CHANGES_FILES = ("CHANGES", "CHANGES.md", "CHANGES.rst", "CHANGES.txt", "CHANGELOG",
                  "CHANGELOG.md", "CHANGELOG.rst", "CHANGELOG.txt", "NEWS", "NEWS.md",
                  "NEWS.rst", "NEWS.txt")  # fmt: skip
_RULE = re.compile(r"^[=\-~^*#]{3,}$")

#: What each input of a package or app is called in a changelog item.
INPUT_NAMES = {
    "artifact": "the upstream artifact",
    "artifact_name": "the upstream artifact's file",
    "extras": "the extras asked for",
    "templates": "the spec templates",
    "spec": "the spec",
    "sources": "the generated files (launcher, unit, sysconfig, sysusers)",
    "content": "the app's files",
    "target": "the target",
    "builder": "the builder",
    "rpmdeploy": "rpmdeploy",
    "license": "the licence setting",
    "source_url": "the download URL",
}


@dataclass(frozen=True)
class ChangelogEntry:
    """One entry as the spec template prints it: the line after ``* `` and the items."""

    header: str  # "Tue Jan 01 1980 rpmdeploy - 1.9.0-1"
    items: tuple[tuple[str, ...], ...]  # each item wrapped: its first line, then the rest


def entry(date: int, packager: str, evr: str, changes: Sequence[str]) -> ChangelogEntry:
    """The entry of a release of ``evr`` (``[E:]V-R``) built at ``date``."""
    items = tuple(_wrap(change) for change in changes if change.strip()) or (("Rebuilt",),)
    return ChangelogEntry(f"{rpm_date(max(date, EARLIEST))} {packager} - {evr}", items)


def rpm_date(epoch: int) -> str:
    """``Tue Jan 01 1980``: the date format of %changelog, in English whatever the locale."""
    t = time.gmtime(epoch)
    return f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} {t.tm_year}"


def _wrap(change: str) -> tuple[str, ...]:
    text = " ".join(change.split())
    return tuple(textwrap.wrap(text, WIDTH - 2, break_on_hyphens=False)) or (text,)


# --- what changed ------------------------------------------------------------------------------


def describe_package(
    previous: Mapping[str, object] | None,
    version: str,
    upstream: str,
    inputs: Mapping[str, str],
    what: str,
) -> list[str]:
    """Items for a package's new release at RPM ``version`` (``upstream``: as PyPI spells it);
    ``previous`` is its last release's record (``version``, ``inputs``, ``facts``), ``what``
    names the upstream artifact."""
    if previous is None:
        return [f"Packaged {upstream} from {what}"]
    if previous.get("version") != version:
        facts = previous.get("facts")
        before = facts.get("upstream") if isinstance(facts, Mapping) else None
        return [f"Update to {upstream} (from {before or previous.get('version')})"]
    return [rebuilt(previous.get("inputs"), inputs)]


def rebuilt(before: object, after: Mapping[str, str]) -> str:
    """``Rebuilt: the target changed, rpmdeploy 0.1.0 -> 0.2.0``: the inputs that differ."""
    old = before if isinstance(before, Mapping) else {}
    changed = [key for key in sorted(set(old) | set(after)) if old.get(key) != after.get(key)]
    words = []
    for key in changed:
        name = INPUT_NAMES.get(key, key)
        if key == "rpmdeploy" and old.get(key) and after.get(key):
            words.append(f"rpmdeploy {old[key]} -> {after[key]}")
        else:
            words.append(f"{name} changed")
    return "Rebuilt: " + (", ".join(words) if words else "nothing recorded changed")


def describe_pins(before: object, after: Mapping[str, str]) -> list[str]:
    """One item per pin added, removed or moved to another version."""
    old = before if isinstance(before, Mapping) else {}
    items = []
    for name in sorted(set(old) | set(after)):
        if name not in old:
            items.append(f"Added {name} {after[name]}")
        elif name not in after:
            items.append(f"Removed {name} {old[name]}")
        elif old[name] != after[name]:
            items.append(f"{name} {old[name]} -> {after[name]}")
    return items


def changes_excerpt(app_dir: Path) -> list[str]:
    """The first section of the app's CHANGES/CHANGELOG/NEWS file, a few lines of it."""
    for name in _CHANGES_FILES:
        path = app_dir / name
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return []
            return _first_section(text)
    return []


def _first_section(text: str) -> list[str]:
    """The lines of the file's first section that has any (under a Markdown ``#`` heading
    or an underlined title), list markers removed."""
    raw = [line.strip() for line in text.splitlines()]
    lines: list[str] = []
    for index, line in enumerate(raw):
        following = raw[index + 1] if index + 1 < len(raw) else ""
        if line.startswith("#") or (bool(line) and bool(_RULE.match(following))):
            if lines:
                break
            continue
        if not line or _RULE.match(line):
            continue
        item = line.lstrip("-*+ ").strip()
        if item:
            lines.append(item)
        if len(lines) >= MAX_EXCERPT:
            break
    return lines

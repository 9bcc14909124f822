"""Release numbers that move, and the history that decides them (``rpmdeploy-history.json``).

The idea of rpmautospec's ``%autorelease``, without git: a package's Release goes up whenever
what goes into its RPM changes for the same version, and never otherwise.  "What goes in" is
a record of *inputs* (the artifact's hash, the spec templates' hash, the target, the
builder, the rpmdeploy version, settings that change the spec; for the app, its files and
generated sources); its digest is the release's *fingerprint*.

For a package NAME at version V (the spec's ``[E:]V``), with the history's entries:

* the newest entry of (NAME, V) has the same fingerprint: that release again, with its own
  date (``SOURCE_DATE_EPOCH``) and changelog, so the RPM comes out byte for byte the same;
* otherwise a new entry: Release = 1 + the highest release of (NAME, V) in the history or
  in the published repository (so an old repository without a history never gets the same
  NEVR twice), dated ``max(SOURCE_DATE_EPOCH, the previous entry's date)`` so the changelog
  stays in order, with changelog items saying what changed (``rpmdeploy.changelog``).

The history lives with what was published: ``REPO_DIR/rpmdeploy-history.json`` for
``release`` (written into each new generation), ``OUT/rpmdeploy-history.json`` for ``rpms`` and
``app``.  It is the only state: a rebuild elsewhere from the same history and the same inputs
gives the same numbers and the same bytes.  The file is a JSON object (sorted keys, one-space
indent, final newline: same history, same bytes)::

    {"format": 1,
     "packages": {"python3-blinker": [
        {"version": "1.9.0", "release": 1, "date": 315532800, "packager": "rpmdeploy",
         "inputs": {"artifact": "<sha256>", "templates": "...", ...},
         "changes": ["Packaged 1.9.0 from blinker-1.9.0-py3-none-any.whl"],
         "facts": {}}, ...]}}

:func:`check_conflicts` makes publishing an existing NEVR with other content impossible.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rpmdeploy.cache import stable_key
from rpmdeploy.changelog import MAX_ENTRIES, ChangelogEntry
from rpmdeploy.changelog import entry as changelog_entry
from rpmdeploy.errors import RepoError

HISTORY_FILE = "rpmdeploy-history.json"
FORMAT = 1
DEFAULT_PACKAGER = "rpmdeploy"


@dataclass(frozen=True)
class Entry:
    """One release of one package, as the history records it."""

    version: str  # [E:]V, the spec's Epoch and Version tags
    release: int
    date: int  # SOURCE_DATE_EPOCH of its build and date of its changelog entry
    packager: str
    inputs: Mapping[str, str]  # what went into the RPM
    changes: tuple[str, ...]  # its changelog items (untrusted text)
    facts: Mapping[str, Any] = field(default_factory=dict)  # the app's pins, its commit

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.inputs)

    @property
    def evr(self) -> str:
        return f"{self.version}-{self.release}"

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "changes": list(self.changes)}


@dataclass(frozen=True)
class Planned:
    """A package's release in this build: its number, date and changelog (newest first)."""

    release: int
    date: int
    changelog: tuple[ChangelogEntry, ...]
    new: bool  # a release the history did not have

    @property
    def key(self) -> list[object]:
        """What of the plan changes the RPM: part of its build cache key."""
        return [self.release, self.date, [asdict(e) for e in self.changelog]]


def fingerprint(inputs: Mapping[str, str]) -> str:
    return stable_key("release-inputs", dict(inputs))


Describe = Callable[[Entry | None], list[str]]


class History:
    """The release history of every package published to one place (thread-safe)."""

    def __init__(
        self,
        packages: Mapping[str, Sequence[Entry]] | None = None,
        published: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self._packages = {name: list(entries) for name, entries in (packages or {}).items()}
        self._published = dict(published or {})  # (name, [E:]V) -> highest published release
        self._lock = threading.Lock()

    # --- reading and writing --------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> History:
        """The history in ``path``; an empty one when there is no file."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise RepoError(f"cannot read the release history {path}: {exc.strerror}") from None
        return cls.from_json(text, str(path))

    @classmethod
    def from_json(cls, text: str, source: str = HISTORY_FILE) -> History:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            packages = {
                str(name): [_entry(item) for item in items]
                for name, items in data["packages"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RepoError(
                f"{source} is not a valid rpmdeploy release history ({exc}); move it away to "
                "start numbering again"
            ) from None
        return cls(packages)

    def to_json(self) -> str:
        with self._lock:
            packages = {
                name: [e.record() for e in entries]
                for name, entries in sorted(self._packages.items())
            }
        return json.dumps({"format": FORMAT, "packages": packages}, indent=1, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    def seed(self, published: Iterable[tuple[str, str, str]]) -> None:
        """Releases already published (name, [E:]V, release), so numbering goes above them."""
        with self._lock:
            for name, version, release in published:
                if release.isdigit():
                    key = (name, version)
                    self._published[key] = max(self._published.get(key, 0), int(release))

    # --- deciding ---------------------------------------------------------------------------

    def entries(self, name: str) -> tuple[Entry, ...]:
        with self._lock:
            return tuple(self._packages.get(name, ()))

    def plan(
        self,
        name: str,
        version: str,
        inputs: Mapping[str, str],
        *,
        date: int,
        packager: str,
        describe: Describe,
        facts: Mapping[str, Any] | None = None,
    ) -> Planned:
        """The release of ``name`` at ``version`` built from ``inputs`` (see the module doc).

        ``describe(previous entry or None)`` gives a new release's changelog items.
        """
        with self._lock:
            entries = self._packages.setdefault(name, [])
            same = [i for i, e in enumerate(entries) if e.version == version]
            if same and entries[same[-1]].fingerprint == fingerprint(inputs):
                return self._planned(entries, same[-1], new=False)
            highest = max(
                [entries[i].release for i in same] + [self._published.get((name, version), 0)]
            )
            previous = entries[-1] if entries else None
            new = Entry(
                version=version,
                release=highest + 1,
                date=max(date, previous.date if previous else date),
                packager=packager,
                inputs=dict(inputs),
                changes=tuple(describe(previous)),
                facts=dict(facts or {}),
            )
            entries.append(new)
            return self._planned(entries, len(entries) - 1, new=True)

    @staticmethod
    def _planned(entries: list[Entry], index: int, *, new: bool) -> Planned:
        shown = entries[: index + 1][-MAX_ENTRIES:]
        changelog = tuple(
            changelog_entry(e.date, e.packager, e.evr, e.changes) for e in reversed(shown)
        )
        chosen = entries[index]
        return Planned(chosen.release, chosen.date, changelog, new)


def _entry(item: Mapping[str, Any]) -> Entry:
    entry = Entry(
        version=str(item["version"]),
        release=int(item["release"]),
        date=int(item["date"]),
        packager=str(item["packager"]),
        inputs={str(k): str(v) for k, v in item["inputs"].items()},
        changes=tuple(str(c) for c in item["changes"]),
        facts=dict(item.get("facts", {})),
    )
    if entry.release < 1 or entry.date < 0:
        raise ValueError(f"release {entry.release} dated {entry.date}")
    return entry


def neutral_plan(date: int, packager: str, evr: str, changes: Sequence[str]) -> Planned:
    """A first release with no history (``rpmdeploy spec``, a spec rendered for a digest)."""
    return Planned(1, date, (changelog_entry(date, packager, evr, changes),), True)


# --- publishing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A package file about to be published, or already published (name = N-V-R.A.rpm)."""

    file_name: str
    header_sha256: str | None


def check_conflicts(new: Iterable[Published], existing: Iterable[Published]) -> None:
    """Refuse to publish an NEVR that already exists with other content (one-line error)."""
    known = {p.file_name: p.header_sha256 for p in existing}
    clashes = sorted(
        p.file_name
        for p in new
        if p.file_name in known and (known[p.file_name] != p.header_sha256 or not p.header_sha256)
    )
    if clashes:
        more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
        raise RepoError(
            f"refusing to publish {clashes[0]}{more}: a package with that name, version and "
            "release is already published with other content (its history is missing or "
            f"was changed: keep {HISTORY_FILE} with the repository)"
        )


def check_replacements(pairs: Iterable[tuple[Path, Path]]) -> None:
    """(new file, where it goes): refuse when the destination holds a package of the same
    name with other content (an unchanged package, same bytes, is fine)."""
    from rpmdeploy.repo import read_rpm  # lazily: the rpm bindings only when comparing

    new, existing = [], []
    for source, dest in pairs:
        if not dest.is_file() or _same_bytes(source, dest):
            continue
        new.append(_published(read_rpm(source), dest.name))
        existing.append(_published(read_rpm(dest), dest.name))
    check_conflicts(new, existing)


def _published(package: Any, file_name: str) -> Published:
    return Published(file_name, package.header_sha256)


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with a.open("rb") as fa, b.open("rb") as fb:
            while True:
                block = fa.read(1 << 20)
                if block != fb.read(1 << 20):
                    return False
                if not block:
                    return True
    except OSError:
        return False

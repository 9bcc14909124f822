"""A package's licence as an SPDX expression, and how sure rpmdeploy is of it.

Where the expression comes from, first found wins:

1. ``[packages.NAME] license`` in the app's rpmdeploy.toml (status ``override``);
2. ``License-Expression`` (PEP 639), validated (``declared``);
3. the ``License`` field when it is a valid SPDX expression (``declared``) or a known
   free-text spelling (``data/licenses.toml`` ``[aliases]``: ``mapped``; its
   ``[alias-guesses]``: ``guessed``);
4. the trove classifiers (``[classifiers]``: ``mapped``; ``[classifier-guesses]``, or
   several licence classifiers read as ``AND``: ``guessed``);
5. nothing: ``LicenseRef-Unknown`` (``unknown``).

Every expression is validated with ``packaging.licenses`` and its deprecated SPDX ids are
upgraded (``GPL-2.0+`` -> ``GPL-2.0-or-later``, ``data/licenses.toml`` ``[deprecated]``),
each upgrade noted.  An invalid ``License-Expression`` is not passed through: it is noted and
the next source is used.  Guessed and unknown licences are reported (:func:`report_lines`,
:func:`findings_json`) and, with ``--strict-licenses``, refused (:func:`check_strict`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from rpmdeploy.errors import MetadataError

UNKNOWN = "LicenseRef-Unknown"
#: The machine-readable report, beside what was published (REPO_DIR or OUT).
LICENSES_FILE = "rpmdeploy-licenses.json"
#: Statuses, from most to least certain.
STATUSES = ("override", "declared", "mapped", "guessed", "unknown")
#: The statuses a release reports, and --strict-licenses refuses.
DOUBTFUL = frozenset({"guessed", "unknown"})
_TOKEN = re.compile(r"[()]|[^\s()]+")
_OPERATORS = frozenset({"AND", "OR", "WITH"})


@dataclass(frozen=True)
class License:
    """The licence rpmdeploy writes into a package's spec, and why."""

    expression: str  # a valid SPDX expression (or LicenseRef-Unknown)
    status: str  # one of STATUSES
    source: str = ""  # what the metadata said, e.g. "classifier 'License :: ... :: BSD License'"
    notes: tuple[str, ...] = ()  # upgrades of deprecated ids, ignored invalid values

    @property
    def doubtful(self) -> bool:
        return self.status in DOUBTFUL


@dataclass(frozen=True)
class Finding:
    """One package's licence, as the release reports it."""

    package: str  # binary RPM name
    version: str
    license: License

    def line(self) -> str:
        lic = self.license
        said = f" from {lic.source}" if lic.source else ""
        notes = "".join(f"; {n}" for n in lic.notes)
        return f"{self.package} {self.version}: {lic.expression} ({lic.status}{said}{notes})"


def from_metadata(raw: Mapping[str, Any]) -> License:
    """The licence of a package's core metadata (``packaging.metadata.RawMetadata``)."""
    notes: list[str] = []
    declared = _text(raw.get("license_expression"))
    if declared:
        valid = validate(declared)
        if valid is not None:
            return License(valid[0], "declared", f"License-Expression {declared!r}", valid[1])
        notes.append(f"invalid License-Expression {_short(declared)!r} ignored")
    field = _license_field(_text(raw.get("license")))
    if field is not None:
        return replace(field, notes=(*notes, *field.notes))
    found = _from_classifiers(raw.get("classifiers") or [])
    if found is not None:
        return replace(found, notes=(*notes, *found.notes))
    return License(UNKNOWN, "unknown", "", tuple(notes))


def override(expression: str, where: str) -> License:
    """``[packages.NAME] license``: must be a valid SPDX expression (deprecated ids upgraded)."""
    valid = validate(expression)
    if valid is None:
        raise MetadataError(f"{where}: {expression!r} is not a valid SPDX licence expression")
    return License(valid[0], "override", where, valid[1])


def validate(expression: str) -> tuple[str, tuple[str, ...]] | None:
    """The canonical SPDX expression with deprecated ids upgraded, and a note per upgrade;
    None when ``expression`` is not a valid SPDX expression."""
    try:
        canonical = str(canonicalize_license_expression(expression))
    except InvalidLicenseExpression:
        return None
    upgrades = _tables()["deprecated"]
    tokens, notes = [], []
    for token in _TOKEN.findall(canonical):
        new = upgrades.get(token)
        if new is not None and token not in _OPERATORS:
            notes.append(f"deprecated SPDX id {token} upgraded to {new}")
            token = new
        tokens.append(token)
    text = " ".join(tokens).replace("( ", "(").replace(" )", ")")
    try:
        return str(canonicalize_license_expression(text)), tuple(notes)
    except InvalidLicenseExpression:  # a replacement table entry is wrong: keep the original
        return canonical, ()


def check_strict(findings: Iterable[Finding]) -> None:
    """--strict-licenses: a guessed or unknown licence is an error naming every such package."""
    doubtful = [f for f in findings if f.license.doubtful]
    if doubtful:
        listed = ", ".join(
            f"{f.package} ({f.license.status}: {f.license.expression})" for f in doubtful
        )
        raise MetadataError(
            f"licences not declared by the packages (--strict-licenses): {listed}; set "
            '[packages.NAME] license = "SPDX" in rpmdeploy.toml'
        )


def report_lines(findings: Iterable[Finding]) -> list[str]:
    """One line per guessed or unknown licence, for the summary."""
    return [f.line() for f in findings if f.license.doubtful]


def findings_json(findings: Iterable[Finding]) -> str:
    """Every package's licence, machine-readable (sorted, stable bytes)."""
    rows = sorted(
        (
            {
                "package": f.package,
                "version": f.version,
                **{k: v for k, v in asdict(f.license).items() if k != "notes"},
                "notes": list(f.license.notes),
                "doubtful": f.license.doubtful,
            }
            for f in findings
        ),
        key=lambda row: (row["package"], row["version"]),
    )
    return json.dumps({"format": 1, "licenses": rows}, indent=1, sort_keys=True) + "\n"


def finding_from_json(data: Mapping[str, Any]) -> License | None:
    """A License stored with :func:`to_json`, or None if the data is not one."""
    try:
        lic = License(
            str(data["expression"]),
            str(data["status"]),
            str(data.get("source", "")),
            tuple(str(n) for n in data.get("notes", [])),
        )
    except (KeyError, TypeError):
        return None
    return lic if lic.status in STATUSES else None


def to_json(lic: License) -> dict[str, Any]:
    return {**asdict(lic), "notes": list(lic.notes)}


# --- the sources -------------------------------------------------------------------------------


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _license_field(text: str) -> License | None:
    if not text or "\n" in text or len(text) > 100:  # full licence texts are not identifiers
        return None
    source = f"License {_short(text)!r}"
    tables = _tables()
    for table, status in (("aliases", "mapped"), ("alias-guesses", "guessed")):
        alias = tables[table].get(text.lower())
        if alias:
            return License(alias, status, source)
    valid = validate(text)
    if valid is not None:
        return License(valid[0], "declared", source, valid[1])
    return None


def _from_classifiers(classifiers: Iterable[str]) -> License | None:
    tables = _tables()
    found: dict[str, str] = {}  # expression -> status
    sources: list[str] = []
    for classifier in classifiers:
        for table, status in (("classifiers", "mapped"), ("classifier-guesses", "guessed")):
            expression = tables[table].get(classifier)
            if expression:
                found.setdefault(expression, status)
                sources.append(classifier.rsplit(" :: ", 1)[-1])
    if not found:
        return None
    status = "guessed" if len(found) > 1 or "guessed" in found.values() else "mapped"
    notes = ("several licence classifiers, read as AND",) if len(found) > 1 else ()
    source = "classifier " + ", ".join(repr(s) for s in sources)
    return License(" AND ".join(found), status, source, notes)


@cache
def _tables() -> dict[str, dict[str, str]]:
    text = resources.files("rpmdeploy").joinpath("data/licenses.toml").read_text()
    return tomllib.loads(text)

"""Hints: the lines of an app's ``external-dependencies.txt``, parsed.

Contract: ``parse_hints`` turns the text into ``Hint`` values (one per non-blank,
non-comment line, in order, with their line numbers) or raises ``ExternalsError`` whose
one-line message names ``source:line``; nothing here knows any distribution.  ``normalise``
is the one spelling rule every lookup of a hint name uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker

from rpmdeploy.errors import ExternalsError

HINTS_FILE = "external-dependencies.txt"


@dataclass(frozen=True)
class Constraint:
    """One version comparison; ``op`` is one of ``< <= = >= > !=``."""

    op: str
    version: str


@dataclass(frozen=True)
class Hint:
    """One line of external-dependencies.txt.

    ``name`` is the normalised lookup name: ``libpq``, ``pkgconfig(libxml-2.0)``,
    ``dep:generic/libxml2``, ``dep:virtual/compiler/c``.  ``style`` says which of
    ``name``/``pkgconfig``/``pep725`` it was written in.
    """

    raw: str
    name: str
    style: str
    constraints: tuple[Constraint, ...]
    marker: str | None
    source: str
    line: int

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


_OPS = ("===", "<=", ">=", "==", "!=", "~=", "<<", ">>", "<", ">", "=")
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~_:-]*")
_PKGCONFIG_RE = re.compile(r"pkgconfig\(\s*([A-Za-z0-9][A-Za-z0-9._+-]*)\s*\)", re.IGNORECASE)
_PURL_RE = re.compile(
    r"(?P<scheme>dep|pkg|virtual):(?P<path>[A-Za-z0-9][A-Za-z0-9._+/-]*)"
    r"(?:\?[^\s;()<>=!~,@]*)?(?:@(?P<version>[A-Za-z0-9][A-Za-z0-9.+~_:-]*))?"
)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*(?::[a-z0-9_]+)?")


def parse_hints(text: str, source: str = HINTS_FILE) -> list[Hint]:
    """Parse external-dependencies.txt; garbage raises ExternalsError naming ``source:line``.

    Accepted on each line (``#`` starts a comment):
    ``libpq (>=9.1)``, ``C``, ``libxml2-dev``, ``openssl-devel >= 1.1``,
    ``pkgconfig(libxml-2.0) >= 2.9``, ``dep:generic/openssl>=3``, ``dep:virtual/compiler/c``,
    the older ``pkg:generic/...`` and ``virtual:compiler/c`` spellings, each optionally
    followed by ``; <PEP 508 environment marker>``.
    """
    hints = []
    for number, line in enumerate(text.splitlines(), start=1):
        body = _strip_comment(line).strip()
        if body:
            hints.append(_parse_line(body, source, number))
    return hints


def read_hints(app_dir: Path, *, missing_ok: bool = False) -> list[Hint]:
    """The hints of ``app_dir/external-dependencies.txt``.

    A missing file is an error (map-externals has nothing to map), unless ``missing_ok``,
    which the app builder uses to treat "no file" as "no external dependencies".
    """
    path = Path(app_dir) / HINTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return []
        raise ExternalsError(
            f"{path} is missing: the app directory must list its system packages there "
            "(an app that needs none can ship an empty file)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExternalsError(f"cannot read {path}: {exc}") from exc
    return parse_hints(text, source=str(path))


def normalise(name: str) -> str:
    """The lookup spelling of a hint or package name (lower case, Debian ``:arch`` dropped)."""
    text = name.strip().lower()
    if text.startswith("pkgconfig("):
        return "pkgconfig(" + text[len("pkgconfig(") :].rstrip(")").strip() + ")"
    if ":" in text and not text.startswith(("dep:", "pkg:", "virtual:")):
        # Debian architecture qualifiers: python3-dev:any, libssl-dev:amd64
        text = text.split(":", 1)[0]
    return text


def _unquoted_index(text: str, wanted: str) -> int | None:
    """Index of the first ``wanted`` outside quotes (markers quote their strings)."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == wanted:
            return index
    return None


def _strip_comment(line: str) -> str:
    index = _unquoted_index(line, "#")
    return line if index is None else line[:index]


def _split_marker(body: str) -> tuple[str, str | None]:
    index = _unquoted_index(body, ";")
    if index is None:
        return body, None
    return body[:index].strip(), body[index + 1 :].strip()


def _parse_line(body: str, source: str, number: int) -> Hint:
    where = f"{source}:{number}"
    requirement, marker = _split_marker(body)
    if marker is not None:
        if not marker:
            raise ExternalsError(f"{where}: empty environment marker after ';' in {body!r}")
        try:
            Marker(marker)
        except InvalidMarker as exc:
            reason = str(exc).splitlines()[0]
            raise ExternalsError(
                f"{where}: invalid environment marker {marker!r}: {reason}"
            ) from exc
    if "|" in requirement:
        raise ExternalsError(
            f"{where}: alternatives ('|') are not supported in {requirement!r}; "
            "write one hint per line, or map the name in external-mappings.toml"
        )
    name, style, rest, purl_version = _parse_head(requirement, where)
    constraints = _parse_constraints(rest, where, requirement)
    if purl_version is not None:
        if constraints:
            raise ExternalsError(f"{where}: both '@version' and a version range in {body!r}")
        constraints = (Constraint("=", purl_version),)
    return Hint(
        raw=body,
        name=name,
        style=style,
        constraints=constraints,
        marker=marker,
        source=source,
        line=number,
    )


def _parse_head(requirement: str, where: str) -> tuple[str, str, str, str | None]:
    """(normalised name, style, text after the name, purl @version)."""
    match = _PKGCONFIG_RE.match(requirement)
    if match:
        return f"pkgconfig({match.group(1)})", "pkgconfig", requirement[match.end() :], None
    if requirement.lower().startswith("pkgconfig("):
        raise ExternalsError(f"{where}: malformed pkg-config hint {requirement!r}")
    match = _PURL_RE.match(requirement)
    if match:
        scheme, path = match.group("scheme").lower(), match.group("path").lower().rstrip("/")
        # PEP 725 drafts wrote pkg:generic/x and virtual:compiler/c; the PEP says dep:
        name = f"dep:virtual/{path}" if scheme == "virtual" else f"dep:{path}"
        if "/" not in path:
            raise ExternalsError(f"{where}: incomplete PEP 725 key {requirement!r}")
        return name, "pep725", requirement[match.end() :], match.group("version")
    match = _NAME_RE.match(requirement)
    if match:
        return normalise(match.group(0)), "name", requirement[match.end() :], None
    raise ExternalsError(
        f"{where}: cannot read {requirement!r} as a hint; expected a name such as "
        "'libpq (>=9.1)', 'libxml2-dev', 'pkgconfig(libxml-2.0)' or 'dep:generic/libxml2'"
    )


def _parse_constraints(rest: str, where: str, requirement: str) -> tuple[Constraint, ...]:
    text = rest.strip()
    if not text:
        return ()
    if text.startswith("("):
        if not text.endswith(")"):
            raise ExternalsError(f"{where}: unbalanced parentheses in {requirement!r}")
        text, bare_means_equal = text[1:-1].strip(), True
    elif text.startswith(_OPS):
        bare_means_equal = False
    else:
        raise ExternalsError(
            f"{where}: unexpected {text!r} after the name in {requirement!r}; versions go "
            "in parentheses, as in 'libpq (>=9.1)'"
        )
    if not text:
        return ()
    constraints: list[Constraint] = []
    for part in text.split(","):
        constraints.extend(_parse_constraint(part.strip(), bare_means_equal, where, requirement))
    return tuple(constraints)


def _parse_constraint(
    part: str, bare_means_equal: bool, where: str, requirement: str
) -> list[Constraint]:
    op = next((candidate for candidate in _OPS if part.startswith(candidate)), "")
    version = part[len(op) :].strip()
    if op == "===":
        raise ExternalsError(f"{where}: '===' is not usable for system packages in {requirement!r}")
    if not op and not bare_means_equal:
        raise ExternalsError(f"{where}: missing comparison operator in {requirement!r}")
    if not _VERSION_RE.fullmatch(version or "-"):
        detail = "wildcard versions cannot be expressed" if "*" in version else "bad version"
        raise ExternalsError(f"{where}: {detail} {version!r} in {requirement!r}")
    canonical = {"": "=", "==": "=", "<<": "<", ">>": ">"}.get(op, op)
    if canonical != "~=":
        return [Constraint(canonical, version)]
    # PEP 440 compatible release: ~=1.4.2 means >=1.4.2 and <1.5
    pieces = version.split(".")
    if len(pieces) < 2 or not all(piece.isdigit() for piece in pieces):
        raise ExternalsError(
            f"{where}: '~=' needs a numeric version with at least two parts in {requirement!r}"
        )
    upper = ".".join([*pieces[:-2], str(int(pieces[-2]) + 1)])
    return [Constraint(">=", version), Constraint("<", upper)]

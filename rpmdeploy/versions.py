"""PEP 440 versions and specifiers in RPM syntax.

Follows Fedora's Python packaging rules for versions and specifiers, as Fedora's
python-rpm-generators (``pythondistdeps.py``) apply them: trailing ``.0`` dropped, ``N!`` ->
``N:``, pre-release ``~``, dev release ``~~``, post release ``^post``, local part dropped.

The goal is that rpm orders converted versions exactly as PEP 440 orders the originals, and
that a converted specifier admits exactly the versions ``SpecifierSet.contains(v,
prereleases=True)`` admits (local versions aside).  Two places go beyond pythondistdeps to
reach that:

* Combined suffixes keep every part (pythondistdeps keeps only the first of pre, dev, post):
  ``1.0a1.dev2`` -> ``1~a1~~dev2``, ``1.0.post1.dev2`` -> ``1^post1~~dev2``,
  ``1.0a1.post1`` -> ``1~a1^post1``.  Otherwise e.g. ``1.0.post1.dev2`` would equal
  ``1.0.post1`` in rpm.
* Bounds that must exclude a whole release family use its floor ``V~~`` (sorts below
  ``V.dev0``) or ceiling ``V.0`` (sorts above every ``V^postN``): ``~=``, ``==V.*`` and
  ``!=V.*`` bounds end in ``~~``, ``<V`` gets ``~~`` unless V is itself a pre-release, and
  ``>V`` gets ``.0`` unless V is a post or dev release.

Two forms of one version.  The *tag* form (:func:`rpm_tag_version`), for a package's
Version tag, is the upstream version in RPM syntax with its release numbers as written
(``1.9.0`` stays ``1.9.0``, as Fedora's spec files do), so ``python3-blinker-1.9.0-1`` is
what a server and a Puppet ``ensure`` see.  The *dependency* form (:func:`rpm_version`),
for ``python3dist(x) = V`` and every converted specifier, drops trailing zeros as Fedora's
generator does, so ``==1.9`` and ``==1.9.0`` (equal in PEP 440) give the same RPM version.
Both keep the pre/post/dev/epoch rules above; each is only ever compared with its own kind.
The tag form orders as PEP 440 does except between spellings PEP 440 calls equal, and when
a later release has fewer components than an earlier one and continues with a post part
(``1.0.0`` then ``1.0.post1``, which rpm sorts lower): rare, and Fedora's behaviour too.

Remaining, documented difference: local versions (``+abc``) are dropped, so ``1.0+abc``
equals ``1.0`` and ``===`` (string identity) becomes plain ``=``.

Multiple specifiers are joined in the order written (duplicates dropped) into one rich
``with`` dependency; the metadata's own order is stable, so the output is deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from rpmdeploy.errors import VersionError

__all__ = [
    "RpmVersion",
    "rpm_requires",
    "rpm_tag_version",
    "rpm_version",
    "rpm_version_compare",
]

# Characters rpm accepts in a Version tag (rpmCharCheck), minus macro syntax.
_LEGAL_VERSION = re.compile(r"[A-Za-z0-9._+~^]+")
# The spec's Epoch tag is parsed as an unsigned 32-bit number.
_MAX_EPOCH = 2**32 - 1


@dataclass(frozen=True)
class RpmVersion:
    """An RPM epoch and version converted from a PEP 440 version."""

    epoch: int  # 0 when there is no epoch
    version: str  # legal RPM Version tag value: no '-', ':' or whitespace

    @property
    def evr(self) -> str:
        """``N:V`` when there is an epoch, else ``V``: the form used in dependencies."""
        return f"{self.epoch}:{self.version}" if self.epoch else self.version


def rpm_version(pep440: str) -> RpmVersion:
    """The dependency form (trailing zeros dropped); raise VersionError if not PEP 440."""
    return _convert(_parse_version(pep440))


def rpm_tag_version(pep440: str) -> RpmVersion:
    """The Version tag form: the release numbers as upstream wrote them (normalised by
    PEP 440, so ``01.2.0`` is ``1.2.0``), pre/post/dev/epoch as in :func:`rpm_version`."""
    return _convert(_parse_version(pep440), keep_zeros=True)


def rpm_version_compare(a: str, b: str) -> int:
    """Compare two RPM ``[E:]V[-R]`` strings with rpm.labelCompare: -1, 0 or 1.

    A missing epoch is 0; a missing release sorts below any release (labelCompare's rule).
    """
    import rpm  # lazily: only comparing needs the bindings (`--help` must work without)

    result: int = rpm.labelCompare(_split_evr(a), _split_evr(b))
    return (result > 0) - (result < 0)


def rpm_requires(symbol: str, specifier: str, *, context: str) -> str:
    """Convert a PEP 440 specifier set on ``symbol`` to one rpm dependency string.

    An empty specifier gives the bare symbol; several specifiers give one rich ``with``
    dependency in the order written.  ``context`` (e.g. "package foo, requirement
    'bar~=1'") prefixes the message of the VersionError raised for an invalid specifier.
    """
    try:
        specs = list(SpecifierSet(specifier))
    except InvalidSpecifier as exc:
        raise VersionError(f"{context}: invalid version specifier {specifier!r}") from exc
    try:
        clauses = list(dict.fromkeys(_convert_spec(symbol, spec) for spec in specs))
    except VersionError as exc:
        raise VersionError(f"{context}: cannot convert {specifier!r}: {exc}") from exc
    if not clauses:
        return symbol
    if len(clauses) == 1:
        return clauses[0]
    return "(" + " with ".join(clauses) + ")"


def _parse_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise VersionError(f"invalid version {text!r}: not a PEP 440 version") from None


def _convert(version: Version, *, keep_zeros: bool = False) -> RpmVersion:
    if version.epoch > _MAX_EPOCH:
        raise VersionError(f"invalid version {str(version)!r}: epoch too large for rpm")
    release = ".".join(map(str, version.release)) if keep_zeros else _release(version.release)
    result = release + _suffix(version)
    if not _LEGAL_VERSION.fullmatch(result):  # cannot happen; guards the Version tag
        raise VersionError(f"version {str(version)!r} converts to illegal rpm {result!r}")
    return RpmVersion(version.epoch, result)


def _release(release: tuple[int, ...]) -> str:
    # PEP 440 pads with zeros, rpm would treat 1.0 > 1; keep at least one component.
    parts = list(release)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return ".".join(str(part) for part in parts)


def _suffix(version: Version) -> str:
    # rpm sorts '~' before anything, even the end of the string, and '^' after the end but
    # before any further component; PEP 440 orders dev < pre < (release) < post, and a dev
    # part sorts below whatever it follows.  Emitting the parts in PEP 440 order keeps both.
    suffix = ""
    if version.pre is not None:
        suffix += f"~{version.pre[0]}{version.pre[1]}"
    if version.post is not None:
        suffix += f"^post{version.post}"
    if version.dev is not None:
        suffix += f"~~dev{version.dev}"
    return suffix


def _evr(epoch: int, version: str) -> str:
    return RpmVersion(epoch, version).evr


def _family_floor(epoch: int, release: tuple[int, ...], *, bump: bool = False) -> str:
    # "R~~" sorts below every converted version of release R (R.dev0 is "R~~dev0"), so it is
    # the lowest point of the prefix R.* (or of the next prefix, when bumped).
    if bump:
        release = (*release[:-1], release[-1] + 1)
    return _evr(epoch, _release(release) + "~~")


def _convert_spec(symbol: str, spec: Specifier) -> str:
    op, text = spec.operator, spec.version
    if op in ("==", "!=") and text.endswith(".*"):  # ===1.* is a literal string: fails below
        prefix = _parse_version(text[:-2])
        low = _family_floor(prefix.epoch, prefix.release)
        high = _family_floor(prefix.epoch, prefix.release, bump=True)
        if op == "==":
            return f"({symbol} >= {low} with {symbol} < {high})"
        return f"({symbol} < {low} or {symbol} >= {high})"
    version = _parse_version(text)
    evr = _convert(version).evr
    if op == "~=":  # packaging rejects a single release component
        upper = _family_floor(version.epoch, version.release[:-1], bump=True)
        return f"({symbol} >= {evr} with {symbol} < {upper})"
    if op in ("==", "==="):
        return f"{symbol} = {evr}"
    if op == "!=":
        return f"({symbol} < {evr} or {symbol} > {evr})"
    if op == "<" and not version.is_prerelease:
        # <V must not admit V's pre/dev releases (nor V.postN.devM when V is a post release).
        evr += "~~"
    elif op == ">" and version.post is None and version.dev is None:
        # >V must not admit V's post releases; "V.0" sorts above every "V^postN".
        evr += ".0"
    return f"{symbol} {op} {evr}"


def _split_evr(evr: str) -> tuple[str, str, str | None]:
    # labelCompare wants (epoch, version, release) with the epoch as a string.
    epoch, colon, rest = evr.partition(":")
    if not colon:
        epoch, rest = "0", evr
    version, dash, release = rest.rpartition("-") if "-" in rest else (rest, "", "")
    if not epoch.isdigit() or not version or (dash and not release):
        raise VersionError(f"invalid rpm version {evr!r}")
    return epoch, version, release if dash else None

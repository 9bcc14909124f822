"""Tests for rpmdeploy.versions: PEP 440 -> RPM versions and dependencies.

The property tests check the two promises of the module against the real rpm library:
converted versions sort in rpm as PEP 440 sorts the originals, and a converted specifier
admits exactly the versions ``SpecifierSet.contains(v, prereleases=True)`` admits.  Known,
documented exceptions (excluded from the generators): local versions (dropped by the
conversion) and ``===`` (string identity, converted to plain ``=``).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import rpm
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from rpmdeploy.errors import VersionError
from rpmdeploy.versions import (
    RpmVersion,
    rpm_requires,
    rpm_tag_version,
    rpm_version,
    rpm_version_compare,
)

LEGAL_RPM_VERSION = re.compile(r"[A-Za-z0-9._+~^]+")
CONTEXT = "package foo, requirement 'bar~=1'"
S = "python3dist(idna)"

# (PEP 440 input, expected epoch, expected RPM version)
VERSIONS = [
    ("2.0.0", 0, "2"),
    ("2020.04.07", 0, "2020.4.7"),
    ("01.002", 0, "1.2"),
    ("v1.0", 0, "1"),
    (" 1.0 ", 0, "1"),
    ("1.10", 0, "1.10"),
    ("1.2.3.4.5", 0, "1.2.3.4.5"),
    ("1.0.0.1", 0, "1.0.0.1"),
    ("0", 0, "0"),
    ("0.0", 0, "0"),
    ("0.0.0", 0, "0"),
    ("0.1", 0, "0.1"),
    ("0.0.1", 0, "0.0.1"),
    ("1!2.0", 1, "2"),
    ("1!0", 1, "0"),
    ("2!1.0.0rc2", 2, "1~rc2"),
    ("1.0rc1", 0, "1~rc1"),
    ("1.0c1", 0, "1~rc1"),
    ("1.0preview1", 0, "1~rc1"),
    ("1.0pre1", 0, "1~rc1"),
    ("1.0_rc_1", 0, "1~rc1"),
    ("1.0ALPHA1", 0, "1~a1"),
    ("1.0beta", 0, "1~b0"),
    ("1.0a0", 0, "1~a0"),
    ("10.0.0b2", 0, "10~b2"),
    ("1.0.dev3", 0, "1~~dev3"),
    ("1.0-dev", 0, "1~~dev0"),
    ("3.14.0.dev0", 0, "3.14~~dev0"),
    ("1.0.post1", 0, "1^post1"),
    ("1.0.POST1", 0, "1^post1"),
    ("1.0-1", 0, "1^post1"),
    ("1.0.post", 0, "1^post0"),
    ("1.0rev2", 0, "1^post2"),
    ("1.0r3", 0, "1^post3"),
    ("1.0a1.dev2", 0, "1~a1~~dev2"),
    ("1.0.post1.dev2", 0, "1^post1~~dev2"),
    ("1.0a1.post2", 0, "1~a1^post2"),
    ("1.0a1.post2.dev3", 0, "1~a1^post2~~dev3"),
    ("1!1.0rc1.post1.dev1", 1, "1~rc1^post1~~dev1"),
    ("1.0+abc", 0, "1"),
    ("1.0.post1+ubuntu.1", 0, "1^post1"),
    ("4294967295!1", 4294967295, "1"),
]

INVALID_VERSIONS = ["", "foo", "1.0-", "1..0", "1.0+", "1.0 1", "1.0:1", "1.0-abc", "4294967296!1"]

# (specifier, expected dependency on S)
REQUIRES = [
    ("", S),
    ("  ", S),
    (">=2.5", f"{S} >= 2.5"),
    (">= 2.5.0", f"{S} >= 2.5"),
    ("<=2.5", f"{S} <= 2.5"),
    ("==2.5", f"{S} = 2.5"),
    ("==2.5.0", f"{S} = 2.5"),
    ("===2.5", f"{S} = 2.5"),
    ("==1.0+local", f"{S} = 1"),
    # <V: V's pre/dev releases excluded unless V is itself a pre-release.
    ("<2", f"{S} < 2~~"),
    ("<2.0.0", f"{S} < 2~~"),
    ("<2.0rc1", f"{S} < 2~rc1"),
    ("<2.0.dev1", f"{S} < 2~~dev1"),
    ("<2.0.post1", f"{S} < 2^post1~~"),
    ("<2.0.post1.dev1", f"{S} < 2^post1~~dev1"),
    # >V: V's post releases excluded unless V is itself a post (or dev) release.
    (">2", f"{S} > 2.0"),
    (">2.1", f"{S} > 2.1.0"),
    (">2.0rc1", f"{S} > 2~rc1.0"),
    (">2.0.post1", f"{S} > 2^post1"),
    (">2.0.dev1", f"{S} > 2~~dev1"),
    ("!=1.5", f"({S} < 1.5 or {S} > 1.5)"),
    ("!=1.5rc1", f"({S} < 1.5~rc1 or {S} > 1.5~rc1)"),
    ("~=2.2", f"({S} >= 2.2 with {S} < 3~~)"),
    ("~=1.4.5", f"({S} >= 1.4.5 with {S} < 1.5~~)"),
    ("~=1.4.5.2", f"({S} >= 1.4.5.2 with {S} < 1.4.6~~)"),
    ("~=1.0.0", f"({S} >= 1 with {S} < 1.1~~)"),
    ("~=1.4.5a1", f"({S} >= 1.4.5~a1 with {S} < 1.5~~)"),
    ("~=2.2.post3", f"({S} >= 2.2^post3 with {S} < 3~~)"),
    ("==1.4.*", f"({S} >= 1.4~~ with {S} < 1.5~~)"),
    ("==1.*", f"({S} >= 1~~ with {S} < 2~~)"),
    ("==1.0.*", f"({S} >= 1~~ with {S} < 1.1~~)"),
    ("!=1.*", f"({S} < 1~~ or {S} >= 2~~)"),
    ("!=1.4.*", f"({S} < 1.4~~ or {S} >= 1.5~~)"),
    # Epochs
    (">=1!2.0", f"{S} >= 1:2"),
    ("<1!2", f"{S} < 1:2~~"),
    (">1!2", f"{S} > 1:2.0"),
    ("!=1!2", f"({S} < 1:2 or {S} > 1:2)"),
    ("~=1!2.2.0", f"({S} >= 1:2.2 with {S} < 1:2.3~~)"),
    ("==1!2.*", f"({S} >= 1:2~~ with {S} < 1:3~~)"),
    ("!=1!2.*", f"({S} < 1:2~~ or {S} >= 1:3~~)"),
    # Several specifiers: one rich dep, in the order written, duplicates dropped.
    (">=2.5,<4", f"({S} >= 2.5 with {S} < 4~~)"),
    ("<4, >=2.5", f"({S} < 4~~ with {S} >= 2.5)"),
    ("<4,>=2.5,<4", f"({S} < 4~~ with {S} >= 2.5)"),
    (">=1.0,!=1.3", f"({S} >= 1 with ({S} < 1.3 or {S} > 1.3))"),
    (
        "!=0.40,!=0.41.*,>=0.32",
        f"(({S} < 0.40 or {S} > 0.40) with ({S} < 0.41~~ or {S} >= 0.42~~) with {S} >= 0.32)",
    ),
    ("~=1.4,!=1.5.1", f"(({S} >= 1.4 with {S} < 2~~) with ({S} < 1.5.1 or {S} > 1.5.1))"),
]

INVALID_SPECIFIERS = [
    "~=1",
    "~=1!2",
    "garbage",
    "=>1",
    ">=1 <2",
    "==1.0a1.*",
    ">=1.*",
    "<1.*",
    "~=1.*",
    ">1.0+local",
    "===foo",
    "===1.0.*",
]


@pytest.mark.parametrize(("pep440", "epoch", "version"), VERSIONS)
def test_rpm_version(pep440: str, epoch: int, version: str) -> None:
    result = rpm_version(pep440)
    assert result == RpmVersion(epoch, version)
    assert LEGAL_RPM_VERSION.fullmatch(result.version)
    assert result.evr == (f"{epoch}:{version}" if epoch else version)


@pytest.mark.parametrize("bad", INVALID_VERSIONS)
def test_rpm_version_invalid(bad: str) -> None:
    with pytest.raises(VersionError, match=re.escape(repr(bad))):
        rpm_version(bad)


def test_rpm_version_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rpm_version("1.0").epoch = 1  # type: ignore[misc]


@pytest.mark.parametrize(("specifier", "expected"), REQUIRES)
def test_rpm_requires(specifier: str, expected: str) -> None:
    assert rpm_requires(S, specifier, context=CONTEXT) == expected


def test_rpm_requires_other_symbols() -> None:
    assert rpm_requires("python3.11dist(foo[bar])", ">=1", context=CONTEXT) == (
        "python3.11dist(foo[bar]) >= 1"
    )


@pytest.mark.parametrize("specifier", INVALID_SPECIFIERS)
def test_rpm_requires_invalid(specifier: str) -> None:
    with pytest.raises(VersionError) as info:
        rpm_requires(S, specifier, context=CONTEXT)
    assert CONTEXT in str(info.value)
    assert repr(specifier) in str(info.value)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1", "1", 0),
        ("1", "1.0", -1),
        ("1:1", "2", 1),
        ("0:2", "2", 0),
        ("1~rc1", "1", -1),
        ("1~~dev1", "1~rc1", -1),
        ("1^post1", "1", 1),
        ("1^post1", "1.0.1", -1),
        ("1-1", "1-2", -1),
        ("1-10", "1-9", 1),
    ],
)
def test_rpm_version_compare(a: str, b: str, expected: int) -> None:
    assert rpm_version_compare(a, b) == expected
    assert rpm_version_compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "x:1", ":1", "1:", "1-"])
def test_rpm_version_compare_invalid(bad: str) -> None:
    with pytest.raises(VersionError):
        rpm_version_compare(bad, "1")


def test_documented_ordering_chain() -> None:
    chain = [
        "1.0.dev1",
        "1.0a1.dev1",
        "1.0a1",
        "1.0a1.post1.dev1",
        "1.0a1.post1",
        "1.0b1",
        "1.0rc1.dev1",
        "1.0rc1",
        "1.0",
        "1.0.post1.dev1",
        "1.0.post1",
        "1.0.post2",
        "1.0.1.dev1",
        "1.0.1",
        "1.1",
        "1!0.1",
    ]
    evrs = [rpm_version(v).evr for v in chain]
    for i, lower in enumerate(evrs):
        for higher in evrs[i + 1 :]:
            assert rpm_version_compare(lower, higher) == -1, (lower, higher)


@pytest.mark.skipif(shutil.which("rpmspec") is None, reason="rpmspec not installed")
def test_rpm_accepts_generated_versions_and_dependencies(tmp_path: Path) -> None:
    """Every table version is a legal Version/Epoch and every table dep a legal Requires."""
    versions = [rpm_version(v) for v, _, _ in VERSIONS]
    deps = [rpm_requires(S, spec, context=CONTEXT) for spec, _ in REQUIRES]
    deps.append(rpm_requires("python3.11dist(foo[bar])", "~=1.4,!=1.5.1", context=CONTEXT))
    lines = [
        "Name: versions-test",
        "Version: 1",
        "Release: 1",
        "Summary: s",
        "License: MIT",
        *(f"Requires: {dep}" for dep in deps),
        "%description",
        "d",
    ]
    for i, version in enumerate(versions):
        lines += [f"%package -n v{i}", f"Epoch: {version.epoch}", f"Version: {version.version}"]
        lines += ["Summary: s", f"Provides: {S} = {version.evr}", f"%description -n v{i}", "d"]
    spec = tmp_path / "versions-test.spec"
    spec.write_text("\n".join(lines) + "\n")

    query_format = r"%{NAME} %{EPOCH}:%{VERSION}\n[R %{REQUIRENEVRS}\n]"
    query = subprocess.run(  # noqa: S603 - fixed argument list, our own temp file
        ["rpmspec", "-q", "--qf", query_format, str(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert query.returncode == 0, query.stderr
    assert query.stderr == ""
    output = query.stdout.splitlines()
    assert sorted(line[2:] for line in output if line.startswith("R ")) == sorted(set(deps))
    expected = [f"v{i} {v.epoch}:{v.version}" for i, v in enumerate(versions)]
    assert [line for line in output if re.match(r"v\d+ ", line)] == expected


# --- property tests ---------------------------------------------------------------------

SMALL = st.integers(0, 3)
NUMBER = st.one_of(SMALL, st.integers(0, 2**40))


@st.composite
def pep440_versions(draw: st.DrawFn, numbers: st.SearchStrategy[int] = NUMBER) -> str:
    """A public PEP 440 version: optional epoch, release, optional pre, post and dev."""
    epoch = draw(st.sampled_from([0, 0, 0, 1, 2]))
    release = draw(st.lists(numbers, min_size=1, max_size=4))
    text = (f"{epoch}!" if epoch else "") + ".".join(str(n) for n in release)
    if draw(st.booleans()):
        text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(numbers))
    if draw(st.booleans()):
        text += f".post{draw(numbers)}"
    if draw(st.booleans()):
        text += f".dev{draw(numbers)}"
    return text


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


@settings(max_examples=1500, deadline=None)
@given(pep440_versions(), pep440_versions())
def test_conversion_preserves_order(a: str, b: str) -> None:
    """sign(Version(a) cmp Version(b)) == sign(rpm.labelCompare(rpm(a), rpm(b)))."""
    va, vb = Version(a), Version(b)
    expected = _sign((va > vb) - (va < vb))
    ra, rb = rpm_version(a), rpm_version(b)
    assert LEGAL_RPM_VERSION.fullmatch(ra.version)
    label = rpm.labelCompare((str(ra.epoch), ra.version, None), (str(rb.epoch), rb.version, None))
    assert _sign(label) == expected
    assert rpm_version_compare(ra.evr, rb.evr) == expected


_SENSE = {
    "<": rpm.RPMSENSE_LESS,
    "<=": rpm.RPMSENSE_LESS | rpm.RPMSENSE_EQUAL,
    "=": rpm.RPMSENSE_EQUAL,
    ">=": rpm.RPMSENSE_GREATER | rpm.RPMSENSE_EQUAL,
    ">": rpm.RPMSENSE_GREATER,
}


def rpm_satisfies(dep: str, evr: str) -> bool:
    """Does a package providing ``pkg = evr`` satisfy ``dep`` (simple or rich)?

    Simple clauses are decided by rpm itself (``rpm.ds`` overlap); ``with``/``or`` nesting,
    the only rich syntax rpm_requires emits, is evaluated here.  ``dep`` must be on a
    symbol without parentheses.
    """
    provide = rpm.ds(("pkg", rpm.RPMSENSE_EQUAL, evr), "provides")
    tokens = dep.replace("(", " ( ").replace(")", " ) ").split()
    pos = 0

    def expression() -> bool:
        nonlocal pos
        if tokens[pos] != "(":
            name, op, version = tokens[pos : pos + 3]
            pos += 3
            return bool(rpm.ds((name, _SENSE[op], version), "requires").Compare(provide))
        pos += 1
        values = [expression()]
        joiner = None
        while tokens[pos] != ")":
            joiner = joiner or tokens[pos]
            assert tokens[pos] == joiner in ("with", "or")  # rpm forbids mixing them
            pos += 1
            values.append(expression())
        pos += 1
        return all(values) if joiner == "with" else any(values)

    result = expression()
    assert pos == len(tokens)
    return result


@st.composite
def specifiers(draw: st.DrawFn) -> str:
    """A single-operator specifier over a small number range, so candidates often hit it."""
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "~=", "==*", "!=*"]))
    if op.endswith("*"):
        epoch = draw(st.sampled_from([0, 0, 1]))
        release = draw(st.lists(SMALL, min_size=1, max_size=3))
        prefix = (f"{epoch}!" if epoch else "") + ".".join(str(n) for n in release)
        return f"{op[:-1]}{prefix}.*"
    version = draw(pep440_versions(numbers=SMALL))
    if op == "~=" and len(Version(version).release) < 2:
        version = version.replace("!", "!0.", 1) if "!" in version else "0." + version
    return op + version


@settings(max_examples=1500, deadline=None)
@given(specifiers(), pep440_versions(numbers=SMALL))
def test_converted_specifier_matches_packaging(specifier: str, candidate: str) -> None:
    """rpm's verdict on a converted specifier equals packaging's, pre-releases included."""
    expected = SpecifierSet(specifier).contains(candidate, prereleases=True)
    dep = rpm_requires("pkg", specifier, context="property test")
    assert rpm_satisfies(dep, rpm_version(candidate).evr) == expected, dep


def test_rpm_satisfies_evaluates_rich_dependencies() -> None:
    dep = "((pkg < 1 or pkg > 1) with pkg >= 0.5)"
    assert [rpm_satisfies(dep, evr) for evr in ["0.4", "0.5", "1", "1.1"]] == [
        False,
        True,
        False,
        True,
    ]


# --- the Version tag form: the upstream version, trailing zeros kept ---------------------------

# (PEP 440, Version tag [E:]V, python3dist() = [E:]V): the tag keeps what upstream wrote, the
# provides keep Fedora's normalisation, and both convert pre/post/dev/epoch the same way.
TAG_VERSIONS = [
    ("1.9.0", "1.9.0", "1.9"),
    ("2.0", "2.0", "2"),
    ("2020.04.07", "2020.4.7", "2020.4.7"),
    ("0.0.0", "0.0.0", "0"),
    ("1.0.0rc1", "1.0.0~rc1", "1~rc1"),
    ("1.0.0.dev3", "1.0.0~~dev3", "1~~dev3"),
    ("1.0.0.post2", "1.0.0^post2", "1^post2"),
    ("1.0.0a1.post2.dev3", "1.0.0~a1^post2~~dev3", "1~a1^post2~~dev3"),
    ("1.0.0+local.7", "1.0.0", "1"),
    ("1!2.0.0", "1:2.0.0", "1:2"),
    ("3!1.10.0b2", "3:1.10.0~b2", "3:1.10~b2"),
]


@pytest.mark.parametrize(("pep440", "tag", "provides"), TAG_VERSIONS)
def test_tag_version_keeps_upstream_zeros_provides_do_not(
    pep440: str, tag: str, provides: str
) -> None:
    assert rpm_tag_version(pep440).evr == tag
    assert rpm_version(pep440).evr == provides
    assert LEGAL_RPM_VERSION.fullmatch(rpm_tag_version(pep440).version)


@pytest.mark.parametrize(("pep440", "tag", "provides"), TAG_VERSIONS)
def test_pin_requires_still_match_the_provides(pep440: str, tag: str, provides: str) -> None:
    """The app requires python3dist(x) = V of each pin, and ==V pins convert to the same V."""
    required = rpm_requires(S, f"=={pep440}", context=CONTEXT)
    assert required == f"{S} = {provides}"
    req = rpm.ds((S, rpm.RPMSENSE_EQUAL, provides), rpm.RPMTAG_REQUIRENAME)
    prov = rpm.ds((S, rpm.RPMSENSE_EQUAL, provides), rpm.RPMTAG_PROVIDENAME)
    assert req.Compare(prov)


@settings(max_examples=500, deadline=None)
@given(pep440_versions(), pep440_versions())
def test_tag_form_orders_as_pep440_for_same_length_releases(a: str, b: str) -> None:
    """With release tuples of one length (what one project's versions mostly are), the tag
    form sorts in rpm as PEP 440 sorts (the documented exception needs different lengths)."""
    va, vb = Version(a), Version(b)
    if len(va.release) != len(vb.release):
        return
    expected = _sign((va > vb) - (va < vb))
    assert rpm_version_compare(rpm_tag_version(a).evr, rpm_tag_version(b).evr) == expected

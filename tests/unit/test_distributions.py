"""Tests for rpmdeploy.distributions: the one table, its names, the host, arches and markers."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from packaging.markers import Marker

from rpmdeploy import distributions
from rpmdeploy.distributions import (
    ARCHES,
    Distribution,
    arch_named,
    find_release,
    host_arch,
    load_table,
    marker_environment,
    releases,
    shipped_table,
)
from rpmdeploy.errors import RpmdeployError, UsageError
from rpmdeploy.externals import known_distros, resolve_distro
from rpmdeploy.externals.table import layer_names
from rpmdeploy.targets import resolve_target

ROWS = releases()
RPM_ROWS = [row for row in ROWS if row.family == "rpm"]


def shipped_text() -> str:
    return resources.files("rpmdeploy").joinpath("data", "distributions.toml").read_text("utf-8")


def ids(rows: list[Distribution] | tuple[Distribution, ...]) -> list[str]:
    return [row.name for row in rows]


# ----------------------------------------------------------------------------- the table


def test_every_release_either_old_table_knew_is_a_row() -> None:
    expected = {
        "fedora-42",
        "fedora-43",
        "fedora-44",
        "fedora-rawhide",
        "rhel-8",
        "rhel-9",
        "rhel-10",
        "rocky-8",
        "rocky-9",
        "rocky-10",
        "almalinux-8",
        "almalinux-9",
        "almalinux-10",
        "centos-stream-8",
        "centos-stream-9",
        "centos-stream-10",
        "amazonlinux-2023",
        "debian-12",
        "debian-13",
        "ubuntu-22.04",
        "ubuntu-24.04",
    }
    assert set(ids(ROWS)) == expected
    assert len(ids(ROWS)) == len(expected)  # each once
    assert {row.name for row in ROWS if row.family == "deb"} == {
        "debian-12",
        "debian-13",
        "ubuntu-22.04",
        "ubuntu-24.04",
    }


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_rows_are_complete_and_consistent(row: Distribution) -> None:
    assert row.python_full_version.startswith(row.python_version + ".")
    assert re.fullmatch(r"\d+\.\d+", row.glibc)
    assert row.arches and all(arch_named(a) is not None for a in row.arches)
    assert row.layer in layer_names()
    assert row.arch is None
    if row.family == "rpm":
        assert row.is_target
        assert row.dist and row.dist.startswith(".")
        assert row.mock_config_for("x86_64").endswith("-x86_64")
        assert row.payload in ("w3.zstdio", "w6.gzdio")
        assert row.base in ("fedora", "el")
    else:
        assert not row.is_target
        assert (row.dist, row.mock_config, row.payload) == (None, None, None)
        assert row.base in ("debian", "ubuntu")
        with pytest.raises(UsageError, match="no mock config"):
            row.mock_config_for("x86_64")


def test_amazon_linux_maps_through_el_9() -> None:
    row = find_release("amazonlinux-2023")
    assert row is not None
    assert (row.family, row.base, row.table_name) == ("rpm", "el", "el-9")
    assert row.arches == ("x86_64", "aarch64")


# ----------------------------------------------------------------------------- names


def spellings(row: Distribution) -> list[str]:
    """Names each row must answer to: its own, el-style, aliases, codenames."""
    names = [row.name, row.name.upper(), f" {row.name} "]
    if row.base == "el":
        names.append(f"{row.id}{row.release}")
    names.extend(row.aliases)
    for codename in row.codenames:
        names += [codename, f"{row.id}-{codename}"]
    return names


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_every_row_resolves_by_every_name(row: Distribution) -> None:
    for name in spellings(row):
        found = find_release(name)
        assert found == row, name
        assert resolve_distro(name) == row, name
        if row.is_target:
            target = resolve_target(f"{name.strip()}-{row.arches[0]}")
            assert target.name == f"{row.name}-{row.arches[0]}", name


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_every_row_resolves_with_each_of_its_arches_in_any_spelling(row: Distribution) -> None:
    for arch_name in row.arches:
        arch = arch_named(arch_name)
        assert arch is not None
        for spelling in arch.names:
            found = find_release(f"{row.name}-{spelling}")
            assert found is not None and found.arch == arch.name, spelling
            assert found == row.with_arch(arch.name)


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_other_arches_are_refused(row: Distribution) -> None:
    for arch in ARCHES:
        if arch.name in row.arches:
            continue
        with pytest.raises(UsageError, match=f"{row.name} is not built for {arch.name}"):
            find_release(f"{row.name}-{arch.name}")


def test_id_aliases_and_bare_names() -> None:
    expected = {
        "fedora": "fedora-44",
        "rhel": "rhel-10",
        "el": "rhel-10",
        "redhat-8": "rhel-8",
        "el9": "rhel-9",
        "alma": "almalinux-10",
        "alma9": "almalinux-9",
        "centos": "centos-stream-10",
        "centos-8": "centos-stream-8",
        "centosstream9": "centos-stream-9",
        "amzn": "amazonlinux-2023",
        "amzn-2023": "amazonlinux-2023",
        "amazonlinux": "amazonlinux-2023",
        "al2023": "amazonlinux-2023",
        "debian": "debian-13",
        "ubuntu": "ubuntu-24.04",
    }
    assert {name: getattr(find_release(name), "name", None) for name in expected} == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rhel-9.4", "rhel-9"),
        ("rocky9.5", "rocky-9"),
        ("almalinux-10.0-aarch64", "almalinux-10"),
        ("rocky+epel-9", "rocky-9"),
        ("centos-stream+epel-next-9", "centos-stream-9"),
    ],
)
def test_minor_releases_and_epel_configs(name: str, expected: str) -> None:
    found = find_release(name)
    assert found is not None and found.name == expected


@pytest.mark.parametrize("name", ["fedora-43.1", "debian-12.5", "ubuntu-24.10", "fedora-30", "x"])
def test_unknown_names(name: str) -> None:
    assert find_release(name) is None


# ----------------------------------------------------------------------------- one answer


@pytest.mark.parametrize("row", RPM_ROWS, ids=ids(RPM_ROWS))
def test_targets_and_externals_agree(row: Distribution) -> None:
    for arch in row.arches:
        target = resolve_target(f"{row.name}-{arch}")
        distro = resolve_distro(f"{row.name}-{arch}")
        assert target.python_version == distro.python_version
        assert target.python_full_version == distro.python_full_version
        assert target.glibc == distro.glibc and target.dist == distro.dist
        assert target.marker_environment() == distro.marker_environment()
        assert target.marker_environment()["python_full_version"] == row.python_full_version


def test_amazon_linux_is_a_target_and_a_distribution() -> None:
    target = resolve_target("amazonlinux-2023-x86_64")
    distro = resolve_distro("amazonlinux-2023-x86_64")
    assert (target.name, target.python_version, target.dist) == (
        "amazonlinux-2023-x86_64",
        "3.9",
        ".amzn2023",
    )
    assert (distro.name, distro.table_name, distro.arch) == ("amazonlinux-2023", "el-9", "x86_64")
    assert resolve_distro(target.name) == distro  # what app.mapping_distro does
    assert distro.with_arch("x86_64") == distro
    assert "amazonlinux-2023" in [d.name for d in known_distros()]


def test_el_markers_see_the_real_full_version() -> None:
    env = resolve_distro("rocky-9").marker_environment()
    assert env["python_full_version"] == "3.9.18"
    assert Marker('python_full_version >= "3.9.1"').evaluate(env)


# ----------------------------------------------------------------------------- arches, markers


def test_arch_table() -> None:
    names = [arch.name for arch in ARCHES]
    assert len(set(names)) == len(names)
    spellings = [s for arch in ARCHES for s in arch.names]
    assert len(set(spellings)) == len(spellings)  # one spelling, one arch
    assert arch_named("amd64") == arch_named("x86_64") == arch_named("X86_64")
    assert getattr(arch_named("arm64"), "name", None) == "aarch64"
    assert getattr(arch_named("armhfp"), "machine", None) == "armv7l"
    assert getattr(arch_named("ppc64el"), "deb", None) == "ppc64el"
    assert arch_named("mips") is None


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("x86_64", "x86_64"),
        ("AMD64", "x86_64"),
        ("arm64", "aarch64"),
        ("armv7l", "armv7hl"),
        ("mips64", "mips64"),
    ],
)
def test_host_arch(machine: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: machine)
    assert host_arch() == expected


def test_marker_environment() -> None:
    env = marker_environment("3.12.5", "aarch64")
    assert env["python_version"] == "3.12"
    assert env["python_full_version"] == env["implementation_version"] == "3.12.5"
    assert env["platform_machine"] == "aarch64"
    assert (env["sys_platform"], env["os_name"], env["platform_system"]) == (
        "linux",
        "posix",
        "Linux",
    )
    assert env["platform_release"] == ""  # not this machine's kernel
    assert marker_environment("3.9.18", "armv7hl")["platform_machine"] == "armv7l"
    assert marker_environment("3.9.18", "amd64")["platform_machine"] == "x86_64"
    assert resolve_distro("debian-12").marker_environment()["platform_machine"] == "x86_64"


# ----------------------------------------------------------------------------- the host


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('ID="amzn"\nVERSION_ID="2023"\nID_LIKE="fedora"\n', "amazonlinux-2023"),
        ('ID="centos"\nVERSION_ID="8"\n', "centos-stream-8"),
        ("ID=fedora\nVERSION_ID=42\n", "fedora-42"),
        ('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n', "debian-12"),
    ],
)
def test_host_distribution(
    tmp_path: Path, content: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("platform.machine", lambda: "arm64")
    path = tmp_path / "os-release"
    path.write_text(content, encoding="utf-8")
    found = distributions.host_distribution(path)
    assert (found.name, found.arch) == (expected, "aarch64")


@pytest.mark.parametrize(
    "content",
    [
        'ID="amzn"\nVERSION_ID="2"\n',  # Amazon Linux 2: not in the table
        "ID=debian\nVERSION_CODENAME=jammy\n",  # a codename of another distribution
        'ID="rhel"\nVERSION_ID="7.9"\n',
    ],
)
def test_unknown_hosts(tmp_path: Path, content: str) -> None:
    path = tmp_path / "os-release"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match="pass --distro"):
        distributions.host_distribution(path)


# ----------------------------------------------------------------------------- a bad table

GOOD_ROW = """\
[[release]]
id = "fedora"
release = "43"
family = "rpm"
base = "fedora"
pretty_name = "Fedora Linux 43"
python = "3.14"
python_full = "3.14.0"
glibc = "2.42"
dist = ".fc43"
mock_config = "fedora-43-{arch}"
payload = "w3.zstdio"
arches = ["x86_64"]
"""


def table_text(*rows: str, head: str = "schema = 1\n") -> str:
    return head + "\n".join(rows)


def test_a_good_small_table() -> None:
    table = load_table(table_text(GOOD_ROW), "t.toml")
    [row] = table.releases
    assert row.name == "fedora-43" and row.layer == "fedora-43"
    assert table.find("fedora") == row


BAD_TABLES = [
    ("schema = 1\n[[release]\n", "not valid TOML"),
    (table_text(GOOD_ROW, head="schema = 2\n"), "schema 2 is not supported"),
    (table_text(GOOD_ROW, head="schema = 1\n[targets]\n"), "unknown top-level key(s) targets"),
    ("schema = 1\n", "no [[release]] rows"),
    (table_text(GOOD_ROW.replace('family = "rpm"', 'family = "apk"')), "family must be one of"),
    (table_text(GOOD_ROW.replace('glibc = "2.42"\n', "")), "(fedora-43): glibc is missing"),
    (table_text(GOOD_ROW.replace('glibc = "2.42"', 'glibc = "2"')), "glibc '2' is not X.Y"),
    (
        table_text(GOOD_ROW.replace('python_full = "3.14.0"', 'python_full = "3.13.1"')),
        "python_full '3.13.1' is not a release of 3.14",
    ),
    (table_text(GOOD_ROW.replace('python = "3.14"', "python = 3.14")), "python must be a string"),
    (table_text(GOOD_ROW.replace('base = "fedora"', 'base = "suse"')), "base 'suse' is not one of"),
    (
        table_text(GOOD_ROW.replace('"fedora-43-{arch}"', '"fedora-43-x86_64"')),
        "a name with {arch}",
    ),
    (table_text(GOOD_ROW.replace('dist = ".fc43"', 'dist = "fc43"')), "dist 'fc43' is not"),
    (
        table_text(GOOD_ROW.replace('arches = ["x86_64"]', 'arches = ["amd64"]')),
        "'amd64' is not an RPM architecture name",
    ),
    (table_text(GOOD_ROW.replace('arches = ["x86_64"]', "arches = []")), "arches [] is not"),
    (
        table_text(GOOD_ROW.replace('arches = ["x86_64"]', 'arches = "x86_64"')),
        "arches must be a list of strings",
    ),
    (table_text(GOOD_ROW + 'codename = "x"\n'), "unknown field(s) codename"),
    (
        table_text(
            GOOD_ROW.replace('family = "rpm"', 'family = "deb"').replace(
                'base = "fedora"', 'base = "debian"'
            )
        ),
        "dist, mock_config, payload only apply to RPM releases",
    ),
    (table_text(GOOD_ROW, GOOD_ROW), "fedora-43 is listed twice"),
    (table_text(GOOD_ROW, GOOD_ROW.replace('"43"', '"42"')), "fedora-42 is listed after a newer"),
    (table_text(GOOD_ROW + 'aliases = ["x86_64"]\n'), "'x86_64' is an architecture name"),
    (table_text(GOOD_ROW + 'layer = "el-9"\n'), "layer 'el-9' is not a fedora release's layer"),
    (
        table_text(GOOD_ROW, GOOD_ROW.replace('"43"', '"44"') + 'aliases = ["fedora-43"]\n'),
        "'fedora-43' names both fedora-43 and fedora-44",
    ),
    (
        table_text(GOOD_ROW, head='schema = 1\n[id_aliases]\nel = "rhel"\n'),
        "[id_aliases] el = 'rhel'",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_TABLES)
def test_a_malformed_table_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(RpmdeployError) as info:
        load_table(text, "bad/distributions.toml")
    assert str(info.value).startswith("bad/distributions.toml: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_shipped_table_loads_from_its_text() -> None:
    assert load_table(shipped_text(), "x").releases == shipped_table().releases

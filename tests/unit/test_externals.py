"""Tests for rpmdeploy.externals: hint parsing, the shipped table, mapping and reports."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from rpmdeploy.errors import ExternalsError, UsageError
from rpmdeploy.externals import (
    Constraint,
    Distro,
    MappedHint,
    MappingTable,
    known_distros,
    load_mapping,
    map_hints,
    parse_hints,
    parse_os_release,
    read_hints,
    report,
    resolve_distro,
    rpm_build_requires,
    rpm_requires,
    table_distros,
)

# a package name, or alternatives "a | b"; rpm names may be pkgconfig(...)
PACKAGE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+:-]*(\([A-Za-z0-9._+/-]+\))?")
DISTROS = known_distros()


@pytest.fixture(scope="module")
def table() -> MappingTable:
    return load_mapping(None)


def shipped_data() -> dict:
    text = resources.files("rpmdeploy").joinpath("data", "externals.toml").read_text("utf-8")
    return tomllib.loads(text)


def map_one(line: str, distro: str | Distro, table: MappingTable, **kw: bool) -> MappedHint:
    target = distro if isinstance(distro, Distro) else resolve_distro(distro)
    [mapped] = map_hints(parse_hints(line), target, table, **kw)
    return mapped


def write_app(tmp_path: Path, hints: str, mappings: str | None = None) -> Path:
    (tmp_path / "external-dependencies.txt").write_text(hints, encoding="utf-8")
    if mappings is not None:
        (tmp_path / "external-mappings.toml").write_text(mappings, encoding="utf-8")
    return tmp_path


# ----------------------------------------------------------------------------- parsing

PARSE_CASES = [
    # line, name, style, constraints, marker
    ("libxml2", "libxml2", "name", (), None),
    ("C", "c", "name", (), None),
    ("libpq (>=9.1)", "libpq", "name", ((">=", "9.1"),), None),
    ("libpq (>= 9.1, < 16)", "libpq", "name", ((">=", "9.1"), ("<", "16")), None),
    ("libpng (1.5)", "libpng", "name", (("=", "1.5"),), None),
    ("libpng (==1.5)", "libpng", "name", (("=", "1.5"),), None),
    (
        "libfoo (>1.0, !=1.3.4, <2.0)",
        "libfoo",
        "name",
        ((">", "1.0"), ("!=", "1.3.4"), ("<", "2.0")),
        None,
    ),
    ("libfoo (~=1.4.2)", "libfoo", "name", ((">=", "1.4.2"), ("<", "1.5")), None),
    ("libfoo (~=2.2)", "libfoo", "name", ((">=", "2.2"), ("<", "3")), None),
    ("libfoo-dev (<< 2, >> 1)", "libfoo-dev", "name", (("<", "2"), (">", "1")), None),
    ("libfoo (>= 1:2.3-4)", "libfoo", "name", ((">=", "1:2.3-4"),), None),
    ('libffi; sys_platform == "linux"', "libffi", "name", (), 'sys_platform == "linux"'),
    (
        'libpq (>=9.1) ; python_version >= "3.8"',
        "libpq",
        "name",
        ((">=", "9.1"),),
        'python_version >= "3.8"',
    ),
    ("libxml2-dev", "libxml2-dev", "name", (), None),
    ("python3-dev:any", "python3-dev", "name", (), None),
    ("openssl-devel", "openssl-devel", "name", (), None),
    ("openssl-devel >= 1.1", "openssl-devel", "name", ((">=", "1.1"),), None),
    ("OpenSSL", "openssl", "name", (), None),
    ("c++", "c++", "name", (), None),
    ("pkgconfig(libxml-2.0)", "pkgconfig(libxml-2.0)", "pkgconfig", (), None),
    ("pkgconfig( zlib ) >= 1.2", "pkgconfig(zlib)", "pkgconfig", ((">=", "1.2"),), None),
    ("PkgConfig(MagickWand)", "pkgconfig(MagickWand)", "pkgconfig", (), None),
    ("dep:generic/libxml2", "dep:generic/libxml2", "pep725", (), None),
    ("dep:generic/openssl>=3", "dep:generic/openssl", "pep725", ((">=", "3"),), None),
    ("dep:generic/openssl@3.0.2", "dep:generic/openssl", "pep725", (("=", "3.0.2"),), None),
    ("dep:virtual/compiler/c", "dep:virtual/compiler/c", "pep725", (), None),
    ("pkg:generic/zlib", "dep:generic/zlib", "pep725", (), None),
    ("virtual:compiler/c", "dep:virtual/compiler/c", "pep725", (), None),
    ("virtual:interface/blas", "dep:virtual/interface/blas", "pep725", (), None),
    ("libpq (>=9.1)  # psycopg2", "libpq", "name", ((">=", "9.1"),), None),
    (
        'libfoo; os_name == "posix" # comment, with "quotes"',
        "libfoo",
        "name",
        (),
        'os_name == "posix"',
    ),
]


@pytest.mark.parametrize(("line", "name", "style", "constraints", "marker"), PARSE_CASES)
def test_parse_hint_styles(line, name, style, constraints, marker):
    [hint] = parse_hints(line, source="deps.txt")
    assert hint.name == name
    assert hint.style == style
    assert tuple((c.op, c.version) for c in hint.constraints) == constraints
    assert hint.marker == marker
    assert hint.source == "deps.txt"
    assert hint.line == 1
    assert hint.raw == line.split(" #")[0].strip()


def test_parse_skips_comments_and_blank_lines_and_keeps_line_numbers():
    text = "# system needs\n\nlibxml2\n   \n  # indented comment\nlibpq (>=9.1)  # for psycopg2\n"
    hints = parse_hints(text)
    assert [(h.name, h.line) for h in hints] == [("libxml2", 3), ("libpq", 6)]
    assert hints[1].location == "external-dependencies.txt:6"


GARBAGE = [
    "this is not a hint",
    "libfoo bar",
    "libfoo (>=",
    "libfoo (>=1.0",
    "libfoo >=",
    "libfoo (== 1.*)",
    "libfoo (===1.0)",
    "libfoo (~=1)",
    "libfoo (>= 1.0 2.0)",
    "pkgconfig()",
    "pkgconfig(foo",
    "libfoo; sys_platform ==",
    "libfoo;",
    "libfoo | libbar",
    "(libfoo)",
    ">= 1.0",
    "dep:generic",
    "dep:generic/openssl@3 (>= 2)",
    "libfoo; unknown_variable == 'x'",
]


@pytest.mark.parametrize("line", GARBAGE)
def test_garbage_lines_name_file_and_line(line):
    with pytest.raises(ExternalsError) as info:
        parse_hints(f"libxml2\n# ok so far\n{line}\n", source="app/external-dependencies.txt")
    assert "app/external-dependencies.txt:3" in str(info.value)
    assert "\n" not in str(info.value)


def test_read_hints_missing_file(tmp_path):
    with pytest.raises(ExternalsError, match="external-dependencies.txt is missing"):
        read_hints(tmp_path)
    assert read_hints(tmp_path, missing_ok=True) == []


def test_read_hints_reads_the_app_file(tmp_path):
    write_app(tmp_path, "libxml2\n")
    [hint] = read_hints(tmp_path)
    assert hint.source == str(tmp_path / "external-dependencies.txt")


# ----------------------------------------------------------------------------- the shipped table


def test_table_is_big_enough_and_documents_its_sources(table):
    assert len(table.entries) >= 80
    for name in ("debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04", "fedora", "el"):
        assert table.sources.get(name), name


def test_every_key_maps_on_every_distro(table):
    """Every shipped key x every known distro: a sane, fully resolved answer."""
    for key, entry in table.entries.items():
        for distro in DISTROS:
            mapped = map_one(key, distro, table, strict=True)
            where = f"{key} on {distro.name}"
            assert mapped.resolved == "table", where
            assert mapped.key == key, where
            if entry.kind in ("library", "header-only", "build-tool"):
                assert mapped.build, f"{where}: no build package"
            if entry.kind in ("library", "program"):
                assert mapped.run, f"{where}: no run-time package"
            if entry.kind == "header-only":
                assert mapped.run == (), f"{where}: header-only entries need nothing at run time"
            for name in (*mapped.build, *mapped.run):
                assert "|" not in name, f"{where}: alternatives belong to guesses only"
                assert PACKAGE_RE.fullmatch(name), f"{where}: bad package name {name!r}"
            assert len(set(mapped.build)) == len(mapped.build), where
            assert len(set(mapped.run)) == len(mapped.run), where
            if distro.family == "deb":
                assert not any(n.endswith("-devel") for n in mapped.build), where
            else:
                assert not any(n.endswith("-dev") for n in mapped.build), where


def test_every_alias_and_pkgconfig_name_finds_its_own_key(table):
    for key, entry in table.entries.items():
        for alias in entry.aliases:
            assert table.lookup(alias).key == key, alias
        for module in entry.pkgconfig:
            assert table.lookup(f"pkgconfig({module})").key == key, module
        assert table.lookup(f"dep:generic/{key}").key == key


def test_every_distro_package_name_finds_a_key(table):
    """Any style of hint works: each listed package name leads back to its entry.

    A name listed by two entries (flexiblas-devel serves both blas and lapack) is left out
    of the index on purpose, so the hint must name the entry instead.
    """
    users: dict[str, set[str]] = {}
    for key, entry in table.entries.items():
        for layer in entry.layers.values():
            for name in (*(layer.build or ()), *(layer.run or ())):
                users.setdefault(name.lower(), set()).add(key)
    shared = {name for name, keys in users.items() if len(keys) > 1}
    assert shared <= {"flexiblas-devel", "flexiblas-netlib", "gcc", "gcc-c++", "make"}
    for name, keys in users.items():
        found = table.lookup(name)
        if name in shared:
            assert found is None or found.key in keys, name
        else:
            assert found is not None and found.key in keys, name


def test_layers_use_only_known_release_names():
    known = {"rpm", "deb", "fedora", "el", "debian", "ubuntu"}
    known |= {d.table_name for d in known_distros()}
    for key, body in shipped_data()["keys"].items():
        layers = set(body) - {"summary", "kind", "aliases", "pkgconfig", "versioned"}
        assert layers <= known, key
        assert {"rpm", "deb"} <= layers, f"{key} needs family defaults"


KNOWN_ANSWERS = [
    # hint, distro, build, run
    ("openssl", "fedora-43", ("openssl-devel",), ("openssl-libs",)),
    ("openssl", "rhel-9", ("openssl-devel",), ("openssl-libs",)),
    ("openssl", "debian-12", ("libssl-dev",), ("libssl3",)),
    ("openssl", "debian-13", ("libssl-dev",), ("libssl3t64",)),
    ("openssl", "ubuntu-22.04", ("libssl-dev",), ("libssl3",)),
    ("openssl", "ubuntu-24.04", ("libssl-dev",), ("libssl3t64",)),
    ("libssl-dev", "fedora-42", ("openssl-devel",), ("openssl-libs",)),
    ("openssl-devel", "debian-12", ("libssl-dev",), ("libssl3",)),
    ("zlib", "fedora-43", ("zlib-ng-compat-devel",), ("zlib-ng-compat",)),
    ("zlib", "rocky-9", ("zlib-devel",), ("zlib",)),
    ("zlib", "almalinux-8", ("zlib-devel",), ("zlib",)),
    ("zlib", "centos-stream-10", ("zlib-ng-compat-devel",), ("zlib-ng-compat",)),
    ("zlib1g-dev", "fedora-rawhide", ("zlib-ng-compat-devel",), ("zlib-ng-compat",)),
    ("zlib-devel", "debian-12", ("zlib1g-dev",), ("zlib1g",)),
    ("libxml2", "fedora-43", ("libxml2-devel",), ("libxml2",)),
    ("libxml2-dev", "rocky-9", ("libxml2-devel",), ("libxml2",)),
    ("pkgconfig(libxml-2.0)", "debian-12", ("libxml2-dev",), ("libxml2",)),
    ("dep:generic/libxml2", "ubuntu-24.04", ("libxml2-dev",), ("libxml2",)),
    ("libxslt", "debian-12", ("libxslt1-dev",), ("libxslt1.1",)),
    ("libpq", "fedora-43", ("libpq-devel",), ("libpq",)),
    ("postgresql", "debian-13", ("libpq-dev",), ("libpq5",)),
    ("mysqlclient", "fedora-42", ("mariadb-connector-c-devel",), ("mariadb-connector-c",)),
    ("mysql", "debian-12", ("default-libmysqlclient-dev",), ("libmariadb3",)),
    ("mysql", "ubuntu-22.04", ("default-libmysqlclient-dev",), ("libmysqlclient21",)),
    ("gdal", "debian-12", ("libgdal-dev",), ("libgdal32",)),
    ("gdal", "debian-13", ("libgdal-dev",), ("libgdal36",)),
    ("gdal", "ubuntu-22.04", ("libgdal-dev",), ("libgdal30",)),
    ("libgdal-dev", "ubuntu-24.04", ("libgdal-dev",), ("libgdal34t64",)),
    ("gdal-devel", "fedora-44", ("gdal-devel",), ("gdal-libs",)),
    ("C", "fedora-43", ("gcc",), ()),
    ("C", "debian-12", ("gcc", "libc6-dev"), ()),
    ("dep:virtual/compiler/c", "rocky-9", ("gcc",), ()),
    ("virtual:compiler/cxx", "debian-13", ("g++",), ()),
    ("dep:virtual/compiler/cpp", "fedora-43", ("gcc-c++",), ()),
    ("fortran", "fedora-43", ("gcc-gfortran",), ("libgfortran",)),
    ("rust", "ubuntu-24.04", ("rustc", "cargo"), ()),
    ("pkg-config", "rhel-8", ("pkgconf-pkg-config",), ()),
    ("openjpeg", "fedora-43", ("openjpeg-devel",), ("openjpeg",)),
    ("openjpeg2", "rocky-9", ("openjpeg2-devel",), ("openjpeg2",)),
    ("libusb", "rocky-8", ("libusbx-devel",), ("libusbx",)),
    ("libusb-1.0-0-dev", "fedora-43", ("libusb1-devel",), ("libusb1",)),
    ("libmemcached", "almalinux-8", ("libmemcached-devel",), ("libmemcached-libs",)),
    ("libmemcached", "rhel-9", ("libmemcached-awesome-devel",), ("libmemcached-awesome",)),
    ("dep:virtual/interface/blas", "fedora-43", ("flexiblas-devel",), ("flexiblas-netlib",)),
    ("blas", "rhel-8", ("blas-devel",), ("blas",)),
    ("libldap2-dev", "debian-12", ("libldap-dev",), ("libldap-2.5-0",)),
    ("openldap", "debian-13", ("libldap-dev",), ("libldap2",)),
    ("openldap", "ubuntu-22.04", ("libldap2-dev",), ("libldap-2.5-0",)),
    ("libjpeg", "ubuntu-22.04", ("libjpeg-dev",), ("libjpeg-turbo8",)),
    ("libjpeg", "debian-12", ("libjpeg-dev",), ("libjpeg62-turbo",)),
    ("libtiff", "ubuntu-22.04", ("libtiff-dev",), ("libtiff5",)),
    ("libmagic", "fedora-43", ("file-devel",), ("file-libs",)),
    ("libmagic1", "debian-13", ("libmagic-dev",), ("libmagic1t64",)),
    ("eigen", "fedora-43", ("eigen3-devel",), ()),
    ("poppler-utils", "debian-12", (), ("poppler-utils",)),
    ("libssl3", "fedora-43", ("openssl-devel",), ("openssl-libs",)),
    # Amazon Linux 2023 uses the el-9 names (see data/distributions.toml)
    ("zlib", "amazonlinux-2023", ("zlib-devel",), ("zlib",)),
    ("openjpeg", "amazonlinux-2023", ("openjpeg2-devel",), ("openjpeg2",)),
]


@pytest.mark.parametrize(("line", "distro", "build", "run"), KNOWN_ANSWERS)
def test_known_answers(table, line, distro, build, run):
    mapped = map_one(line, distro, table, strict=True)
    assert (mapped.build, mapped.run) == (build, run)


def test_epel_is_marked_on_enterprise_linux_only(table):
    assert map_one("gdal", "rocky-9", table).repo == "EPEL"
    assert map_one("gdal", "fedora-43", table).repo is None
    assert map_one("libssh2", "rhel-8", table).repo is None
    assert map_one("libssh2", "rhel-9", table).repo == "EPEL"


# ----------------------------------------------------------------------------- versions


def test_version_constraints_in_rpm_syntax(table):
    mapped = map_hints(
        parse_hints("libpq (>=9.1)\nlibxml2 (>= 2.9, < 3)\nzlib (!=1.2.11)\nopenssl (==3.0.2)\n"),
        resolve_distro("fedora-43"),
        table,
    )
    assert rpm_build_requires(mapped) == [
        "libpq-devel >= 9.1",
        "libxml2-devel >= 2.9",
        "libxml2-devel < 3",
        "(zlib-ng-compat-devel < 1.2.11 or zlib-ng-compat-devel > 1.2.11)",
        "openssl-devel = 3.0.2",
    ]
    assert rpm_requires(mapped)[0] == "libpq >= 9.1"


def test_version_constraints_in_debian_syntax(tmp_path):
    app = write_app(tmp_path, "libpq (>=9.1)\nlibxml2 (> 2.9, < 3)\nzlib (!=1.2.11)\n")
    document = json.loads(report(app, "debian-12", "json", False))
    builds = [hint["build"] for hint in document["hints"]]
    assert builds == [
        ["libpq-dev (>= 9.1)"],
        ["libxml2-dev (>> 2.9), libxml2-dev (<< 3)"],
        ["zlib1g-dev (<< 1.2.11) | zlib1g-dev (>> 1.2.11)"],
    ]
    assert document["hints"][0]["run"] == ["libpq5 (>= 9.1)"]


def test_version_goes_to_the_primary_name_only(table):
    mapped = map_one("C (>= 9)", "debian-12", table)
    assert rpm_build_requires([map_one("C (>= 9)", "fedora-43", table)]) == ["gcc >= 9"]
    assert mapped.constraints == (Constraint(">=", "9"),)


def test_unversioned_entries_drop_the_constraint_with_a_note(table):
    mapped = map_one("mysqlclient (>= 8.0)", "fedora-43", table)
    assert mapped.constraints == ()
    assert any("version constraint dropped" in note for note in mapped.notes)
    assert rpm_build_requires([mapped]) == ["mariadb-connector-c-devel"]


def test_rpm_requires_refuses_debian_mappings(table):
    with pytest.raises(UsageError):
        rpm_requires([map_one("libxml2", "debian-12", table)])


# ----------------------------------------------------------------------------- markers


def test_markers_are_evaluated_for_the_target(table):
    hints = parse_hints(
        'libffi; sys_platform == "linux"\n'
        'pywin32; sys_platform == "win32"\n'
        'libxml2; python_version < "3.10"\n'
        'zlib; platform_machine == "aarch64"\n'
    )
    on_rhel9 = map_hints(hints, resolve_distro("rhel-9"), table)
    assert [m.key for m in on_rhel9] == ["libffi", "libxml2"]
    on_fedora_arm = map_hints(hints, resolve_distro("fedora-43-aarch64"), table)
    assert [m.key for m in on_fedora_arm] == ["libffi", "zlib"]


# ----------------------------------------------------------------------------- fallbacks


def test_pkgconfig_fallback_on_rpm_is_not_a_guess(table):
    mapped = map_one("pkgconfig(foo-1.0) >= 2", "fedora-43", table, strict=True)
    assert mapped.resolved == "pkgconfig"
    assert not mapped.guess
    assert rpm_build_requires([mapped]) == ["pkgconfig(foo-1.0) >= 2"]
    assert rpm_requires([mapped]) == []


GUESSES = [
    # hint, distro, build
    ("libfoo2-dev", "fedora-43", ("libfoo-devel | foo-devel",)),
    ("libbar-1-dev", "rocky-9", ("libbar-devel | bar-devel",)),
    ("foo-devel", "rocky-9", ("foo-devel",)),
    ("foo", "fedora-43", ("pkgconfig(foo)",)),
    ("dep:generic/foo", "fedora-43", ("pkgconfig(foo)",)),
    ("foo-devel", "debian-12", ("libfoo-dev | foo-dev",)),
    ("libfoo-devel", "debian-12", ("libfoo-dev",)),
    ("libfoo9-dev", "debian-13", ("libfoo9-dev",)),
    ("pkgconfig(foo-2.0)", "ubuntu-24.04", ("libfoo-dev | foo-dev",)),
]


@pytest.mark.parametrize(("line", "distro", "build"), GUESSES)
def test_guesses_are_labelled(table, line, distro, build):
    mapped = map_one(line, distro, table)
    assert mapped.resolved == "guess"
    assert mapped.guess
    assert mapped.build == build
    assert mapped.run == ()
    assert any(note.startswith("guess: ") for note in mapped.notes)


def test_rpm_guess_alternatives_become_a_rich_dependency(table):
    mapped = map_one("libfoo2-dev (>= 1.2)", "fedora-43", table)
    assert rpm_build_requires([mapped]) == ["(libfoo-devel >= 1.2 or foo-devel >= 1.2)"]


def test_strict_turns_guesses_into_one_error(table):
    hints = parse_hints("libxml2\nlibfoo2-dev\nopensll\n", source="deps.txt")
    with pytest.raises(ExternalsError) as info:
        map_hints(hints, resolve_distro("fedora-43"), table, strict=True)
    message = str(info.value)
    assert "deps.txt:2" in message and "deps.txt:3" in message
    assert "closest known: openssl" in message
    assert "external-mappings.toml" in message
    assert "\n" not in message


UNMAPPABLE = [
    ("dep:virtual/compiler/go", "compiler"),
    ("dep:virtual/compiler/fortan", "fortran"),
    ("dep:pypi/requests", "dependencies.in"),
]


@pytest.mark.parametrize(("line", "expected"), UNMAPPABLE)
def test_hints_that_map_to_nothing_are_errors_with_suggestions(table, line, expected):
    with pytest.raises(ExternalsError) as info:
        map_one(line, "fedora-43", table)
    assert line in str(info.value)
    assert expected in str(info.value)


# ----------------------------------------------------------------------------- app overrides


def test_app_file_adds_an_entry(tmp_path):
    app = write_app(
        tmp_path,
        "acme-sdk (>= 2)\n",
        """
[keys.acme-sdk]
summary = "vendor SDK"
aliases = ["acme"]
rpm = { build = ["acme-sdk-devel"], run = ["acme-sdk"] }
deb = { build = ["libacme-dev"], run = ["libacme2"] }
""",
    )
    table = load_mapping(app)
    mapped = map_hints(read_hints(app), resolve_distro("rocky-9"), table, strict=True)
    assert (mapped[0].build, mapped[0].resolved) == (("acme-sdk-devel",), "override")
    assert table.lookup("acme").key == "acme-sdk"
    assert "(app override)" in report(app, "debian-12", "text", True)


def test_app_file_overrides_one_field_of_one_release(tmp_path):
    app = write_app(
        tmp_path,
        "openssl\n",
        '[keys.openssl]\n"debian-12" = { run = ["libssl3-custom"] }\n',
    )
    table = load_mapping(app)
    on_bookworm = map_one("openssl", "debian-12", table)
    assert (on_bookworm.build, on_bookworm.run) == (("libssl-dev",), ("libssl3-custom",))
    assert on_bookworm.resolved == "override"
    on_trixie = map_one("openssl", "debian-13", table)
    assert (on_trixie.run, on_trixie.resolved) == (("libssl3t64",), "table")
    # the shipped table itself is untouched
    assert map_one("openssl", "debian-12", load_mapping(None)).run == ("libssl3",)


def test_app_alias_wins_over_a_shipped_alias(tmp_path):
    app = write_app(
        tmp_path,
        "mysql\n",
        '[keys.percona]\naliases = ["mysql"]\nrpm = { build = ["percona-devel"], run = ["percona"] }\n'
        'deb = { build = ["libperconaserverclient21-dev"], run = ["libperconaserverclient21"] }\n',
    )
    assert map_one("mysql", "fedora-43", load_mapping(app)).build == ("percona-devel",)


def test_app_entry_without_the_family_falls_back(tmp_path):
    app = write_app(tmp_path, "acme\n", '[keys.acme]\nrpm = { build = ["acme-devel"], run = [] }\n')
    assert map_one("acme", "debian-12", load_mapping(app)).guess


BAD_MAPPINGS = [
    ("[keys.foo]\nrpm = { build = 'foo-devel' }\n", "must be a list"),
    ("[keys.foo]\nsuse = { build = ['foo-devel'] }\n", "unknown field 'suse'"),
    ("[keys.foo]\nrpm = { build = ['foo devel'] }\n", "not a package name"),
    ("[keys.foo]\nrpm = { build = ['foo'], runtime = ['x'] }\n", "unknown field(s) runtime"),
    ("[keys.Foo]\nrpm = { build = ['foo'] }\n", "lower case"),
    ("[keys.foo]\nkind = 'plugin'\n", "kind must be one of"),
    ("[mappings]\n", "unknown top-level"),
    ("schema = 2\n", "schema 2"),
    ("[keys.foo\n", "not valid TOML"),
]


@pytest.mark.parametrize(("content", "expected"), BAD_MAPPINGS)
def test_bad_app_mapping_files_are_reported(tmp_path, content, expected):
    app = write_app(tmp_path, "libxml2\n", content)
    with pytest.raises(ExternalsError) as info:
        load_mapping(app)
    assert "external-mappings.toml" in str(info.value)
    assert expected in str(info.value)


# ----------------------------------------------------------------------------- distributions

DISTRO_NAMES = [
    # name, distro.name, table release, arch
    ("fedora-43", "fedora-43", "fedora-43", None),
    ("fedora", "fedora-44", "fedora-44", None),
    ("fedora-rawhide", "fedora-rawhide", "fedora-rawhide", None),
    ("fedora-43-x86_64", "fedora-43", "fedora-43", "x86_64"),
    ("fedora-rawhide-aarch64", "fedora-rawhide", "fedora-rawhide", "aarch64"),
    ("rhel-9", "rhel-9", "el-9", None),
    ("rhel-9.4", "rhel-9", "el-9", None),
    ("rhel", "rhel-10", "el-10", None),
    ("rocky-9", "rocky-9", "el-9", None),
    ("rocky-9-x86_64", "rocky-9", "el-9", "x86_64"),
    ("rocky+epel-9-x86_64", "rocky-9", "el-9", "x86_64"),
    ("almalinux-10", "almalinux-10", "el-10", None),
    ("alma+epel-8-aarch64", "almalinux-8", "el-8", "aarch64"),
    ("centos-stream-9", "centos-stream-9", "el-9", None),
    ("centos-stream-10-x86_64", "centos-stream-10", "el-10", "x86_64"),
    ("el-8", "rhel-8", "el-8", None),
    ("debian-12", "debian-12", "debian-12", None),
    ("debian", "debian-13", "debian-13", None),
    ("bookworm", "debian-12", "debian-12", None),
    ("debian-trixie", "debian-13", "debian-13", None),
    ("ubuntu-24.04", "ubuntu-24.04", "ubuntu-24.04", None),
    ("ubuntu-22.04", "ubuntu-22.04", "ubuntu-22.04", None),
    ("Ubuntu", "ubuntu-24.04", "ubuntu-24.04", None),
    ("jammy", "ubuntu-22.04", "ubuntu-22.04", None),
    ("amazonlinux-2023", "amazonlinux-2023", "el-9", None),
    ("al2023-aarch64", "amazonlinux-2023", "el-9", "aarch64"),
    ("debian-12-amd64", "debian-12", "debian-12", "x86_64"),
    ("centos-stream-8", "centos-stream-8", "el-8", None),
]


@pytest.mark.parametrize(("name", "expected", "table_name", "arch"), DISTRO_NAMES)
def test_distro_names(name, expected, table_name, arch):
    distro = resolve_distro(name)
    assert (distro.name, distro.table_name, distro.arch) == (expected, table_name, arch)


@pytest.mark.parametrize(
    "name", ["suse-15", "fedora-30", "rhel-7", "debian-11", "ubuntu-20.04", "x"]
)
def test_unknown_distro_is_a_usage_error_listing_known_ones(name):
    with pytest.raises(UsageError) as info:
        resolve_distro(name)
    assert "fedora-43" in str(info.value) and "ubuntu-24.04" in str(info.value)


def test_known_distros_cover_the_supported_releases():
    names = {d.name for d in known_distros()}
    for family in ("rhel", "rocky", "almalinux", "centos-stream"):
        assert {f"{family}-8", f"{family}-9", f"{family}-10"} <= names
    assert {"fedora-42", "fedora-43", "fedora-44", "fedora-rawhide"} <= names
    assert {"debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04"} <= names
    assert [d.table_name for d in table_distros()] == [
        "fedora-42",
        "fedora-43",
        "fedora-44",
        "fedora-rawhide",
        "el-8",
        "el-9",
        "el-10",
        "debian-12",
        "debian-13",
        "ubuntu-22.04",
        "ubuntu-24.04",
    ]


OS_RELEASES = [
    ('NAME="Fedora Linux"\nID=fedora\nVERSION_ID=43\n', "fedora-43"),
    (
        "ID=fedora\nVERSION_ID=45\nREDHAT_SUPPORT_PRODUCT_VERSION=rawhide\n",
        "fedora-rawhide",
    ),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', "rocky-9"),
    ('ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="10.0"\n', "almalinux-10"),
    (
        'NAME="CentOS Stream"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n',
        "centos-stream-9",
    ),
    ('ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.10"\n', "rhel-8"),
    ('ID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.3"\n', "rhel-9"),
    (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
        "VERSION_CODENAME=bookworm\n",
        "debian-12",
    ),
    ('ID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n', "debian-13"),
    ("ID=debian\nVERSION_CODENAME=trixie\n", "debian-13"),
    ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nUBUNTU_CODENAME=noble\n', "ubuntu-24.04"),
    (
        'ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="22"\nUBUNTU_CODENAME=noble\n',
        "ubuntu-24.04",
    ),
    (
        'ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21.3"\nUBUNTU_CODENAME=jammy\n',
        "ubuntu-22.04",
    ),
    ('NAME="Amazon Linux"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n', "amazonlinux-2023"),
]


@pytest.mark.parametrize(("content", "expected"), OS_RELEASES)
def test_host_distro_from_os_release(tmp_path, content, expected):
    path = tmp_path / "os-release"
    path.write_text(content, encoding="utf-8")
    distro = resolve_distro(None, os_release=path)
    assert distro.name == expected
    assert distro.arch  # the host's machine


@pytest.mark.parametrize(
    "content",
    [
        "ID=arch\nBUILD_ID=rolling\n",
        "ID=fedora\nVERSION_ID=30\n",
        'ID=ubuntu\nVERSION_ID="20.04"\n',
    ],
)
def test_unsupported_host_is_a_usage_error(tmp_path, content):
    path = tmp_path / "os-release"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match="--distro"):
        resolve_distro(None, os_release=path)


def test_missing_os_release_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="--distro"):
        resolve_distro(None, os_release=tmp_path / "nope")


def test_markers_see_each_release_s_full_python_version(table):
    """python_full_version is the release's own (3.9.18 on EL9), as for its build target."""
    hints = parse_hints('libffi; python_full_version >= "3.9.1"\n')
    assert len(map_hints(hints, resolve_distro("rocky-9"), table)) == 1
    assert map_hints(hints, resolve_distro("rhel-8"), table) == []


def test_unknown_arch_of_a_known_distro_is_a_usage_error():
    with pytest.raises(UsageError, match="amazonlinux-2023 is not built for s390x"):
        resolve_distro("amazonlinux-2023-s390x")


def test_parse_os_release_unquotes_values():
    fields = parse_os_release(
        "# comment\nNAME=\"Rocky Linux\"\nID='rocky'\nBAD LINE\nVERSION_ID=9.4\n"
    )
    assert fields == {"NAME": "Rocky Linux", "ID": "rocky", "VERSION_ID": "9.4"}


# ----------------------------------------------------------------------------- report()

SAMPLE = """\
# what the app needs
libpq (>=9.1)
libxml2
C
libffi; sys_platform == "linux"
pywin32; sys_platform == "win32"
pkgconfig(zlib)
dep:generic/libxslt
gdal
libfoo2-dev
"""

SPEC_LINE_RE = re.compile(r"#.*|(BuildRequires|Requires): +\S[^\n%]*")


def test_report_text(tmp_path):
    app = write_app(tmp_path, SAMPLE)
    text = report(app, "rocky-9-x86_64", "text", False)
    lines = text.splitlines()
    assert lines[0].startswith("# rocky-9 (Rocky Linux 9)")
    body = [line for line in lines if not line.startswith("#")]
    assert len(body) == 8
    assert len({line.index(" -> ") for line in body}) == 1  # aligned
    assert "libpq (>=9.1)" in body[0] and "build: libpq-devel >= 9.1 ; run: libpq >= 9.1" in body[0]
    assert "[EPEL]" in next(line for line in body if line.startswith("gdal"))
    assert "(guess: " in body[-1]
    assert "# skipped, marker false on rocky-9: pywin32" in text


def test_report_json(tmp_path):
    app = write_app(tmp_path, SAMPLE)
    document = json.loads(report(app, "ubuntu-24.04", "json", False))
    assert document["distro"]["name"] == "ubuntu-24.04"
    assert document["distro"]["family"] == "deb"
    assert [h["hint"] for h in document["skipped"]] == ['pywin32; sys_platform == "win32"']
    by_hint = {h["hint"]: h for h in document["hints"]}
    assert by_hint["gdal"]["run_packages"] == ["libgdal34t64"]
    assert by_hint["libfoo2-dev"]["guess"] is True
    assert by_hint["libfoo2-dev"]["resolved"] == "guess"
    assert by_hint["pkgconfig(zlib)"]["key"] == "zlib"
    assert "libpq-dev (>= 9.1)" in document["build"]
    # stable: the same input gives byte-identical output
    assert report(app, "ubuntu-24.04", "json", False) == report(app, "ubuntu-24.04", "json", False)


def test_report_spec(tmp_path):
    app = write_app(tmp_path, SAMPLE)
    text = report(app, "fedora-43", "spec", False)
    lines = text.splitlines()
    for line in lines:
        assert SPEC_LINE_RE.fullmatch(line), line
    assert "BuildRequires:  libpq-devel >= 9.1" in lines
    assert "Requires:       libpq >= 9.1" in lines
    assert "BuildRequires:  zlib-ng-compat-devel" in lines
    guess_comment = next(
        i for i, line in enumerate(lines) if line.startswith("# guess for 'libfoo2-dev'")
    )
    assert lines[guess_comment + 1] == "BuildRequires:  (libfoo-devel or foo-devel)"
    tags = [line.split(":")[0] for line in lines if not line.startswith("#")]
    assert tags == sorted(tags)  # BuildRequires block, then Requires block
    assert len(set(lines)) == len(lines) or all(
        line.startswith("#") for line in lines if lines.count(line) > 1
    )


def test_report_all(tmp_path):
    app = write_app(tmp_path, SAMPLE)
    text = report(app, "all", "text", False)
    for distro in table_distros():
        assert distro.table_name in text
    assert "libgdal32" in text and "libgdal34t64" in text and "gdal-devel" in text
    assert "skipped (marker)" in text
    document = json.loads(report(app, "all", "json", False))
    assert [d["distro"]["table"] for d in document["distros"]] == [
        d.table_name for d in table_distros()
    ]


def test_report_strict_fails_on_guesses(tmp_path):
    app = write_app(tmp_path, SAMPLE)
    with pytest.raises(ExternalsError, match="libfoo2-dev"):
        report(app, "debian-12", "text", True)
    write_app(tmp_path, "libxml2\nC\n")
    assert "(guess" not in report(app, "debian-12", "text", True)


@pytest.mark.parametrize(
    ("distro", "fmt", "message"),
    [
        ("debian-12", "spec", "RPM distribution"),
        ("all", "spec", "not 'all'"),
        ("fedora-43", "yaml", "unknown format"),
        ("solaris-11", "text", "unknown distribution"),
    ],
)
def test_report_usage_errors(tmp_path, distro, fmt, message):
    app = write_app(tmp_path, "libxml2\n")
    with pytest.raises(UsageError, match=message):
        report(app, distro, fmt, False)


def test_report_needs_the_hints_file(tmp_path):
    with pytest.raises(ExternalsError, match="missing"):
        report(tmp_path, "fedora-43", "text", False)


def test_report_of_an_empty_file(tmp_path):
    app = write_app(tmp_path, "# nothing\n")
    assert "no external dependencies" in report(app, "fedora-43", "text", False)
    assert json.loads(report(app, "fedora-43", "json", False))["hints"] == []


def test_app_file_can_turn_version_carrying_back_on(tmp_path):
    app = write_app(tmp_path, "mysql (>= 3.3)\n", "[keys.mysql]\nversioned = true\n")
    mapped = map_one("mysql (>= 3.3)", "fedora-43", load_mapping(app))
    assert rpm_build_requires([mapped]) == ["mariadb-connector-c-devel >= 3.3"]
    assert load_mapping(app).entries["mysql"].kind == "library"

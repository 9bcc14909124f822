"""The declared base grows from what the app and its packages need (issue #8, item 5):
mapped externals, the sonames their packages ship (data/sonames.toml), [verify] assume, and
the symbol versions needed of those; what it cannot declare is explained.  Also the
[verify] table, the record's ``assume``, and how the module-import check finds modules."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from rpmdeploy.appconfig import is_rpm_capability, read_app_config
from rpmdeploy.distributions import releases
from rpmdeploy.errors import UsageError, VerifyError
from rpmdeploy.externals import load_mapping
from rpmdeploy.externals.table import layer_names, resolve_entry
from rpmdeploy.record import ReleaseRecord
from rpmdeploy.targets import resolve_target
from rpmdeploy.verify import DeclaredBase, RepoPackage, base_provides_for, declare_base
from rpmdeploy.verify.module_imports import import_all, top_level_modules

ROCKY9 = resolve_target("rocky-9-x86_64")
ALMA8 = resolve_target("almalinux-8-x86_64")

PSYCOPG2 = RepoPackage(
    "python3-psycopg2",
    "x86_64",
    requires=(
        "python(abi) = 3.9",
        "libpq.so.5()(64bit)",
        "libpq.so.5(RHPG_10)(64bit)",
        "libc.so.6(GLIBC_2.99)(64bit)",
    ),
    provides=("python3dist(psycopg2) = 2.9.9", "python3.9dist(psycopg2) = 2.9.9"),
)


def sources(base: DeclaredBase) -> dict[str, str]:
    return {d.capability: d.source for d in base.grown()}


def test_a_compiled_package_brings_its_system_libraries_and_their_sonames() -> None:
    base = declare_base(ROCKY9, base_provides_for(ROCKY9), packages=[PSYCOPG2])
    found = sources(base)
    assert found["libpq"] == "libpq (system library of psycopg2)"
    assert found["libpq.so.5()(64bit)"] == "libpq (system library of psycopg2)"
    # A symbol version needed of a declared soname is declared with it ...
    assert "libpq.so.5(RHPG_10)(64bit)" in base.capabilities
    # ... but never a glibc version the target's glibc does not have.
    assert "libc.so.6(GLIBC_2.99)(64bit)" not in base.capabilities
    assert "libc.so.6(GLIBC_2.34)(64bit)" in base.capabilities  # the system table
    assert base.package_names == ("libpq",)
    assert base.distro == "rocky-9"
    relied = [d.capability for d in base.relied_on([PSYCOPG2])]
    assert relied == ["libpq.so.5()(64bit)", "libpq.so.5(RHPG_10)(64bit)"]


def test_manylinux_system_libraries_a_wheel_links_are_declared() -> None:
    """numpy's wheel bundles libgfortran, which needs libz.so.1: a library every manylinux
    policy takes as present (auditwheel's list), so the stand-in declares it, with its
    symbol versions; a library outside that list is still missing."""
    numpy = RepoPackage(
        "python3-numpy",
        "x86_64",
        ("libz.so.1()(64bit)", "libz.so.1(ZLIB_1.2.9)(64bit)", "libfoo.so.1()(64bit)"),
        ("python3dist(numpy) = 2.4.6",),
    )
    base = declare_base(ROCKY9, base_provides_for(ROCKY9), packages=[numpy])
    found = sources(base)
    assert (
        found["libz.so.1()(64bit)"] == "libz.so.1 (a manylinux system library, for python3-numpy)"
    )
    assert "libz.so.1(ZLIB_1.2.9)(64bit)" in base.capabilities
    assert "libfoo.so.1()(64bit)" not in base.capabilities


def test_pure_python_packages_and_unknown_packages_grow_nothing() -> None:
    noarch = RepoPackage("python3-psycopg2", "noarch", (), ("python3dist(psycopg2)",))
    other = RepoPackage("python3-thing", "x86_64", ("libc.so.6()(64bit)",), ("python3dist(thing)",))
    base = declare_base(ROCKY9, base_provides_for(ROCKY9), packages=[noarch, other])
    assert base.grown() == ()
    assert base.capabilities == base_provides_for(ROCKY9)


def test_sonames_follow_the_targets_release() -> None:
    el9 = declare_base(ROCKY9, (), app_packages=("openssl-libs", "libffi"))
    el8 = declare_base(ALMA8, (), app_packages=("openssl-libs", "libffi"))
    assert {"libssl.so.3()(64bit)", "libcrypto.so.3()(64bit)", "libffi.so.8()(64bit)"} <= set(
        el9.capabilities
    )
    assert {"libssl.so.1.1()(64bit)", "libffi.so.6()(64bit)"} <= set(el8.capabilities)
    assert "libssl.so.3()(64bit)" not in el8.capabilities
    assert sources(el9)["libssl.so.3()(64bit)"] == "openssl-libs (external-dependencies.txt)"


def test_a_distribution_package_a_package_requires_is_declared_with_its_sonames() -> None:
    needs = RepoPackage("python3-yamlish", "noarch", ("libyaml", "nosuchthing"), ())
    base = declare_base(ROCKY9, (), packages=[needs])
    found = sources(base)
    assert found["libyaml"] == "libyaml (required by python3-yamlish)"
    assert found["libyaml-0.so.2()(64bit)"] == "libyaml (required by python3-yamlish)"
    assert "nosuchthing" not in base.capabilities  # the mapping table does not know it


def test_assume_declares_capabilities_and_the_symbol_versions_needed_of_them() -> None:
    needs = RepoPackage(
        "python3-foo", "x86_64", ("libfoo.so.1()(64bit)", "libfoo.so.1(FOO_2)(64bit)"), ()
    )
    base = declare_base(ROCKY9, (), assume=("libfoo.so.1()(64bit)", "foo-data"), packages=[needs])
    assert sources(base) == {
        "libfoo.so.1()(64bit)": "[verify] assume",
        "foo-data": "[verify] assume",
        "libfoo.so.1(FOO_2)(64bit)": "[verify] assume",
    }
    assert base.assumed_sonames() == frozenset({"libfoo.so.1"})


def test_a_missing_capability_is_explained() -> None:
    base = declare_base(ROCKY9, ())
    assert base.explain("libyaml-0.so.2()(64bit)") == (
        "libyaml-0.so.2()(64bit) (shipped by libyaml on rocky-9: add libyaml to "
        "external-dependencies.txt)"
    )
    # The hint is the mapping table's name for the package (openssl-libs -> openssl).
    assert base.explain("libssl.so.3(OPENSSL_3.0.0)(64bit)").endswith(
        "(shipped by openssl-libs on rocky-9: add openssl to external-dependencies.txt)"
    )
    assert base.explain("krb5-libs >= 1.19") == (
        "krb5-libs >= 1.19 (a package on rocky-9: add krb5 to external-dependencies.txt)"
    )
    assert base.explain("libnothing.so.7()(64bit)") == "libnothing.so.7()(64bit)"


# --- the soname table is data: check it against the mapping table and itself -----------------


def soname_table() -> dict[str, dict[str, list[str]]]:
    text = resources.files("rpmdeploy").joinpath("data", "sonames.toml").read_text()
    return tomllib.loads(text)["packages"]


def test_every_package_of_the_soname_table_is_a_run_package_of_the_mapping_table() -> None:
    run_packages: set[str] = set()
    for distro in releases():
        if distro.family != "rpm":
            continue
        for entry in load_mapping(None).entries.values():
            resolved = resolve_entry(entry, distro)
            run_packages.update(resolved.run if resolved else ())
    table = soname_table()
    assert set(table) <= run_packages, set(table) - run_packages
    soname = re.compile(r"^lib[A-Za-z0-9_+.-]*\.so(\.[0-9]+)*$")
    for package, layers in table.items():
        assert set(layers) <= layer_names(), package
        for names in layers.values():
            assert all(soname.match(n) for n in names), (package, names)


# --- [verify] in rpmdeploy.toml and the record's assume ------------------------------------


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rpmdeploy.toml").write_text(text)
    return tmp_path


def test_verify_assume_is_read_and_checked(tmp_path: Path) -> None:
    config = read_app_config(
        write_config(tmp_path, '[verify]\nassume = ["libfoo.so.1()(64bit)", "foo-libs >= 2"]\n')
    )
    assert config.verify.assume == ("libfoo.so.1()(64bit)", "foo-libs >= 2")
    assert read_app_config(write_config(tmp_path, "")).verify.assume == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('assume = ["libfoo %{x}"]', "'libfoo %{x}' is not an RPM capability"),
        ('assume = ["a\\nProvides: evil"]', "is not an RPM capability"),
        ('assume = ["(a or b)"]', "'(a or b)' is not an RPM capability"),
        ('assume = ["a, b"]', "'a, b' is not an RPM capability"),
        ("assume = [1]", "1 is not an RPM capability"),
        ('assume = "libfoo.so.1"', "[verify] assume must be a list"),
        ("assumes = []", "unknown key(s) in [verify]: assumes"),
    ],
)
def test_a_bad_verify_table_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_app_config(write_config(tmp_path, f"[verify]\n{text}\n"))
    assert message in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize(
    "value", ["libfoo.so.1()(64bit)", "perl(Foo::Bar)", "/usr/bin/foo", "foo = 1:2.3-4.el9"]
)
def test_capabilities_people_write_are_accepted(value: str) -> None:
    assert is_rpm_capability(value)


@pytest.mark.parametrize("value", ["", "foo\n", "-foo", "foo(bar", "a >= ", "a=1", "x" * 300])
def test_malformed_capabilities_are_refused(value: str) -> None:
    assert not is_rpm_capability(value)


RECORD = {
    "app": "shop",
    "evr": "1.0-1",
    "install_dir": "/opt/shop",
    "target": "rocky-9-x86_64",
    "python": "/usr/bin/python3",
    "site_dirs": [],
    "assumed_packages": ["libpq"],
    "signed": False,
}


def test_the_record_carries_assume_only_when_there_is_some() -> None:
    plain = ReleaseRecord.from_json(json.dumps(RECORD))
    assert plain.assume == ()
    assert "assume" not in json.loads(plain.to_json())  # older records stay byte for byte
    with_assume = ReleaseRecord.from_json(json.dumps({**RECORD, "assume": ["libfoo.so.1"]}))
    assert with_assume.assume == ("libfoo.so.1",)
    assert ReleaseRecord.from_json(with_assume.to_json()) == with_assume
    with pytest.raises(VerifyError, match="is not an RPM capability"):
        ReleaseRecord.from_json(json.dumps({**RECORD, "assume": ["x %{y}"]}))


# --- which modules the module-import check imports -------------------------------------------


def test_top_level_modules_come_from_top_level_txt_or_the_record(tmp_path: Path) -> None:
    with_top = tmp_path / "pkg-1.0.dist-info"
    with_top.mkdir()
    (with_top / "top_level.txt").write_text("pkg\n_pkg_speedups\nnot-a-module\n\n")
    assert top_level_modules(str(with_top)) == ["_pkg_speedups", "pkg"]

    from_record = tmp_path / "other-2.0.dist-info"
    from_record.mkdir()
    (from_record / "RECORD").write_text(
        "other/__init__.py,sha256=x,1\n"
        "other/sub/mod.py,sha256=x,1\n"
        "nsonly/part.py,sha256=x,1\n"
        "single.py,sha256=x,1\n"
        "_ext.cpython-311-x86_64-linux-gnu.so,sha256=x,1\n"
        "other-2.0.dist-info/METADATA,sha256=x,1\n"
        "other-2.0.data/scripts/tool,sha256=x,1\n"
        "../../../bin/tool,sha256=x,1\n"
        "other.pth,sha256=x,1\n"
    )
    assert top_level_modules(str(from_record)) == ["_ext", "nsonly", "other", "single"]
    assert top_level_modules(str(tmp_path)) == []  # neither file


def test_without_either_file_the_modules_are_what_the_rpm_installs(tmp_path: Path) -> None:
    site = "/usr/lib/python3.9/site-packages"
    package = RepoPackage(
        "python3-flitted",
        "x86_64",
        (),
        (),
        files=(
            f"{site}/flitted",
            f"{site}/flitted/__init__.py",
            f"{site}/flitted/__pycache__/__init__.cpython-39.pyc",
            f"{site}/_flitted_speedups.cpython-39-x86_64-linux-gnu.so",
            f"{site}/flitted_helper.py",
            f"{site}/flitted.pth",
            f"{site}/flitted-1.0.dist-info",
            f"{site}/flitted-1.0.dist-info/METADATA",
            "/usr/bin/flitted",
        ),
    )
    modules = ["_flitted_speedups", "flitted", "flitted_helper"]
    assert package.top_level_modules() == {f"{site}/flitted-1.0.dist-info": modules}
    bare = tmp_path / "flitted-1.0.dist-info"
    bare.mkdir()
    assert top_level_modules(str(bare), modules) == modules


def test_import_all_imports_each_module_and_leaves_stray_test_directories_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "usr/lib/python3/site-packages"
    info = site / "probe-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "top_level.txt").write_text("rpmdeploy_probe_ok\nrpmdeploy_probe_bad\ntests\n")
    (site / "rpmdeploy_probe_ok.py").write_text("print('printed at import')\n")
    (site / "rpmdeploy_probe_bad.py").write_text("raise ValueError('no\\nway')\n")
    (site / "tests").mkdir()
    (site / "tests" / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    monkeypatch.syspath_prepend(str(site))
    packages, imported, failed = import_all(str(tmp_path), {})
    assert packages == 1
    assert imported == [["probe", "rpmdeploy_probe_ok"]]
    assert failed == [["probe", "rpmdeploy_probe_bad", "ValueError: no way"]]

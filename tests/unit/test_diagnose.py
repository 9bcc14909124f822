"""rpmdeploy.diagnose against output the real tools printed (captured in tests/data/diagnose/
from pip 26, pip-tools, uv 0.13, rpmbuild 4.18, gcc 12, pkgconf 1.8, createrepo_c 0.17 and dnf 4.14;
tests/integration/test_error_causes.py runs the tools themselves)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO

from rpmdeploy import diagnose

SAMPLES = REPO / "tests" / "data" / "diagnose"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.mark.parametrize(
    ("name", "tool", "package", "expected"),
    [
        (
            "pip-compile-pkg-config.txt",
            "pip",
            None,
            "no pkg-config module 'nosuchmodule' (needed by pkcfg): install its -devel/-dev "
            "package on this machine (Fedora/EL: dnf install 'pkgconfig(nosuchmodule)'; "
            "Debian/Ubuntu: the -dev package with nosuchmodule.pc) and declare it for builds in "
            'the target: [packages.pkcfg] external = ["pkgconfig(nosuchmodule)"] in '
            "rpmdeploy.toml",
        ),
        ("uv-pkg-config.txt", "uv", None, "no pkg-config module 'nosuchmodule' (needed by pkcfg)"),
        (
            "rpmbuild-pkgconfig.txt",
            "rpmbuild",
            "python3-pkcfg 1.0",
            "no pkg-config module 'nosuchmodule' (needed by python3-pkcfg 1.0)",
        ),
        (
            "pip-conflict.txt",
            "pip",
            "pkcfg==1.0",
            "backend requirement setuptools>=84 of pkcfg==1.0 conflicts with pinned "
            "setuptools==82.0.1",
        ),
        ("pip-conflict.txt", "pip", None, "requirement setuptools>=84 conflicts with pinned"),
        (
            "pip-hash.txt",
            "pip",
            None,
            "setuptools==82.0.1: downloaded artifact does not match the pinned --hash",
        ),
        ("pip-refused.txt", "pip", None, "cannot reach 127.0.0.1:9: Connection refused"),
        (
            "pip-nomatch.txt",
            "pip",
            None,
            "no matching distribution found for setuptools>=999 on the configured indexes "
            "(versions there: 82.0.1, 84.2.1)",
        ),
        (
            "rpmbuild-filenotfound.txt",
            "rpmbuild",
            None,
            "file not found in the build root: /usr/share/nothere.txt (listed in %files, "
            "not installed)",
        ),
        (
            "rpmbuild-unpackaged.txt",
            "rpmbuild",
            None,
            "installed but unpackaged file(s): /usr/share/x/extra.txt, /usr/share/x/other.txt",
        ),
        (
            "rpmbuild-cerror.txt",
            "rpmbuild",
            None,
            "/tmp/diag/rb/bad.c:1:10: nosuch.h: No such file or directory",
        ),
        (
            "rpmbuild-cerror2.txt",
            "rpmbuild",
            None,
            "/tmp/diag/rb/bad2.c:1:21: 'undeclared_thing' undeclared (first use in this function)",
        ),
        (
            "createrepo_c-nodir.txt",
            "createrepo_c",
            None,
            "directory /tmp/diag/cr/nothere does not exist",
        ),
        (
            "createrepo_c-lock.txt",
            "createrepo_c",
            None,
            "ro/.repodata exists: another createrepo_c runs there, or one was killed "
            "(remove ro/.repodata)",
        ),
        (
            "dnf-nothing.txt",
            "dnf",
            None,
            "nothing provides libnothere.so.1()(64bit) needed by needy-1.0-1.noarch; nothing "
            "provides python3dist(nothere) = 2.0 needed by needy-1.0-1.noarch",
        ),
        ("dnf-deep.txt", "dnf", None, "nothing provides libnothere.so.1()(64bit) needed by needy"),
        ("dnf-nomatch.txt", "dnf", None, "no package nosuchpkg in the repositories"),
        (
            "mock-build-no-pkg-config.txt",
            "mock",
            "python3-pkcfg-build 1.0",
            "pkg-config is not installed (needed by python3-pkcfg-build 1.0): install it "
            "(Fedora/EL: dnf install pkgconf-pkg-config; Debian/Ubuntu: apt install pkg-config)",
        ),
        # rpmdeploy's wheel tool in %build: the backend's last words, not build's traceback.
        ("rpmbuild-backend-fails.txt", "rpmbuild", None, "broken: this package refuses to build"),
    ],
)
def test_the_decisive_line_of_real_output(
    name: str, tool: str, package: str | None, expected: str
) -> None:
    found = diagnose.explain(sample(name), tool, package=package)
    assert found is not None and expected in found, found
    assert "\n" not in found and len(found) <= diagnose.MAX_LENGTH


def test_in_a_chroot_the_fix_is_a_declaration() -> None:
    found = diagnose.explain(
        sample("rpmbuild-pkgconfig.txt"),
        "mock",
        package="python3-pkcfg 1.0",
        project="pkcfg",
        chroot=True,
    )
    assert found == (
        "no pkg-config module 'nosuchmodule' (needed by python3-pkcfg 1.0) in the chroot: "
        'declare it, [packages.pkcfg] external = ["pkgconfig(nosuchmodule)"] in '
        "rpmdeploy.toml, so the build installs it"
    )


@pytest.mark.parametrize(
    ("name", "build_requires"),
    [
        ("rpmbuild-pkgconfig.txt", "pkgconfig(nosuchmodule)"),
        ("mock-build-no-pkg-config.txt", "pkgconf-pkg-config"),
    ],
)
def test_the_suggested_declaration_becomes_a_build_requirement(
    tmp_path: Path, name: str, build_requires: str
) -> None:
    """The fix a pkg-config message suggests works: rpmdeploy.toml's [packages.NAME]
    external is read and maps to the BuildRequires a chroot installs."""
    from rpmdeploy.appconfig import read_app_config
    from rpmdeploy.externals.distros import resolve_distro
    from rpmdeploy.sysdeps import system_build_requires

    message = diagnose.explain(sample(name), "mock", project="pkcfg", chroot=True)
    assert message is not None
    declaration = message.split("declare it, ")[1].split(" in rpmdeploy.toml")[0]
    table, _, value = declaration.partition(" ")
    (tmp_path / "rpmdeploy.toml").write_text(f"{table}\n{value}\n")
    extra = read_app_config(tmp_path).packages["pkcfg"].external
    found = system_build_requires("pkcfg", None, resolve_distro("rocky-9"), tmp_path, extra)
    assert found == (build_requires,)


def test_the_most_specific_rule_wins() -> None:
    """The pkg-config line explains the compiler error and rpmbuild's exit status after it."""
    output = sample("rpmbuild-cerror.txt").replace(
        "compilation terminated.", "Package 'libfoo', required by 'virtual:world', not found"
    )
    found = diagnose.explain(output, "rpmbuild", package="python3-x 1")
    assert found is not None and found.startswith("no pkg-config module 'libfoo'")


@pytest.mark.parametrize(
    ("line", "module"),
    [
        ("No package 'libpq' found", "libpq"),  # freedesktop pkg-config
        ("Package libxml-2.0 was not found in the pkg-config search path.", "libxml-2.0"),
        (
            "subprocess.CalledProcessError: Command '['pkg-config', '--libs', '--cflags', "
            "'mysqlclient']' returned non-zero exit status 1.",
            "mysqlclient",
        ),
        ("Command 'pkg-config --exists mariadb' returned non-zero exit status 1.", "mariadb"),
    ],
)
def test_every_way_a_missing_module_is_reported(line: str, module: str) -> None:
    found = diagnose.explain(f"some output\n{line}\nmore\n", "pip", package="x==1")
    assert found is not None and found.startswith(f"no pkg-config module '{module}'"), found


def test_a_bad_exit_status_names_the_step_and_its_last_words() -> None:
    output = (
        "Executing(%install): /bin/sh -e /var/tmp/rpm-tmp.abc\n+ umask 022\n"
        "+ ./install.sh\nwhatever went wrong here\n"
        "error: Bad exit status from /var/tmp/rpm-tmp.abc (%install)\n"
    )
    assert diagnose.explain(output, "rpmbuild") == "%install failed: whatever went wrong here"
    # the same with "error: " split from its line (stdout and stderr captured together)
    split = (
        output.replace("error: Bad exit", "error: \nRPM build errors:\nBad exit")
        + "    Bad exit status from /var/tmp/rpm-tmp.abc (%install)\n"
    )
    assert diagnose.explain(split, "rpmbuild") == "%install failed: whatever went wrong here"


def test_unknown_output_is_none_and_rules_keep_to_their_tools() -> None:
    assert diagnose.explain("all is well\n", "rpmbuild") is None
    assert diagnose.explain(sample("dnf-nothing.txt"), "createrepo_c") is None
    assert diagnose.explain(sample("rpmbuild-filenotfound.txt"), "pip") is None


def test_long_output_stays_one_short_line() -> None:
    many = "".join(f"  - nothing provides cap{i} needed by pkg-1.0-1.noarch\n" for i in range(200))
    found = diagnose.explain(many, "dnf")
    assert found is not None and len(found) == diagnose.MAX_LENGTH and found.endswith("...")


@pytest.mark.parametrize(
    ("argv", "tool"),
    [
        (["rpmbuild", "-ba", "x.spec"], "rpmbuild"),
        (["/usr/bin/bwrap", "--ro-bind", "/usr", "/usr", "--", "rpmbuild", "-ba"], "rpmbuild"),
        (["/venv/bin/python3", "-m", "piptools", "compile"], "pip"),
        (["/usr/bin/python3", "-m", "pip", "download"], "pip"),
        (["/x/uv", "pip", "compile"], "uv"),
        (["createrepo_c", "--update", "d"], "createrepo_c"),
        (["dnf", "install"], "dnf"),
        (["gpg", "--verify"], ""),
    ],
)
def test_tool_of(argv: list[str], tool: str) -> None:
    assert diagnose.tool_of(argv) == tool


def test_the_failed_step() -> None:
    assert diagnose.failed_step(sample("rpmbuild-backend-fails.txt")) == "%build"
    # mock's build.log, stdout and stderr captured together: "error: " on a line of its own
    split = sample("mock-build-split-error.txt")
    assert "\nerror: \nRPM build errors:\nBad exit status" in split
    assert diagnose.failed_step(split) == "%build"
    assert diagnose.failed_step(sample("rpmbuild-filenotfound.txt")) is None

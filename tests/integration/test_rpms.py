"""`rpmdeploy rpms` on the fixture app: real rpmbuild, RPM headers read back, payload imported.

The fixture app pins alpha[fast] (pure wheel: console script, extras, markers), beta (classic
setup.py sdist, post release), delta (wheel), gamma-flit (pyproject-only flit_core sdist,
pre-release) and cext (C extension compiled from its sdist).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import rpm
from helpers import (
    BuiltApp,
    deps,
    file_names,
    install_into_root,
    python_in_root,
    read_header,
    repin_delta_21,
    run_cli,
)

from rpmdeploy.lint import lint

SITE = "/usr/lib/python3.11/site-packages"
SITE64 = "/usr/lib64/python3.11/site-packages"


@pytest.mark.parametrize(
    ("name", "version", "arch", "license"),
    [
        ("python3-alpha", "1.0.0", "noarch", "MIT"),
        ("python3-alpha+fast", "1.0.0", "noarch", "MIT"),
        ("python3-beta", "0.5^post1", "noarch", "BSD-3-Clause"),
        ("python3-delta", "2.0", "noarch", "Apache-2.0"),
        ("python3-gamma-flit", "1.2.0~rc1", "noarch", "MIT"),
        ("python3-cext", "0.1", "x86_64", "MIT"),
    ],
)
def test_header_fields(
    built_app: BuiltApp, name: str, version: str, arch: str, license: str
) -> None:
    header = read_header(built_app.rpm(name))
    assert header[rpm.RPMTAG_NAME] == name
    assert header[rpm.RPMTAG_VERSION] == version
    assert header[rpm.RPMTAG_RELEASE] == "1"
    assert header[rpm.RPMTAG_ARCH] == arch
    assert header[rpm.RPMTAG_LICENSE] == license
    assert header[rpm.RPMTAG_SOURCERPM].startswith(
        "python-" + name.split("+")[0].removeprefix("python3-")
    )


def test_only_pinned_extras_are_packaged(built_app: BuiltApp) -> None:
    names = {p.name for p in built_app.out.glob("RPMS/*/*.rpm")}
    assert any(n.startswith("python3-alpha+fast-") for n in names)
    assert not any("+docs" in n for n in names), "docs extra's deps are not pinned"


def test_provides_follow_fedora_conventions(built_app: BuiltApp) -> None:
    provides = deps(read_header(built_app.rpm("python3-alpha")), "provides")
    assert "python3dist(alpha) = 1" in provides
    assert "python3.11dist(alpha) = 1" in provides
    assert "python3.11-alpha = 1.0.0-1" in provides
    assert "python3-alpha = 1.0.0-1" in provides
    extra = deps(read_header(built_app.rpm("python3-alpha+fast")), "provides")
    assert "python3dist(alpha[fast]) = 1" in extra


def test_requires_converted_and_markers_evaluated(built_app: BuiltApp) -> None:
    requires = deps(read_header(built_app.rpm("python3-alpha")), "requires")
    assert "python(abi) = 3.11" in requires
    # packaging orders the specifier set, as Fedora's generator does: upper bound first
    assert "(python3.11dist(beta) < 2~~ with python3.11dist(beta) >= 0.5)" in requires
    assert not any("never-installed" in r for r in requires), "python_version < '3' is false"
    assert not any("delta" in r for r in requires), "delta is only for the fast extra"
    assert "/usr/bin/python3" in requires  # the console script's interpreter
    extra = deps(read_header(built_app.rpm("python3-alpha+fast")), "requires")
    assert "python3.11dist(delta) >= 2" in extra
    assert "python3-alpha = 1.0.0-1" in extra
    provides = deps(read_header(built_app.rpm("python3-alpha")), "provides")
    assert "python-alpha = 1.0.0-1" in provides  # as Fedora's pythonname generator
    gamma = deps(read_header(built_app.rpm("python3-gamma-flit")), "requires")
    assert "(python3.11dist(delta) < 1.5 or python3.11dist(delta) > 1.5)" in gamma


def test_every_python_requirement_is_satisfied_within_the_set(built_app: BuiltApp) -> None:
    headers = [read_header(p) for p in built_app.out.glob("RPMS/*/*.rpm")]
    provides = [ds for h in headers for ds in h.dsFromHeader("providename")]
    for header in headers:
        for req in header.dsFromHeader("requirename"):
            text = req.DNEVR()[2:]
            if not text.startswith("python3.11dist(") or text.startswith("("):
                continue
            assert any(req.Compare(p) for p in provides), f"{header[rpm.RPMTAG_NAME]}: {text}"


def test_file_layout(built_app: BuiltApp) -> None:
    alpha = file_names(read_header(built_app.rpm("python3-alpha")))
    assert "/usr/bin/alpha-hello" in alpha
    assert f"{SITE}/alpha/__init__.py" in alpha
    assert f"{SITE}/alpha/__pycache__/__init__.cpython-311.pyc" in alpha
    assert f"{SITE}/alpha-1.0.0.dist-info/INSTALLER" in alpha
    assert f"{SITE}/alpha-1.0.0.dist-info" in alpha  # the directory itself is owned
    assert not any(f.endswith(("/RECORD", "/direct_url.json")) for f in alpha)
    cext = file_names(read_header(built_app.rpm("python3-cext")))
    assert any(
        f.startswith(f"{SITE64}/cext/_speed.cpython-311") and f.endswith(".so") for f in cext
    )
    assert not any(f.startswith(SITE + "/") for f in cext)
    extra = file_names(read_header(built_app.rpm("python3-alpha+fast")))
    assert extra == []


def test_srpms_carry_the_original_sources(built_app: BuiltApp) -> None:
    srpms = {p.name.rsplit("-", 2)[0]: p for p in built_app.out.glob("SRPMS/*.src.rpm")}
    assert set(srpms) == {
        "python-alpha",
        "python-beta",
        "python-delta",
        "python-gamma-flit",
        "python-cext",
    }
    beta = read_header(srpms["python-beta"])
    assert "beta-0.5.post1.tar.gz" in beta[rpm.RPMTAG_SOURCE]
    assert "rpmdeploy-wheel-tool.py" in beta[rpm.RPMTAG_SOURCE]
    build_requires = deps(beta, "requires")
    assert "python3-build" in build_requires
    assert any(r.startswith("python3dist(setuptools)") for r in build_requires)
    alpha = read_header(srpms["python-alpha"])
    assert "alpha-1.0.0-py3-none-any.whl" in alpha[rpm.RPMTAG_SOURCE]


def test_logs_kept_with_results(built_app: BuiltApp) -> None:
    log = built_app.out / "logs" / "python3-cext.log"
    text = log.read_text()
    assert "rpmbuild" in text and "_speed.c" in text


def test_installed_payload_works(built_app: BuiltApp, tmp_path: Path) -> None:
    root = tmp_path / "root"
    install_into_root(root, sorted(built_app.out.glob("RPMS/*/*.rpm")))
    script = (root / "usr/bin/alpha-hello").read_text()
    assert script.startswith("#!/usr/bin/python3\n")
    assert (root / SITE.lstrip("/") / "alpha-1.0.0.dist-info/INSTALLER").read_text() == "rpm\n"
    code = "import alpha, cext, gamma_flit, delta; alpha.main(); print(cext.add(2, 40), gamma_flit.__version__)"
    result = python_in_root(root, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "hello",
        "from",
        "alpha",
        "1.0.0,",
        "beta",
        "says",
        "42",
        "42",
        "1.2.0rc1",
    ]


def test_rerun_with_nothing_changed_builds_nothing(built_app: BuiltApp) -> None:
    before = {p: p.stat().st_ino for p in built_app.out.glob("RPMS/*/*.rpm")}
    result = run_cli(
        "rpms", built_app.app.path, "--out", built_app.out, "--cache-dir", built_app.cache
    )
    assert "5 packages: 0 built, 5 cached, 0 failed" in result.output
    assert set(before) == set(built_app.out.glob("RPMS/*/*.rpm"))


def test_changing_one_pin_rebuilds_only_that_package(built_app: BuiltApp, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(built_app.app.path, app)
    repin_delta_21(app, tmp_path / "newer")
    out = tmp_path / "out"
    result = run_cli("rpms", app, "--out", out, "--cache-dir", built_app.cache)
    assert "5 packages: 1 built, 4 cached, 0 failed" in result.output
    assert "built  python3-delta 2.1" in result.output
    assert (
        read_header(next(out.glob("RPMS/noarch/python3-delta-2.1-*.rpm")))[rpm.RPMTAG_SUMMARY]
        == "newer"
    )


def test_wheel_tool_is_the_one_shipped(built_app: BuiltApp, tmp_path: Path) -> None:
    """The SRPM is self-contained: it carries the tool %build/%install run."""
    srpm = next(built_app.out.glob("SRPMS/python-delta-*.src.rpm"))
    archive = tmp_path / "payload.cpio"
    with archive.open("wb") as f:
        subprocess.run(["rpm2cpio", str(srpm)], stdout=f, check=True)
    with archive.open("rb") as f:
        subprocess.run(["cpio", "-idm", "--quiet"], stdin=f, cwd=tmp_path, check=True)
    shipped = (tmp_path / "rpmdeploy-wheel-tool.py").read_text()
    assert "def install_wheel" in shipped
    assert zipfile.is_zipfile(next(tmp_path.glob("delta-2.0-*.whl")))


def test_every_package_has_a_changelog_entry(built_app: BuiltApp) -> None:
    for path in [*built_app.out.glob("RPMS/*/*.rpm"), *built_app.out.glob("SRPMS/*.rpm")]:
        header = read_header(path)
        evr = f"{header[rpm.RPMTAG_VERSION]}-{header[rpm.RPMTAG_RELEASE]}"
        assert header[rpm.RPMTAG_CHANGELOGNAME] == [f"rpmdeploy - {evr}"], path.name
        assert header[rpm.RPMTAG_CHANGELOGTEXT][0].startswith("- Packaged "), path.name
    alpha = read_header(built_app.rpm("python3-alpha"))
    assert alpha[rpm.RPMTAG_CHANGELOGTEXT] == ["- Packaged 1.0.0 from alpha-1.0.0-py3-none-any.whl"]
    history = json.loads((built_app.out / "rpmdeploy-history.json").read_text())
    assert [e["release"] for e in history["packages"]["python3-alpha"]] == [1]


def test_licences_reported_machine_readable(built_app: BuiltApp) -> None:
    data = json.loads((built_app.out / "rpmdeploy-licenses.json").read_text())
    by_name = {row["package"]: row for row in data["licenses"]}
    assert by_name["python3-alpha"]["status"] in ("declared", "mapped")
    # beta's setup.py says license="BSD": which BSD is a guess, and the summary says so
    assert (by_name["python3-beta"]["expression"], by_name["python3-beta"]["status"]) == (
        "BSD-3-Clause",
        "guessed",
    )
    assert "python3-beta 0.5.post1: BSD-3-Clause (guessed" in built_app.first_run.output


def test_rpmlint_finds_no_errors_in_rpms_and_srpms(built_app: BuiltApp) -> None:
    paths = [*built_app.out.glob("RPMS/*/*.rpm"), *built_app.out.glob("SRPMS/*.rpm")]
    report = lint(paths, built_app.out / "rpmlint.log")
    assert report.checked == 11
    assert report.errors == (), "\n".join(m.line() for m in report.errors)
    assert not any(m.check == "description-line-too-long" for m in report.messages)


def test_strict_licenses_refuses_a_guess(built_app: BuiltApp, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "rpms",
        built_app.app.path,
        "--out",
        out,
        "--cache-dir",
        built_app.cache,
        "--strict-licenses",
        expect=None,
    )
    assert result.exit_code != 0
    error = result.output.splitlines()[-1]
    assert error.startswith("rpmdeploy: error: licences not declared by the packages")
    assert "python3-beta (guessed: BSD-3-Clause)" in error
    assert not out.exists()


def test_license_override_moves_the_release_and_says_why(
    built_app: BuiltApp, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    shutil.copytree(built_app.app.path, app)
    (app / "rpmdeploy.toml").write_text("[packages.beta]\nlicense = 'BSD-2-Clause'\n")
    out = tmp_path / "out"
    shutil.copytree(built_app.out, out)  # the published packages and their history
    result = run_cli("rpms", app, "--out", out, "--cache-dir", built_app.cache)
    assert "5 packages: 1 built, 4 cached" in result.output
    assert "licences guessed or unknown" not in result.output
    header = read_header(next(out.glob("RPMS/noarch/python3-beta-0.5^post1-2.noarch.rpm")))
    assert header[rpm.RPMTAG_LICENSE] == "BSD-2-Clause"
    assert header[rpm.RPMTAG_CHANGELOGTEXT][0] == "- Rebuilt: the licence setting changed"
    assert header[rpm.RPMTAG_CHANGELOGNAME] == [
        "rpmdeploy - 0.5^post1-2",
        "rpmdeploy - 0.5^post1-1",
    ]

"""Targets and the private namespace mode: what the RPMs are built for, and where they install.

Resolving target names needs no rpmbuild: those tests are in tests/unit/test_target_names.py
(a distinct basename: pytest imports test modules by basename here).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import rpm
from helpers import (
    AppDir,
    deps,
    file_names,
    install_into_root,
    python_in_root,
    read_header,
    run_cli,
)

from rpmdeploy.targets import find_python


def test_namespace_mode(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha\n")
    app.pin()
    out = tmp_path / "out"
    run_cli(
        "rpms",
        app.path,
        "--out",
        out,
        "--cache-dir",
        tmp_path / "cache",
        "--name-prefix",
        "myapp-python3-",
        "--install-prefix",
        "/opt/myapp",
    )
    rpms = sorted(out.glob("RPMS/*/*.rpm"))
    assert [read_header(p)[rpm.RPMTAG_NAME] for p in rpms] == [
        "myapp-python3-alpha",
        "myapp-python3-beta",
    ]
    alpha = read_header(rpms[0])
    provides = deps(alpha, "provides")
    assert "myapp-python3dist(alpha) = 1" in provides
    assert not any(p.startswith(("python3dist", "python3.11")) for p in provides)
    assert "(myapp-python3dist(beta) < 2~~ with myapp-python3dist(beta) >= 0.5)" in deps(
        alpha, "requires"
    )
    files = file_names(alpha)
    assert "/opt/myapp/bin/alpha-hello" in files
    assert "/opt/myapp/lib/python3.11/site-packages/alpha/__init__.py" in files
    assert not any(f.startswith("/usr/") for f in files)
    assert alpha[rpm.RPMTAG_SOURCERPM].startswith("myapp-python3-alpha-1.0.0-1")
    root = tmp_path / "root"
    install_into_root(root, rpms)
    env_code = (
        f"import sys; sys.path.insert(0, '{root}/opt/myapp/lib/python3.11/site-packages'); "
        "import alpha; alpha.main()"
    )
    result = python_in_root(root, env_code)
    assert result.returncode == 0 and "beta says 42" in result.stdout, result.stderr


def test_building_for_another_distribution(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Pure packages build for fedora-43 here; the C extension needs the target's Python."""
    app: AppDir = app_factory("alpha\ncext\n")
    app.pin()  # the fixture pins hold for 3.14 too: no markers differ
    out = tmp_path / "out"
    result = run_cli(
        "rpms",
        app.path,
        "--out",
        out,
        "--cache-dir",
        tmp_path / "cache",
        "--target",
        "fedora-43",
        expect=1,
    )
    assert "FAILED python3-cext 0.1" in result.output
    assert "it must be built inside the target" in result.output  # wording of 9accf24
    assert not out.exists()
    app.write_in("alpha\n")
    app.pin()
    run_cli(
        "rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", "--target", "fedora-43"
    )
    alpha = read_header(next(out.glob("RPMS/noarch/python3-alpha-1.0.0-1.fc43.noarch.rpm")))
    assert "python(abi) = 3.14" in deps(alpha, "requires")
    assert "python3.14dist(alpha) = 1" in deps(alpha, "provides")
    files = file_names(alpha)
    assert "/usr/lib/python3.14/site-packages/alpha/__init__.py" in files
    assert not any(f.endswith(".pyc") for f in files), "no Python 3.14 here to compile bytecode"


PYTHON39 = find_python("3.9")


@pytest.mark.skipif(
    not PYTHON39, reason="no Python 3.9 on this machine (pyenv's is used when present)"
)
def test_c_extension_for_another_distribution_with_its_python(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """rocky-9 has Python 3.9: with a 3.9 interpreter here, the sdist compiles for it."""
    app: AppDir = app_factory("alpha\ncext\n")
    app.pin("--target", "rocky-9")  # and its build dependencies for Python 3.9
    out = tmp_path / "out"
    run_cli(
        "rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", "--target", "rocky-9"
    )
    cext = read_header(next(out.glob("RPMS/x86_64/python3-cext-0.1-1.el9.x86_64.rpm")))
    assert "python(abi) = 3.9" in deps(cext, "requires")
    files = file_names(cext)
    assert any(
        f.startswith("/usr/lib64/python3.9/site-packages/cext/_speed.cpython-39-") for f in files
    )
    root = tmp_path / "root"
    install_into_root(root, sorted(out.glob("RPMS/*/*.rpm")))
    result = python_in_root(
        root, "import alpha, cext; print(cext.add(20, 22))", version="3.9", python=PYTHON39[0]
    )
    assert result.stdout.strip() == "42", result.stderr


@pytest.mark.network
@pytest.mark.skipif(not PYTHON39, reason="no Python 3.9 on this machine")
def test_pin_for_another_distribution_uses_its_python(tmp_path: Path) -> None:
    """Markers are decided by Python 3.9 (pip-tools is installed into a cached venv for it)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "dependencies.in").write_text('click\nimportlib-metadata; python_version < "3.10"\n')
    run_cli("pin", app, "--target", "rocky-9", "--resolver", "pip-tools")
    text = (app / "dependencies.txt").read_text()
    assert "# rpmdeploy:python = 3.9." in text
    assert "importlib-metadata==" in text  # only pinned because the marker holds on 3.9
    assert "click==8.1." in text  # click 8.2 needs Python 3.10


AL2023_TOML = """\
[app]
name = "shop"
version = "1.0.0"
"""


def test_spec_for_amazon_linux_2023(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """amazonlinux-2023 is a target and a distribution: its names are EL9's, its Python 3.9."""
    app: AppDir = app_factory("alpha\n")
    app.pin()
    (app.path / "rpmdeploy.toml").write_text(AL2023_TOML)
    (app.path / "external-dependencies.txt").write_text("zlib (>=1.2.11)\nopenjpeg\n")
    result = run_cli(
        "spec", app.path, "--target", "amazonlinux-2023", "--cache-dir", tmp_path / "c"
    )
    lines = result.output.splitlines()
    assert "Requires:       python(abi) = 3.9" in lines
    assert "Requires:       zlib >= 1.2.11" in lines  # el-9's name, not Fedora's zlib-ng-compat
    assert "Requires:       openjpeg2" in lines
    assert "BuildRequires:  openjpeg2-devel" in lines
    assert not (tmp_path / "c" / "builds").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")
def test_app_and_release_for_amazon_linux_2023(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`app` and `release` take amazonlinux-2023 like any target: .amzn2023, Python 3.9."""
    app: AppDir = app_factory("alpha\n")
    app.pin("--target", "amazonlinux-2023")
    (app.path / "rpmdeploy.toml").write_text(AL2023_TOML)
    (app.path / "external-dependencies.txt").write_text("zlib (>=1.2.11)\n")
    cache = tmp_path / "c"
    out = tmp_path / "out"
    run_cli("app", app.path, "--out", out, "--target", "amazonlinux-2023", "--cache-dir", cache)
    [rpm] = sorted(out.glob("RPMS/noarch/shop-*.rpm"))
    assert rpm.name == "shop-1.0.0-1.amzn2023.noarch.rpm"
    repo = tmp_path / "repo"
    result = run_cli(
        "release", app.path, "--out", repo, "--target", "amazonlinux-2023", "--cache-dir", cache
    )
    published = sorted(p.name for p in repo.glob("Packages/*.rpm"))
    assert all(n.endswith(".amzn2023.noarch.rpm") for n in published)
    assert {n.rsplit("-", 2)[0] for n in published} >= {"shop", "python3-alpha"}
    assert "published" in result.output

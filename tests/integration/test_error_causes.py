"""Errors that name their cause: the decisive line of the real tool's output is in the one-line
error (rpmdeploy.diagnose through the one runner).  Fixture sdists are made here and served
from local find-links directories; nothing reaches an index."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import pytest
from helpers import AppDir, Built, build_rpm, free_port, run_cli

from rpmdeploy._run import run
from rpmdeploy.builders import BuildRequest
from rpmdeploy.builders.rpmbuild import rpmbuild
from rpmdeploy.errors import BuildError, RepoError, VerifyError
from rpmdeploy.targets import host_target

MODULE = "rpmdeploy-no-such-module"  # no .pc file of this name is on any machine

PLAIN = 'from setuptools import setup\nsetup(name="NAME", version="1.0", py_modules=["NAME"])\n'

#: setup.py asking pkg-config when it runs (as mysqlclient's does): pinning runs it.
PKG_CONFIG_AT_SETUP = f"""\
import subprocess
from setuptools import setup

cflags = subprocess.check_output(["pkg-config", "--cflags", "{MODULE}"], text=True)
setup(name="NAME", version="1.0", py_modules=["NAME"])
"""

#: setup.py asking pkg-config only when it compiles its extension (as psycopg2's does):
#: pinning and metadata pass, rpmbuild's %build fails.
PKG_CONFIG_AT_BUILD = f"""\
import subprocess
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class with_pkg_config(build_ext):
    def run(self):
        cflags = subprocess.check_output(["pkg-config", "--cflags", "{MODULE}"], text=True)
        for ext in self.extensions:
            ext.extra_compile_args += cflags.split()
        super().run()


setup(
    name="NAME",
    version="1.0",
    py_modules=["NAME"],
    ext_modules=[Extension("NAME_speed", ["speed.c"])],
    cmdclass={{"build_ext": with_pkg_config}},
)
"""

SPEED_C = """\
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "NAME_speed", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_NAME_speed(void) { return PyModule_Create(&def); }
"""


def sdist(links: Path, name: str, setup_py: str, requires: str = "setuptools>=61") -> Path:
    """An sdist ``name`` 1.0 with this setup.py (NAME replaced) and build requirement."""
    module = name.replace("-", "_")
    src = links.parent / f"src-{name}-{requires}" / f"{module}-1.0"
    src.mkdir(parents=True)
    (src / "setup.py").write_text(setup_py.replace("NAME", module))
    (src / f"{module}.py").write_text("X = 1\n")
    (src / "speed.c").write_text(SPEED_C.replace("NAME", module))
    (src / "MANIFEST.in").write_text("include speed.c\n")
    (src / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["{requires}"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (src / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    path = links / f"{module}-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname=f"{module}-1.0")
    return path


def error_line(output: str) -> str:
    return next(ln for ln in output.splitlines() if ln.startswith("rpmdeploy: error:"))


# --- a missing pkg-config module ---------------------------------------------------------------


def test_pinning_names_the_missing_pkg_config_module(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    sdist(links, "pkcfg", PKG_CONFIG_AT_SETUP)
    app: AppDir = app_factory("pkcfg\n")
    result = app.pin("--find-links", links, "--resolver", "pip-tools", expect=1)
    line = error_line(result.output)
    assert f"no pkg-config module '{MODULE}' (needed by pkcfg)" in line
    assert f"dnf install 'pkgconfig({MODULE})'" in line
    assert f'[packages.pkcfg] external = ["pkgconfig({MODULE})"] in rpmdeploy.toml' in line
    assert not app.pinned.exists()


def test_pinning_with_uv_names_the_missing_pkg_config_module(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    sdist(links, "pkcfg", PKG_CONFIG_AT_SETUP)
    app: AppDir = app_factory("pkcfg\n")
    line = error_line(app.pin("--find-links", links, expect=1).output)
    assert f"no pkg-config module '{MODULE}' (needed by pkcfg" in line


def test_building_names_the_missing_pkg_config_module(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The host builder's rpmbuild %build compiles the extension: pkg-config fails there."""
    links = tmp_path / "links"
    links.mkdir()
    sdist(links, "pkcfg-build", PKG_CONFIG_AT_BUILD)
    app: AppDir = app_factory("pkcfg-build\n")
    app.pin("--find-links", links)
    out, cache = tmp_path / "out", tmp_path / "cache"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", cache, expect=1)
    failure = next(ln for ln in result.output.splitlines() if ln.startswith("FAILED"))
    assert "%build: no pkg-config module" in failure
    assert f"'{MODULE}' (needed by python3-pkcfg-build 1.0)" in failure
    assert f'[packages.pkcfg-build] external = ["pkgconfig({MODULE})"]' in failure
    log = next(ln for ln in result.output.splitlines()[1:] if "build.log" in ln)
    assert "pkg-config" in Path(log.split()[-1].strip("()")).read_text()


@pytest.mark.skipif(
    shutil.which("mock") is None or os.geteuid() != 0,
    reason="needs mock and its synthetic buildroot (run as root, as tests/integration/test_mock.py)",
)
def test_a_chroot_build_names_what_is_missing_and_the_declaration(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """In mock's chroot only the BuildRequires are installed, so the fix is a declaration:
    here pkg-config itself is missing, and the declaration the error suggests becomes the
    BuildRequires mock then tries to install."""
    links = tmp_path / "links"
    links.mkdir()
    sdist(links, "pkcfg-build", PKG_CONFIG_AT_BUILD)
    app: AppDir = app_factory("pkcfg-build\n")
    app.pin("--find-links", links)
    config = os.environ.get("RPMDEPLOY_TEST_MOCK_CONFIG", "synthetic-x86_64")
    args = ("--cache-dir", tmp_path / "cache", "--builder", "mock", "--mock-config", config)
    result = run_cli("rpms", app.path, "--out", tmp_path / "out", *args, expect=1)
    failure = next(ln for ln in result.output.splitlines() if ln.startswith("FAILED"))
    assert "%build: pkg-config is not installed in the chroot (needed by python3-pkcfg-build" in (
        failure
    )
    declaration = '[packages.pkcfg-build] external = ["pkg-config"]'
    assert f"declare it, {declaration} in rpmdeploy.toml" in failure
    table, _, value = declaration.partition(" ")
    (app.path / "rpmdeploy.toml").write_text(f"{table}\n{value}\n")
    result = run_cli("rpms", app.path, "--out", tmp_path / "out", *args, expect=1)
    failure = next(ln for ln in result.output.splitlines() if ln.startswith("FAILED"))
    # The synthetic buildroot has no pkg-config package; a real distribution's has one, and
    # the build gets as far as the module.
    assert (
        "missing BuildRequires: pkgconf-pkg-config" in failure
        or f"no pkg-config module '{MODULE}'" in failure
    ), failure


# --- the network --------------------------------------------------------------------------------


def test_pip_compile_names_the_index_it_cannot_reach(app_factory) -> None:  # type: ignore[no-untyped-def]
    """An index on a closed local port: pip's 'Connection refused', with host and port."""
    app: AppDir = app_factory("delta\n")
    port = free_port()  # nothing listens there once the probe socket is closed
    index = f"http://127.0.0.1:{port}/simple"
    result = run_cli("pin", app.path, "--index-url", index, "--resolver", "pip-tools", expect=None)
    assert result.exit_code != 0
    assert f"127.0.0.1:{port}" in error_line(result.output)
    assert "Connection refused" in error_line(result.output)


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_pin_with_a_relative_app_directory(
    app_factory, monkeypatch: pytest.MonkeyPatch, resolver: str
) -> None:  # type: ignore[no-untyped-def]
    """The resolvers run confined: a relative APP_DIR must reach bubblewrap as an absolute
    path (it failed with "bwrap: Can't find source path app")."""
    app: AppDir = app_factory("delta\n")
    monkeypatch.chdir(app.path.parent)
    args = ("--no-index", "--find-links", app.wheelhouse, "--resolver", resolver)
    run_cli("pin", app.path.name, *args)
    assert "delta==2.0" in app.pinned.read_text()


# --- a build backend against the pinned one ----------------------------------------------------


def test_a_backend_requirement_against_the_pinned_one_is_named(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The sdist's build-system requires setuptools>=999; build-dependencies.txt pins the
    setuptools the sdist asked for when it was pinned (a new sdist put in by hand since)."""
    import hashlib

    links = tmp_path / "links"
    links.mkdir()
    old = sdist(links, "needs-new", PLAIN)
    app: AppDir = app_factory("needs-new\n")
    app.pin("--find-links", links)
    pinned = app.build_pinned.read_text()
    setuptools = next(ln.split()[0] for ln in pinned.splitlines() if ln.startswith("setuptools=="))
    old_hash = hashlib.sha256(old.read_bytes()).hexdigest()
    old.unlink()
    new = sdist(links, "needs-new", PLAIN, "setuptools>=999")
    new_hash = hashlib.sha256(new.read_bytes()).hexdigest()
    app.pinned.write_text(app.pinned.read_text().replace(old_hash, new_hash))
    result = run_cli(
        "rpms", app.path, "--out", tmp_path / "out", "--cache-dir", tmp_path / "c", expect=1
    )
    assert (
        f"backend requirement setuptools>=999 of needs-new==1.0 conflicts with pinned {setuptools}"
        in result.output
    )


# --- rpmbuild ----------------------------------------------------------------------------------


def spec_request(tmp_path: Path, name: str, build: str, install: str, files: str) -> BuildRequest:
    spec = tmp_path / f"{name}.spec"
    spec.write_text(
        f"Name: {name}\nVersion: 1.0\nRelease: 1\nSummary: test\nLicense: MIT\n\n"
        f"%description\ntest\n\n%build\n{build}\n\n%install\n{install}\n\n%files\n{files}\n"
    )
    return BuildRequest(label=f"{name} 1.0", spec=spec, sources=())


@pytest.mark.parametrize(
    ("build", "install", "files", "cause"),
    [
        (
            "true",
            "mkdir -p %{buildroot}/usr/share",
            "/usr/share/not-installed.txt",
            "file not found in the build root: /usr/share/not-installed.txt",
        ),
        (
            "true",
            "mkdir -p %{buildroot}/usr/share/x && echo a > %{buildroot}/usr/share/x/extra.txt",
            "%dir /usr/share/x",
            "installed but unpackaged file(s): /usr/share/x/extra.txt",
        ),
        (
            "printf '#include <no-such-header.h>\\n' > x.c && gcc -c x.c",
            "true",
            "",
            "%build: x.c:1:10: no-such-header.h: No such file or directory",
        ),
        (
            f"pkg-config --cflags {MODULE}",
            "true",
            "",
            f"%build: no pkg-config module '{MODULE}' (needed by probe 1.0)",
        ),
        ("true", "echo 'the install script gave up' && false", "", "%install failed: the install"),
    ],
)
def test_rpmbuild_failures_name_the_decisive_line(
    tmp_path: Path, build: str, install: str, files: str, cause: str
) -> None:
    request = spec_request(tmp_path, "probe", build, install, files)
    log = tmp_path / "build.log"
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "LC_ALL": "C"}
    with pytest.raises(BuildError) as caught:
        rpmbuild(request, work, "-bb", [], env, log)
    message = caught.value.message
    assert message.startswith("rpmbuild of probe 1.0 failed (exit 1): "), message
    assert cause in message, message
    assert caught.value.log == str(log)


# --- createrepo_c and dnf ----------------------------------------------------------------------


def test_createrepo_c_failures_name_the_cause(tmp_path: Path) -> None:
    """The one runner reads createrepo_c's output (repo/ and mock's local repository run it
    through it)."""
    missing = tmp_path / "no-such-directory"
    with pytest.raises(RepoError) as caught:
        run(["createrepo_c", missing], log=tmp_path / "log", what="indexing", error=RepoError)
    assert caught.value.message == f"indexing failed (exit 1): directory {missing} does not exist"
    stale = tmp_path / "repo"
    (stale / ".repodata").mkdir(parents=True)  # left by a createrepo_c that was killed
    with pytest.raises(RepoError) as caught:
        run(["createrepo_c", stale], log=tmp_path / "log", what="indexing", error=RepoError)
    assert f"{stale}/.repodata exists: another createrepo_c runs there" in caught.value.message


@pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")
def test_dnf_install_failure_names_the_problem(tmp_path: Path) -> None:
    """Two packages the app needs ship one path with different contents: repoclosure passes,
    dnf's transaction check fails; the error carries dnf's problem line."""
    from rpmdeploy.repo import publish_repo
    from rpmdeploy.verify import base_provides_for, verify_repo

    target = host_target("/usr/bin/python3")
    top = tmp_path / "rpmbuild"
    path = "/usr/share/shared-file"
    built: list[Built] = [
        build_rpm(top, "one", "1.0", files={path: "one\n"}),
        build_rpm(top, "two", "1.0", files={path: "two\n"}),
        build_rpm(top, "app", "1.0", requires=("one", "two")),
    ]
    repo = tmp_path / "repo"
    publish_repo(repo, [b.rpm for b in built], [b.srpm for b in built], log=tmp_path / "log")
    with pytest.raises(VerifyError) as caught:
        verify_repo(
            repo,
            "app",
            target,
            base_provides=base_provides_for(target),
            check_signatures=False,
            gpg_key=None,
            log=tmp_path / "verify.log",
        )
    message = caught.value.message
    assert message.startswith(
        "installing app into an empty root failed: file /usr/share/shared-file"
    )
    assert (
        "conflicts" in message and "one-1.0-1.noarch" in message and "two-1.0-1.noarch" in message
    )

"""What the host's rpmbuild compiles for another target must fit it (rpmdeploy.elfcheck).

The fixture sdists are made here: a C extension ``fitNAME._ext`` whose one function calls
what the test asks for.  This machine (Debian 12) has glibc 2.36; rocky-9 has 2.34 and
Python 3.9, so the tests need a Python 3.9 here (pyenv's is used when present).  Real
rpmbuild compiles the sdist for rocky-9; the RPM's payload is read back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rpm
from helpers import (
    AppDir,
    build_package,
    deps,
    file_names,
    install_into_root,
    log_path,
    python_in_root,
    read_header,
    run_cli,
)

from rpmdeploy.targets import find_python

PYTHON39 = find_python("3.9")
pytestmark = pytest.mark.skipif(
    not PYTHON39, reason="no Python 3.9 on this machine (pyenv's is used when present)"
)
SITE39 = "/usr/lib64/python3.9/site-packages"
EXTENSION = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>
int ffi_prep_cif(void *, int, unsigned, void *, void *);
static PyObject *pick(PyObject *self, PyObject *args) { return PyLong_FromUnsignedLong(CALL); }
static PyMethodDef methods[] = {{"pick", pick, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&module); }
"""


def fixture_sdist(tmp_path: Path, name: str, call: str, libraries: str = "") -> Path:
    """An sdist of ``name`` whose extension returns ``call`` (C), linked with ``libraries``."""
    src = tmp_path / f"src-{name}"
    (src / name).mkdir(parents=True)
    (src / name / "__init__.py").write_text("from ._ext import pick\n")
    (src / name / "_ext.c").write_text(EXTENSION.replace("CALL", call))
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\nlicense = {{text = "MIT"}}\n'
    )
    link = f", extra_link_args=[{libraries!r}]" if libraries else ""
    (src / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        f"setup(packages=[{name!r}], ext_modules=[Extension('{name}._ext', "
        f"['{name}/_ext.c']{link})])\n"
    )
    (src / "MANIFEST.in").write_text(f"include {name}/_ext.c\n")
    links = tmp_path / "links"
    links.mkdir(exist_ok=True)
    build_package(src, links, ("--sdist",))
    return links


def rocky9_rpms(
    app_factory,
    tmp_path: Path,
    name: str,
    call: str,
    libraries: str = "",
    expect: int = 0,
    more: str = "",
):  # type: ignore[no-untyped-def]
    links = fixture_sdist(tmp_path, name, call, libraries)
    app: AppDir = app_factory(f"{name}\n{more}\n")
    app.pin("--target", "rocky-9", "--find-links", links)
    out = tmp_path / "out"
    result = run_cli(
        *("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache"),
        *("--target", "rocky-9"),
        expect=expect,
    )
    return app, out, result


def extension_path(name: str) -> str:
    return f"{SITE39}/{name}/_ext.cpython-39-x86_64-linux-gnu.so"


def test_a_symbol_newer_than_the_targets_glibc_fails_the_build(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """arc4random is GLIBC_2.36 (this machine's glibc), rocky-9 has 2.34: the package fails,
    naming the symbol, its version and the file, and suggesting mock or a wheel."""
    _, out, result = rocky9_rpms(app_factory, tmp_path, "fitnew", "arc4random()", expect=1)
    line = next(x for x in result.output.splitlines() if x.startswith("FAILED python3-fitnew"))
    assert f"{extension_path('fitnew')} needs GLIBC_2.36 (arc4random) from libc.so.6" in line
    assert "rocky-9-x86_64 has (glibc 2.34)" in line and "--builder mock" in line
    assert "a wheel that fits it (manylinux_2_34_x86_64 or older)" in line
    log = log_path(result.output)
    assert "needs GLIBC_2.36 (arc4random)" in log.read_text()
    assert not out.exists()  # nothing is published when a package fails


def test_old_symbols_fit_and_the_rpm_installs_for_python39(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The extension builds and loads with Python 3.9; the sdist's and a pure wheel's modules
    carry Python 3.9 bytecode (compiled by the 3.9 found here although rpmdeploy runs
    another), its .opt-1.pyc hard-linked to the identical .pyc as Fedora's are."""
    _, out, result = rocky9_rpms(
        app_factory, tmp_path, "fitold", 'strtoul("4", NULL, 10)', "", 0, "alpha"
    )
    built = next(out.glob("RPMS/x86_64/python3-fitold-1.0-1.el9.x86_64.rpm"))
    header = read_header(built)
    assert extension_path("fitold") in file_names(header)
    glibc = [r for r in deps(header, "requires") if "GLIBC_" in r]
    assert glibc and not [r for r in glibc if re.search(r"GLIBC_2\.3[5-9]", r)], glibc
    pure = next(out.glob("RPMS/noarch/python3-alpha-*.el9.noarch.rpm"))
    root = tmp_path / "root"
    install_into_root(root, [built, pure])
    run = python_in_root(root, "import fitold; print(fitold.pick())", "3.9", PYTHON39[0])
    assert run.stdout.strip() == "4", run.stderr

    magic = python_in_root(
        root, "import importlib.util as u; print(u.MAGIC_NUMBER.hex())", "3.9", PYTHON39[0]
    )
    for rpm_file, module in (
        (built, f"{SITE39}/fitold/__init__"),
        (pure, "/usr/lib/python3.9/site-packages/alpha/__init__"),
    ):
        header = read_header(rpm_file)
        inodes = dict(zip(file_names(header), header[rpm.RPMTAG_FILEINODES], strict=True))
        cached = module.replace("__init__", "__pycache__/__init__")
        pyc, opt1 = f"{cached}.cpython-39.pyc", f"{cached}.cpython-39.opt-1.pyc"
        assert pyc in inodes and opt1 in inodes, sorted(inodes)
        assert inodes[pyc] == inodes[opt1]  # one file, two names
        data = (root / pyc.lstrip("/")).read_bytes()
        assert data[:4].hex() == magic.stdout.strip()
    assert "no bytecode" not in result.output


def test_a_needed_library_must_be_in_the_base_system_or_mapped(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """libffi.so.8 is no manylinux system library: linked without a mapped system dependency
    the build fails naming it; declared with [packages.fitffi] external, it builds, and the
    RPM requires the soname (rpm's generator), which the target's libffi provides."""
    call = "(unsigned long)(size_t)&ffi_prep_cif"
    app, out, result = rocky9_rpms(
        app_factory, tmp_path, "fitffi", call, "-l:libffi.so.8", expect=1
    )
    line = next(x for x in result.output.splitlines() if x.startswith("FAILED python3-fitffi"))
    assert f"{extension_path('fitffi')} needs libffi.so.8, which is neither in" in line
    assert "[packages.NAME] external" in line

    (app.path / "rpmdeploy.toml").write_text('[packages.fitffi]\nexternal = ["libffi"]\n')
    run_cli(
        *("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache"),
        *("--target", "rocky-9"),
    )
    header = read_header(next(out.glob("RPMS/x86_64/python3-fitffi-1.0-*.x86_64.rpm")))
    assert "libffi.so.8()(64bit)" in deps(header, "requires")
    srpm = read_header(next(out.glob("SRPMS/python-fitffi-1.0-*.src.rpm")))
    assert "libffi-devel" in srpm[rpm.RPMTAG_REQUIRENAME]

"""Each sdist is built once: rpmdeploy reads its metadata with PEP 517's
prepare_metadata_for_build_wheel and decides noarch or arch without building; the one build
is rpmbuild's, in %build.

The builds are confined (nothing of the package can write outside its build), so the hooks
are counted in what they print: the package's build log holds the output of the metadata
hook (run by rpmdeploy) and of %build (run by rpmbuild).  Two kinds of backend: setuptools
itself (beta, pure; cext, a C extension), and a backend inside the sdist (``backend-path``)
that prints one line per hook call, so that every hook is seen, whatever the backend.
"""

from __future__ import annotations

import re
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import AppDir, file_names, log_path, read_header, run_cli

from rpmdeploy.confine import interpreter_dirs
from rpmdeploy.errors import MetadataError
from rpmdeploy.metadata import read_wheel_metadata
from rpmdeploy.wheels import sdist_purity

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc missing")

# A PEP 517 backend in the sdist: it prints which hook runs, builds a wheel of the package's
# module, and (KIND "c") compiles its C file with gcc into an extension, or (KIND "hidden")
# compiles C code it carries in a string and still calls the wheel pure: a package that
# fools the purity check.
BACKEND = """\
import base64, hashlib, os, subprocess, sys, sysconfig, zipfile

NAME, VERSION, KIND = {name!r}, "1.0", {kind!r}
DIST_INFO = f"{{NAME}}-{{VERSION}}.dist-info"
METADATA = f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\nSummary: once\\n"
HIDDEN_C = "int answer(void) {{ return 42; }}\\n"


def _say(hook):
    print(f"ONCE-HOOK {{hook}}", flush=True)


def get_requires_for_build_wheel(config_settings=None):
    _say("get_requires_for_build_wheel")
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _say("prepare_metadata_for_build_wheel")
    os.makedirs(os.path.join(metadata_directory, DIST_INFO))
    with open(os.path.join(metadata_directory, DIST_INFO, "METADATA"), "w") as f:
        f.write(METADATA)
    return DIST_INFO


def _compile(source, output):
    include = sysconfig.get_paths()["include"]
    subprocess.run(["gcc", "-shared", "-fPIC", f"-I{{include}}", "-o", output, source],
                   check=True)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _say("build_wheel")
    files = {{f"{{NAME}}/__init__.py": open(f"{{NAME}}/__init__.py", "rb").read()}}
    pure = KIND != "c"
    if KIND == "c":
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        _compile(f"{{NAME}}/_speed.c", "speed.so")
        files[f"{{NAME}}/_speed{{suffix}}"] = open("speed.so", "rb").read()
    elif KIND == "hidden":
        with open("hidden.txt", "w") as f:
            f.write(HIDDEN_C)
        _compile_as_c("hidden.txt", "hidden.so")
        files[f"{{NAME}}/_hidden.so"] = open("hidden.so", "rb").read()
    impl = f"cp{{sys.version_info[0]}}{{sys.version_info[1]}}"
    tag = "py3-none-any" if pure else f"{{impl}}-{{impl}}-linux_x86_64"
    files[f"{{DIST_INFO}}/METADATA"] = METADATA.encode()
    files[f"{{DIST_INFO}}/WHEEL"] = (
        f"Wheel-Version: 1.0\\nGenerator: once\\nRoot-Is-Purelib: {{str(pure).lower()}}\\n"
        f"Tag: {{tag}}\\n"
    ).encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{{path}},sha256={{digest.decode()}},{{len(data)}}")
    record.append(f"{{DIST_INFO}}/RECORD,,")
    files[f"{{DIST_INFO}}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    wheel = f"{{NAME}}-{{VERSION}}-{{tag}}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as zf:
        for path, data in files.items():
            info = zipfile.ZipInfo(path)
            # Modes as setuptools' wheels carry them: what gcc made is executable.
            info.external_attr = (0o100755 if path.endswith(".so") else 0o100644) << 16
            zf.writestr(info, data)
    return wheel


def _compile_as_c(source, output):
    include = sysconfig.get_paths()["include"]
    subprocess.run(["gcc", "-x", "c", "-shared", "-fPIC", f"-I{{include}}", "-o", output,
                    source], check=True)
"""

C_SOURCE = """\
#include <Python.h>
static struct PyModuleDef speed = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&speed); }
"""


def once_sdist(links: Path, name: str, kind: str) -> Path:
    """An sdist built by the counting backend: ``kind`` "pure", "c" or "hidden"."""
    src = links.parent / f"src-{name}" / f"{name}-1.0"
    (src / name).mkdir(parents=True)
    (src / name / "__init__.py").write_text("X = 1\n")
    if kind == "c":
        (src / name / "_speed.c").write_text(C_SOURCE)
    (src / "once_backend.py").write_text(BACKEND.format(name=name, kind=kind))
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "once_backend"\nbackend-path = ["."]\n'
    )
    (src / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    sdist = links / f"{name}-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(src, arcname=f"{name}-1.0")
    return sdist


def build(app: AppDir, tmp_path: Path, expect: int = 0) -> tuple[Path, str]:
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "c", expect=expect)
    return out, result.output


def the_rpm(out: Path, name: str) -> Path:
    found = sorted(out.glob(f"RPMS/*/{name}-1.0-*.rpm"))
    assert len(found) == 1, found
    return found[0]


@needs_gcc
def test_setuptools_sdists_pure_and_c_are_each_built_once(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("beta\ncext\n")
    app.pin()
    out, _ = build(app, tmp_path)
    for name, arch in (("beta", "noarch"), ("cext", "x86_64")):
        log = (out / "logs" / f"python3-{name}.log").read_text()
        # setuptools says "running dist_info" for the metadata hook, "running bdist_wheel"
        # for each wheel it builds.
        assert log.count("running dist_info") == 1, name
        assert log.count("running bdist_wheel") == 1, name
        assert log.index("running dist_info") < log.index("Executing(%build)")
        assert log.index("running bdist_wheel") > log.index("Executing(%build)")
        (rpm_file,) = out.glob(f"RPMS/*/python3-{name}-*.rpm")
        assert read_header(rpm_file)["arch"] == arch, name
    assert (
        "compiled: setuptools says it has extension modules"
        in (out / "logs" / "python3-cext.log").read_text()
    )
    cext_files = file_names(read_header(next(out.glob("RPMS/x86_64/python3-cext-*.rpm"))))
    assert any(re.search(r"/cext/_speed\.cpython-.*\.so$", f) for f in cext_files)


@needs_gcc
@pytest.mark.parametrize(("kind", "arch"), [("pure", "noarch"), ("c", "x86_64")])
def test_every_backend_hook_runs_once(app_factory, tmp_path: Path, kind: str, arch: str) -> None:  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    name = f"once{kind}"
    once_sdist(links, name, kind)
    app: AppDir = app_factory(f"{name}\n")
    app.pin("--find-links", links)
    out, _ = build(app, tmp_path)
    log = (out / "logs" / f"python3-{name}.log").read_text()
    hooks = re.findall(r"^ONCE-HOOK (\w+)$", log, re.MULTILINE)
    # rpmdeploy: its build requirements, then its metadata; %build: a wheel, once.
    assert hooks.count("prepare_metadata_for_build_wheel") == 1
    assert hooks.count("build_wheel") == 1
    assert hooks[-1] == "build_wheel" and log.rindex("ONCE-HOOK") > log.index("Executing(%build)")
    header = read_header(the_rpm(out, f"python3-{name}"))
    assert header["arch"] == arch
    so = [f for f in file_names(header) if f.endswith(".so")]
    assert bool(so) == (kind == "c"), so


@needs_gcc
def test_a_pure_guess_that_compiles_cannot_ship(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The safety net: a backend that compiles code no file of the sdist shows, and calls its
    wheel pure, is taken for pure; the wheel tool's %install then finds an ELF file in the
    noarch package (executable or not: rpm's own "Arch dependent binaries in noarch package"
    sees only executable ones, and names none) and the build fails, naming the file;
    nothing is published."""
    links = tmp_path / "links"
    links.mkdir()
    once_sdist(links, "oncehidden", "hidden")
    app: AppDir = app_factory("oncehidden\n")
    app.pin("--find-links", links)
    out, output = build(app, tmp_path, expect=1)
    failure = next(ln for ln in output.splitlines() if ln.startswith("FAILED"))
    assert "python3-oncehidden 1.0" in failure
    log = log_path(output.split("FAILED", 1)[1]).read_text()
    assert "pure (noarch): no compiled sources" in log
    assert "_hidden" in failure and "compiled code in a package built as noarch" in failure
    assert "compiled code in a package built as noarch" in log
    assert not out.exists()


# --- pure or compiled, decided from the sdist (no build) -----------------------------------------


def sdist_tree(root: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """An unpacked sdist with ``files`` and an empty prepared .dist-info beside it."""
    source = root / "pkg-1.0"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    dist_info = root / "meta" / "pkg-1.0.dist-info"
    dist_info.mkdir(parents=True)
    return source, dist_info


SETUPTOOLS = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
# charset-normalizer's way: .pyx files shipped, compiled only when an environment variable asks.
OPTIONAL_CYTHON = """\
import os
from setuptools import Extension, setup
ext = [Extension("pkg._speed", ["pkg/_speed.pyx"])] if os.getenv("PKG_USE_CYTHON") else None
setup(name="pkg", version="1.0", packages=["pkg"], ext_modules=ext)
"""


@pytest.mark.parametrize(
    ("files", "pure", "why"),
    [
        ({"pkg/__init__.py": "", "pyproject.toml": SETUPTOOLS}, True, "no compiled sources"),
        # C files a package only carries (pycparser's test inputs) are not built.
        ({"pkg/__init__.py": "", "tests/c_files/x.c": "int x;\n"}, True, "no compiled sources"),
        (
            {"pkg/__init__.py": "", "src/lib.rs": "", "pyproject.toml": SETUPTOOLS},
            False,
            "compiled sources (src/lib.rs)",
        ),
        (
            {
                "Cargo.toml": "",
                "pyproject.toml": '[build-system]\nbuild-backend = "maturin"\n',
            },
            False,
            "its build backend maturin compiles",
        ),
        (
            {
                "pkg/__init__.py": "",
                "pyproject.toml": SETUPTOOLS
                + '[[tool.setuptools.ext-modules]]\nname = "pkg._x"\nsources = ["x.c"]\n',
            },
            False,
            "[tool.setuptools] ext-modules",
        ),
        (
            {"pkg/__init__.py": "", "pkg/_speed.pyx": "", "setup.py": OPTIONAL_CYTHON},
            True,
            "setuptools says it has no extension modules (pkg/_speed.pyx is not built)",
        ),
    ],
)
def test_purity_is_decided_from_the_sdist(
    tmp_path: Path, files: dict[str, str], pure: bool, why: str
) -> None:
    source, dist_info = sdist_tree(tmp_path, files)
    log = tmp_path / "log"
    found = sdist_purity(source, dist_info, sys.executable, log, interpreter_dirs())
    assert found[0] is pure and why in found[1], found


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")
def test_setuptools_is_asked_confined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same setup.py, with the variable set: setuptools says compiled; the probe ran the
    sdist's code confined (what it writes outside stays unwritten)."""
    marker = tmp_path / "outside"
    hostile = f"try:\n    open({str(marker)!r}, 'w').write('x')\nexcept OSError:\n    pass\n"
    files = {"pkg/_speed.pyx": "", "setup.py": hostile + OPTIONAL_CYTHON}
    source, dist_info = sdist_tree(tmp_path, files)
    monkeypatch.setenv("PKG_USE_CYTHON", "1")
    found = sdist_purity(source, dist_info, sys.executable, tmp_path / "log", interpreter_dirs())
    assert found == (False, "setuptools says it has extension modules")
    assert not marker.exists()


def test_prepared_metadata_is_read_like_a_wheel(tmp_path: Path) -> None:
    dist_info = tmp_path / "Some_Pkg-2.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: some-pkg\nVersion: 2.0\nSummary: s\n"
        "Requires-Dist: six>=1\nLicense-Expression: MIT\n"
    )
    (dist_info / "entry_points.txt").write_text("[console_scripts]\nsome = some_pkg:main\n")
    meta = read_wheel_metadata(dist_info, is_pure=False)
    assert (meta.name, meta.version, meta.is_pure) == ("some-pkg", "2.0", False)
    assert meta.requires_dist == ("six>=1",) and meta.console_scripts == ("some",)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: other\nVersion: 2.0\n")
    with pytest.raises(MetadataError, match="METADATA names 'other', not some-pkg"):
        read_wheel_metadata(dist_info, is_pure=True)
    with pytest.raises(MetadataError, match="no WHEEL file says whether the package is pure"):
        read_wheel_metadata(dist_info)

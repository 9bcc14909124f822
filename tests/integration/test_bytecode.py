"""Bytecode for a target whose Python is not the one running rpmdeploy (rocky-9's 3.9 on a
3.11 host): the wheel tool starts that interpreter before installing and hands it each module
as it is written (``_wheel_tool.Bytecode``).  Its files must be what py_compile writes (the
same header, the same code objects), level 1 linked to level 0 only where the code is the
same, the same bytes in every build, and a module that does not compile gets none.

Needs a Python 3.9 on this machine (pyenv's serves); skipped without one.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import make_wheel

from rpmdeploy import _wheel_tool as wheel_tool
from rpmdeploy.targets import find_python

PYTHON39 = find_python("3.9")
pytestmark = pytest.mark.skipif(not PYTHON39, reason="no Python 3.9 on this machine")
SITE = "/usr/lib/python3.9/site-packages"
EPOCH = {"SOURCE_DATE_EPOCH": "315532800"}

# Module name -> source, and whether its level-1 code differs from level 0.
MODULES: dict[str, tuple[bytes, bool]] = {
    "plain": (b'"""Doc."""\ndef g():\n    return 2\n', False),
    "asserts": (b"def f(x):\n    assert x\n    return 1\n", True),
    "debug": (b"def f():\n    if __debug__:\n        return 1\n    return 0\n", True),
    # No "__debug__" in its bytes: identifiers are NFKC-normalised (fullwidth d, e, b, u, g).
    "wide": ("def h():\n    if __ｄｅｂｕｇ__:\n        return 0\n    return 'é'\n".encode(), True),
    # No "assert" in its bytes: UTF-7 spells it in base64.
    "seven": (b"# coding: utf-7\ndef f():\n    +AGEAcwBzAGUAcgB0- False\n", True),
    "accents": ("def s():\n    return 'café'\n".encode(), False),
}

# Run by Python 3.9: py_compile's file for each module and level next to ours, compared.
COMPARE = r"""
import importlib.util, json, marshal, os, py_compile, sys
root, found = sys.argv[1], {}
for installed in sys.argv[2:]:
    path = root + installed
    for level in (0, 1):
        ours = importlib.util.cache_from_source(path, optimization=level or "")
        theirs = py_compile.compile(path, ours + ".ref", installed, True, level)
        a, b = open(ours, "rb").read(), open(theirs, "rb").read()
        os.unlink(theirs)
        code_a, code_b = marshal.loads(a[16:]), marshal.loads(b[16:])
        found["%s %d" % (installed, level)] = {
            "header": a[:16] == b[:16], "code": code_a == code_b,
            "flags": int.from_bytes(a[4:8], "little"), "file": code_a.co_filename}
print(json.dumps(found))
"""


def write_modules(root: Path, modules: dict[str, tuple[bytes, bool]]) -> list[str]:
    site = root / SITE.lstrip("/") / "pkg"
    site.mkdir(parents=True, exist_ok=True)
    for name, (source, _) in modules.items():
        (site / f"{name}.py").write_bytes(source)
    return [f"{SITE}/pkg/{name}.py" for name in modules]


def compile_with_39(root: Path, installed: list[str], env: dict[str, str]) -> None:
    bytecode = wheel_tool.Bytecode.start(
        root, "3.9", {**env, "RPMDEPLOY_BYTECODE_PYTHON": PYTHON39[0]}
    )
    assert bytecode is not None
    with bytecode:
        for path in installed:
            bytecode.add(path)


@pytest.mark.parametrize("env", [EPOCH, {}], ids=["hash-based", "timestamps"])
def test_the_target_interpreter_writes_what_py_compile_writes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Both levels, the installed path in the code objects, hash-based with
    SOURCE_DATE_EPOCH (as installer's) and timestamps without; level 1 is a hard link to
    level 0 exactly where the code is the same, whatever the source's spelling."""
    root = tmp_path / "root"
    installed = write_modules(root, MODULES)
    compile_with_39(root, installed, env)
    compared = subprocess.run(
        [PYTHON39[0], "-c", COMPARE, root, *installed],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    found = json.loads(compared.stdout)
    assert len(found) == 2 * len(MODULES)
    for key, seen in found.items():
        assert seen["header"] and seen["code"], key
        assert seen["flags"] == (3 if env else 0), key  # checked hash / timestamp
        assert seen["file"] == key.split()[0]
    cache = root / SITE.lstrip("/") / "pkg" / "__pycache__"
    for name, (_, differs) in MODULES.items():
        plain = cache / f"{name}.cpython-39.pyc"
        opt1 = cache / f"{name}.cpython-39.opt-1.pyc"
        assert (plain.stat().st_ino != opt1.stat().st_ino) == differs, name
        assert (plain.read_bytes() != opt1.read_bytes()) == differs, name


def test_the_same_bytes_in_every_build(tmp_path: Path) -> None:
    """A set constant (``x in {...}``) is written in hash order by Python 3.9's marshal: the
    compiling process has a fixed hash seed, so two builds give the same file."""
    words = ", ".join(f'"word{i}"' for i in range(12))
    source = f"def member(x):\n    return x in {{{words}}}\n".encode()
    built = []
    for build in ("one", "two"):
        root = tmp_path / build
        compile_with_39(root, write_modules(root, {"sets": (source, False)}), EPOCH)
        built.append((root / SITE.lstrip("/") / "pkg/__pycache__/sets.cpython-39.pyc").read_bytes())
    assert built[0] == built[1]


def test_a_module_that_does_not_compile_gets_no_bytecode(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """As installer (compileall) does: named in the log, the other modules compiled."""
    root = tmp_path / "root"
    modules = {"broken": (b"def f(:\n", False), "fine": (b"X = 1\n", False)}
    compile_with_39(root, write_modules(root, modules), EPOCH)
    cache = root / SITE.lstrip("/") / "pkg" / "__pycache__"
    assert sorted(p.name for p in cache.iterdir()) == [
        "fine.cpython-39.opt-1.pyc",
        "fine.cpython-39.pyc",
    ]
    assert f"no bytecode for {SITE}/pkg/broken.py: SyntaxError" in capfd.readouterr().out


def test_another_version_is_refused_and_none_means_no_bytecode(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    installed = write_modules(root, {"plain": MODULES["plain"]})
    env = {"RPMDEPLOY_BYTECODE_PYTHON": PYTHON39[0]}
    with pytest.raises(SystemExit, match="compiling bytecode with .* failed"):
        bytecode = wheel_tool.Bytecode.start(root, "3.8", env)
        assert bytecode is not None
        with bytecode:
            bytecode.add(installed[0])
    assert "is Python 3.9, not 3.8" in capfd.readouterr().err
    missing = {"RPMDEPLOY_BYTECODE_PYTHON": str(tmp_path / "no-python")}
    with pytest.raises(SystemExit, match="compiling bytecode with .*no-python failed"):
        wheel_tool.Bytecode.start(root, "3.9", missing)
    assert wheel_tool.Bytecode.start(root, "3.9", {}) is None
    assert "no bytecode: no Python 3.9" in capfd.readouterr().out
    assert not (root / SITE.lstrip("/") / "pkg" / "__pycache__").exists()


def install_for_39(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> tuple[Path, Path]:
    """The wheel tool's ``install`` of a wheel ``pkg`` 1.0 with ``files`` for Python 3.9,
    run by rpmdeploy's own Python: the root it installed into and its file list."""
    meta = "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "pkg", "1.0", meta, files)
    root, filelist = tmp_path / "root", tmp_path / "files.txt"
    monkeypatch.setenv("RPMDEPLOY_BYTECODE_PYTHON", PYTHON39[0])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH["SOURCE_DATE_EPOCH"])
    argv = ["install", "--wheel-dir", str(wheels), "--root", str(root)]
    argv += ["--purelib", SITE, "--platlib", SITE.replace("/lib/", "/lib64/")]
    argv += ["--scripts", "/usr/bin", "--data", "/usr", "--headers", "/usr/include/pkg"]
    argv += ["--interpreter", "/usr/bin/python3.9", "--python-version", "3.9"]
    assert wheel_tool.main([*argv, "--filelist", str(filelist)]) == 0
    return root, filelist


def test_install_compiles_the_modules_of_the_site_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``install`` for Python 3.9 run by rpmdeploy's own Python: every module installed under
    a site directory (a data file landing there too) gets bytecode and is in the file list;
    a script elsewhere gets none."""
    files = {
        "pkg/__init__.py": "def f(x):\n    assert x\n",
        "pkg/sub/mod.py": "VALUE = 1\n",
        "pkg/data.txt": "not code\n",
        "top.py": "TOP = 1\n",
        "pkg-1.0.data/data/lib/python3.9/site-packages/extra.py": "EXTRA = 1\n",
        "pkg-1.0.data/scripts/tool.py": "#!python\nprint(1)\n",
    }
    root, filelist = install_for_39(tmp_path, monkeypatch, files)
    site = root / SITE.lstrip("/")
    compiled = sorted(str(p.relative_to(site)) for p in site.rglob("*.pyc"))
    assert compiled == [
        f"{d}__pycache__/{m}.cpython-39{level}.pyc"
        for d, m in (("", "extra"), ("", "top"), ("pkg/", "__init__"), ("pkg/sub/", "mod"))
        for level in (".opt-1", "")
    ]
    listed = filelist.read_text().splitlines()
    assert f"{SITE}/__pycache__/top.cpython-39.opt-1.pyc" in listed
    assert f"{SITE}/pkg" in listed  # the package directory whole, its __pycache__ with it
    assert not list((root / "usr/bin").glob("**/*.pyc"))


@pytest.mark.filterwarnings("ignore:Skip installing")  # recent installer versions say so
def test_bytecode_a_wheel_ships_is_replaced_by_the_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A badly built wheel with __pycache__ files (numpy's have had some): older installer
    versions write them and refuse to write over a file, so its modules are compiled after
    the install, not while it runs; recent ones skip them.  Either way the package has the
    target's bytecode."""
    files = {
        "pkg/__init__.py": "VALUE = 1\n",
        "pkg/__pycache__/__init__.cpython-39.pyc": "not bytecode",
        "pkg/__pycache__/__init__.cpython-39.opt-1.pyc": "not bytecode either",
    }
    root, _ = install_for_39(tmp_path, monkeypatch, files)
    compared = subprocess.run(
        [PYTHON39[0], "-c", COMPARE, root, f"{SITE}/pkg/__init__.py"],
        capture_output=True,
        text=True,
        env={**EPOCH, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    found = json.loads(compared.stdout)
    assert len(found) == 2 and all(seen["header"] and seen["code"] for seen in found.values())


def test_the_elf_check_reads_every_file_in_two_parts(tmp_path: Path) -> None:
    """While the target's interpreter compiles, the ELF check reads the files outside
    __pycache__ directories (where it writes nothing); those inside come after it is done.
    The two parts are every regular file of the buildroot, links left out."""
    root = tmp_path / "root"
    for rel in ("a/x.py", "a/__pycache__/x.cpython-39.pyc", "a/__pycache__/deep/y", "b/z.so"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    (root / "b/link.so").symlink_to(root / "b/z.so")
    (root / "b/dirlink").symlink_to(root / "a")
    outside = wheel_tool.buildroot_files(root, in_pycache=False)
    inside = wheel_tool.buildroot_files(root, in_pycache=True)
    assert [str(p.relative_to(root)) for p in outside] == ["a/x.py", "b/z.so"]
    assert [str(p.relative_to(root)) for p in inside] == [
        "a/__pycache__/deep/y",
        "a/__pycache__/x.cpython-39.pyc",
    ]
    assert sorted(outside + inside) == wheel_tool.buildroot_files(root)

"""Binary wheels: their ELF files ship byte for byte, their bundled libraries are private, and
an RPATH/RUNPATH into a build directory is refused.

The wheels are made here: a tiny C library compiled with gcc, bundled as
``binpkg.libs/libbundled.so.1`` (auditwheel's layout), and an extension module linked against
it and libc.  Real rpmbuild builds them; the RPM headers are read back.
"""

from __future__ import annotations

import base64
import csv
import ctypes
import dataclasses
import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

import pytest
import rpm
from helpers import (
    AppDir,
    BuiltApp,
    deps,
    file_names,
    log_path,
    read_header,
    run_cli,
)

from rpmdeploy import _wheel_tool as wheel_tool
from rpmdeploy.builders import BuilderContext
from rpmdeploy.builders.rpmbuild import RpmbuildBuilder
from rpmdeploy.cache import Cache
from rpmdeploy.targets import resolve_target

TAG = "cp311-cp311-manylinux_2_17_x86_64"
PLATLIB = "/usr/lib64/python3.11/site-packages"
EXT = "binpkg/_ext.cpython-311-x86_64-linux-gnu.so"
BUNDLED = "binpkg.libs/libbundled.so.1"


def compile_binaries(work: Path, rpath: str) -> dict[str, bytes]:
    """libbundled.so.1 and the extension linked against it (with -g: strip would change
    both), the extension's RPATH set to ``rpath``."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "bundled.c").write_text("int bundled_answer(void) { return 42; }\n")
    (work / "ext.c").write_text(
        "#include <string.h>\nint bundled_answer(void);\n"
        "int ext_answer(const char *s) { return bundled_answer() + (int)strlen(s); }\n"
    )
    gcc = ["gcc", "-g", "-O0", "-shared", "-fPIC"]
    subprocess.run(
        [*gcc, "-Wl,-soname,libbundled.so.1", "-o", "libbundled.so.1", "bundled.c"],
        cwd=work,
        check=True,
    )
    subprocess.run(
        [*gcc, "-o", "_ext.so", "ext.c", "-L.", "-l:libbundled.so.1", f"-Wl,-rpath,{rpath}"],
        cwd=work,
        check=True,
    )
    return {BUNDLED: (work / "libbundled.so.1").read_bytes(), EXT: (work / "_ext.so").read_bytes()}


def binary_wheel(dest: Path, version: str, binaries: dict[str, bytes]) -> Path:
    """A platform wheel (Root-Is-Purelib: false) holding ``binaries`` and a package."""
    dist_info = f"binpkg-{version}.dist-info"
    contents: dict[str, bytes] = {
        "binpkg/__init__.py": b"",
        **binaries,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: binpkg\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: rpmdeploy-tests\nRoot-Is-Purelib: false\nTag: {TAG}\n"
        ).encode(),
    }
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for member, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([member, f"sha256={digest}", len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    path = dest / f"binpkg-{version}-{TAG}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in contents.items():
            zf.writestr(member, data)
        zf.writestr(f"{dist_info}/RECORD", record.getvalue())
    return path


def build(app_factory, tmp_path: Path, rpath: str, expect: int = 0):  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    binaries = compile_binaries(tmp_path / "c", rpath)
    wheel = binary_wheel(links, "1.0", binaries)
    app: AppDir = app_factory("binpkg\n")
    app.pin("--find-links", links)
    out = tmp_path / "out"
    result = run_cli(
        "rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", expect=expect
    )
    return wheel, out, result


def test_binary_wheel_ships_as_built_with_truthful_dependencies(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wheel, out, _ = build(app_factory, tmp_path, "$ORIGIN/../binpkg.libs")
    [built] = out.glob("RPMS/x86_64/python3-binpkg-1.0-*.rpm")
    header = read_header(built)

    # 1. every file from the wheel has the wheel member's bytes: no strip, no build-id edits
    assert header[rpm.RPMTAG_FILEDIGESTALGO] == 8  # PGPHASHALGO_SHA256
    digests = dict(zip(file_names(header), header[rpm.RPMTAG_FILEDIGESTS], strict=True))
    with zipfile.ZipFile(wheel) as zf:
        members = {
            f"{PLATLIB}/{m}": hashlib.sha256(zf.read(m)).hexdigest()
            for m in zf.namelist()
            if ".dist-info/" not in m
        }
    assert f"{PLATLIB}/{EXT}" in digests and f"{PLATLIB}/{BUNDLED}" in digests
    for path, sha256 in members.items():
        assert digests[path] == sha256, f"{path} changed between the wheel and the RPM"
    assert not any("/.build-id/" in name for name in digests)

    # 2. no capability for the private library, no requirement on what the package ships,
    #    the system's libc still required
    provides, requires = deps(header, "provides"), deps(header, "requires")
    assert not [p for p in provides if "libbundled" in p], provides
    assert not [r for r in requires if "libbundled" in r], requires
    assert any(r.startswith("libc.so.6") for r in requires), requires
    assert "python3dist(binpkg) = 1" in provides
    log = (out / "logs" / "python3-binpkg.log").read_text()
    assert "/brp-strip" not in log and "find-debuginfo" not in log


def test_rpath_into_a_build_directory_is_refused(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out, result = build(app_factory, tmp_path, "/tmp/build/lib", expect=1)
    assert "FAILED python3-binpkg 1.0" in result.output
    log = log_path(result.output)
    text = log.read_text()
    assert f"{PLATLIB}/{EXT}: RPATH '/tmp/build/lib'" in text or (
        f"{PLATLIB}/{EXT}: RUNPATH '/tmp/build/lib'" in text
    ), text[-3000:]
    assert not out.exists()


@pytest.mark.parametrize(
    ("rpath", "dtags", "refused"),
    [
        ("$ORIGIN/../binpkg.libs", "--enable-new-dtags", ""),
        ("${ORIGIN}:/usr/lib64/atlas", "--disable-new-dtags", ""),
        ("/tmp/build/lib", "--disable-new-dtags", "RPATH '/tmp/build/lib'"),
        ("$ORIGIN:/root/.cache/x", "--enable-new-dtags", "RUNPATH '$ORIGIN:/root/.cache/x'"),
        ("build/lib", "--enable-new-dtags", "'build/lib'"),
        ("/usr/lib/../../var/tmp", "--enable-new-dtags", "'/usr/lib/../../var/tmp'"),
    ],
)
def test_wheel_tool_reads_rpaths_like_readelf(
    tmp_path: Path, rpath: str, dtags: str, refused: str
) -> None:
    """The wheel tool's own ELF reader (standard library only) against gcc's output and
    readelf: DT_RPATH and DT_RUNPATH, $ORIGIN and system directories allowed, the rest not."""
    root = tmp_path / "root"
    site = root / PLATLIB.lstrip("/") / "binpkg"
    site.mkdir(parents=True)
    (tmp_path / "ext.c").write_text("int f(void) { return 1; }\n")
    out = site / "_ext.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", out, tmp_path / "ext.c", f"-Wl,{dtags},-rpath,{rpath}"],
        check=True,
    )
    readelf = subprocess.run(["readelf", "-d", out], capture_output=True, text=True, check=True)
    kind = "RUNPATH" if dtags == "--enable-new-dtags" else "RPATH"
    assert f"Library {kind.lower()}: [{rpath}]" in readelf.stdout
    dynamic = wheel_tool.elf_dynamic(out)
    assert dynamic is not None and dynamic[{"RPATH": 15, "RUNPATH": 29}[kind]] == [rpath]
    if not refused:
        assert wheel_tool.check_elf_files(root) == {"_ext.so"}
        return
    with pytest.raises(SystemExit) as error:
        wheel_tool.check_elf_files(root)
    assert f"{PLATLIB}/binpkg/_ext.so: " in str(error.value) and refused in str(error.value)


def test_what_is_compiled_from_an_sdist_still_goes_through_strip(built_app: BuiltApp) -> None:
    """cext's extension, compiled in %build from its sdist, goes through the brp strip scripts
    as a Fedora package's does (rpm's brp-strip leaves shared objects to find-debuginfo, which
    Fedora runs and the host's rpmbuild does not)."""
    log = (built_app.out / "logs" / "python3-cext.log").read_text()
    assert "/brp-strip " in log and "/brp-strip-comment-note " in log
    assert "--sonames" in log  # its own sonames are still filtered from its Requires


@pytest.mark.parametrize(
    ("rpath", "dtags", "left"),
    [
        ("/opt/fakepy/lib", "--enable-new-dtags", None),
        ("/opt/fakepy/lib", "--disable-new-dtags", None),
        ("$ORIGIN/../libs:/opt/fakepy/lib", "--enable-new-dtags", "$ORIGIN/../libs"),
    ],
)
def test_build_interpreter_lib_dir_is_dropped_from_what_is_compiled_here(
    tmp_path: Path, rpath: str, dtags: str, left: str | None
) -> None:
    """A Python built with --enable-shared outside /usr (pyenv) links its lib directory into
    every extension compiled with it: for an sdist the wheel tool drops that entry (as chrpath
    does), and the library still loads; anything else outside stays an error."""
    root = tmp_path / "root"
    site = root / PLATLIB.lstrip("/") / "cext"
    site.mkdir(parents=True)
    (tmp_path / "ext.c").write_text(
        "#include <string.h>\nint f(const char *s) { return strlen(s); }\n"
    )
    out = site / "_speed.so"
    flags = f"-Wl,{dtags},-rpath,{rpath}"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", out, tmp_path / "ext.c", flags], check=True)
    assert wheel_tool.check_elf_files(root, ["/opt/fakepy"]) == {"_speed.so"}
    readelf = subprocess.run(["readelf", "-d", out], capture_output=True, text=True, check=True)
    assert "fakepy" not in readelf.stdout
    assert (f"[{left}]" in readelf.stdout) if left else ("path:" not in readelf.stdout)
    assert "libc.so.6" in readelf.stdout  # the other entries are intact
    assert ctypes.CDLL(str(out)).f(b"four") == 4
    with pytest.raises(SystemExit, match="/opt/other/lib"):
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-o", out, tmp_path / "ext.c", "-Wl,-rpath,/opt/other/lib"],
            check=True,
        )
        wheel_tool.check_elf_files(root, ["/opt/fakepy"])


def test_host_builder_says_once_when_no_interpreter_of_the_target_is_here(tmp_path: Path) -> None:
    """The run's notes (pipeline.run_notes, printed once in the summary) name the missing
    Python; with one here (this machine's own version) there is none."""
    here = resolve_target("host")
    missing = dataclasses.replace(resolve_target("rocky-9"), python_version="3.99")
    cache = Cache(tmp_path / "cache")
    with_python = RpmbuildBuilder(BuilderContext(target=here, cache=cache))
    assert with_python.bytecode_python and with_python.notes == ()
    without = RpmbuildBuilder(BuilderContext(target=missing, cache=cache))
    assert without.bytecode_python is None
    [note] = without.notes
    assert "no bytecode" in note and "no Python 3.99" in note

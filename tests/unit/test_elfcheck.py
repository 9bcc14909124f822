"""The target-fit check (rpmdeploy.elfcheck) on real ELF files compiled here with gcc/g++.

This machine's glibc is newer than some targets' (Debian 12: 2.36; rocky-9: 2.34), so an
extension calling a function glibc added after 2.34 (arc4random, GLIBC_2.36) does not fit
rocky-9; one calling only old functions does.  The symbol versions are read back with
objdump as well, so the check is compared with binutils' view of the same file.
"""

from __future__ import annotations

import io
import subprocess
import tomllib
from pathlib import Path

import pytest

from rpmdeploy import elfcheck
from rpmdeploy.distributions import find_release
from rpmdeploy.errors import BuildError

SITE = "/usr/lib64/python3.9/site-packages/fit"


def compile_so(tmp_path: Path, name: str, source: str, *flags: str, compiler: str = "gcc") -> bytes:
    src = tmp_path / f"{name}.{'cc' if compiler == 'g++' else 'c'}"
    src.write_text(source)
    out = tmp_path / name
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O0", "-Wl,--no-as-needed", "-o", out, src, *flags],
        check=True,
        cwd=tmp_path,
    )
    return out.read_bytes()


def objdump_versions(data: bytes, tmp_path: Path) -> set[str]:
    path = tmp_path / "objdump-input"
    path.write_bytes(data)
    out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True, check=True)
    return {
        word.strip("()")
        for line in out.stdout.splitlines()
        if "*UND*" in line
        for word in line.split()
        if word.startswith(("(GLIBC", "GLIBC", "(GLIBCXX", "GLIBCXX"))
    }


def rocky9(externals: list[tuple[str | None, tuple[str, ...]]] | None = None) -> elfcheck.Baseline:
    row = find_release("rocky-9")
    assert row is not None and row.glibc == "2.34" and row.python_version == "3.9"
    return elfcheck.baseline("rocky-9-x86_64", "x86_64", row.glibc, "3.9", externals or [])


NEW_SYMBOL = "#include <stdlib.h>\nunsigned pick(void) { return arc4random(); }\n"
OLD_SYMBOLS = (
    "#include <string.h>\n#include <stdio.h>\n"
    'int count(const char *s) { printf("%s", s); return (int)strlen(s); }\n'
)


def test_a_symbol_newer_than_the_targets_glibc_is_named_with_its_file(tmp_path: Path) -> None:
    data = compile_so(tmp_path, "_new.so", NEW_SYMBOL)
    assert "GLIBC_2.36" in objdump_versions(data, tmp_path)
    needs = elfcheck.read_elf(io.BytesIO(data))
    assert needs is not None and needs.machine == "EM_X86_64"
    assert needs.versions[("libc.so.6", "GLIBC_2.36")] == ("arc4random",)
    found = elfcheck.misfits([(f"{SITE}/_new.so", data)], rocky9())
    assert [(m.file, m.need, m.library, m.symbols) for m in found] == [
        (f"{SITE}/_new.so", "GLIBC_2.36", "libc.so.6", ("arc4random",))
    ]
    text = found[0].text(rocky9())
    assert "GLIBC_2.36 (arc4random) from libc.so.6" in text and "glibc 2.34" in text
    # A target with glibc 2.36 (Debian 12's, this machine's) has it.
    newer = elfcheck.baseline("t", "x86_64", "2.36", "3.11")
    assert elfcheck.misfits([(f"{SITE}/_new.so", data)], newer) == []


def test_only_old_symbols_fit_even_el8(tmp_path: Path) -> None:
    data = compile_so(tmp_path, "_old.so", OLD_SYMBOLS)
    versions = objdump_versions(data, tmp_path)
    assert versions and all(v.startswith("GLIBC_2.") for v in versions)
    assert elfcheck.misfits([(f"{SITE}/_old.so", data)], rocky9()) == []
    el8 = elfcheck.baseline("rocky-8-x86_64", "x86_64", "2.28", "3.6")
    assert elfcheck.misfits([(f"{SITE}/_old.so", data)], el8) == []


def test_a_needed_library_outside_the_base_system_must_be_mapped_or_shipped(
    tmp_path: Path,
) -> None:
    compile_so(
        tmp_path, "libfitdemo.so.3", "int demo(void) { return 3; }\n", "-Wl,-soname,libfitdemo.so.3"
    )
    ext = compile_so(
        tmp_path,
        "_ext.so",
        "int demo(void);\nint call(void) { return demo(); }\n",
        "-L.",
        "-l:libfitdemo.so.3",
        "-lz",
    )
    needs = elfcheck.read_elf(io.BytesIO(ext))
    assert needs is not None and {"libfitdemo.so.3", "libz.so.1"} <= set(needs.needed)
    [misfit] = elfcheck.misfits([(f"{SITE}/_ext.so", ext)], rocky9())
    assert misfit.need == "libfitdemo.so.3" and misfit.file == f"{SITE}/_ext.so"
    assert "libfitdemo.so.3, which is neither in rocky-9-x86_64's base system" in misfit.text(
        rocky9()
    )
    # a mapped system dependency providing it (table key or run-time package name) ...
    assert elfcheck.misfits([(f"{SITE}/_ext.so", ext)], rocky9([("fitdemo", ())])) == []
    assert elfcheck.misfits([(f"{SITE}/_ext.so", ext)], rocky9([(None, ("libfitdemo",))])) == []
    # ... or the package ships it itself (a bundled library)
    bundled = (tmp_path / "libfitdemo.so.3").read_bytes()
    shipped = [(f"{SITE}/_ext.so", ext), (f"{SITE}.libs/libfitdemo.so.3", bundled)]
    assert elfcheck.misfits(shipped, rocky9()) == []


def test_table_stems_of_mapped_system_dependencies() -> None:
    openssl = rocky9([("openssl", ("openssl-libs",))])
    assert openssl.allows_soname("libssl.so.3") and openssl.allows_soname("libcrypto.so.3")
    assert not openssl.allows_soname("libsslx.so.1")
    assert not rocky9().allows_soname("libssl.so.3")
    glib = rocky9([("pango", ())])
    assert glib.allows_soname("libpango-1.0.so.0") and not glib.allows_soname("libpangox.so.1")
    assert rocky9().allows_soname("libpython3.9.so.1.0")
    assert not rocky9().allows_soname("libpython3.11.so.1.0")


def test_libstdcxx_versions_follow_the_policy_of_the_targets_glibc(tmp_path: Path) -> None:
    """g++ 12's condition_variable::wait is GLIBCXX_3.4.30; EL9's libstdc++ (manylinux_2_34's
    policy) stops at 3.4.29.  A target the table has no policy for is checked on glibc only."""
    data = compile_so(
        tmp_path,
        "_cxx.so",
        "#include <condition_variable>\n#include <mutex>\n"
        "std::mutex m; std::condition_variable cv;\n"
        'extern "C" void waiter() { std::unique_lock<std::mutex> l(m); cv.wait(l); }\n',
        compiler="g++",
    )
    assert "GLIBCXX_3.4.30" in objdump_versions(data, tmp_path)
    found = elfcheck.misfits([(f"{SITE}/_cxx.so", data)], rocky9())
    assert [(m.need, m.library) for m in found] == [("GLIBCXX_3.4.30", "libstdc++.so.6")]
    assert "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE" in found[0].symbols
    assert "(GLIBCXX_3.4.29)" in found[0].text(rocky9())
    unknown = elfcheck.baseline("fedora-44-x86_64", "x86_64", "2.42", "3.14")
    assert unknown.families == {} and elfcheck.misfits([("x", data)], unknown) == []


def test_versions_without_numbers() -> None:
    el9, deb12 = rocky9(), elfcheck.baseline("t", "x86_64", "2.36", "3.11")
    assert not el9.allows_version("GLIBC_PRIVATE") and not deb12.allows_version("GLIBC_PRIVATE")
    assert not el9.allows_version("GLIBC_ABI_DT_RELR") and deb12.allows_version("GLIBC_ABI_DT_RELR")
    assert el9.allows_version("CXXABI_TM_1") and el9.allows_version("GLIBC_2.2.5")
    assert el9.allows_version("GCC_3.0") and not el9.allows_version("GCC_12.0.0")


def test_another_architecture_does_not_fit(tmp_path: Path) -> None:
    data = compile_so(tmp_path, "_x.so", OLD_SYMBOLS)
    aarch64 = elfcheck.baseline("rocky-9-aarch64", "aarch64", "2.34", "3.9")
    [misfit] = elfcheck.misfits([(f"{SITE}/_x.so", data)], aarch64)
    assert misfit.need == "EM_X86_64" and "not aarch64" in misfit.text(aarch64)


def test_malformed_elf_is_a_build_error(tmp_path: Path) -> None:
    data = compile_so(tmp_path, "_x.so", OLD_SYMBOLS)
    with pytest.raises(BuildError, match=f"{SITE}/_x.so: malformed ELF file"):
        elfcheck.misfits([(f"{SITE}/_x.so", data[:200])], rocky9())
    assert elfcheck.misfits([(f"{SITE}/x.py", b"print(1)\n")], rocky9()) == []


def test_table_names_only_known_system_dependencies() -> None:
    root = Path(elfcheck.__file__).parent / "data"
    keys = tomllib.loads((root / "externals.toml").read_text())["keys"]
    table = tomllib.loads((root / elfcheck.TABLE).read_text())
    assert set(table["externals"]) <= set(keys)
    assert set(table["system"]["sonames"]) >= {"libc.so.6", "libstdc++.so.6", "libz.so.1"}

"""The declared base system: what the verify stand-in ``Provides:`` for a target.

The table is data (``rpmdeploy/data/base-provides.toml``, which says where each entry comes
from); this module only picks the rows that apply to a target's architecture, glibc and
Python.  It is a declaration, not proof: the verify report lists all of it as assumed.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from typing import Any

from rpmdeploy.errors import UsageError
from rpmdeploy.targets import Target

# rpm's ELF dependency generator marks sonames of 64-bit objects with "(64bit)".
ELF_64BIT = ("x86_64", "aarch64", "ppc64le", "s390x", "riscv64")


def base_provides_for(target: Target) -> tuple[str, ...]:
    """The capabilities ``data/base-provides.toml`` declares for ``target``, in order."""
    data = _base_table()
    arch = data["arch"].get(target.arch)
    if arch is None:
        raise UsageError(f"no base capabilities declared for architecture {target.arch}")
    suffix = "(64bit)" if target.arch in ELF_64BIT else ""
    glibc = _version_tuple(target.glibc or _host_glibc())
    result = [c.format(python=target.python_version) for c in data["common"]["capabilities"]]
    nodes = [n for n in arch["glibc_nodes"] if _version_tuple(n) <= glibc]
    for lib in [*data["elf"]["glibc_libraries"], arch["loader"]]:
        result.append(f"{lib}(){suffix}")
        result.extend(f"{lib}(GLIBC_{node}){suffix}" for node in nodes)
    rows = [r for r in data["gcc_runtime"] if _version_tuple(r["glibc"]) <= glibc]
    libgcc, libstdcxx = data["elf"]["libgcc"], data["elf"]["libstdcxx"]
    result += [f"{libgcc}(){suffix}", f"{libstdcxx}(){suffix}"]
    if rows:
        row = rows[-1]
        result.extend(f"{libgcc}(GCC_{node}){suffix}" for node in row["gcc"])
        glibcxx = ["3.4", *(f"3.4.{n}" for n in range(1, row["glibcxx"] + 1))]
        cxxabi = ["1.3", *(f"1.3.{n}" for n in range(1, row["cxxabi"] + 1)), *row["cxxabi_extra"]]
        result.extend(f"{libstdcxx}(GLIBCXX_{v}){suffix}" for v in glibcxx)
        result.extend(f"{libstdcxx}(CXXABI_{v}){suffix}" for v in cxxabi)
    return tuple(dict.fromkeys(result))


def _base_table() -> dict[str, Any]:
    text = resources.files("rpmdeploy").joinpath("data/base-provides.toml").read_text()
    return tomllib.loads(text)


def _host_glibc() -> str:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        text = ""
    match = re.search(r"(\d+\.\d+)", text)
    if match is None:
        raise UsageError("cannot tell this machine's glibc version; use a distribution target")
    return match.group(1)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))

"""Does what was compiled on the build host fit the target?  (auditwheel's check, for RPMs.)

A builder that does not build inside the target (the host's rpmbuild) compiles an sdist's
extensions against the build host's glibc and libraries: on a Debian 12 host (glibc 2.36) an
extension for rocky-9 (glibc 2.34) may need ``GLIBC_2.36`` and not load there.  After such a
build, every ELF file of its binary RPMs is read (pyelftools) and checked against the
target's baseline (``data/elf-baseline.toml``), as auditwheel checks a wheel against a
manylinux policy:

- each symbol version it needs from glibc (``GLIBC_x.y``) is at most the target's glibc
  (``data/distributions.toml``); from libstdc++ (``GLIBCXX_``, ``CXXABI_``) and libgcc_s
  (``GCC_``) at most what the manylinux policy of the target's glibc allows, where the table
  has that policy;
- each shared library it needs (DT_NEEDED) is in the policy's system libraries, is shipped
  by the package itself (a bundled library), is the target's libpython, or belongs to a
  system dependency mapped for the package (``rpmdeploy.sysdeps``: rpmdeploy's table, PEP
  725, ``[packages.NAME] external``);
- it is built for the target's architecture.

:func:`check_rpms` raises BuildError naming the first misfits (symbol, version, file) and
what to do instead: build inside the target (``--builder mock``) or use a wheel.  A build
inside the target (mock, Copr) needs no check: it linked against the target's own libraries.
"""

from __future__ import annotations

import io
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from rpmdeploy.errors import BuildError

TABLE = "elf-baseline.toml"
_ELF_MAGIC = b"\x7fELF"
#: ELF e_machine per RPM architecture.
_MACHINES = {
    "x86_64": "EM_X86_64",
    "aarch64": "EM_AARCH64",
    "ppc64le": "EM_PPC64",
    "s390x": "EM_S390",
    "i686": "EM_386",
}
#: Symbol version families checked against a policy (the rest are other libraries' own).
_POLICY_FAMILIES = ("GLIBCXX", "CXXABI", "GCC")
_NUMERIC = re.compile(r"^(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9]+(?:\.[0-9]+)*)$")
#: What may follow a soname stem: the library's own version (libpango-1.0, libtcl8.6).
_STEM_VERSION = re.compile(r"^[-_.]?[0-9][0-9.]*$")

Version = tuple[int, ...]


def _version(text: str) -> Version:
    return tuple(int(p) for p in text.split("."))


@dataclass(frozen=True)
class Baseline:
    """What a target's base system offers a binary compiled elsewhere."""

    target: str  # the target's name, for messages
    arch: str
    glibc: Version
    # The newest GLIBCXX/CXXABI/GCC version, by family; empty when the table has no policy
    # for the target's glibc (then only GLIBC_ versions are checked).
    families: Mapping[str, Version]
    tags: frozenset[str]  # non-numeric versions allowed (CXXABI_TM_1, GLIBC_ABI_DT_RELR)
    sonames: frozenset[str]  # libraries of the base system (and the target's libpython)
    stems: frozenset[str]  # soname stems of the package's mapped system dependencies

    def allows_soname(self, soname: str) -> bool:
        if soname in self.sonames:
            return True
        stem = soname.split(".so", 1)[0]
        return any(
            stem.startswith(s) and (stem == s or _STEM_VERSION.match(stem[len(s) :]))
            for s in self.stems
        )

    def allows_version(self, version: str) -> bool:
        """Whether the target defines ``version`` (of glibc, libstdc++ or libgcc_s)."""
        if version in self.tags:
            return True
        family = version.split("_", 1)[0]
        if family != "GLIBC" and not self.families:
            return True  # no policy for this glibc: libstdc++ and libgcc_s are not known
        numeric = _NUMERIC.match(version)
        if numeric is None:
            return False  # GLIBC_PRIVATE, or a tag of a release this table does not know
        number = _version(numeric.group(2))
        if family == "GLIBC":
            return number <= self.glibc
        newest = self.families.get(family)
        return newest is not None and number <= newest


@cache
def _table() -> dict[str, object]:
    return tomllib.loads(resources.files("rpmdeploy").joinpath("data", TABLE).read_text())


def system_sonames() -> frozenset[str]:
    """The shared libraries every manylinux policy lets a wheel link against ([system]
    sonames: PEP 600's "assumed present on every compatible system")."""
    system: dict[str, list[str]] = _table()["system"]  # type: ignore[assignment]
    return frozenset(system["sonames"])


def baseline(
    target: str,
    arch: str,
    glibc: str,
    python_version: str,
    externals: Iterable[tuple[str | None, Iterable[str]]] = (),
) -> Baseline:
    """The baseline of a target with glibc ``glibc`` (X.Y) and Python ``python_version``,
    for a package whose mapped system dependencies are ``externals`` ((table key or None,
    run-time package names) pairs, as ``rpmdeploy.externals.MappedHint`` has them)."""
    table = _table()
    system: dict[str, list[str]] = table["system"]  # type: ignore[assignment]
    glibc_tags: dict[str, str] = table["glibc-tags"]  # type: ignore[assignment]
    policies: dict[str, dict[str, object]] = table["policies"]  # type: ignore[assignment]
    provided: dict[str, list[str]] = table["externals"]  # type: ignore[assignment]
    policy = policies.get(glibc, {})
    families = {f: _version(str(policy[f])) for f in _POLICY_FAMILIES if f in policy}
    tags = {t for t, since in glibc_tags.items() if _version(since) <= _version(glibc)}
    tags.update(str(t) for t in policy.get("tags", []))  # type: ignore[attr-defined]
    stems: set[str] = set()
    for key, run in externals:
        if key is not None:
            stems.update(provided.get(key, [key if key.startswith("lib") else f"lib{key}"]))
        stems.update(n if n.startswith("lib") else f"lib{n}" for n in run if _plain(n))
    libpython = f"libpython{python_version}.so.1.0"
    return Baseline(
        target=target,
        arch=arch,
        glibc=_version(glibc),
        families=families,
        tags=frozenset(tags),
        sonames=frozenset([*system["sonames"], *system["loaders"], libpython]),
        stems=frozenset(stems),
    )


def _plain(name: str) -> bool:
    """A package name that can stand for its library (not "a | b", not a capability)."""
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name) is not None


# --- reading ELF files ------------------------------------------------------------------------


@dataclass(frozen=True)
class ElfNeeds:
    """What one ELF file needs from the system it is loaded on."""

    machine: str  # e_machine, e.g. EM_X86_64
    soname: str | None  # its own DT_SONAME
    needed: tuple[str, ...]  # DT_NEEDED
    # (library, version) -> the undefined symbols bound to that version (may be empty when
    # the version is required without a symbol naming it)
    versions: Mapping[tuple[str, str], tuple[str, ...]]


def read_elf(stream: BinaryIO) -> ElfNeeds | None:
    """The needs of the ELF file in ``stream`` (seekable), or None for no ELF file.

    Raises ELFError (pyelftools) for a malformed one.
    """
    stream.seek(0)
    if stream.read(4) != _ELF_MAGIC:
        return None
    stream.seek(0)
    elf = ELFFile(stream)
    needed: list[str] = []
    soname = None
    index: dict[int, tuple[str, str]] = {}  # version index -> (library, version)
    versym: GNUVerSymSection | None = None
    dynsym: SymbolTableSection | None = None
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    needed.append(tag.needed)  # type: ignore[attr-defined]
                elif tag.entry.d_tag == "DT_SONAME":
                    soname = tag.soname  # type: ignore[attr-defined]
        elif isinstance(section, GNUVerNeedSection):
            index.update(_version_index(section))
        elif isinstance(section, GNUVerSymSection):
            versym = section
        elif isinstance(section, SymbolTableSection) and section.name == ".dynsym":
            dynsym = section
    return ElfNeeds(
        machine=str(elf["e_machine"]),
        soname=soname,
        needed=tuple(needed),
        versions=_versioned_symbols(index, versym, dynsym),
    )


def _version_index(section: GNUVerNeedSection) -> Iterator[tuple[int, tuple[str, str]]]:
    """(version index, (library, version)) of each version the file needs."""
    for verneed, auxiliaries in section.iter_versions():
        for aux in auxiliaries:
            yield aux["vna_other"], (str(verneed.name), str(aux.name))


def _versioned_symbols(
    index: Mapping[int, tuple[str, str]],
    versym: GNUVerSymSection | None,
    dynsym: SymbolTableSection | None,
) -> dict[tuple[str, str], tuple[str, ...]]:
    """(library, version) -> the undefined dynamic symbols bound to it."""
    symbols: dict[tuple[str, str], set[str]] = {need: set() for need in index.values()}
    if versym is not None and dynsym is not None:
        for number, symbol in enumerate(dynsym.iter_symbols()):
            ndx = versym.get_symbol(number)["ndx"]
            if not isinstance(ndx, int) or symbol["st_shndx"] != "SHN_UNDEF":
                continue
            need = index.get(ndx & 0x7FFF)  # the top bit marks a hidden symbol
            if need is not None and symbol.name:
                symbols[need].add(symbol.name)
    return {need: tuple(sorted(names)) for need, names in symbols.items()}


def rpm_payload(path: Path) -> Iterator[tuple[str, bytes]]:
    """(installed path, content) of each regular file with content in an RPM's payload."""
    import rpm  # only here: the CLI and the public API work without rpm's bindings

    ts = rpm.TransactionSet()
    ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
    fd = rpm.fd.open(str(path))
    try:
        header = ts.hdrFromFdno(fd)
        payload = rpm.fd(fd, "r", header["payloadcompressor"] or "gzip")
        archive = rpm.files(header).archive(payload)
        for entry in archive:
            # Hard links carry their content once; rpm hands it over on the last of them.
            if archive.hascontent():
                yield entry.name, archive.read()
    finally:
        fd.close()


# --- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Misfit:
    """One reason an ELF file does not fit the target."""

    file: str  # installed path
    need: str  # "GLIBC_2.36", "libfoo.so.1", "EM_AARCH64"
    library: str | None = None  # the library a symbol version is needed from
    symbols: tuple[str, ...] = ()

    def text(self, baseline: Baseline) -> str:
        if self.need.startswith("EM_"):
            return f"{self.file} is built for {self.need}, not {baseline.arch}"
        if self.library is None:
            return (
                f"{self.file} needs {self.need}, which is neither in {baseline.target}'s base "
                "system nor provided by the package's mapped system dependencies"
            )
        named = f" ({', '.join(self.symbols[:3])}{', ...' if len(self.symbols) > 3 else ''})"
        return (
            f"{self.file} needs {self.need}{named if self.symbols else ''} from "
            f"{self.library}, newer than {baseline.target} has ({_has(self.need, baseline)})"
        )


def _has(version: str, baseline: Baseline) -> str:
    family = version.split("_", 1)[0]
    if family == "GLIBC":
        return "glibc " + ".".join(map(str, baseline.glibc))
    newest = baseline.families.get(family)
    return f"{family}_{'.'.join(map(str, newest))}" if newest else f"no {version}"


def misfits(files: Iterable[tuple[str, bytes]], baseline: Baseline) -> list[Misfit]:
    """Every misfit of the ELF files among ``files`` ((installed path, content) pairs: one
    package's, so that the libraries it ships itself count as present)."""
    found: dict[str, ElfNeeds] = {}
    for name, data in files:
        try:
            needs = read_elf(io.BytesIO(data))
        except (ELFError, ValueError, KeyError, IndexError) as exc:
            raise BuildError(f"{name}: malformed ELF file ({exc})") from None
        if needs is not None:
            found[name] = needs
    shipped = {Path(n).name for n in found} | {n.soname for n in found.values() if n.soname}
    result: list[Misfit] = []
    for name, needs in sorted(found.items()):
        result += _file_misfits(name, needs, shipped, baseline)
    return result


def _file_misfits(
    name: str, needs: ElfNeeds, shipped: set[str], baseline: Baseline
) -> list[Misfit]:
    machine = _MACHINES.get(baseline.arch)
    if machine is not None and needs.machine != machine:
        return [Misfit(name, needs.machine)]
    result = [
        Misfit(name, soname)
        for soname in needs.needed
        if soname not in shipped and not baseline.allows_soname(soname)
    ]
    for (library, version), symbols in sorted(needs.versions.items()):
        if library in shipped or not _checked(version) or baseline.allows_version(version):
            continue
        result.append(Misfit(name, version, library, symbols))
    return result


def _checked(version: str) -> bool:
    """A version of glibc, libstdc++ or libgcc_s (other libraries' versions are their own)."""
    return version.split("_", 1)[0] in ("GLIBC", *_POLICY_FAMILIES)


def check_rpms(label: str, rpms: Iterable[Path], baseline: Baseline) -> None:
    """Raise BuildError when an ELF file of the binary RPMs ``rpms`` does not fit
    ``baseline``, naming the first misfits and what to do instead."""
    files = [item for path in rpms for item in rpm_payload(path)]
    found = misfits(files, baseline)
    if not found:
        return
    shown = "; ".join(m.text(baseline) for m in found[:3])
    glibc = "_".join(map(str, baseline.glibc))
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    raise BuildError(
        f"{label} was compiled on this machine and does not fit {baseline.target}: "
        f"{shown}{more}. Build it inside the target (--builder mock), or use a wheel that "
        f"fits it (manylinux_{glibc}_{baseline.arch} or older); a library the package needs "
        "from the system is declared with [packages.NAME] external = [...] in rpmdeploy.toml"
    )

"""Build and install a wheel inside rpmbuild's %build/%install (shipped in each SRPM).

This file is copied into every source RPM as a Source, so it must stand alone: it imports only
the standard library, ``build`` (PEP 517 front end) and ``installer`` (wheel installer), which
the build host or the mock chroot provides (python3-build, python3-installer).

    wheel_tool.py build-wheel --source DIR --outdir DIR [--backend-python PY]
    wheel_tool.py install --wheel-dir DIR --root BUILDROOT --purelib P --platlib P
                          --scripts P --data P --headers P --interpreter PY
                          --python-version X.Y --filelist FILE [--sonames FILE]
                          [--build-python PY]

After installing, every ELF file in the buildroot is read (its dynamic section, parsed here):
an RPATH/RUNPATH into a build, cache or temporary directory is an error (a library hijack
waiting to happen), and the sonames the package ships are written to ``--sonames`` as a
regular expression, which the spec uses as ``%__requires_exclude`` (a bundled library's
requirement on another bundled library is not a dependency on the system).

Bytecode (levels 0 and 1, as Fedora ships it) is compiled by an interpreter of the target's
Python version: the one running this tool when it is one (mock: the chroot's python3), else
``RPMDEPLOY_BYTECODE_PYTHON`` (the host's rpmbuild builder passes the one it found, in the
environment so that no path of the build machine is written into the spec), in a process of
its own started before the install and handed each module as it is written, so that its
start-up and compiling overlap installing; without either there is no bytecode (the run's
summary says so once).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import stat
import struct
import subprocess  # noqa: TID251 - this file stands alone (rpmdeploy._run is not there)
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

# zipfile, typing and installer are imported where they are used: what comes first is on the
# way to starting the target's interpreter (Bytecode), whose start-up overlaps the install.

# Characters rpm's %files parser treats specially (% starts every macro and directive, and a
# manifest line is expanded twice; globs, quoting, escapes) or that cannot be written safely
# on one %files line.  A wheel shipping such names is refused (rpmdeploy.wheelfiles checks
# the same before the build; this file must stand alone, so the rule is repeated here).
_UNSAFE_PATH = re.compile(r'[%\x00-\x1f\x7f*?\[\]{}"\\]')


def build_wheel(source: Path, outdir: Path, backend_python: str) -> Path:
    from build import ProjectBuilder

    builder = ProjectBuilder(source, python_executable=backend_python)
    # No isolation: the build requirements are installed in the build environment (host)
    # or as BuildRequires (mock); fetching them here would reach the network mid-build.
    return Path(builder.build("wheel", outdir))


def check_wheel_paths(wheel: Path) -> None:
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if name.startswith("/") or ".." in parts or _UNSAFE_PATH.search(name):
                raise SystemExit(f"error: {wheel.name}: unsafe path in wheel: {name!r}")


def install_wheel(wheel: Path, args: argparse.Namespace, bytecode: Bytecode | None = None) -> None:
    """Install ``wheel`` into the buildroot.  Bytecode embeds the interpreter's magic number:
    the running interpreter compiles it (levels 0 and 1) when it is the target's version;
    otherwise ``bytecode`` (the target's interpreter, already started) is handed each module
    of the site directories as soon as it is written, and compiles while the rest installs
    (after the install, if the wheel ships bytecode of its own: the target's replaces it)."""
    from typing import BinaryIO

    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.records import RecordEntry
    from installer.sources import WheelFile
    from installer.utils import Scheme

    scheme = {
        "purelib": args.purelib,
        "platlib": args.platlib,
        "scripts": args.scripts,
        "data": args.data,
        "headers": args.headers,
    }
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    levels: tuple[int, ...] = (0, 1) if running == args.python_version else ()
    options = {
        "interpreter": args.interpreter,
        "script_kind": "posix",
        "bytecode_optimization_levels": levels,
        "destdir": str(args.root),
    }
    destination = SchemeDictionaryDestination(scheme, **options)
    compiler = None if levels else bytecode
    # Each module is compiled as soon as it is written, unless the wheel ships bytecode of
    # its own: installer refuses to write over a file, so then they wait for the install.
    streaming = compiler is not None and not _ships_bytecode(wheel)
    modules: list[str] = []  # the site directories' modules
    if compiler is not None:
        libdirs = tuple(d.rstrip("/") + "/" for d in sorted({args.purelib, args.platlib}))
        to_compile = compiler

        class Collecting(SchemeDictionaryDestination):  # installer is imported here, not above
            def write_to_fs(
                self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
            ) -> RecordEntry:
                entry = super().write_to_fs(scheme, path, stream, is_executable)
                # Where installer put it (it refused anything outside the scheme's directory).
                installed = os.path.normpath(os.path.join(self.scheme_dict[scheme], path))
                if installed.endswith(".py") and installed.startswith(libdirs):
                    modules.append(installed)
                    if streaming:
                        to_compile.add(installed)
                return entry

        destination = Collecting(scheme, **options)
    with WheelFile.open(wheel) as source:
        install(source, destination, additional_metadata={"INSTALLER": b"rpm\n"})
    if compiler is not None and not streaming:
        for installed in modules:
            compiler.add(installed)


def _ships_bytecode(wheel: Path) -> bool:
    """The wheel has files in a __pycache__ directory (a badly built one)."""
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        return any("__pycache__" in name.split("/") for name in zf.namelist())


# Run by the target's interpreter (Python 3.6 and later: no newer syntax) without site: reads
# the installed paths of the modules to compile from stdin (NUL-terminated) and compiles each
# as installer does (compileall.compile_file: levels 0 and 1, the installed path embedded, a
# module that does not compile gets no bytecode); SOURCE_DATE_EPOCH (set by rpmbuild) makes
# the .pyc files hash-based, as installer's are.  The files are written as py_compile.compile
# writes them, with the functions py_compile uses, because importing py_compile costs a
# Python 3.9 more than its start-up (importlib.util imports typing); where those functions
# are missing (3.6) py_compile itself.  Level 1 differs from level 0 only by dropping assert
# statements and code under __debug__: a module with neither compiles to the same bytes, so
# its level-1 file is the level-0 file, hard-linked (as the spec's %install links identical
# levels anyway), instead of compiled a second time.
_COMPILE = r"""
import sys
if sys.path and not sys.path[0]:
    del sys.path[0]  # no module from the working directory (what -I would do)
import os
version, root = sys.argv[1], sys.argv[2]
running = "%d.%d" % sys.version_info[:2]
if running != version:
    sys.exit("error: %s is Python %s, not %s" % (sys.executable, running, version))
try:
    from _frozen_importlib_external import (
        _RAW_MAGIC_NUMBER, _calc_mode, _code_to_hash_pyc, _code_to_timestamp_pyc,
        _write_atomic, cache_from_source)
    from _imp import source_hash
except ImportError:
    _code_to_hash_pyc = None
    import py_compile
    from importlib.util import cache_from_source
hashed = bool(os.environ.get("SOURCE_DATE_EPOCH"))


def write_pyc(path, installed, source, level):
    cfile = cache_from_source(path, optimization=level or "")
    if _code_to_hash_pyc is None:
        py_compile.compile(path, cfile, installed, True, level)
        return
    if os.path.islink(cfile) or (os.path.exists(cfile) and not os.path.isfile(cfile)):
        raise FileExistsError("%s is not a regular file" % cfile)
    code = compile(source, installed, "exec", dont_inherit=True, optimize=level)
    try:
        os.makedirs(os.path.dirname(cfile))
    except FileExistsError:
        pass
    if hashed:
        data = _code_to_hash_pyc(code, source_hash(_RAW_MAGIC_NUMBER, source), True)
    else:
        stat = os.stat(path)
        data = _code_to_timestamp_pyc(code, stat.st_mtime, stat.st_size)
    _write_atomic(cfile, data, _calc_mode(path))


def differs_at_level_1(source):
    if b"coding" in b"\n".join(source.split(b"\n", 2)[:2]):
        return True  # another encoding: its bytes need not spell what the code says
    try:
        text = source.decode("ascii")
    except UnicodeDecodeError:  # identifiers are NFKC-normalised: look at them so
        import unicodedata
        text = unicodedata.normalize("NFKC", source.decode("utf-8", "replace"))
    return "assert" in text or "__debug__" in text


def compile_module(installed):
    path = root + installed
    try:
        with open(path, "rb") as f:
            source = f.read()
        write_pyc(path, installed, source, 0)
        if differs_at_level_1(source):
            write_pyc(path, installed, source, 1)
        else:
            opt1 = cache_from_source(path, optimization=1)
            if os.path.lexists(opt1):
                os.unlink(opt1)
            os.link(cache_from_source(path), opt1)
    except Exception as exc:
        print("note: no bytecode for %s: %s: %s" % (installed, type(exc).__name__, exc))


pending = b""
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    records = (pending + chunk).split(b"\0")
    pending = records.pop()
    for record in records:
        compile_module(os.fsdecode(record))
"""


class Bytecode:
    """The target's interpreter compiling bytecode in a process of its own (``_COMPILE``),
    started before the wheel is installed so that its start-up overlaps the install.  Use as
    a context manager: leaving it waits for the last module and fails when the process did."""

    def __init__(self, python: str, root: Path, version: str, environ: Mapping[str, str]) -> None:
        self.python = python
        argv = [python, "-S", "-c", _COMPILE, version, str(root)]
        # Isolated as -I would, but with a fixed hash seed: before 3.11 marshal writes a
        # frozenset constant (``x in {"a", "b"}``) in hash order, random in each process.
        env = {k: v for k, v in environ.items() if not k.startswith("PYTHON")}
        env["PYTHONHASHSEED"] = "0"
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)  # noqa: S603
        except OSError as exc:
            raise SystemExit(f"error: compiling bytecode with {python} failed: {exc}") from None

    @classmethod
    def start(cls, root: Path, version: str, environ: Mapping[str, str]) -> Bytecode | None:
        """``RPMDEPLOY_BYTECODE_PYTHON`` (Python ``version``) started, or None, noted in the
        log, when there is none."""
        python = environ.get("RPMDEPLOY_BYTECODE_PYTHON", "")
        if not python:
            print(f"note: no bytecode: no Python {version} (the target's) to compile it")
            return None
        return cls(python, root, version, environ)

    def add(self, installed: str) -> None:
        """Compile the module at ``installed`` (its path on the target; written in full)."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(os.fsencode(installed) + b"\0")
            stdin.flush()
        except BrokenPipeError:  # it has stopped: leaving says so
            pass

    def __enter__(self) -> Bytecode:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except BrokenPipeError:
            pass
        if self.process.wait() != 0 and kind is None:
            raise SystemExit(f"error: compiling bytecode with {self.python} failed")


def finish_dist_info(root: Path, libdirs: list[str]) -> None:
    """Fedora keeps the .dist-info without RECORD and direct_url.json (rpm owns the files)."""
    for libdir in libdirs:
        base = root / libdir.lstrip("/")
        for dist_info in base.glob("*.dist-info") if base.is_dir() else []:
            for name in ("RECORD", "direct_url.json"):
                (dist_info / name).unlink(missing_ok=True)


def file_list(root: Path, args: argparse.Namespace, license_names: set[str]) -> list[str]:
    """%files lines: each top-level package directory whole, single files otherwise."""
    lines: list[str] = []
    libdirs = sorted({args.purelib, args.platlib})
    seen_dirs: set[str] = set()
    for path in sorted(p for p in root.rglob("*") if not p.is_dir()):
        rel = "/" + path.relative_to(root).as_posix()
        libdir = next((d for d in libdirs if rel.startswith(d + "/")), None)
        if libdir is None:
            lines.append(_quote(rel))
            continue
        top = rel[len(libdir) + 1 :].split("/", 1)[0]
        top_path = f"{libdir}/{top}"
        if top.endswith(".dist-info"):
            if top_path not in seen_dirs:
                seen_dirs.add(top_path)
                lines.append("%dir " + _quote(top_path))
            is_license = path.name in license_names or "/licenses/" in rel
            lines.append(("%license " if is_license else "") + _quote(rel))
        elif top == "__pycache__" or "/" not in rel[len(libdir) + 1 :]:
            lines.append(_quote(rel))
        elif top_path not in seen_dirs:
            seen_dirs.add(top_path)
            lines.append(_quote(top_path))
    for dist_info in sorted(d for d in seen_dirs if d.endswith(".dist-info")):
        for sub in sorted((root / dist_info.lstrip("/")).rglob("*")):
            if sub.is_dir():
                lines.append("%dir " + _quote("/" + sub.relative_to(root).as_posix()))
    return lines


def _quote(path: str) -> str:
    if _UNSAFE_PATH.search(path):
        raise SystemExit(f"error: unsafe installed path {path!r}")
    return f'"{path}"' if " " in path else path


_DT_NULL, _DT_NEEDED, _DT_SONAME, _DT_RPATH, _DT_RUNPATH = 0, 1, 14, 15, 29
_SHT_DYNAMIC = 6
# Where an RPATH/RUNPATH may point: next to the file ($ORIGIN) or the system's library
# directories (as /usr/lib/rpm/check-rpaths allows them); anything else is the build's.
_SYSTEM_LIBDIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/libexec")
# A soname rpm will see as a capability, safe to write into a regular expression macro.
_SAFE_SONAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$")


def _read_elf(path: Path) -> tuple[bytes, bool, str] | None:
    """The file's bytes, whether it is 64-bit and its byte order; None for no ELF file."""
    with path.open("rb") as f:
        head = f.read(64)
        if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2):
            return None
        data = head + f.read()
    return data, head[4] == 2, "<" if head[5] == 1 else ">"


def elf_dynamic(path: Path) -> dict[int, list[str]] | None:
    """The string entries of an ELF file's dynamic section (tag -> values), None when the
    file is no ELF file (or has no dynamic section: {})."""
    elf = _read_elf(path)
    if elf is None:
        return None
    found: dict[int, list[str]] = {}
    for tag, text, _, _ in _dynamic_entries(path, *elf):
        found.setdefault(tag, []).append(text)
    return found


def _sections(data: bytes, wide: bool, order: str) -> list[tuple[int, int, int, int]]:
    """(type, offset, size, link) of each section header."""
    if wide:
        shoff, shentsize, shnum = struct.unpack_from(order + "Q10xHH", data, 0x28)
        fmt, at = order + "IQQQQI", 4
    else:
        shoff, shentsize, shnum = struct.unpack_from(order + "I10xHH", data, 0x20)
        fmt, at = order + "IIIIII", 4
    found = []
    for index in range(shnum):
        fields = struct.unpack_from(fmt, data, shoff + index * shentsize + at)
        found.append((fields[0], fields[3], fields[4], fields[5]))
    return found


def _dynamic_entries(
    path: Path, data: bytes, wide: bool, order: str
) -> list[tuple[int, str, int, int]]:
    """(tag, string, offset of the entry, offset of the string) of each string entry."""
    try:
        return list(_string_entries(data, wide, order))
    except (struct.error, IndexError, ValueError, UnicodeDecodeError):
        raise SystemExit(f"error: {path}: malformed ELF file") from None


def _string_entries(data: bytes, wide: bool, order: str) -> Iterator[tuple[int, str, int, int]]:
    sections = _sections(data, wide, order)
    entry = struct.Struct(order + ("qQ" if wide else "iI"))
    for kind, offset, size, link in sections:
        if kind != _SHT_DYNAMIC:
            continue
        strtab = sections[link][1]
        for at in range(offset, offset + size, entry.size):
            tag, value = entry.unpack_from(data, at)
            if tag == _DT_NULL:
                break
            if tag in (_DT_NEEDED, _DT_SONAME, _DT_RPATH, _DT_RUNPATH):
                end = data.index(b"\0", strtab + value)
                yield tag, data[strtab + value : end].decode(), at, strtab + value


def drop_search_paths(path: Path, prefixes: list[str]) -> list[str]:
    """Remove from the file's RPATH/RUNPATH the entries inside ``prefixes`` (the build
    interpreter's installation: a Python built with --enable-shared outside /usr links its
    lib directory into every extension), as chrpath does: the string rewritten in place, or
    the whole entry removed when nothing is left.  Returns what was dropped."""
    elf = _read_elf(path)
    if elf is None or not prefixes:
        return []
    data, size = bytearray(elf[0]), 16 if elf[1] else 8
    dropped: list[str] = []
    # Last entry first: removing one shifts the entries after it.
    for tag, text, at, string_at in reversed(_dynamic_entries(path, *elf)):
        if tag not in (_DT_RPATH, _DT_RUNPATH):
            continue
        entries = text.split(":")
        keep = [e for e in entries if not _inside(e, prefixes)]
        if len(keep) == len(entries):
            continue
        dropped.extend(e for e in entries if e not in keep)
        new = ":".join(keep).encode()
        data[string_at : string_at + len(text)] = new + b"\0" * (len(text) - len(new))
        if not keep:  # shift the entries after it up to the DT_NULL closing the section
            end = next(e for e in range(at, len(data), size) if not any(data[e : e + size // 2]))
            data[at:end] = data[at + size : end] + bytes(size)
    if dropped:
        path.write_bytes(bytes(data))
    return dropped


def _inside(entry: str, prefixes: list[str]) -> bool:
    path = os.path.normpath(entry) if entry.startswith("/") else ""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def interpreter_prefixes(python: str) -> list[str]:
    """Where the interpreter that built the extensions is installed (a virtual environment's
    base too), unless that is the system's own /usr."""
    found = set()
    real = Path(os.path.realpath(python))
    found.add(str(real.parent.parent))
    config = Path(python).parent.parent / "pyvenv.cfg"
    if config.is_file():
        for line in config.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip().startswith("/"):
                found.add(str(Path(os.path.realpath(value.strip())).parent))
    return sorted(p for p in found if p not in ("/", "/usr") and p.startswith("/"))


def bad_search_path(entry: str) -> bool:
    """An RPATH/RUNPATH entry outside $ORIGIN and the system library directories (empty and
    relative entries are relative to the working directory: outside too)."""
    if entry in ("$ORIGIN", "${ORIGIN}") or entry.startswith(("$ORIGIN/", "${ORIGIN}/")):
        return False
    path = os.path.normpath(entry) if entry.startswith("/") else ""
    return not _stays_in_system(path)


def _stays_in_system(path: str) -> bool:
    return path.startswith("/") and any(
        path == d or path.startswith(d + "/") for d in _SYSTEM_LIBDIRS
    )


def buildroot_files(root: Path, in_pycache: bool | None = None) -> list[Path]:
    """The regular files under ``root``, sorted; with ``in_pycache``, only those inside
    (True) or outside (False) __pycache__ directories (which are not even walked then, so a
    process writing bytecode there meanwhile cannot change what is found)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        inside = "__pycache__" in Path(dirpath).relative_to(root).parts
        if in_pycache is False:
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if in_pycache is None or inside == in_pycache:
            paths = (Path(dirpath, name) for name in filenames)
            found.extend(p for p in paths if stat.S_ISREG(p.lstat().st_mode))
    return sorted(found)


def check_elf_files(
    root: Path,
    build_prefixes: list[str] | None = None,
    noarch: bool = False,
    paths: list[Path] | None = None,
) -> set[str]:
    """Refuse an RPATH/RUNPATH into the build; return the sonames the buildroot ships.
    ``build_prefixes``: of what was compiled here, the build interpreter's installation,
    whose lib directory is dropped from search paths first (noted in the log).  ``noarch``:
    an sdist taken for pure, so any ELF file is refused, naming it (rpm's own noarch check
    sees only executable files and names none).  ``paths``: the files to read (default:
    every file in the buildroot, ``buildroot_files``)."""
    shipped: set[str] = set()
    for path in buildroot_files(root) if paths is None else paths:
        installed = "/" + path.relative_to(root).as_posix()
        if noarch and _is_elf(path):
            raise SystemExit(
                f"error: {installed}: compiled code in a package built as noarch (its sdist "
                "was taken for pure Python): build it from a wheel, or report it"
            )
        for entry in drop_search_paths(path, build_prefixes or []):
            print(f"note: {installed}: dropped the build interpreter's {entry!r} from its RPATH")
        dynamic = elf_dynamic(path)
        if not dynamic:
            continue
        for tag in (_DT_RPATH, _DT_RUNPATH):
            for value in dynamic.get(tag, []):
                bad = [e for e in value.split(":") if bad_search_path(e)]
                if bad:
                    kind = "RPATH" if tag == _DT_RPATH else "RUNPATH"
                    raise SystemExit(
                        f"error: {installed}: {kind} {value!r} points outside $ORIGIN and the "
                        f"system library directories: {':'.join(bad)!r} (a build, cache or "
                        "temporary directory is a library hijack risk)"
                    )
        if ".so" in path.name:
            shipped.update(dynamic.get(_DT_SONAME, []))
            shipped.add(path.name)
    return {s for s in shipped if _SAFE_SONAME.match(s)}


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def sonames_pattern(sonames: set[str]) -> str:
    """A regular expression matching rpm's capabilities for these sonames (any version
    suffix, any (64bit) marker), or one that matches nothing."""
    if not sonames:
        return "^rpmdeploy-no-bundled-libraries$"
    names = "|".join(re.escape(s).replace("\\-", "-") for s in sorted(sonames))
    return f"^({names})(\\(.*)?$"


def _single_wheel(wheel_dir: Path) -> Path:
    wheels = sorted(wheel_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"error: expected one wheel in {wheel_dir}, found {len(wheels)}")
    return wheels[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rpmdeploy-wheel-tool")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build-wheel")
    b.add_argument("--source", type=Path, required=True)
    b.add_argument("--outdir", type=Path, required=True)
    b.add_argument("--backend-python", default=sys.executable)
    i = sub.add_parser("install")
    i.add_argument("--wheel-dir", type=Path, required=True)
    i.add_argument("--root", type=Path, required=True)
    for name in ("purelib", "platlib", "scripts", "data", "headers", "interpreter"):
        i.add_argument(f"--{name}", required=True)
    i.add_argument("--python-version", required=True)
    i.add_argument("--filelist", type=Path, required=True)
    i.add_argument("--sonames", type=Path)
    i.add_argument("--build-python", help="the interpreter that compiled the extensions")
    i.add_argument("--noarch", action="store_true", help="built as noarch: refuse ELF files")
    args = parser.parse_args(argv)

    if args.command == "build-wheel":
        print(f"built {build_wheel(args.source, args.outdir, args.backend_python)}")
        return 0
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    bytecode = None
    if running != args.python_version:  # started first: its start-up overlaps the install
        bytecode = Bytecode.start(args.root, args.python_version, os.environ)
    prefixes = interpreter_prefixes(args.build_python) if args.build_python else []
    with bytecode or contextlib.nullcontext():
        wheel = _single_wheel(args.wheel_dir)
        check_wheel_paths(wheel)
        install_wheel(wheel, args, bytecode)
        finish_dist_info(args.root, [args.purelib, args.platlib])
        # While the target's interpreter compiles, which writes in __pycache__ only.
        outside = buildroot_files(args.root, in_pycache=False)
        sonames = check_elf_files(args.root, prefixes, args.noarch, outside)
        licenses = _license_basenames(wheel)
    inside = buildroot_files(args.root, in_pycache=True)
    sonames |= check_elf_files(args.root, prefixes, args.noarch, inside)
    if args.sonames is not None:
        args.sonames.write_text(sonames_pattern(sonames) + "\n")
    args.filelist.write_text("\n".join(file_list(args.root, args, licenses)) + "\n")
    return 0


def _license_basenames(wheel: Path) -> set[str]:
    pattern = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        return {
            os.path.basename(n)
            for n in zf.namelist()
            if ".dist-info/" in n and pattern.match(os.path.basename(n))
        }


if __name__ == "__main__":
    sys.exit(main())

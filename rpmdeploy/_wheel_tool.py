"""Build and install a wheel inside rpmbuild's %build/%install (shipped in each SRPM).

This file is copied into every source RPM as a Source, so it must stand alone: it imports only
the standard library, ``build`` (PEP 517 front end) and ``installer`` (wheel installer), which
the build host or the mock chroot provides (python3-build, python3-installer).

    wheel_tool.py build-wheel --source DIR --outdir DIR [--backend-python PY]
    wheel_tool.py install --wheel-dir DIR --root BUILDROOT --purelib P --platlib P
                          --scripts P --data P --headers P --interpreter PY
                          --python-version X.Y --filelist FILE
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import zipfile
from pathlib import Path

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
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if name.startswith("/") or ".." in parts or _UNSAFE_PATH.search(name):
                raise SystemExit(f"error: {wheel.name}: unsafe path in wheel: {name!r}")


def install_wheel(wheel: Path, args: argparse.Namespace) -> None:
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    scheme = {
        "purelib": args.purelib,
        "platlib": args.platlib,
        "scripts": args.scripts,
        "data": args.data,
        "headers": args.headers,
    }
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    # Bytecode embeds the interpreter's magic number: compile only with the target's version.
    levels: tuple[int, ...] = (0, 1) if running == args.python_version else ()
    if not levels:
        print(f"note: no bytecode: building with Python {running}, target is {args.python_version}")
    destination = SchemeDictionaryDestination(
        scheme,
        interpreter=args.interpreter,
        script_kind="posix",
        bytecode_optimization_levels=levels,
        destdir=args.root,
    )
    with WheelFile.open(wheel) as source:
        install(source, destination, additional_metadata={"INSTALLER": b"rpm\n"})


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
    args = parser.parse_args(argv)

    if args.command == "build-wheel":
        print(f"built {build_wheel(args.source, args.outdir, args.backend_python)}")
        return 0
    wheel = _single_wheel(args.wheel_dir)
    check_wheel_paths(wheel)
    install_wheel(wheel, args)
    finish_dist_info(args.root, [args.purelib, args.platlib])
    licenses = _license_basenames(wheel)
    args.filelist.write_text("\n".join(file_list(args.root, args, licenses)) + "\n")
    return 0


def _license_basenames(wheel: Path) -> set[str]:
    pattern = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)
    with zipfile.ZipFile(wheel) as zf:
        return {
            os.path.basename(n)
            for n in zf.namelist()
            if ".dist-info/" in n and pattern.match(os.path.basename(n))
        }


if __name__ == "__main__":
    sys.exit(main())

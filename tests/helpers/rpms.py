"""Reading RPMs back with the rpm bindings, installing them into private roots, and tiny
RPMs built with rpmbuild from small specs (for the repo, signing and verify tests)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import rpm

from rpmdeploy.targets import Target, host_target


def read_header(path: Path) -> rpm.hdr:
    ts = rpm.TransactionSet()
    ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
    with path.open("rb") as f:
        return ts.hdrFromFdno(f.fileno())


def deps(header: rpm.hdr, kind: str) -> list[str]:
    """'provides' or 'requires' as 'name op evr' strings, rpmlib() internals left out."""
    tag = {"provides": "providename", "requires": "requirename"}[kind]
    found = [ds.DNEVR()[2:] for ds in header.dsFromHeader(tag)]
    return [d for d in found if not d.startswith("rpmlib(")]


def file_names(header: rpm.hdr) -> list[str]:
    return list(header[rpm.RPMTAG_FILENAMES])


def install_into_root(root: Path, rpms: list[Path]) -> None:
    """Unpack RPMs into a private root with rpm itself.

    No dependency check and no scriptlets: the root has no base system (no shell to run
    %pre in).  The dnf installs of the verify stage resolve dependencies for real."""
    dbpath = "/var/lib/rpm"
    subprocess.run(["rpm", "--root", str(root), "--dbpath", dbpath, "--initdb"], check=True)
    subprocess.run(
        [
            "rpm",
            "--root",
            str(root),
            "--dbpath",
            dbpath,
            "-i",
            "--nodeps",
            "--noscripts",
            "--force-debian",
            *map(str, rpms),
        ],
        check=True,
        capture_output=True,
    )


def python_in_root(
    root: Path, code: str, version: str = "3.11", python: str = "/usr/bin/python3"
) -> subprocess.CompletedProcess[str]:
    """Run the system Python with the root's site-packages (the installed payload) on its path."""
    paths = [
        root / f"usr/lib/python{version}/site-packages",
        root / f"usr/lib64/python{version}/site-packages",
    ]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(map(str, paths))}
    return subprocess.run(
        [python, "-c", code], env=env, capture_output=True, text=True, check=False
    )


@dataclass(frozen=True)
class Built:
    rpm: Path
    srpm: Path


def build_rpm(
    topdir: Path,
    name: str,
    version: str,
    *,
    release: str = "1",
    epoch: int | None = None,
    requires: tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    c_program: str | None = None,
) -> Built:
    """Build NAME-VERSION-RELEASE (noarch, or native with a compiled /usr/bin/NAME)."""
    files = files or {f"/usr/share/{name}/version": f"{name} {version}\n"}
    install = []
    for path, text in files.items():
        install.append(f"mkdir -p %{{buildroot}}{os.path.dirname(path)}")
        body = text.replace("%", "%%")
        install.append(f"cat > %{{buildroot}}{path} <<'RPMDEPLOY_EOF'\n{body}RPMDEPLOY_EOF")
    file_list = list(files)
    build = ""
    if c_program is not None:
        build = (
            f"cat > prog.c <<'RPMDEPLOY_EOF'\n{c_program}RPMDEPLOY_EOF\ngcc -O0 -o prog prog.c\n"
        )
        install.append(f"install -D -m755 prog %{{buildroot}}/usr/bin/{name}")
        file_list.append(f"/usr/bin/{name}")
    spec = "\n".join(
        [
            f"Name: {name}",
            f"Version: {version}",
            f"Release: {release}",
            *([f"Epoch: {epoch}"] if epoch is not None else []),
            f"Summary: test package {name}",
            "License: MIT",
            *([] if c_program else ["BuildArch: noarch"]),
            *(f"Requires: {r}" for r in requires),
            "%description",
            f"Test package {name}.",
            "%build",
            build,
            "%install",
            *install,
            "%files",
            *file_list,
            "",
        ]
    )
    specs = topdir / "SPECS"
    specs.mkdir(parents=True, exist_ok=True)
    spec_path = specs / f"{name}-{version}-{release}.spec"
    spec_path.write_text(spec)
    subprocess.run(
        [
            "rpmbuild",
            "-ba",
            "--define",
            f"_topdir {topdir}",
            "--define",
            "__os_install_post %{nil}",
            "--define",
            "_build_id_links none",
            "--define",
            "debug_package %{nil}",
            str(spec_path),
        ],
        check=True,
        capture_output=True,
    )
    arch = "noarch" if c_program is None else os.uname().machine
    evr = f"{version}-{release}"
    return Built(
        rpm=topdir / "RPMS" / arch / f"{name}-{evr}.{arch}.rpm",
        srpm=topdir / "SRPMS" / f"{name}-{evr}.src.rpm",
    )


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (links followed at the top): relative path -> bytes."""
    root = path.resolve()
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def python311_host() -> Target:
    """The host target, for tests whose hand-built RPMs install into python3.11's
    site-packages: skips the test on a machine whose python3 is another version."""
    found = host_target("/usr/bin/python3")
    if found.python_version != "3.11":
        pytest.skip("the test packages install into python3.11 site-packages")
    return found

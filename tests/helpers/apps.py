"""App directories, fixture packages and the CLI, as the tests use them."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from rpmdeploy.cli import cli

HERE = Path(__file__).resolve().parent.parent


REPO = HERE.parent


PACKAGES = HERE / "data" / "packages"


BACKEND_WHEELS = Path(
    os.environ.get("RPMDEPLOY_TEST_WHEELHOUSE", REPO / ".cache" / "test-wheelhouse")
)


WHEEL_PACKAGES = ("alpha", "delta", "needs-setuptools")


SDIST_PACKAGES = ("beta", "gamma-flit", "cext", "broken")


def run_cli(*args: str | os.PathLike[str], expect: int | None = 0) -> Result:
    result = CliRunner().invoke(cli, [os.fspath(a) for a in args], catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, f"exit {result.exit_code}\n{result.output}"
    return result


def log_path(output: str) -> Path:
    """The first ``log: PATH`` in a command's output (a FAILED line's own log, when given
    the output from that line on)."""
    found = re.search(r"log: (\S+)", output)
    assert found is not None, output
    return Path(found.group(1))


def build_package(
    source: Path, outdir: Path, kinds: tuple[str, ...] = ("--sdist", "--wheel")
) -> None:
    """Build a fixture package with PEP 517 (no isolation: the backends are installed)."""
    work = outdir.parent / f".src-{source.name}"
    shutil.copytree(source, work, dirs_exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            *kinds,
            "--outdir",
            str(outdir),
            str(work),
        ],
        check=True,
        capture_output=True,
    )


def make_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    metadata: str,
    files: dict[str, str],
    *,
    tag: str = "py3-none-any",
    purelib: bool = True,
) -> Path:
    """Write a wheel by hand, for metadata no build backend would produce (hostile text)."""
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist_info}/METADATA"] = metadata
    contents[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: rpmdeploy-tests\n"
        f"Root-Is-Purelib: {'true' if purelib else 'false'}\nTag: {tag}\n"
    )
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, text in contents.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([path, f"sha256={digest}", len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    path = dest_dir / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for member, text in contents.items():
            zf.writestr(member, text)
        zf.writestr(f"{dist_info}/RECORD", record.getvalue())
    return path


@dataclass(frozen=True)
class AppDir:
    path: Path
    wheelhouse: Path

    def write_in(self, text: str) -> None:
        (self.path / "dependencies.in").write_text(text)

    def pin(self, *extra: str, expect: int | None = 0) -> Result:
        """`rpmdeploy pin` from the wheelhouse only: dependencies.txt and
        build-dependencies.txt (the build backends of the sdists among the pins)."""
        return run_cli(
            "pin", self.path, "--no-index", "--find-links", self.wheelhouse, *extra, expect=expect
        )

    @property
    def pinned(self) -> Path:
        return self.path / "dependencies.txt"

    @property
    def build_pinned(self) -> Path:
        return self.path / "build-dependencies.txt"


def write_app(root: Path, requirements: str) -> None:
    """An app directory at ``root``: ``bin/wsgiapp`` (the smallest WSGI application that
    answers) and ``dependencies.in``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "bin").mkdir(exist_ok=True)
    (root / "bin" / "wsgiapp").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    (root / "dependencies.in").write_text(requirements)


def new_app(root: Path, wheelhouse: Path, requirements: str) -> AppDir:
    write_app(root, requirements)
    return AppDir(root, wheelhouse)


FIXTURE_APP_REQUIREMENTS = "alpha[fast]\ngamma-flit\ncext\n"


@dataclass(frozen=True)
class BuiltApp:
    app: AppDir
    out: Path
    cache: Path
    first_run: Result

    def rpm(self, name: str) -> Path:
        found = sorted(self.out.glob(f"RPMS/*/{name}-[0-9]*.rpm"))
        assert len(found) == 1, f"{name}: {found}"
        return found[0]


def repin_delta_21(app_dir: Path, links: Path, summary: str = "newer") -> None:
    """Change one pin: delta 2.0 -> 2.1, a new wheel served from ``links``."""
    links.mkdir(exist_ok=True)
    meta = f"Metadata-Version: 2.1\nName: delta\nVersion: 2.1\nSummary: {summary}\n"
    wheel = make_wheel(links, "delta", "2.1", meta, {"delta/__init__.py": "__version__ = '2.1'\n"})
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pinned = (app_dir / "dependencies.txt").read_text()
    start = pinned.index("delta==2.0")
    end = pinned.index("\n", pinned.index("--hash", start))
    pinned = pinned[:start] + f"delta==2.1 --hash=sha256:{digest}" + pinned[end:]
    (app_dir / "dependencies.txt").write_text(f"--find-links {links}\n" + pinned)


def make_sdist(links: Path, name: str, external: str = "") -> Path:
    """A small setuptools sdist, optionally with a PEP 725 [external] table."""
    src = links.parent / f"src-{name}" / f"{name}-1.0"
    src.mkdir(parents=True)
    module = name.replace("-", "_")
    (src / f"{module}.py").write_text("X = 1\n")
    (src / "setup.py").write_text(
        f"from setuptools import setup\nsetup(name={name!r}, version='1.0', py_modules=[{module!r}])\n"
    )
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (src / "pyproject.toml").write_text(pyproject + external)
    (src / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    sdist = links / f"{module}-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(src, arcname=f"{module}-1.0")
    return sdist

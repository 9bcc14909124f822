"""Shared fixtures: fixture packages built at test time and served from a local directory.

Nothing here reaches PyPI: the build backends the fixture packages need (setuptools,
flit_core, wheel) are downloaded once by `make test-deps` from tests/backend-wheels.txt into
a wheelhouse (hash-checked), and every test points pip at local directories only.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import rpm
from click.testing import CliRunner, Result

from rpmdeploy.cli import cli

HERE = Path(__file__).parent
REPO = HERE.parent
PACKAGES = HERE / "packages"
BACKEND_WHEELS = Path(
    os.environ.get("RPMDEPLOY_TEST_WHEELHOUSE", REPO / ".cache" / "test-wheelhouse")
)

# Which fixture packages are served as a wheel, and which only as an sdist (built by rpmdeploy).
WHEEL_PACKAGES = ("alpha", "delta", "needs-setuptools")
SDIST_PACKAGES = ("beta", "gamma-flit", "cext", "broken")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RPMDEPLOY_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs PyPI; set RPMDEPLOY_NETWORK_TESTS=1")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep rpmdeploy's default cache and pin logs out of the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


def run_cli(*args: str | os.PathLike[str], expect: int | None = 0) -> Result:
    result = CliRunner().invoke(cli, [os.fspath(a) for a in args], catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, f"exit {result.exit_code}\n{result.output}"
    return result


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


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links directory: fixture wheels/sdists plus the build backends."""
    if not BACKEND_WHEELS.is_dir():
        pytest.fail(f"{BACKEND_WHEELS} missing: run `make test-deps` (downloads build backends)")
    house = tmp_path_factory.mktemp("wheelhouse")
    for wheel in BACKEND_WHEELS.glob("*.whl"):
        shutil.copy(wheel, house)
    for name in WHEEL_PACKAGES:
        build_package(PACKAGES / name, house, ("--wheel",))
    for name in SDIST_PACKAGES:
        build_package(PACKAGES / name, house, ("--sdist",))
    return house


@dataclass(frozen=True)
class AppDir:
    path: Path
    wheelhouse: Path

    def write_in(self, text: str) -> None:
        (self.path / "dependencies.in").write_text(text)

    def pin(self, *extra: str, expect: int | None = 0) -> Result:
        return run_cli(
            "pin", self.path, "--no-index", "--find-links", self.wheelhouse, *extra, expect=expect
        )

    @property
    def pinned(self) -> Path:
        return self.path / "dependencies.txt"


def new_app(root: Path, wheelhouse: Path, requirements: str) -> AppDir:
    root.mkdir(parents=True, exist_ok=True)
    (root / "bin").mkdir(exist_ok=True)
    (root / "bin" / "wsgiapp").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    app = AppDir(root, wheelhouse)
    app.write_in(requirements)
    return app


@pytest.fixture
def app_factory(tmp_path: Path, wheelhouse: Path) -> Iterator[object]:
    def factory(requirements: str, name: str = "app") -> AppDir:
        return new_app(tmp_path / name, wheelhouse, requirements)

    yield factory


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


@pytest.fixture(scope="session")
def built_app(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> BuiltApp:
    """The fixture app pinned and built once (two jobs) for the tests that read RPMs back."""
    root = tmp_path_factory.mktemp("built")
    os.environ.setdefault("XDG_CACHE_HOME", str(root / "xdg"))
    app = new_app(root / "app", wheelhouse, FIXTURE_APP_REQUIREMENTS)
    app.pin()
    out, cache = root / "out", root / "cache"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", cache, "--jobs", "2")
    return BuiltApp(app, out, cache, result)


# --- reading RPMs back with the rpm bindings ---------------------------------------------------


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
        ["rpm", "--root", str(root), "--dbpath", dbpath, "-i", "--nodeps", "--noscripts", "--force-debian",
         *map(str, rpms)],
        check=True, capture_output=True,
    )  # fmt: skip


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


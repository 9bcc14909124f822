"""Package code cannot touch the build host: confined builds, private build directories.

Each test plants something hostile and asserts that nothing happened.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import AppDir, make_wheel, run_cli

from rpmdeploy.builders.rpmbuild import private_directory
from rpmdeploy.confine import confined
from rpmdeploy.errors import BuildError

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")


@needs_bwrap
def test_confined_command_cannot_write_outside_or_reach_the_network(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    script = (
        "import os, socket, sys\n"
        f"open({str(build / 'ok')!r}, 'w').write('mine')\n"
        "for path in (sys.argv[1], '/etc/rpmdeploy-owned', os.path.expanduser('~/.rpmmacros')):\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "    except OSError as e:\n"
        "        print('refused', path, e.errno)\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
        "except OSError as e:\n"
        "    print('no network', e.errno)\n"
        "print('uid', os.getuid())\n"
    )
    argv = confined(
        ["/usr/bin/python3", "-c", script, str(outside / "planted")],
        writable=[build],
        readable=[tmp_path],
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert (build / "ok").read_text() == "mine"
    assert not (outside / "planted").exists() and not Path("/etc/rpmdeploy-owned").exists()
    assert out.count("refused") == 2  # the other file, /etc; $HOME is a private tmpfs
    assert "no network" in out
    assert "uid 65534" in out


@needs_bwrap
def test_percent_build_runs_confined(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What %build runs (here: a hostile line added through a template override) cannot
    write outside its build, reach the network, or read the operator's home."""
    # The cache (another package's artifacts, cached RPMs) and /etc: read-only inside.
    marker = tmp_path / "c" / "pwned"
    override = tmp_path / "templates" / "package"
    override.mkdir(parents=True)
    shipped = Path(__file__).resolve().parents[2] / "rpmdeploy/templates/package"
    spec = (shipped / "python-package.spec.j2").read_text()
    hostile = (
        f"%build\n(echo owned > {marker}) 2>/dev/null || echo HOSTILE-WRITE-REFUSED\n"
        "(echo owned > /etc/rpmdeploy-pwned) 2>/dev/null || echo HOSTILE-ETC-REFUSED\n"
        "(echo > /dev/tcp/127.0.0.1/22) 2>/dev/null || echo HOSTILE-NETWORK-REFUSED\n"
        "test -e /root/.bashrc || echo HOSTILE-HOME-PRIVATE\n"
        "echo HOSTILE-UID=$(id -u)\n"
    )
    (override / "python-package.spec.j2").write_text(spec.replace("%build\n", hostile, 1))
    links = tmp_path / "links"
    links.mkdir()
    meta = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nSummary: evil\n"
    wheel = make_wheel(links, "evil", "1.0", meta, {"evil/__init__.py": "x = 1\n"})
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    app: AppDir = app_factory("evil\n")
    app.pinned.write_text(f"--no-index\n--find-links {links}\nevil==1.0 --hash=sha256:{digest}\n")
    out = tmp_path / "out"
    run_cli(
        "rpms",
        app.path,
        "--out",
        out,
        "--cache-dir",
        tmp_path / "c",
        "--template-dir",
        tmp_path / "templates",
    )
    log = (out / "logs" / "python3-evil.log").read_text()
    assert not marker.exists() and not Path("/etc/rpmdeploy-pwned").exists()
    for line in (
        "HOSTILE-WRITE-REFUSED",
        "HOSTILE-ETC-REFUSED",
        "HOSTILE-NETWORK-REFUSED",
        "HOSTILE-HOME-PRIVATE",
        "HOSTILE-UID=65534",
    ):
        assert f"\n{line}" in log, line


def test_a_build_directory_planted_by_someone_else_is_refused(tmp_path: Path) -> None:
    planted = tmp_path / "rpmdeploy-build-0"
    planted.mkdir(mode=0o777)
    os.chmod(planted, 0o777)
    with pytest.raises(BuildError, match="is not a private directory of this user"):
        private_directory(planted)
    link = tmp_path / "link"
    link.symlink_to(tempfile.gettempdir())
    with pytest.raises(BuildError, match="a link"):
        private_directory(link)
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    os.chown(other, 1234, 1234)
    with pytest.raises(BuildError, match="owner uid 1234"):
        private_directory(other)
    mine = tmp_path / "mine"
    assert private_directory(mine) == mine and (os.stat(mine).st_mode & 0o777) == 0o700


HOSTILE_SETUP = """\
import os, socket, pathlib
from setuptools import setup
report = []
for target in ({marker!r}, "/etc/rpmdeploy-pwned", os.path.expanduser("~/.rpmmacros")):
    try:
        pathlib.Path(target).write_text("owned")
        report.append("WROTE " + target)
    except OSError:
        report.append("REFUSED " + target)
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    report.append("NETWORK")
except OSError:
    report.append("NO-NETWORK")
report.append("UID=%d" % os.getuid())
print("HOSTILE " + "; ".join(report))
setup(name="hostile", version="1.0", py_modules=["hostile"])
"""


def operator_rpmmacros() -> bytes | None:
    path = Path.home() / ".rpmmacros"
    return path.read_bytes() if path.exists() else None


@needs_bwrap
def test_sdist_code_runs_confined_everywhere(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """setup.py of a hostile sdist, run by uv for its metadata when pinning, by the PEP 517
    build on the host and again in %build: it cannot write outside its build, reach the
    network (but for the resolver's own index requests), or touch the operator's home; the
    package still builds.  `pip download` is never used for an sdist (it would run setup.py
    unconfined): sdists are found by their pinned hash and downloaded as files."""
    import tarfile

    links = tmp_path / "links"
    links.mkdir()
    marker = tmp_path / "c" / "pwned"  # the cache: another package's artifacts live there
    src = tmp_path / "hostile-1.0"
    src.mkdir()
    (src / "setup.py").write_text(HOSTILE_SETUP.format(marker=str(marker)))
    (src / "hostile.py").write_text("x = 1\n")
    (src / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: hostile\nVersion: 1.0\n")
    with tarfile.open(links / "hostile-1.0.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="hostile-1.0")
    app: AppDir = app_factory("hostile\n")
    before = operator_rpmmacros()
    app.pin("--find-links", links)
    out = tmp_path / "out"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "c")
    assert not marker.exists() and not Path("/etc/rpmdeploy-pwned").exists()
    log = (out / "logs" / "python3-hostile.log").read_text()
    hostile = [ln for ln in log.splitlines() if ln.startswith("HOSTILE ")]
    assert hostile, "setup.py ran in %build"
    for line in hostile:
        # Only its private, throw-away $HOME took the write; never the host's.
        wrote = [part for part in line.split("; ") if "WROTE" in part]
        assert all(part.endswith("/tmp/home/.rpmmacros") for part in wrote), line
        assert "NO-NETWORK" in line and "UID=65534" in line, line
    assert operator_rpmmacros() == before
    wheels_log = [p for p in (tmp_path / "c").rglob("*.log") if "HOSTILE" in p.read_text()]
    assert wheels_log  # the host's PEP 517 build ran it too, just as confined

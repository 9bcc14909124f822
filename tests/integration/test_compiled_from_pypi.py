"""Real compiled packages from PyPI (marked network: skipped by default).

numpy comes as a manylinux wheel that bundles OpenBLAS in ``numpy.libs``: the RPM must carry
those files exactly as the wheel made them (rpmbuild's strip would break the library), and
must not offer the bundled library's sonames to the rest of the repository.  psycopg2 is
built from its sdist against the system's libpq: its SRPM build-requires libpq's headers and
its RPM requires the library.  Both are imported from the installed tree.  Run with
RPMDEPLOY_NETWORK_TESTS=1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rpm
from helpers import install_into_root, python_in_root, read_header, run_cli

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("pg_config") is None, reason="libpq's headers missing"),
]


def test_numpy_wheel_and_psycopg2_sdist_release_and_import(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "bin").mkdir(parents=True)
    (app / "dependencies.in").write_text("numpy\npsycopg2\n")
    (app / "external-dependencies.txt").write_text("")
    (app / "bin" / "wsgiapp").write_text(
        "import numpy, psycopg2\n\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [str(int(numpy.ones((3, 3)).dot(numpy.ones(3)).sum())).encode()]\n"
    )
    (app / "rpmdeploy.toml").write_text(
        '[app]\nname = "calc"\nversion = "1.0"\n\n[rpms]\nno-binary = ["psycopg2"]\n'
    )
    run_cli("pin", app)
    repo = tmp_path / "repo"
    result = run_cli("release", app, "--out", repo, "--cache-dir", tmp_path / "cache")
    assert "import check: passed (200 OK" in result.output, result.output

    [numpy_rpm] = (repo / "Packages").glob("python3-numpy-[0-9]*.x86_64.rpm")
    header = read_header(numpy_rpm)
    provides = [p.decode() if isinstance(p, bytes) else p for p in header[rpm.RPMTAG_PROVIDENAME]]
    assert not [p for p in provides if ".so" in p], provides  # bundled OpenBLAS stays private
    files = [f.decode() if isinstance(f, bytes) else f for f in header[rpm.RPMTAG_FILENAMES]]
    assert any("/numpy.libs/" in f for f in files), files

    [pg_rpm] = (repo / "Packages").glob("python3-psycopg2-[0-9]*.x86_64.rpm")
    requires = [
        r.decode() if isinstance(r, bytes) else r
        for r in read_header(pg_rpm)[rpm.RPMTAG_REQUIRENAME]
    ]
    assert any(r.startswith("libpq.so.5") for r in requires), requires
    [srpm] = (repo / "SRPMS").glob("python-psycopg2-*.src.rpm")
    build_requires = [
        r.decode() if isinstance(r, bytes) else r for r in read_header(srpm)[rpm.RPMTAG_REQUIRENAME]
    ]
    assert any("libpq" in r for r in build_requires), build_requires

    root = tmp_path / "root"
    install_into_root(root, sorted((repo / "Packages").glob("*.rpm")))
    done = python_in_root(
        root,
        "import numpy, psycopg2, psycopg2.extensions as e\n"
        "print(int(numpy.linalg.inv(numpy.eye(4) * 2).sum() * 100), e.libpq_version() > 0)",
    )
    assert done.stdout.split() == ["200", "True"], done.stderr

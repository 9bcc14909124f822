"""The bundled example app, released for real from PyPI (marked network: skipped by default).

Run with RPMDEPLOY_NETWORK_TESTS=1.  It is what `make rpms` does, plus serving a request
through the launcher with gunicorn (the hermetic tests serve with wsgiref).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, install_into_root, run_cli
from test_app import free_port, get_when_up

pytestmark = pytest.mark.network


def test_example_app_release_and_gunicorn(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    result = run_cli("release", REPO / "examples" / "hello-wsgi", "--out", repo, "--cache-dir", tmp_path / "cache")
    assert "import check: passed (200 OK" in result.output
    names = {p.name for p in (repo / "Packages").iterdir()}
    for prefix in ("python3-flask-3", "python3-gunicorn-", "python3-markupsafe-", "hello-wsgi-1.0.0-1"):
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    assert any(n.startswith("python3-markupsafe-") and n.endswith(".x86_64.rpm") for n in names)
    root = tmp_path / "root"
    install_into_root(root, sorted((repo / "Packages").glob("*.rpm")))
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": f"{root}/usr/lib/python3.11/site-packages:{root}/usr/lib64/python3.11/site-packages",
        "RPMDEPLOY_APP_DIR": str(root / "opt/hello-wsgi"),
        "RPMDEPLOY_BIND": f"127.0.0.1:{port}",
        "RPMDEPLOY_WORKERS": "1",
    }
    launcher = root / "opt/hello-wsgi/bin/hello-wsgi-serve"
    server = subprocess.Popen(["/usr/bin/python3", str(launcher)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = get_when_up(f"http://127.0.0.1:{port}/hello/%3Cworld%3E", server)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert body == "<p>Hello, &lt;world&gt;!</p>"

"""The bundled example app, released for real from PyPI (marked network: skipped by default).

Run with RPMDEPLOY_NETWORK_TESTS=1.  It is what `make rpms` does, plus serving a request
through the launcher with gunicorn (the hermetic tests serve with wsgiref).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO, install_into_root, run_cli, serve_once

pytestmark = pytest.mark.network


def test_example_app_release_and_gunicorn(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    result = run_cli(
        "release",
        REPO / "examples" / "hello-wsgi",
        "--out",
        repo,
        "--cache-dir",
        tmp_path / "cache",
    )
    assert "import check: passed (200 OK" in result.output
    names = {p.name for p in (repo / "Packages").iterdir()}
    for prefix in (
        "python3-flask-3",
        "python3-gunicorn-",
        "python3-markupsafe-",
        "hello-wsgi-1.0.0-1",
    ):
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    assert any(n.startswith("python3-markupsafe-") and n.endswith(".x86_64.rpm") for n in names)
    root = tmp_path / "root"
    install_into_root(root, sorted((repo / "Packages").glob("*.rpm")))
    body = serve_once(root, "hello-wsgi", "/hello/%3Cworld%3E", RPMDEPLOY_WORKERS="1")
    assert body == "<p>Hello, &lt;world&gt;!</p>"

"""The bundled example app, released for real from PyPI (marked network: skipped by default).

Run with RPMDEPLOY_NETWORK_TESTS=1.  It is what `make rpms` does (for the example's own
target, rocky-9, from wheels), plus serving a request through the launcher with gunicorn
(the hermetic tests serve with wsgiref) where a Python 3.9 is on the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO, install_into_root, run_cli, serve_once

from rpmdeploy.targets import find_python

pytestmark = pytest.mark.network


def test_example_app_release_and_gunicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RPMDEPLOY_TARGET")  # the example names its own target: rocky-9
    repo = tmp_path / "repo"
    result = run_cli(
        "release",
        REPO / "examples" / "hello-wsgi",
        "--out",
        repo,
        "--cache-dir",
        tmp_path / "cache",
    )
    names = {p.name for p in (repo / "Packages").iterdir()}
    for prefix in (
        "python3-flask-3",
        "python3-gunicorn-",
        "python3-markupsafe-",
        "hello-wsgi-1.0.0-1.el9",
    ):
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    # markupsafe's C extension comes from its manylinux wheel, built for EL9's Python 3.9
    assert any(n.startswith("python3-markupsafe-") and n.endswith(".el9.x86_64.rpm") for n in names)
    pythons = find_python("3.9")
    if not pythons:
        assert "import check: skipped" in result.output
        pytest.skip("no Python 3.9 on this machine to serve the rocky-9 RPMs with")
    assert "import check: passed (200 OK" in result.output
    root = tmp_path / "root"
    install_into_root(root, sorted((repo / "Packages").glob("*.rpm")))
    body = serve_once(
        root, "hello-wsgi", "/hello/%3Cworld%3E", python=pythons[0], RPMDEPLOY_WORKERS="1"
    )
    assert body == "<p>Hello, &lt;world&gt;!</p>"

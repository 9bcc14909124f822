"""rpmlint on the bundled example app's packages, released for real from PyPI (network).

Real READMEs (HTML, badges, reST and Markdown), real licence metadata and real wheels and
sdists: the release with --lint must find no rpmlint error.  Run with
RPMDEPLOY_NETWORK_TESTS=1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rpm
from helpers import REPO, read_header, run_cli

pytestmark = pytest.mark.network


def test_example_app_is_rpmlint_clean(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    result = run_cli(
        "release",
        REPO / "examples" / "hello-wsgi",
        "--out",
        repo,
        "--cache-dir",
        tmp_path / "cache",
        "--no-verify",
        "--lint",
    )
    assert " 0 errors" in result.output, result.output
    for path in (repo / "Packages").glob("python3-*.rpm"):
        header = read_header(path)
        assert header[rpm.RPMTAG_CHANGELOGNAME], path.name
        assert all(len(line) <= 80 for line in header[rpm.RPMTAG_DESCRIPTION].splitlines())
        assert not header[rpm.RPMTAG_SUMMARY].endswith(".")
    srpm = next((repo / "SRPMS").glob("python-flask-*.src.rpm"))
    sources = read_header(srpm)[rpm.RPMTAG_SOURCE]
    assert any(s.startswith("https://") and s.endswith(".whl") for s in sources), sources
    data = json.loads((repo / "rpmdeploy-licenses.json").read_text())
    assert {row["package"] for row in data["licenses"]} >= {"python3-flask", "python3-gunicorn"}

"""rpmlint on the bundled example app's packages, released for real from PyPI (network).

Real READMEs (HTML, badges, reST and Markdown), real licence metadata and real wheels and
sdists: the release with --lint must find no rpmlint error.  Run with
RPMDEPLOY_NETWORK_TESTS=1.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import rpm
from helpers import REPO, read_header, run_cli

pytestmark = pytest.mark.network


def test_example_app_is_rpmlint_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RPMDEPLOY_TARGET")  # the example names its own target: rocky-9
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
    # Source0 is the URL the wheel came from (the header keeps file names; the spec has it)
    srpm = next((repo / "SRPMS").glob("python-flask-*.src.rpm"))
    unpacked = tmp_path / "srpm"
    unpacked.mkdir()
    cpio = subprocess.run(["rpm2cpio", str(srpm)], capture_output=True, check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=cpio, cwd=unpacked, check=True)
    spec = (unpacked / "python-flask.spec").read_text()
    assert "Source0:        https://files.pythonhosted.org/packages/" in spec
    assert "/flask-3." in spec.split("Source0:", 1)[1].split("\n", 1)[0]
    data = json.loads((repo / "rpmdeploy-licenses.json").read_text())
    assert {row["package"] for row in data["licenses"]} >= {"python3-flask", "python3-gunicorn"}

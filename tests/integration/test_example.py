"""The bundled example app, released for real from PyPI (marked network: skipped by default).

Run with RPMDEPLOY_NETWORK_TESTS=1.  One release, as `make rpms` does it (for the example's
own target, rocky-9, from wheels) plus ``--lint``, serves every test here: the packages and
their metadata (real READMEs, licences, wheels and sdists: rpmlint must find no error), and a
request through the launcher with gunicorn (the hermetic tests serve with wsgiref) where a
Python 3.9 is on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import rpm
from click.testing import Result
from helpers import REPO, install_into_root, read_header, run_cli, serve_once

from rpmdeploy.targets import find_python

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    root = tmp_path_factory.mktemp("example")
    repo = root / "repo"
    saved = os.environ.pop("RPMDEPLOY_TARGET", None)  # the example names its own: rocky-9
    try:
        result = run_cli(
            "release",
            REPO / "examples" / "hello-wsgi",
            "--out",
            repo,
            "--cache-dir",
            root / "cache",
            "--lint",
            "--format",
            "json",
        )
    finally:
        if saved is not None:
            os.environ["RPMDEPLOY_TARGET"] = saved
    return repo, result


def test_example_app_release_and_gunicorn(released: tuple[Path, Result], tmp_path: Path) -> None:
    repo, result = released
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


def test_example_release_json_follows_the_schema(released: tuple[Path, Result]) -> None:
    """CI reads `release --format json`: one document on stdout, valid against the shipped
    schema, saying what was built from where and what verification proved."""
    repo, result = released
    doc = json.loads(result.stdout)
    schema = resources.files("rpmdeploy").joinpath("data", "report.schema.json").read_text()
    jsonschema.validate(doc, json.loads(schema))
    assert doc["kind"] == "release" and doc["ok"] is True
    assert doc["repository"]["path"] == str(repo)
    by_name = {p["name"]: p for p in doc["packages"]}
    assert by_name["python3-markupsafe"]["source"] == "wheel"  # a manylinux wheel for EL9
    assert by_name["python3-itsdangerous"]["source"] == "sdist"  # [rpms] no-binary
    assert by_name["hello-wsgi"]["nevr"] == "hello-wsgi-1.0.0-1.el9"
    assert doc["verification"]["proven"]["installed"]


def test_example_app_is_rpmlint_clean(released: tuple[Path, Result], tmp_path: Path) -> None:
    repo, result = released
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

"""`rpmdeploy init`: a standard app directory that pins, builds and renders its spec."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import AppDir, run_cli


def test_init_writes_a_standard_app_that_builds(tmp_path: Path, wheelhouse: Path) -> None:
    app = tmp_path / "shop"
    result = run_cli("init", app)
    assert "wrote" in result.output
    assert (app / "bin" / "wsgiapp").stat().st_mode & 0o111
    assert "application" in (app / "bin" / "wsgiapp").read_text()
    assert 'name = "shop"' in (app / "rpmdeploy.toml").read_text()
    hints = (app / "external-dependencies.txt").read_text()
    assert all(line.startswith("#") for line in hints.splitlines())
    # The fixture index has no gunicorn: depend on a fixture package instead, then build.
    (app / "dependencies.in").write_text("delta\n")
    AppDir(app, wheelhouse).pin()
    spec = run_cli("spec", app, "--cache-dir", tmp_path / "c").output
    assert "Name:           shop" in spec and "Version:        0.1.0" in spec
    run_cli("app", app, "--out", tmp_path / "out", "--cache-dir", tmp_path / "c")
    assert list((tmp_path / "out").glob("RPMS/noarch/shop-0.1.0-*.noarch.rpm"))


def test_init_refuses_a_directory_in_use(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine\n")
    result = run_cli("init", used, expect=2)
    assert "exists and is not an empty directory" in result.output
    assert os.listdir(used) == ["keep.txt"]

"""`rpmdeploy init`: a standard app directory that pins, builds and renders its spec."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
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


def test_init_with_a_target_writes_it_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    """--target becomes [rpms] target, read back through the settings; an unknown name is a
    usage error that writes nothing."""
    import tomllib

    from rpmdeploy import settings

    run_cli("init", tmp_path / "shop", "--target", "rocky-9")
    data = tomllib.loads((tmp_path / "shop" / "rpmdeploy.toml").read_text())
    assert data["rpms"]["target"] == "rocky-9"
    resolved = settings.resolve(tmp_path / "shop", {}, env={})
    assert settings.target_of(resolved).name == "rocky-9-x86_64"
    refused = run_cli("init", tmp_path / "other", "--target", "debian-12", expect=2)
    assert "debian-12" in refused.output and not (tmp_path / "other").exists()


def test_init_says_to_name_a_target_where_there_is_no_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    debian = tmp_path / "os-release"
    debian.write_text('ID=debian\nVERSION_ID="12"\n')
    monkeypatch.setattr("rpmdeploy.distributions.OS_RELEASE", debian)
    result = run_cli("init", tmp_path / "app")
    assert f"name your servers' distribution in {tmp_path / 'app' / 'rpmdeploy.toml'}" in (
        result.output
    )
    rocky = tmp_path / "os-release-rocky"
    rocky.write_text('ID=rocky\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n')
    monkeypatch.setattr("rpmdeploy.distributions.OS_RELEASE", rocky)
    assert "name your servers'" not in run_cli("init", tmp_path / "app2").output

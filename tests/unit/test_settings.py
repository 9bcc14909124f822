"""One precedence for every setting: command line > RPMDEPLOY_* > rpmdeploy.toml > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpmdeploy import settings
from rpmdeploy.errors import UsageError
from rpmdeploy.pin import ALL


def app_dir(tmp_path: Path, toml: str = "") -> Path:
    (tmp_path / "rpmdeploy.toml").write_text(toml)
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    resolved = settings.resolve(app_dir(tmp_path), {}, env={})
    assert resolved["target"] is None and resolved["builder"] == "rpmbuild"
    assert resolved["keep"] == 1 and resolved["verify"] is True
    assert set(resolved.sources.values()) == {"default"}


def _os_release(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "os-release"
    path.write_text(text)
    monkeypatch.setattr(settings.distributions, "OS_RELEASE", path)


def test_no_target_is_host_on_an_rpm_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _os_release(tmp_path, 'ID=rocky\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', monkeypatch)
    resolved = settings.resolve(app_dir(tmp_path), {}, env={})
    assert settings.target_name(resolved) == "host"


def test_no_target_on_debian_is_an_error_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _os_release(tmp_path, 'ID=debian\nVERSION_ID="12"\n', monkeypatch)
    resolved = settings.resolve(app_dir(tmp_path), {}, env={})
    with pytest.raises(UsageError, match=r"not an RPM distribution.*--target.*rpmdeploy targets"):
        settings.target_name(resolved)
    named = settings.resolve(app_dir(tmp_path, "[rpms]\ntarget = 'host'\n"), {}, env={})
    assert settings.target_name(named) == "host"


def test_command_line_beats_environment_beats_file(tmp_path: Path) -> None:
    path = app_dir(tmp_path, "[rpms]\njobs = 3\ntarget = 'rocky-9'\n[release]\nkeep = 4\n")
    env = {"RPMDEPLOY_JOBS": "5", "RPMDEPLOY_KEEP": "6"}
    resolved = settings.resolve(path, {"jobs": 7}, env=env)
    assert (resolved["jobs"], resolved.sources["jobs"]) == (7, "command line")
    assert (resolved["keep"], resolved.sources["keep"]) == (6, "RPMDEPLOY_KEEP")
    assert (resolved["target"], resolved.sources["target"]) == ("rocky-9", "rpmdeploy.toml")


def test_no_binary_adds_up_from_every_source(tmp_path: Path) -> None:
    path = app_dir(tmp_path, "[rpms]\nno-binary = ['Foo_Bar']\n")
    resolved = settings.resolve(path, {"no_binary": ("baz",)}, env={"RPMDEPLOY_NO_BINARY": "qux"})
    assert resolved["no_binary"] == {"foo-bar", "baz", "qux"}
    everything = settings.resolve(path, {"no_binary": (ALL,)}, env={})
    assert ALL in everything["no_binary"]


def test_paths_in_the_file_are_relative_to_the_app(tmp_path: Path) -> None:
    resolved = settings.resolve(app_dir(tmp_path, "[rpms]\ncache-dir = 'cache'\n"), {}, env={})
    assert settings.cache_of(resolved).root == tmp_path / "cache"


def test_a_relative_cache_dir_from_the_command_line_becomes_absolute(tmp_path: Path) -> None:
    resolved = settings.resolve(app_dir(tmp_path), {"cache_dir": "rel"}, env={})
    assert settings.cache_of(resolved).root.is_absolute()


def test_builder_table_names_the_builder_and_keeps_its_own_keys(tmp_path: Path) -> None:
    path = app_dir(
        tmp_path,
        "[rpms]\ntarget = 'host'\n[builder]\nname = 'rpmbuild'\nmock-config = 'site.cfg'\n",
    )
    resolved = settings.resolve(path, {}, env={})
    options = settings.rpms_options(resolved, env={})
    assert options.builder == "rpmbuild"
    assert dict(options.builder_settings) == {"mock-config": "site.cfg"}


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[rpms]\njobs = 0\n", {}, r"\[rpms\] jobs: expected a whole number from 1 to 64"),
        ("", {"RPMDEPLOY_JOBS": "many"}, "RPMDEPLOY_JOBS: expected a whole number"),
        ("[builder]\nname = 'nope'\n", {}, "unknown builder 'nope'; available: rpmbuild"),
        ("[rpms]\ncolour = 'red'\n", {}, r"unknown key\(s\) in \[rpms\]: colour"),
        ("[release]\nverify = 'maybe'\n", {}, "expected true or false"),
        ("[nonsense]\n", {}, r"unknown table\(s\): nonsense"),
        ("", {"RPMDEPLOY_TARGET": "x\ny"}, "control characters"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_where(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        settings.resolve(app_dir(tmp_path, toml), {}, env=env)


def test_source_date_epoch(tmp_path: Path) -> None:
    assert settings.source_date_epoch({"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    assert settings.source_date_epoch({}) == settings.DEFAULT_SOURCE_DATE_EPOCH
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        settings.source_date_epoch({"SOURCE_DATE_EPOCH": "yesterday"})

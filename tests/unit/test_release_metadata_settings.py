"""Release-metadata settings: packager, strict-licenses, lint, and [packages.NAME] tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpmdeploy import settings
from rpmdeploy.appconfig import PackageSettings, read_app_config
from rpmdeploy.errors import UsageError

TOML = """\
[app]
name = "shop"
version = "1.0"

[rpms]
packager = "Release Bot <ops@example.invalid>"
strict-licenses = true

[release]
lint = true

[packages.Psycopg2]
license = "LGPL-3.0-or-later"
"""


def test_settings_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "rpmdeploy.toml").write_text(TOML)
    resolved = settings.resolve(tmp_path, {"target": "host"}, env={})
    options = settings.release_options(resolved, None)
    metadata = options.build.metadata
    assert metadata.packager == "Release Bot <ops@example.invalid>"
    assert metadata.strict_licenses is True
    assert dict(metadata.package_licenses) == {"psycopg2": "LGPL-3.0-or-later"}
    assert options.lint is True


def test_defaults_and_precedence(tmp_path: Path) -> None:
    (tmp_path / "rpmdeploy.toml").write_text("[rpms]\ntarget = 'host'\nstrict-licenses = true\n")
    resolved = settings.resolve(
        tmp_path, {"strict_licenses": None, "lint": None}, env={"RPMDEPLOY_PACKAGER": "ci"}
    )
    options = settings.release_options(resolved, None)
    assert options.build.metadata.packager == "ci"
    assert options.build.metadata.strict_licenses is True
    assert options.lint is False  # default
    resolved = settings.resolve(tmp_path, {"lint": True}, env={"RPMDEPLOY_STRICT_LICENSES": "0"})
    options = settings.release_options(resolved, None)
    assert options.lint is True and options.build.metadata.strict_licenses is False


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[packages]\nfoo = 1\n", "[packages.foo] must be a table"),
        ("[packages.foo]\nsummary = 'x'\n", "unknown key(s) in [packages.foo]: summary"),
        ("[packages.foo]\nlicense = ''\n", "[packages.foo] license must be a one-line string"),
        ("[packages.foo]\nlicense = 3\n", "[packages.foo] license must be a one-line string"),
        ("[release]\nlint = 'sometimes'\n", "expected true or false"),
    ],
)
def test_bad_tables_are_one_line_errors(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "rpmdeploy.toml").write_text(toml)
    with pytest.raises(UsageError) as excinfo:
        settings.resolve(tmp_path, {}, env={})
    assert message in excinfo.value.message and "\n" not in excinfo.value.message


def test_app_version_is_optional(tmp_path: Path) -> None:
    (tmp_path / "rpmdeploy.toml").write_text("[app]\nname = 'shop'\n")
    config = read_app_config(tmp_path)
    assert config.app.version is None and config.packages == {}
    (tmp_path / "rpmdeploy.toml").write_text("[packages.a_b]\nlicense = 'MIT'\n")
    assert read_app_config(tmp_path).packages == {"a-b": PackageSettings("MIT")}

"""Bad input from the app directory gets one line naming the cause and a non-zero exit,
never a traceback, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import AppDir, run_cli

SETTINGS = [
    ('prefix = "/"', "is a system directory"),
    ('prefix = "/usr"', "is a system directory"),
    ('prefix = "/etc/"', "is a system directory"),
    ('bind = "127.0.0.1:99999"', "port 99999 is not 1-65535"),
    ('bind = "0.0.0.0:0"', "port 0 is not 1-65535"),
    ('summary = "ends in a backslash \\\\"', "trailing backslash"),
    ('summary = "two\\nlines"', "without control characters"),
    ('url = "https://x.invalid/\\u0007"', "without control characters"),
]


@pytest.mark.parametrize(("setting", "message"), SETTINGS)
def test_bad_app_settings(app_factory, tmp_path: Path, setting: str, message: str) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    (app.path / "rpmdeploy.toml").write_text(f'[app]\nname = "shop"\nversion = "1"\n{setting}\n')
    out = tmp_path / "out"
    result = run_cli("app", app.path, "--out", out, "--cache-dir", tmp_path / "c", expect=2)
    assert message in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert not out.exists()


def test_non_utf8_dependencies_txt(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pinned.write_bytes(b"delta==2.0 --hash=sha256:\xff\xfe\n")
    result = run_cli("rpms", app.path, "--out", tmp_path / "o", expect=1)
    assert "dependencies.txt: not UTF-8 text (byte" in result.output
    assert result.output.count("\n") == 1


def test_absurdly_long_package_name(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    name = "a" * 224
    app.pinned.write_text(f"{name}==1.0 --hash=sha256:{'ab' * 32}\n")
    result = run_cli("rpms", app.path, "--out", tmp_path / "o", expect=1)
    assert "package name of 224 characters; at most 128" in result.output
    assert result.output.count("\n") == 1


def test_read_only_output_is_one_line(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Output on a read-only file system (/proc here: even root cannot write there)."""
    app: AppDir = app_factory("delta\n")
    app.pin()
    result = run_cli(
        "rpms", app.path, "--out", "/proc/rpmdeploy", "--cache-dir", tmp_path / "c", expect=1
    )
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("rpmdeploy: error: ") and "/proc/rpmdeploy" in last
    assert "Traceback" not in result.output

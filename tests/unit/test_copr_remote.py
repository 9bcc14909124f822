"""Copr's client as the copr builder uses it, without a server: configuration errors and
secrets kept out of every message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpmdeploy.builders.copr.remote import ProjectName, Remote
from rpmdeploy.errors import BuildError, UsageError

TOKEN = "tok-" + "a1b2" * 8


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "copr"
    path.write_text(body)
    return path


def remote(tmp_path: Path) -> Remote:
    text = (
        f"[copr-cli]\nlogin = secret-login\nusername = me\ntoken = {TOKEN}\n"
        "copr_url = https://copr.example\n"
    )
    return Remote(str(config(tmp_path, text)), ProjectName.parse("me/app"))


def test_client_errors_are_one_line_without_the_credentials(tmp_path: Path) -> None:
    from copr.v3.exceptions import CoprRequestException

    r = remote(tmp_path)

    def fails() -> None:
        raise CoprRequestException(f"bad request\nfor secret-login:{TOKEN}")

    with pytest.raises(BuildError) as caught:
        r._call(fails, what="submitting x")
    message = str(caught.value)
    assert message.startswith("Copr: submitting x: ") and "\n" not in message
    assert "***:***" in message and TOKEN not in message and "secret-login" not in message


def test_a_config_that_does_not_parse_is_not_quoted(tmp_path: Path) -> None:
    broken = config(tmp_path, f"[copr-cli\ntoken = {TOKEN}\n")
    with pytest.raises(UsageError) as caught:
        Remote(str(broken), ProjectName.parse("me/app"))
    assert TOKEN not in str(caught.value) and "malformed" in str(caught.value)


def test_a_missing_config_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        Remote(str(tmp_path / "nope"), ProjectName.parse("me/app"))


def test_plain_http_needs_the_configs_consent(tmp_path: Path) -> None:
    text = f"[copr-cli]\nlogin = l\nusername = u\ntoken = {TOKEN}\ncopr_url = http://copr.example\n"
    with pytest.raises(UsageError, match="should not be http"):
        Remote(str(config(tmp_path, text)), ProjectName.parse("me/app"))


def test_build_urls_of_users_and_groups(tmp_path: Path) -> None:
    r = remote(tmp_path)
    assert r.build_url(12) == "https://copr.example/coprs/me/app/build/12/"
    r.project = ProjectName.parse("@team/app")
    assert r.build_url(12) == "https://copr.example/coprs/g/team/app/build/12/"

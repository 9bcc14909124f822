"""The .repo file and the Puppet manifest: parsed back, validated by Puppet, values escaped."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from helpers import needs_puppet, puppet

from rpmdeploy.errors import UsageError
from rpmdeploy.puppet import (
    puppet_ensure,
    puppet_string,
    render_puppet_manifest,
    render_repo_file,
)

BASE = "https://repo.example.com/myapp"
KEY = "https://repo.example.com/myapp/RPM-GPG-KEY-myapp"


def parse_repo_file(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_signed_repo_file() -> None:
    parser = parse_repo_file(render_repo_file("myapp", BASE, True, KEY))
    assert parser.sections() == ["myapp"]
    section = parser["myapp"]
    assert section["baseurl"] == BASE
    assert section["enabled"] == "1"
    assert section["gpgcheck"] == "1"
    assert section["repo_gpgcheck"] == "1"
    assert section["gpgkey"] == KEY
    assert section["name"]


def test_unsigned_repo_file() -> None:
    section = parse_repo_file(render_repo_file("myapp", "file:///srv/repo/$basearch", False, None))[
        "myapp"
    ]
    assert section["gpgcheck"] == "0"
    assert "gpgkey" not in section and "repo_gpgcheck" not in section
    assert section["baseurl"] == "file:///srv/repo/$basearch"


@pytest.mark.parametrize(
    ("app", "url", "signed", "key"),
    [
        ("my app", BASE, False, None),
        ("myapp]\n[evil", BASE, False, None),
        ("myapp", BASE + "\ngpgcheck=0", False, None),
        ("myapp", "javascript:alert(1)", False, None),
        ("myapp", BASE + " x", False, None),
        ("myapp", BASE, True, None),  # signed needs the key URL
    ],
)
def test_repo_file_rejects_bad_values(app: str, url: str, signed: bool, key: str | None) -> None:
    with pytest.raises(UsageError):
        render_repo_file(app, url, signed, key)


def test_ensure_is_what_puppets_yum_provider_compares() -> None:
    assert puppet_ensure("1.2.3-1.el9") == "1.2.3-1.el9"
    assert puppet_ensure("0:1.2.3-1.el9") == "1.2.3-1.el9"  # rpm.rb omits a zero epoch
    assert puppet_ensure("2:1.2.3-1.el9") == "2:1.2.3-1.el9"
    for bad in ("1.2.3", "latest", "1.2-1\n", "a:1-1", "1-1 ; rm"):
        with pytest.raises(UsageError):
            puppet_ensure(bad)


def test_puppet_string_escaping() -> None:
    assert puppet_string("plain") == "'plain'"
    assert puppet_string("it's") == r"'it\'s'"
    assert puppet_string("a\\b") == r"'a\\b'"
    assert puppet_string("$basearch") == "'$basearch'"
    with pytest.raises(UsageError):
        puppet_string("two\nlines")


def test_manifest_content() -> None:
    text = render_puppet_manifest("myapp", "myapp", "1:2.0-3", BASE, True, KEY, "myapp")
    assert "yumrepo { 'myapp':" in text
    assert f"gpgkey          => '{KEY}'," in text
    assert "ensure  => '1:2.0-3'," in text
    assert "require => Yumrepo['myapp']," in text
    assert "subscribe => Package['myapp']," in text
    unsigned = render_puppet_manifest("myapp", "myapp", "2.0-3", BASE, False, None, None)
    assert "gpgcheck        => '0'," in unsigned
    assert "gpgkey" not in unsigned and "service" not in unsigned


@pytest.mark.parametrize(
    "kwargs",
    [
        {"package": "myapp'; exec { 'x': }"},
        {"service": "web' ; exec"},
        {"service": "a\nb"},
        {"evr": "1.0"},
        {"app": "../x"},
    ],
)
def test_manifest_rejects_bad_values(kwargs: dict[str, str]) -> None:
    args: dict[str, object] = {
        "app": "myapp",
        "package": "myapp",
        "evr": "1.0-1",
        "base_url": BASE,
        "signed": False,
        "key_url": None,
        "service": None,
    }
    args.update(kwargs)
    with pytest.raises(UsageError):
        render_puppet_manifest(**args)  # type: ignore[arg-type]


@needs_puppet
def test_manifests_pass_puppet_parser_validate(tmp_path: Path) -> None:
    tricky = "https://repo.example.com/it's\\odd/$basearch"
    manifests = {
        "signed.pp": render_puppet_manifest(
            "myapp", "myapp", "1.0-1.el9", BASE, True, KEY, "myapp"
        ),
        "unsigned.pp": render_puppet_manifest(
            "myapp", "python3-x", "0:1-1", BASE, False, None, None
        ),
        "epoch.pp": render_puppet_manifest(
            "a.b_c-d", "my+app", "3:1.0~rc1-1", tricky, True, tricky, "web@1.service"
        ),
    }
    for name, text in manifests.items():
        (tmp_path / name).write_text(text)
    result = puppet(tmp_path, "parser", "validate", *(str(tmp_path / n) for n in manifests))
    assert result.returncode == 0, result.stdout + result.stderr

    broken = tmp_path / "broken.pp"
    broken.write_text(manifests["signed.pp"].replace("}", "", 1))
    assert puppet(tmp_path, "parser", "validate", str(broken)).returncode != 0

    # The quoting round-trips: Puppet reads back exactly the URL that went in.
    probe = tmp_path / "probe.pp"
    probe.write_text(f"notice({puppet_string(tricky)})\n")
    applied = puppet(tmp_path, "apply", "--color=false", str(probe))
    assert applied.returncode == 0, applied.stderr
    assert f"Notice: Scope(Class[main]): {tricky}" in applied.stdout

"""The .repo file and the Puppet manifest compared with files under tests/data/golden/, so a
template change shows as a diff.

Refresh deliberately: RPMDEPLOY_UPDATE_GOLDEN=1 pytest tests/unit/test_publish_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rpmdeploy.puppet import render_puppet_manifest, render_repo_file

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
BASE = "https://repo.example.com/shop/$basearch"
KEY = "https://repo.example.com/shop/RPM-GPG-KEY-shop"

CASES = {
    "yum-signed.repo": lambda: render_repo_file("shop", BASE, True, KEY),
    "yum-unsigned.repo": lambda: render_repo_file("shop", "file:///srv/repo/shop", False, None),
    # A non-zero epoch, a service, and a URL that needs Puppet quoting.
    "puppet-signed.pp": lambda: render_puppet_manifest(
        "shop", "shop", "2:1.0~rc1-1.el9", "https://repo.example.com/it's/shop", True, KEY, "shop"
    ),
    # Epoch 0 left out (as Puppet's yum provider reports it), no service.
    "puppet-unsigned.pp": lambda: render_puppet_manifest(
        "shop", "python3-shop", "0:1.0-1", "file:///srv/repo/shop", False, None, None
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_file_matches_golden(name: str) -> None:
    text = CASES[name]()
    golden = GOLDEN / name
    if os.environ.get("RPMDEPLOY_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert golden.is_file(), f"missing {golden}: run with RPMDEPLOY_UPDATE_GOLDEN=1"
    assert text == golden.read_text()

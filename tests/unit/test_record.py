"""The release record (rpmdeploy.record): the file release writes and verify reads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from rpmdeploy.errors import VerifyError
from rpmdeploy.record import RELEASE_FILE, ReleaseRecord

RECORD = ReleaseRecord(
    app="shop",
    evr="1:1.0-1.fc43",
    install_dir="/opt/shop",
    target="rocky-9-x86_64",
    python="/usr/bin/python3",
    site_dirs=("/opt/acme/lib/python3.9/site-packages",),
    assumed_packages=("libffi", "pkgconfig(libpq)"),
    signed=True,
)


def test_round_trip_is_exact_and_stable() -> None:
    text = RECORD.to_json()
    assert ReleaseRecord.from_json(text) == RECORD
    assert ReleaseRecord.from_json(text).to_json() == text
    # The documented shape: every field, sorted keys, lists for the tuples, final newline.
    assert json.loads(text) == {
        "app": "shop",
        "assumed_packages": ["libffi", "pkgconfig(libpq)"],
        "evr": "1:1.0-1.fc43",
        "install_dir": "/opt/shop",
        "python": "/usr/bin/python3",
        "signed": True,
        "site_dirs": ["/opt/acme/lib/python3.9/site-packages"],
        "target": "rocky-9-x86_64",
    }
    assert text.endswith("}\n") and list(json.loads(text)) == sorted(json.loads(text))


def test_load_reads_the_file_in_the_repository(tmp_path: Path) -> None:
    (tmp_path / RELEASE_FILE).write_text(RECORD.to_json())
    assert ReleaseRecord.load(tmp_path) == RECORD


def edited(**changes: object) -> str:
    data = json.loads(RECORD.to_json())
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("{not json", "invalid JSON: Expecting property name"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"app": "shop"}), "missing evr, install_dir, target, python"),
        (edited(extra=1), "unknown extra"),
        (edited(signed="yes"), "signed must be true or false"),
        (edited(site_dirs="/opt"), "site_dirs must be a list of non-empty strings"),
        (edited(assumed_packages=[1]), "assumed_packages must be a list"),
        (edited(app=""), "app must be a non-empty string"),
        (edited(app="shop; rm -rf /"), "invalid app package name"),
        (edited(evr="1.0"), "invalid version '1.0'"),
        (edited(install_dir="opt/shop"), "'opt/shop' is not an absolute path"),
        (edited(site_dirs=["lib"]), "'lib' is not an absolute path"),
        (edited(target="rocky-9\nx"), "control character"),
    ],
)
def test_malformed_records_are_one_line_errors_naming_the_file(
    tmp_path: Path, text: str, cause: str
) -> None:
    (tmp_path / RELEASE_FILE).write_text(text)
    with pytest.raises(VerifyError) as caught:
        ReleaseRecord.load(tmp_path)
    message = str(caught.value)
    assert message.startswith(
        f"{tmp_path / RELEASE_FILE}: not a repository published by rpmdeploy ("
    )
    assert cause in message
    assert "\n" not in message


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(
        VerifyError,
        match=rf"{RELEASE_FILE}: not a repository published by rpmdeploy \(No such file",
    ):
        ReleaseRecord.load(tmp_path)


def test_an_invalid_record_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="not an absolute path"):
        dataclasses.replace(RECORD, install_dir="relative")

"""Licences: every source of an SPDX expression, how sure each is, and what is reported."""

from __future__ import annotations

import json

import pytest

from rpmdeploy import licenses
from rpmdeploy.errors import MetadataError
from rpmdeploy.licenses import Finding, License

BSD = "License :: OSI Approved :: BSD License"
MIT = "License :: OSI Approved :: MIT License"
LGPL = "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)"

# (metadata, expression, status, a note that must be there or "")
CASES = [
    ({"license_expression": "MIT"}, "MIT", "declared", ""),
    ({"license_expression": "mit or apache-2.0"}, "MIT OR Apache-2.0", "declared", ""),
    (
        {"license_expression": "GPL-2.0+"},
        "GPL-2.0-or-later",
        "declared",
        "deprecated SPDX id GPL-2.0+ upgraded to GPL-2.0-or-later",
    ),
    (
        {"license_expression": "GPL-2.0 WITH Classpath-exception-2.0 OR LGPL-2.1+"},
        "GPL-2.0-only WITH Classpath-exception-2.0 OR LGPL-2.1-or-later",
        "declared",
        "deprecated SPDX id LGPL-2.1+ upgraded to LGPL-2.1-or-later",
    ),
    # an invalid License-Expression is never passed through: the next source is used
    (
        {"license_expression": "MIT-ish (ask us)", "classifiers": [MIT]},
        "MIT",
        "mapped",
        "invalid License-Expression 'MIT-ish (ask us)' ignored",
    ),
    ({"license": "Apache-2.0"}, "Apache-2.0", "declared", ""),
    ({"license": "LGPL-3.0+"}, "LGPL-3.0-or-later", "declared", "deprecated SPDX id LGPL-3.0+"),
    ({"license": "The MIT License"}, "MIT", "mapped", ""),
    ({"license": "BSD"}, "BSD-3-Clause", "guessed", ""),
    ({"license": "BSD License"}, "BSD-3-Clause", "guessed", ""),
    ({"classifiers": [MIT]}, "MIT", "mapped", ""),
    ({"classifiers": [BSD]}, "BSD-3-Clause", "guessed", ""),
    # psycopg2: a free-text License that names no version, an unversioned classifier
    (
        {"license": "LGPL with exceptions", "classifiers": [LGPL]},
        "LGPL-2.1-or-later",
        "guessed",
        "",
    ),
    (
        {"classifiers": [MIT, "License :: OSI Approved :: Apache Software License 2.0"]},
        "MIT AND Apache-2.0",
        "guessed",
        "several licence classifiers, read as AND",
    ),
    ({"license": "Copyright 2020 ACME, all rights reserved"}, "LicenseRef-Unknown", "unknown", ""),
    (
        {"license": "line one\nline two of a whole licence text"},
        "LicenseRef-Unknown",
        "unknown",
        "",
    ),
    ({}, "LicenseRef-Unknown", "unknown", ""),
]


@pytest.mark.parametrize(("raw", "expression", "status", "note"), CASES)
def test_license_sources(raw: dict[str, object], expression: str, status: str, note: str) -> None:
    found = licenses.from_metadata(raw)
    assert (found.expression, found.status) == (expression, status)
    if note:
        assert any(n.startswith(note) for n in found.notes), found.notes
    assert licenses.validate(found.expression) is not None or found.status == "unknown"


def test_every_table_entry_is_valid_spdx() -> None:
    tables = licenses._tables()
    for table in ("classifiers", "classifier-guesses", "aliases", "alias-guesses", "deprecated"):
        for key, value in tables[table].items():
            assert licenses.validate(value) == (value, ()), (table, key, value)


def test_override_is_validated() -> None:
    assert licenses.override("gpl-3.0+", "[packages.x] license") == License(
        "GPL-3.0-or-later",
        "override",
        "[packages.x] license",
        ("deprecated SPDX id GPL-3.0+ upgraded to GPL-3.0-or-later",),
    )
    with pytest.raises(MetadataError, match=r"\[packages.x\] license: 'BSD' is not a valid SPDX"):
        licenses.override("BSD", "[packages.x] license")


def findings() -> list[Finding]:
    return [
        Finding("python3-a", "1.0", licenses.from_metadata({"license_expression": "MIT"})),
        Finding("python3-b", "2.0", licenses.from_metadata({"classifiers": [BSD]})),
        Finding("python3-c", "3.0", licenses.from_metadata({})),
    ]


def test_each_guess_and_unknown_is_reported() -> None:
    lines = licenses.report_lines(findings())
    assert lines == [
        "python3-b 2.0: BSD-3-Clause (guessed from classifier 'BSD License')",
        "python3-c 3.0: LicenseRef-Unknown (unknown)",
    ]
    data = json.loads(licenses.findings_json(findings()))
    assert [(r["package"], r["status"], r["doubtful"]) for r in data["licenses"]] == [
        ("python3-a", "declared", False),
        ("python3-b", "guessed", True),
        ("python3-c", "unknown", True),
    ]


def test_strict_licenses_names_every_doubtful_package() -> None:
    with pytest.raises(MetadataError) as excinfo:
        licenses.check_strict(findings())
    message = excinfo.value.message
    assert "python3-b (guessed: BSD-3-Clause)" in message
    assert "python3-c (unknown: LicenseRef-Unknown)" in message
    assert "python3-a" not in message and "\n" not in message
    licenses.check_strict(findings()[:1])  # nothing doubtful: no error


def test_stored_license_round_trip() -> None:
    for finding in findings():
        assert licenses.finding_from_json(licenses.to_json(finding.license)) == finding.license
    assert licenses.finding_from_json({"expression": "MIT", "status": "sure?"}) is None

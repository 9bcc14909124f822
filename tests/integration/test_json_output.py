"""--format json: one document on stdout, valid against the shipped, versioned schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from helpers import AppDir, run_cli

SCHEMA = json.loads(resources.files("rpmdeploy").joinpath("data", "report.schema.json").read_text())


def document(output: str) -> dict:  # type: ignore[type-arg]
    """The JSON document of a run's output (CliRunner mixes stderr in: the progress lines)."""
    start = output.index("{\n")
    found = json.loads(output[start:])
    jsonschema.validate(found, SCHEMA)
    return found


def test_the_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "rpmdeploy/rpms", "version": 1, "kind": "rpms"}, SCHEMA)


def test_rpms_json(built_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "rpms",
        built_app.app.path,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        built_app.cache,
        "--format",
        "json",
    )
    doc = document(result.output)
    assert doc["kind"] == "rpms" and doc["ok"] is True and doc["version"] == 1
    by_name = {p["name"]: p for p in doc["packages"]}
    assert by_name["python3-cext"]["source"] == "sdist"
    assert by_name["python3-alpha"]["source"] == "wheel"
    assert by_name["python3-alpha"]["license"] == "MIT"
    assert all(p["status"] == "cached" for p in doc["packages"])
    assert doc["counts"]["cached"] == len(doc["packages"])
    assert by_name["python3-cext"]["nevr"].startswith("python3-cext-0.1-")
    assert all(Path(r).is_file() for p in doc["packages"] for r in p["rpms"])


def test_errors_are_json_too(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pinned.write_text("delta>=1\n")
    result = run_cli("rpms", app.path, "--out", tmp_path / "o", "--format", "json", expect=1)
    doc = document(result.output)
    assert doc["kind"] == "error" and doc["exit_code"] == 1
    assert "run 'rpmdeploy pin'" in doc["error"]


def test_targets_json() -> None:
    doc = document(run_cli("targets", "--format", "json").output)
    rocky = next(t for t in doc["targets"] if t["name"] == "rocky-9")
    assert rocky["python_full"].startswith("3.9.") and rocky["dist"] == ".el9"
    assert rocky["glibc"] == "2.34" and "x86_64" in rocky["arches"]

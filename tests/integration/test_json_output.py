"""--format json: one document on stdout, valid against the shipped, versioned schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from helpers import AppDir, make_wheel, run_cli

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
    assert Path(doc["logs"]).is_dir() and Path(doc["logs"]).parent == built_app.cache / "logs"
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


def test_pin_json(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pin's document: the files, what they were pinned for, and each change by name."""
    app: AppDir = app_factory("delta\n")
    links = tmp_path / "links"  # a newer delta, for an upgrade
    links.mkdir()
    first = document(app.pin("--format", "json", "--cache-dir", tmp_path / "pc").output)
    assert first["kind"] == "pin" and first["ok"] is True
    assert first["pinned"] == str(app.pinned) and first["build"] == str(app.build_pinned)
    assert first["target"] == "host" and first["resolver"] == "uv"
    assert first["python"].count(".") == 2 and first["platform"].startswith(("x86_64", "aarch64"))
    assert first["logs"] and Path(first["logs"]).is_file()
    # in the cache it was given, named by time like every run's logs
    assert Path(first["logs"]).parent == tmp_path / "pc" / "logs"
    assert Path(first["logs"]).name.startswith(("pin-20", "pin-21"))
    assert first["changes"]["added"] == [{"name": "delta", "version": "2.0", "extras": []}]
    assert first["changes"]["counts"] == {
        "added": 1,
        "removed": 0,
        "upgraded": 0,
        "downgraded": 0,
        "unchanged": 0,
    }
    assert first["sdists"] == [] and first["build_pins"] == 0

    # cext (and beta) come as sdists only: their backends go into build-dependencies.txt.
    app.write_in("alpha[fast]\ncext\n")
    make_wheel(links, "delta", "2.1", "Metadata-Version: 2.1\nName: delta\nVersion: 2.1\n", {})
    extra = ("--find-links", links, "--upgrade-package", "delta", "--format", "json")
    second = document(app.pin(*extra, "--resolver", "pip-tools").output)
    assert second["resolver"] == "pip-tools"
    added = {p["name"]: p for p in second["changes"]["added"]}
    assert set(added) == {"alpha", "beta", "cext"} and added["alpha"]["extras"] == ["fast"]
    assert second["changes"]["upgraded"] == [{"name": "delta", "from": "2.0", "to": "2.1"}]
    assert second["changes"]["counts"]["upgraded"] == 1
    assert second["summary"] == second["changes"]["summary"]
    assert "1 upgraded (delta 2.0 -> 2.1)" in second["summary"]
    assert "cext==0.1" in second["sdists"] and second["build_pins"] >= 1
    assert {p["name"] for p in second["build_changes"]["added"]} >= {"setuptools"}

    app.write_in("delta\n")
    third = document(app.pin("--find-links", links, "--format", "json").output)
    assert {p["name"] for p in third["changes"]["removed"]} == {"alpha", "beta", "cext"}
    assert third["changes"]["counts"]["unchanged"] == 1
    assert third["build_changes"]["removed"] and third["build_pins"] == 0


def test_pin_errors_are_json(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("no-such-package-anywhere\n")
    doc = document(app.pin("--format", "json", expect=1).output)
    assert doc["kind"] == "error" and doc["exit_code"] == 1
    assert "no-such-package-anywhere" in doc["error"]

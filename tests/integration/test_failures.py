"""Bad input and failing builds: one clear line, non-zero exit, nothing half-written."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import AppDir, log_path, make_wheel, run_cli


def pinned_app(app_factory, requirements: str) -> AppDir:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory(requirements)
    app.pin()
    return app


def test_a_failing_sdist_does_not_hide_the_others(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = pinned_app(app_factory, "delta\nbroken\n")
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", expect=1)
    assert re.search(r"built\s+python3-delta 2.0", result.output)
    assert re.search(r"failed\s+python3-broken 1.0", result.output)
    assert "2 packages: 1 built, 0 cached, 1 failed" in result.output
    failure = next(ln for ln in result.output.splitlines() if ln.startswith("FAILED"))
    # Its sdist is built once, by rpmbuild: the failure names that build and its cause.
    assert "python3-broken 1.0: rpmbuild of python3-broken 1.0 failed" in failure
    assert "this package refuses to build" in failure
    log = log_path(result.output.split("FAILED", 1)[1])
    assert "this package refuses to build" in log.read_text()
    assert not out.exists(), "nothing is published when a package failed"
    assert "Traceback" not in result.output


def test_hash_mismatch_names_the_package(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = pinned_app(app_factory, "alpha\n")
    text = app.pinned.read_text()
    start = text.index("delta") if "delta" in text else text.index("beta==")
    hash_at = text.index("--hash=sha256:", start) + len("--hash=sha256:")
    app.pinned.write_text(text[:hash_at] + "0" * 64 + text[hash_at + 64 :])
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", expect=1)
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("rpmdeploy: error: beta==0.5.post1: downloaded artifact does not match")
    assert not out.exists()


def test_unknown_package_in_pinned_file(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = pinned_app(app_factory, "delta\n")
    app.pinned.write_text(app.pinned.read_text() + f"ghost==1.0 --hash=sha256:{'ab' * 32}\n")
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", expect=1)
    assert "ghost==1.0: no matching distribution found" in result.output
    assert not out.exists()


def test_wheel_with_escaping_paths_is_refused(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    make_wheel(
        links,
        "sneaky",
        "1.0",
        "Metadata-Version: 2.1\nName: sneaky\nVersion: 1.0\n",
        {"sneaky.py": "", "../../../etc/cron.d/sneaky": "* * * * * root true\n"},
    )
    app: AppDir = app_factory("sneaky\n")
    app.pin("--find-links", links)
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache", expect=1)
    assert "FAILED python3-sneaky 1.0" in result.output
    assert "refusing file name '../../../etc/cron.d/sneaky'" in result.output
    log = log_path(result.output)
    assert "refusing file name" in log.read_text()  # the package's log says why too
    assert not out.exists()


def test_unknown_target_and_bad_options(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = pinned_app(app_factory, "delta\n")
    result = run_cli("rpms", app.path, "--out", tmp_path / "o", "--target", "beos-5", expect=2)
    assert "unknown target 'beos-5'" in result.output and "fedora-43" in result.output
    result = run_cli(
        "rpms", app.path, "--out", tmp_path / "o", "--name-prefix", "Bad Prefix", expect=2
    )
    assert "invalid --name-prefix" in result.output
    result = run_cli(
        "rpms", app.path, "--out", tmp_path / "o", "--install-prefix", "opt/x", expect=2
    )
    assert "invalid --install-prefix" in result.output


def test_a_tampered_cache_is_not_reused(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A cached RPM (or artifact) whose bytes changed is never published: it is rebuilt
    (fetched again), and the run says so."""
    app = pinned_app(app_factory, "delta\n")
    cache = tmp_path / "cache"
    first = tmp_path / "first"
    run_cli("rpms", app.path, "--out", first, "--cache-dir", cache)
    [cached_rpm] = (cache / "builds").glob("*/python3-delta-*.noarch.rpm")
    good = cached_rpm.read_bytes()
    cached_rpm.write_bytes(good[:-10] + b"TAMPERED!!")
    [artifact] = (cache / "artifacts").glob("*/delta-*.whl")
    artifact.write_bytes(artifact.read_bytes() + b"junk")
    second = tmp_path / "second"
    result = run_cli("rpms", app.path, "--out", second, "--cache-dir", cache)
    assert "changed since it was built: rebuilt" in result.output
    assert "1 built, 0 cached" in result.output
    [published] = second.glob("RPMS/noarch/python3-delta-*.rpm")
    assert b"TAMPERED" not in published.read_bytes()
    assert (cache / "corrupt").is_dir()  # kept aside for whoever wants to look


def test_an_unreachable_index_is_named_at_once(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A closed local port: the error says so within seconds, not pip's "no matching
    distribution" a minute later."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    app = pinned_app(app_factory, "delta\n")
    text = app.pinned.read_text().replace(
        "--no-index", f"--index-url http://127.0.0.1:{port}/simple"
    )
    app.pinned.write_text(
        "\n".join(ln for ln in text.splitlines() if "find-links" not in ln) + "\n"
    )
    started = time.monotonic()
    result = run_cli(
        "rpms", app.path, "--out", tmp_path / "o", "--cache-dir", tmp_path / "c", expect=1
    )
    assert time.monotonic() - started < 15
    assert f"cannot reach the index http://127.0.0.1:{port}/simple" in result.output
    assert "Connection refused" in result.output

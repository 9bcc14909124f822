"""The copr builder with the real ``copr`` client against a stand-in Copr on loopback.

``helpers.copr_frontend`` stands in for Copr (which cannot be reached from here): it answers
Copr's API v3 as the frontend does and really builds each submitted SRPM with the real mock
(the synthetic buildroot of test_mock.py, RPMDEPLOY_TEST_MOCK_CONFIG), in batch order,
publishing each chroot as a createrepo_c repository over HTTP.  Without mock (or not as
root, which the synthetic setup needs) these tests skip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import AppDir, read_header, run_cli
from helpers.copr_frontend import CoprStandIn, configured

CONFIG = os.environ.get("RPMDEPLOY_TEST_MOCK_CONFIG", "synthetic-x86_64")
CHROOT = "synthetic-x86_64"
pytestmark = [
    pytest.mark.skipif(
        shutil.which("mock") is None,
        reason="mock is not installed: the stand-in Copr builds with the real mock (Fedora/EL: "
        "`dnf install mock`; Debian 12: the CI installs it with a synthetic buildroot)",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the synthetic mock setup runs as root"),
]
BUILDER_TOML = f'[builder]\ncopr-chroot = "{CHROOT}"\ncopr-poll-interval = 0.3\n'


@pytest.fixture(scope="module")
def copr() -> Iterator[CoprStandIn]:
    with configured(CONFIG) as standin:
        yield standin


def copr_rpms(app: AppDir, out: Path, cache: Path, project: str, expect: int = 0):  # type: ignore[no-untyped-def]
    return run_cli(
        "rpms",
        app.path,
        "--out",
        out,
        "--cache-dir",
        cache,
        "--builder",
        "copr",
        "--copr-project",
        project,
        "--jobs",
        "2",
        expect=expect,
    )


def copr_app(factory, requirements: str, name: str = "app") -> AppDir:  # type: ignore[no-untyped-def]
    app: AppDir = factory(requirements, name)
    app.pin()
    (app.path / "rpmdeploy.toml").write_text(BUILDER_TOML)
    return app


def builds_named(copr: CoprStandIn, project: str, name: str) -> list[int]:
    owner, _, title = project.partition("/")
    return [
        b.id
        for b in copr.builds.values()
        if (b.owner, b.project) == (owner, title) and b.upload.name.startswith(name + "-")
    ]


def event_time(copr: CoprStandIn, event: str, build_id: int) -> int:
    return next(i for i, (e, b, _) in enumerate(copr.events) if (e, b) == (event, build_id))


@pytest.fixture(scope="module")
def built(
    copr: CoprStandIn, tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path
) -> dict[str, object]:
    """The pinned set of test_mock.py built on the stand-in Copr: gamma-flit's build backend
    flit-core is one of the pins, so flit-core's level comes first."""
    from helpers import new_app

    root = tmp_path_factory.mktemp("copr")
    app = new_app(root / "app", wheelhouse, "alpha\ncext\ngamma-flit\nflit-core\n")
    app.pin()
    (app.path / "rpmdeploy.toml").write_text(BUILDER_TOML)
    out, cache = root / "out", root / "cache"
    result = copr_rpms(app, out, cache, "rpmdeploy/main")
    return {"app": app, "out": out, "cache": cache, "result": result, "root": root}


def test_every_package_is_built_by_copr_in_the_chroot(built: dict[str, object]) -> None:
    out = built["out"]
    assert isinstance(out, Path)
    rpms = sorted(out.glob("RPMS/*/*.rpm"))
    names = {read_header(p)["name"] for p in rpms}
    assert {"python3-alpha", "python3-cext", "python3-gamma-flit", "python3-flit-core"} <= names
    assert all(read_header(p)["release"].endswith(".syn") for p in rpms)  # the chroot's %dist
    assert len(list(out.glob("SRPMS/*.syn.src.rpm"))) == 6
    output = str(getattr(built["result"], "output", ""))
    assert "submitted as build" in output and "/coprs/rpmdeploy/main/build/" in output


def test_batches_follow_the_levels(copr: CoprStandIn, built: dict[str, object]) -> None:
    [flit] = builds_named(copr, "rpmdeploy/main", "python-flit-core")
    [gamma] = builds_named(copr, "rpmdeploy/main", "python-gamma-flit")
    # The backend's dependant started only after the backend finished ...
    assert event_time(copr, "ended", flit) < event_time(copr, "started", gamma)
    # ... and rpmdeploy asked Copr for it: gamma-flit's batch comes after flit-core's.
    first, second = copr.builds[flit].batch, copr.builds[gamma].batch
    assert first is not None and second is not None
    assert copr.batches[second].blocked_by == first
    # One level is one batch: the other first-level builds joined flit-core's.
    [alpha] = builds_named(copr, "rpmdeploy/main", "python-alpha")
    assert copr.builds[alpha].batch == first


def test_downloads_are_the_published_bytes(copr: CoprStandIn, built: dict[str, object]) -> None:
    out = built["out"]
    assert isinstance(out, Path)
    served = {p.name: p for p in copr.results.glob(f"rpmdeploy/main/{CHROOT}/*/*.rpm")}
    for rpm in out.glob("RPMS/*/*.rpm"):
        assert (
            hashlib.sha256(rpm.read_bytes()).digest()
            == hashlib.sha256(served[rpm.name].read_bytes()).digest()
        )
    logs = sorted((out / "logs").glob("*.log"))
    assert logs and "Wrote:" in (out / "logs" / "python3-alpha.log").read_text()


def test_credentials_never_appear(copr: CoprStandIn, built: dict[str, object]) -> None:
    assert copr.token not in str(getattr(built["result"], "output", ""))
    for directory in (built["out"], built["cache"]):
        assert isinstance(directory, Path)
        for path in directory.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                assert copr.token.encode() not in path.read_bytes(), path


def test_a_rerun_elsewhere_reuses_the_projects_builds(
    copr: CoprStandIn, built: dict[str, object], tmp_path: Path
) -> None:
    """Another machine (empty cache): every package is already built in the project, with
    the same source: nothing is submitted, the results are downloaded."""
    app = built["app"]
    assert isinstance(app, AppDir)
    uploads = copr.uploads()
    result = copr_rpms(app, tmp_path / "out", tmp_path / "cache", "rpmdeploy/main")
    assert copr.uploads() == uploads
    # Every pin and every pinned build dependency (built there, never published) is reused.
    counts = re.search(r"(\d+) packages: ", result.output)
    assert counts and result.output.count("reusing build") == int(counts.group(1)) >= 6
    first = {p.name: p.read_bytes() for p in Path(str(built["out"])).glob("RPMS/*/*.rpm")}
    again = {p.name: p.read_bytes() for p in (tmp_path / "out").glob("RPMS/*/*.rpm")}
    assert again == first


def test_a_rerun_with_its_cache_asks_copr_nothing(
    copr: CoprStandIn, built: dict[str, object], tmp_path: Path
) -> None:
    app, cache = built["app"], built["cache"]
    assert isinstance(app, AppDir) and isinstance(cache, Path)
    calls = len(copr.requests)
    result = copr_rpms(app, tmp_path / "out", cache, "rpmdeploy/main")
    counts = re.search(r"(\d+) packages: 0 built, (\d+) cached, 0 failed", result.output)
    assert counts and counts.group(1) == counts.group(2), result.output
    writes = [r for r in copr.requests[calls:] if r[0] != "GET"]
    assert writes == []  # nothing submitted (the project is only looked at when opened)


def test_a_failure_stops_only_its_dependants(
    copr: CoprStandIn, app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    app = copr_app(app_factory, "gamma-flit\nflit-core\ndelta\n")
    copr.fail_packages.add("python-flit-core")
    try:
        result = copr_rpms(app, tmp_path / "out", tmp_path / "cache", "rpmdeploy/failing", expect=1)
    finally:
        copr.fail_packages.clear()
    lines = result.output.splitlines()
    failed = next(line for line in lines if line.startswith("FAILED python3-flit-core"))
    assert "Copr build" in failed and "%build failed: builder: out of disk space" in failed
    assert "/coprs/rpmdeploy/failing/build/" in failed
    skipped = next(line for line in lines if line.startswith("SKIPPED python3-gamma-flit"))
    assert "python3-flit-core" in skipped
    assert builds_named(copr, "rpmdeploy/failing", "python-gamma-flit") == []  # never submitted
    assert any("built" in line and "python3-delta" in line for line in lines)
    # The failure's live log is shown: its last lines, after the build's URL.
    assert "| builder: out of disk space" in result.output
    assert not (tmp_path / "out").exists()


def test_an_interrupted_run_resumes_without_submitting_again(
    copr: CoprStandIn, app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    app = copr_app(app_factory, "gamma-flit\nflit-core\n")
    argv = [
        sys.executable,
        "-m",
        "rpmdeploy",
        "rpms",
        str(app.path),
        "--out",
        str(tmp_path / "out"),
    ]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--builder", "copr"]
    argv += ["--copr-project", "rpmdeploy/resume"]
    # The farm is busy: the first level stays pending when Ctrl-C comes.
    returncode, output = copr.interrupt(
        argv, lambda: bool(builds_named(copr, "rpmdeploy/resume", "python-flit-core"))
    )
    assert returncode == 130, output
    assert "left running in rpmdeploy/resume" in output
    assert "run the same command again" in output
    uploads = copr.uploads()
    result = copr_rpms(app, tmp_path / "out", tmp_path / "cache", "rpmdeploy/resume")
    assert "picking up build" in result.output
    assert copr.uploads() == uploads + 1  # only the second level (gamma-flit) was submitted
    assert len(builds_named(copr, "rpmdeploy/resume", "python-flit-core")) == 1


def test_a_tampered_download_is_refused(copr: CoprStandIn, app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = copr_app(app_factory, "delta\n")
    copr_rpms(app, tmp_path / "out", tmp_path / "cache", "rpmdeploy/tamper")
    [served] = [
        p
        for p in copr.results.glob(f"rpmdeploy/tamper/{CHROOT}/*/*.rpm")
        if not p.name.endswith(".src.rpm")
    ]
    data = bytearray(served.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes: only the checksum tells
    served.write_bytes(bytes(data))
    result = copr_rpms(app, tmp_path / "out2", tmp_path / "cache2", "rpmdeploy/tamper", expect=1)
    assert "does not match the repository metadata's sha256 checksum: refused" in result.output
    assert not (tmp_path / "out2").exists()
    served.write_bytes(bytes(data) + b"\0")  # longer than the metadata says: refused too
    result = copr_rpms(app, tmp_path / "out3", tmp_path / "cache3", "rpmdeploy/tamper", expect=1)
    assert "does not match the repository metadata: larger than its" in result.output


def test_bad_credentials_fail_in_one_line_without_the_token(
    copr: CoprStandIn, app_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    app = copr_app(app_factory, "delta\n")
    wrong = "tok-wrong-" + "f" * 24
    monkeypatch.setenv("RPMDEPLOY_COPR_CONFIG", str(copr.write_config(tmp_path / "bad", wrong)))
    result = copr_rpms(app, tmp_path / "out", tmp_path / "cache", "rpmdeploy/newproject", expect=1)
    assert "Login invalid" in result.output
    assert wrong not in result.output and copr.token not in result.output


def test_the_apps_settings_cannot_choose_the_copr_config(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = copr_app(app_factory, "delta\n")
    (app.path / "rpmdeploy.toml").write_text(BUILDER_TOML + 'copr-config = "/tmp/evil"\n')
    result = copr_rpms(app, tmp_path / "out", tmp_path / "cache", "rpmdeploy/x", expect=2)
    assert "not accepted from the app's rpmdeploy.toml" in result.output


def test_release_with_the_copr_builder_publishes_and_verifies(
    copr: CoprStandIn, app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`release --builder copr`: every RPM (the app's too) from Copr, then the usual publish
    and verify: dnf installs the app from the new repository and its WSGI app answers."""
    app: AppDir = app_factory("alpha\ncext\n")
    app.pin()
    (app.path / "rpmdeploy.toml").write_text(
        '[app]\nname = "shop"\nversion = "1.0"\n\n' + BUILDER_TOML
    )
    (app.path / "external-dependencies.txt").write_text("")
    repo = tmp_path / "repo"
    result = run_cli(
        "release",
        app.path,
        "--out",
        repo,
        "--cache-dir",
        tmp_path / "cache",
        "--builder",
        "copr",
        "--copr-project",
        "rpmdeploy/release",
        "--distro",
        "fedora-43",
    )
    packages = sorted(p.name for p in repo.glob("Packages/*.rpm"))
    assert any(n.startswith("shop-1.0-1.syn.") for n in packages), packages
    assert all(".syn." in n for n in packages), packages
    assert "import check: passed (200 OK" in result.output
    assert copr.token not in result.output

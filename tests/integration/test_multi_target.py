"""`release --targets`: one verified repository per target and one Puppet manifest.

The local releases use the host's rpmbuild for rocky-9 and amazonlinux-2023 (both Python
3.9, which pyenv provides here for the WSGI check); the Copr release runs the real ``copr``
client against the stand-in Copr (``helpers.copr_frontend``), which builds every chroot with
the tests' synthetic mock config: it can build only x86_64, so the two chroots are
epel-9-x86_64 and amazonlinux-2023-x86_64 (an aarch64 chroot would be built by an x86_64
buildroot there and prove nothing).  The manifest is checked with the real ``puppet parser
validate`` and ``puppet apply --noop`` with the host's os facts overridden (a custom fact of
higher weight, from FACTERLIB).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from helpers import AppDir, needs_puppet, puppet, read_header, run_cli
from helpers.copr_frontend import CoprStandIn, configured

CONFIG = os.environ.get("RPMDEPLOY_TEST_MOCK_CONFIG", "synthetic-x86_64")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")
needs_mock = pytest.mark.skipif(
    shutil.which("mock") is None or os.geteuid() != 0,
    reason="the stand-in Copr builds with the real mock and its synthetic setup runs as root",
)
SHOP = '[app]\nname = "shop"\nversion = "1.0"\n'
LOCAL = "rocky-9-x86_64,amazonlinux-2023-x86_64"
LOCAL_TOML = '\n[release]\ntargets = ["rocky-9-x86_64", "amazonlinux-2023-x86_64"]\n'
BASE = "https://repo.example.com/shop"


def shop(factory, requirements: str = "alpha\n") -> AppDir:  # type: ignore[no-untyped-def]
    app: AppDir = factory(requirements, "shop")
    app.pin("--target", "rocky-9")
    (app.path / "rpmdeploy.toml").write_text(SHOP)
    (app.path / "external-dependencies.txt").write_text("")
    return app


def facts(tmp_path: Path, name: str, major: str, arch: str) -> dict[str, str]:
    """An environment in which Puppet sees a host of ``name`` ``major`` on ``arch``."""
    lib = tmp_path / "facts" / f"{name}-{major}-{arch}"
    lib.mkdir(parents=True, exist_ok=True)
    value = {"name": name, "family": "RedHat", "release": {"major": major}, "architecture": arch}
    (lib / "os.rb").write_text(
        "require 'json'\n"
        "Facter.add(:os, :weight => 100000) do\n"
        f"  setcode {{ JSON.parse({json.dumps(json.dumps(value))}) }}\n"
        "end\n"
    )
    return {**os.environ, "FACTERLIB": str(lib)}


#: Puppet 7 ships yumrepo in the puppetlabs-yumrepo_core module, which Debian's puppet lacks: a
#: stand-in defined type with its parameters reports the values the manifest gives it.
YUMREPO_STANDIN = """define yumrepo(
  $ensure, $descr, $baseurl, $enabled, $metadata_expire, $gpgcheck,
  $repo_gpgcheck = undef, $gpgkey = undef,
) {
  notice("yumrepo ${title} baseurl=${baseurl} gpgkey=${gpgkey}")
}
"""


def chosen(tmp_path: Path, manifest: Path, name: str, major: str, arch: str) -> tuple[int, str]:
    """``puppet apply --noop`` of the manifest on such a host: (exit status, what it said)."""
    modules = tmp_path / "modules"
    (modules / "yumrepo" / "manifests").mkdir(parents=True, exist_ok=True)
    (modules / "yumrepo" / "manifests" / "init.pp").write_text(YUMREPO_STANDIN)
    old = os.environ.copy()
    os.environ.update(facts(tmp_path, name, major, arch))
    try:
        result = puppet(tmp_path, "apply", "--noop", "--modulepath", str(modules), str(manifest))
    finally:
        os.environ.clear()
        os.environ.update(old)
    return result.returncode, result.stdout + result.stderr


def check_manifest(
    tmp_path: Path,
    manifest: Path,
    expect: dict[tuple[str, str, str], str],
    dists: dict[str, str],
) -> None:
    """Each host of ``expect`` (os.name, release major, architecture) gets the repository of
    its target, and the app at the version published there (``dists``: each target's %dist);
    a host without one ('') fails, naming its facts."""
    result = puppet(tmp_path, "parser", "validate", str(manifest))
    assert result.returncode == 0, result.stderr
    for (name, major, arch), target in expect.items():
        status, said = chosen(tmp_path, manifest, name, major, arch)
        if target:
            assert status == 0, said
            assert f"yumrepo shop baseurl={BASE}/{target} gpgkey=" in said, said
            ensure = re.search(
                r"Package\[shop\]/ensure: current_value '[^']*', should be '([^']*)'", said
            )
            assert ensure is not None and ensure.group(1) == f"1.0-1{dists[target]}", said
        else:
            assert status != 0, said
            assert f"shop: no repository for this host ({name} {major} {arch})" in said, said


def published(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.glob("Packages/*.rpm"))


# --- usage --------------------------------------------------------------------------------------


def test_target_and_targets_are_exclusive(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha\n")
    out = tmp_path / "out"
    result = run_cli(
        "release", app.path, "--out", out, "--target", "rocky-9", "--targets", LOCAL, expect=2
    )
    assert "--target and --targets both given on the command line" in result.output
    assert not out.exists()


def test_the_command_line_target_wins_over_the_files_targets(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """One precedence: `[release] targets` in rpmdeploy.toml, `--target` on the command line:
    the command line wins (a release of one target, which then fails on the bad target)."""
    app: AppDir = app_factory("alpha\n")
    (app.path / "rpmdeploy.toml").write_text(LOCAL_TOML)
    result = run_cli("release", app.path, "--out", tmp_path / "o", "--target", "nosuch-1", expect=2)
    assert "unknown target 'nosuch-1'" in result.output


def test_both_in_the_environment_are_exclusive(
    app_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha\n")
    monkeypatch.setenv("RPMDEPLOY_TARGETS", LOCAL)  # RPMDEPLOY_TARGET=host: the tests' own
    result = run_cli("release", app.path, "--out", tmp_path / "o", expect=2)
    assert "--target and --targets both given in the environment" in result.output


def test_a_local_builder_refuses_a_foreign_arch_up_front(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha\n")
    out = tmp_path / "out"
    for builder in ("rpmbuild", "mock"):
        result = run_cli(
            "release",
            app.path,
            "--out",
            out,
            "--builder",
            builder,
            "--targets",
            "rocky-9-x86_64,epel-9-aarch64",
            expect=2,
        )
        line = result.output.strip().splitlines()[-1]
        assert line.startswith("rpmdeploy: error: --targets: cannot build epel-9-aarch64 (aarch64)")
        assert f"with the {builder} builder" in line and "--builder copr" in line
        assert "rocky-9-x86_64" not in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ("epel-9-x86_64,rhel-9-x86_64", "are the same target (rhel-9-x86_64)"),
        ("rocky-9-x86_64,rocky-9", "are the same target"),
        ("fedora-rawhide-x86_64,rocky-9", "fedora-rawhide has no fixed release number"),
        ("host,rocky-9", "'host' cannot be one of several targets"),
        ("rocky-9,epel-99-x86_64", "unknown target 'epel-99-x86_64'"),
    ],
)
def test_bad_target_sets_are_usage_errors(app_factory, tmp_path: Path, targets, message) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha\n")
    env_result = run_cli(
        "release", app.path, "--out", tmp_path / "o", "--targets", targets, expect=2
    )
    assert message in env_result.output


def test_a_single_targets_repository_is_not_a_multi_target_out(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """OUT already holding one target's repository (its record; a generation link) is refused
    before anything is built: the targets' directories would land inside that repository."""
    app: AppDir = app_factory("alpha\n")
    generation = tmp_path / ".repo.gen-1"
    generation.mkdir()
    (generation / "rpmdeploy-release.json").write_text("{}")
    (tmp_path / "repo").symlink_to(generation.name)
    result = run_cli("release", app.path, "--out", tmp_path / "repo", "--targets", LOCAL, expect=2)
    assert "is the repository of a release of one target" in result.output
    assert sorted(p.name for p in generation.iterdir()) == ["rpmdeploy-release.json"]


def test_every_rpm_distribution_has_a_puppet_os_name() -> None:
    from rpmdeploy import distributions
    from rpmdeploy.multirelease import _puppet_os

    names, compatible = _puppet_os()
    ids = {r.id for r in distributions.releases() if r.is_target}
    assert ids <= set(names), ids - set(names)
    assert all(set(v) for v in compatible.values())


@needs_puppet
def test_a_signed_manifest_gives_each_host_its_repositorys_key(tmp_path: Path) -> None:
    """The manifest of a signed release: gpgcheck on, and each host the key URL of its own
    repository; AlmaLinux 9 falls back to the EL 9 target, CentOS Stream 9 to its own."""
    from rpmdeploy.multirelease import host_repositories, resolve_targets
    from rpmdeploy.puppet import render_puppet_multi
    from rpmdeploy.record import ReleaseRecord

    targets = resolve_targets(["epel-9-x86_64", "epel-9-aarch64", "centos-stream-9"], "copr")
    assert [t.label for t in targets] == [
        "epel-9-x86_64",
        "epel-9-aarch64",
        "centos-stream-9-x86_64",
    ]
    assert [t.chroot for t in targets] == [
        "epel-9-x86_64",
        "epel-9-aarch64",
        "centos-stream-9-x86_64",
    ]
    published = []
    for target in targets:
        record = ReleaseRecord(
            app="shop",
            evr="1.0-1.el9",
            install_dir="/opt/shop",
            target=target.target.name,
            python="/usr/bin/python3",
            site_dirs=(),
            assumed_packages=(),
            signed=True,
        )
        url = f"{BASE}/{target.label}"
        published.append((target, record, url, f"{url}/RPM-GPG-KEY-{target.label}"))
    manifest = tmp_path / "shop.pp"
    manifest.write_text(
        render_puppet_multi("shop", "shop", host_repositories(published), True, "shop")
    )
    assert "gpgcheck        => '1'," in manifest.read_text()
    expect = {
        ("RedHat", "9", "x86_64"): "epel-9-x86_64",
        ("RedHat", "9", "aarch64"): "epel-9-aarch64",
        ("AlmaLinux", "9", "aarch64"): "epel-9-aarch64",
        ("CentOS", "9", "x86_64"): "centos-stream-9-x86_64",
        ("CentOS", "9", "aarch64"): "epel-9-aarch64",  # no Stream aarch64: EL 9's
        ("Fedora", "9", "x86_64"): "",
    }
    check_manifest(tmp_path, manifest, expect, {t.label: ".el9" for t in targets})
    status, said = chosen(tmp_path, manifest, "RedHat", "9", "aarch64")
    assert f"gpgkey={BASE}/epel-9-aarch64/RPM-GPG-KEY-epel-9-aarch64" in said, said


# --- local builds -------------------------------------------------------------------------------


@needs_root
@needs_puppet
def test_two_local_targets_each_verified_and_one_manifest(
    app_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """rocky-9 and amazonlinux-2023 with the host's rpmbuild (from `[release] targets`):
    two complete, verified repositories, and a manifest that gives each host its own."""
    monkeypatch.delenv("RPMDEPLOY_TARGET")  # else it wins over the file's targets
    app = shop(app_factory)
    (app.path / "rpmdeploy.toml").write_text(SHOP + LOCAL_TOML)
    out = tmp_path / "out"
    result = run_cli(
        "release", app.path, "--out", out, "--cache-dir", tmp_path / "c", "--base-url", BASE
    )
    rocky, al = out / "rocky-9-x86_64", out / "amazonlinux-2023-x86_64"
    assert rocky.is_symlink() and al.is_symlink()  # each its own generations
    assert any(n.startswith("shop-1.0-1.el9.") for n in published(rocky)), published(rocky)
    assert all(".el9." in n for n in published(rocky))
    assert all(".amzn2023." in n for n in published(al)), published(al)
    assert result.output.count("import check: passed (200 OK") == 2
    for repo, target in ((rocky, "rocky-9-x86_64"), (al, "amazonlinux-2023-x86_64")):
        record = json.loads((repo / "rpmdeploy-release.json").read_text())
        assert record["target"] == target
        assert f"baseurl={BASE}/{target}" in (repo / "shop.repo").read_text()
        assert (repo / "report.html").is_file() and (repo / "rpmdeploy-history.json").is_file()
        run_cli("verify", repo)  # each stands on its own
    manifest = out / "puppet" / "shop.pp"
    assert f"Puppet manifest: {manifest}" in result.output
    check_manifest(
        tmp_path,
        manifest,
        {
            ("Rocky", "9", "x86_64"): "rocky-9-x86_64",
            ("Amazon", "2023", "x86_64"): "amazonlinux-2023-x86_64",
            ("AlmaLinux", "9", "x86_64"): "rocky-9-x86_64",  # EL 9: the same packages
            ("Rocky", "9", "aarch64"): "",
            ("Rocky", "8", "x86_64"): "",
            ("Fedora", "43", "x86_64"): "",
        },
        {"rocky-9-x86_64": ".el9", "amazonlinux-2023-x86_64": ".amzn2023"},
    )

    # The same release again: nothing rebuilt, both repositories kept as they are.
    text, links = manifest.read_text(), [os.readlink(rocky), os.readlink(al)]
    again = run_cli(
        "release", app.path, "--out", out, "--cache-dir", tmp_path / "c", "--base-url", BASE
    )
    assert again.output.count("nothing changed: the published repository is up to date") == 2
    assert [os.readlink(rocky), os.readlink(al)] == links and manifest.read_text() == text
    # One target released into the set's OUT would adopt the whole tree: refused, untouched.
    refused = run_cli(
        "release",
        app.path,
        "--out",
        out,
        "--target",
        "rocky-9",
        "--cache-dir",
        tmp_path / "c",
        expect=2,
    )
    assert "holds a release of several targets (amazonlinux-2023-x86_64, rocky-9-x86_64)" in (
        refused.output
    )
    assert [os.readlink(rocky), os.readlink(al)] == links and not out.is_symlink()


@needs_root
def test_a_failing_target_publishes_no_target(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """All or nothing: rocky-9 builds, fedora-43's build of a changed pin fails (a C extension
    for Python 3.14, which this machine lacks): neither repository nor the manifest moves."""
    app = shop(app_factory)
    out, cache = tmp_path / "out", tmp_path / "c"
    targets = "rocky-9-x86_64,fedora-43-x86_64"
    first = run_cli("release", app.path, "--out", out, "--cache-dir", cache, "--targets", targets)
    # Pinned for rocky-9 (Python 3.9): fedora-43's Python 3.14 is warned about, rocky-9 not.
    assert "rpmdeploy: warning: fedora-43-x86_64: " in first.output
    assert "warning: rocky-9-x86_64" not in first.output
    rocky, fedora = out / "rocky-9-x86_64", out / "fedora-43-x86_64"
    before = {p: (os.readlink(p), published(p)) for p in (rocky, fedora)}
    manifest = (out / "puppet" / "shop.pp").read_text()
    assert "'fedora-43-x86_64'" in manifest and "'rocky-9-x86_64'" in manifest

    app.write_in("alpha\ncext\n")
    app.pin("--target", "rocky-9")
    result = run_cli(
        "release", app.path, "--out", out, "--cache-dir", cache, "--targets", targets, expect=1
    )
    assert "nothing published: fedora-43-x86_64 failed, so no target is published" in result.output
    assert "FAILED python3-cext" in result.output or "FAILED cext" in result.output
    for repo, (link, names) in before.items():
        assert os.readlink(repo) == link and published(repo) == names
        assert not any("cext" in n for n in published(repo))
    assert (out / "puppet" / "shop.pp").read_text() == manifest
    # rocky-9's packages were built and cached: releasing rocky-9 alone now builds nothing new.
    alone = run_cli(
        "release", app.path, "--out", rocky, "--cache-dir", cache, "--target", "rocky-9"
    )
    assert "0 failed" in alone.output and any("cext" in n for n in published(rocky))


@needs_root
def test_a_verification_failing_in_one_target_publishes_no_target(
    app_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The second target's verification fails (planted: dnf's verdict replaced by a failure
    for amazonlinux-2023 only) after the first target's generation was staged and verified:
    that generation is discarded too, nothing is swapped in, no manifest is written."""
    import rpmdeploy.release
    from rpmdeploy.errors import VerifyError

    real = rpmdeploy.release._verify
    verified: list[str] = []

    def planted(repo, record, target, key, log):  # type: ignore[no-untyped-def]
        verified.append(target.name)
        if target.name.startswith("amazonlinux"):
            raise VerifyError("dnf could not install shop (planted)")
        return real(repo, record, target, key, log)

    monkeypatch.setattr(rpmdeploy.release, "_verify", planted)
    app = shop(app_factory)
    out = tmp_path / "out"
    result = run_cli(
        "release",
        app.path,
        "--out",
        out,
        "--cache-dir",
        tmp_path / "c",
        "--targets",
        LOCAL,
        expect=1,
    )
    assert verified == ["rocky-9-x86_64", "amazonlinux-2023-x86_64"]
    assert result.output.strip().splitlines()[-1] == (
        "rpmdeploy: error: amazonlinux-2023-x86_64: dnf could not install shop (planted); "
        "nothing was published for any target"
    )
    # No repository, no generation or staging left, no manifest: only the lock files.
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".lock")) == []
    assert not list(out.parent.glob(".out.*gen-*"))


# --- Copr ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def copr() -> Iterator[CoprStandIn]:
    with configured(CONFIG) as standin:
        yield standin


@needs_mock
@needs_puppet
def test_two_copr_chroots_in_one_release(copr: CoprStandIn, app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--builder copr --targets epel-9-x86_64,amazonlinux-2023-x86_64`: the same pinned set
    built in both chroots of one project, each downloaded, published and verified on its
    own, and one manifest."""
    # delta: a wheel with no dependencies (the synthetic chroot's python3 is the host's 3.11,
    # so an sdist built there for EL 9's Python 3.9 would not build).
    app = shop(app_factory, "delta\n")
    (app.path / "rpmdeploy.toml").write_text(SHOP + "\n[builder]\ncopr-poll-interval = 0.3\n")
    out = tmp_path / "out"
    result = run_cli(
        "release",
        app.path,
        "--out",
        out,
        "--cache-dir",
        tmp_path / "cache",
        "--builder",
        "copr",
        "--copr-project",
        "rpmdeploy/multi",
        "--targets",
        "epel-9-x86_64,amazonlinux-2023-x86_64",
        "--base-url",
        BASE,
        "--format",
        "json",
    )
    ids: dict[str, list[int]] = {}
    for build in copr.builds.values():
        if build.project == "multi":
            assert len(build.chroots) == 1  # each SRPM is its target's own
            ids.setdefault(build.chroots[0], []).append(build.id)
    chroots = set(ids)
    assert chroots == {"epel-9-x86_64", "amazonlinux-2023-x86_64"}
    # Side by side: amazonlinux-2023's first builds were submitted before epel-9's last (its
    # app, after its dependencies were built), not after all of them.
    assert min(ids["amazonlinux-2023-x86_64"]) < max(ids["epel-9-x86_64"])
    assert "building 2 targets side by side" in result.output
    assert "amazonlinux-2023-x86_64: copr: python3-delta 2.0: submitted as build" in result.output
    for chroot in chroots:
        repo = out / chroot
        names = published(repo)
        assert any(n.startswith("shop-1.0-1.syn.") for n in names), names  # the chroot's %dist
        assert {read_header(p)["name"] for p in repo.glob("Packages/*.rpm")} >= {
            "shop",
            "python3-delta",
        }
        assert json.loads((repo / "rpmdeploy-release.json").read_text())["app"] == "shop"
    assert result.output.count("import check: passed (200 OK") == 2
    assert copr.token not in result.output
    assert "rpmdeploy: warning:" not in result.output  # EL 9's pins fit epel-9 and AL2023
    document = json.loads(result.stdout)
    schema = resources.files("rpmdeploy").joinpath("data", "report.schema.json").read_text()
    jsonschema.validate(document, json.loads(schema))  # targets and manifest: added fields
    assert document["ok"] is True and document["manifest"] == str(out / "puppet" / "shop.pp")
    assert [t["chroot"] for t in document["targets"]] == [
        "epel-9-x86_64",
        "amazonlinux-2023-x86_64",
    ]
    assert all(t["repository"]["path"] == t["out"] for t in document["targets"])
    check_manifest(
        tmp_path,
        out / "puppet" / "shop.pp",
        {
            ("RedHat", "9", "x86_64"): "epel-9-x86_64",
            ("Rocky", "9", "x86_64"): "epel-9-x86_64",
            ("Amazon", "2023", "x86_64"): "amazonlinux-2023-x86_64",
            ("Rocky", "9", "aarch64"): "",
        },
        {"epel-9-x86_64": ".syn", "amazonlinux-2023-x86_64": ".syn"},  # the stand-in's %dist
    )


@needs_mock
def test_an_interrupted_copr_release_leaves_every_targets_builds_running(
    copr: CoprStandIn, app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C while both targets' builds are watched side by side: each watch stops and says
    how to resume, nothing is published, and the rerun picks the builds up."""
    app = shop(app_factory, "delta\n")
    (app.path / "rpmdeploy.toml").write_text(SHOP + "\n[builder]\ncopr-poll-interval = 0.3\n")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "rpmdeploy", "release", str(app.path), "--out", str(out)]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--builder", "copr"]
    argv += ["--copr-project", "rpmdeploy/stop", "--targets", "epel-9-x86_64,amazonlinux-2023"]
    # The farm is busy: every build stays pending when Ctrl-C comes.
    returncode, output = copr.interrupt(
        argv, lambda: len([b for b in copr.builds.values() if b.project == "stop"]) >= 2
    )
    assert returncode == 130, output
    assert output.count("build(s) left running in rpmdeploy/stop") == 2, output
    assert not (out / "epel-9-x86_64").exists() and not (out / "amazonlinux-2023-x86_64").exists()
    uploads = copr.uploads()
    result = run_cli("release", *argv[4:])
    # Each target's delta build is watched (or, finished meanwhile, reused), not submitted.
    assert result.output.count("picking up build") + result.output.count("reusing build") == 2
    assert copr.uploads() == uploads + 2  # only the two app RPMs were submitted
    assert (out / "puppet" / "shop.pp").is_file()

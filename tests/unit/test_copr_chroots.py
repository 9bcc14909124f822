"""The copr builder's pure parts: target -> Copr chroot (data), project names, failure lines,
the repository metadata's checks on what the server sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpmdeploy import distributions
from rpmdeploy.builders import BuildRequest
from rpmdeploy.builders.copr import explain_failure, source_digest
from rpmdeploy.builders.copr.chroots import chroot_for, load_chroots, shipped_chroots
from rpmdeploy.builders.copr.remote import Build, ProjectName
from rpmdeploy.builders.copr.results import Repository, _packages, _primary_location
from rpmdeploy.errors import BuildError, RpmdeployError, UsageError
from rpmdeploy.targets import resolve_target


@pytest.mark.parametrize(
    ("target", "chroot"),
    [
        ("rocky-9-x86_64", "epel-9-x86_64"),
        ("almalinux-10-aarch64", "epel-10-aarch64"),
        ("rhel-8-x86_64", "epel-8-x86_64"),
        ("fedora-43-aarch64", "fedora-43-aarch64"),
        ("centos-stream-9-x86_64", "centos-stream-9-x86_64"),
        ("amazonlinux-2023-x86_64", "amazonlinux-2023-x86_64"),
    ],
)
def test_targets_map_to_copr_chroots(target: str, chroot: str) -> None:
    assert chroot_for(resolve_target(target)) == chroot


def test_every_rpm_release_has_a_chroot() -> None:
    table = shipped_chroots()
    rpm_releases = {r.name for r in distributions.releases() if r.is_target}
    assert rpm_releases <= set(table), rpm_releases - set(table)


def test_the_host_has_no_chroot_unless_named() -> None:
    with pytest.raises(UsageError, match="has no Copr chroot"):
        chroot_for(resolve_target("host"))
    assert chroot_for(resolve_target("host"), "synthetic-x86_64") == "synthetic-x86_64"
    with pytest.raises(UsageError, match="invalid copr-chroot"):
        chroot_for(resolve_target("host"), "../etc-x86_64")


def test_malformed_chroot_tables_are_named() -> None:
    with pytest.raises(RpmdeployError, match="x.toml: expected schema = 1"):
        load_chroots("schema = 2\n", "x.toml")
    with pytest.raises(RpmdeployError, match="no chroot name"):
        load_chroots('schema = 1\n[chroots]\nrocky-9 = "EPEL 9"\n', "x.toml")


def test_project_names() -> None:
    assert str(ProjectName.parse("@team/app-deps")) == "@team/app-deps"
    for bad in (None, "", "noslash", "a/b/c", "a/../b", "-x/y"):
        with pytest.raises(UsageError, match="OWNER/PROJECT"):
            ProjectName.parse(bad)


def test_builds_from_the_frontend_are_checked() -> None:
    build = Build.from_json(
        {
            "id": 7,
            "state": "running",
            "chroots": ["epel-9-x86_64"],
            "source_package": {"name": None, "url": "http://x/tmp/abc/foo.rpmdeploy-1.src.rpm"},
        }
    )
    assert (build.id, build.source_name, build.source_file) == (7, None, "foo.rpmdeploy-1.src.rpm")
    for bad in ({"id": "7"}, {"id": True}, {"id": -1}, {}):
        with pytest.raises(BuildError, match="valid id"):
            Build.from_json(bad)


def test_failure_lines() -> None:
    assert (
        explain_failure("x\nNo matching package to install: 'python3dist(flit-core) >= 3.4'\n")
        == "missing BuildRequires: python3dist(flit-core) >= 3.4"
    )
    log = "+ make\ncc: error: boom\nerror: Bad exit status from /var/tmp/rpm-tmp.1 (%build)\n"
    assert explain_failure(log) == "%build failed: cc: error: boom"
    assert explain_failure("nothing useful\n") == ""


def test_the_source_digest_follows_every_input(tmp_path: Path) -> None:
    spec, source = tmp_path / "a.spec", tmp_path / "a.tar.gz"
    spec.write_text("Name: a\n")
    source.write_bytes(b"1")
    request = BuildRequest("a 1", spec, (source,), source_date_epoch=1)
    first = source_digest(request)
    assert source_digest(request) == first
    source.write_bytes(b"2")
    assert source_digest(request) != first
    source.write_bytes(b"1")
    assert source_digest(BuildRequest("a 1", spec, (source,), source_date_epoch=2)) != first


PRIMARY = """<?xml version="1.0"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="3">
<package type="rpm"><name>python3-a</name><arch>noarch</arch>
 <checksum type="sha256" pkgid="YES">{a}</checksum><size package="10"/>
 <location href="00000001-python-a/python3-a-1-1.noarch.rpm"/></package>
<package type="rpm"><name>evil</name><arch>noarch</arch>
 <checksum type="sha256" pkgid="YES">00</checksum><size package="10"/>
 <location href="../../etc/evil.rpm"/></package>
<package type="rpm"><name>evil2</name><arch>noarch</arch>
 <checksum type="sha256" pkgid="YES">00</checksum><size package="10"/>
 <location href="/abs/evil.rpm"/></package>
</metadata>
"""


def test_only_plain_files_inside_a_result_directory_are_taken() -> None:
    entries = list(_packages(PRIMARY.format(a="ab" * 32).encode()))
    assert [e.href for e in entries] == ["00000001-python-a/python3-a-1-1.noarch.rpm"]
    assert entries[0].file_name == "python3-a-1-1.noarch.rpm"


def test_weak_checksums_and_odd_metadata_names_are_refused() -> None:
    repomd = (
        '<repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary">'
        '<checksum type="{t}">00</checksum><location href="{h}"/></data></repomd>'
    )
    assert _primary_location(repomd.format(t="sha256", h="repodata/p.xml.gz").encode())[0] == (
        "repodata/p.xml.gz"
    )
    with pytest.raises(BuildError, match="sha2 only"):
        _primary_location(repomd.format(t="md5", h="repodata/p.xml.gz").encode())
    with pytest.raises(BuildError, match="unusable file"):
        _primary_location(repomd.format(t="sha256", h="../p.xml.gz").encode())


def test_result_urls_must_lie_in_the_repository() -> None:
    repo = Repository("https://download.example/results/o/p/epel-9-x86_64/")
    assert repo.result_dir("https://download.example/results/o/p/epel-9-x86_64/00000012-x/") == (
        "00000012-x"
    )
    for bad in (
        "https://elsewhere.example/results/o/p/epel-9-x86_64/00000012-x/",
        "https://download.example/results/o/p/epel-9-x86_64/../../x/",
        "https://download.example/results/o/p/epel-9-x86_64/a/b/",
        "",
    ):
        with pytest.raises(BuildError):
            repo.result_dir(bad)

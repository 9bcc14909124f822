"""Publishing a yum repository: layout, incremental and identical republishing, pruning and
history, atomicity under failures and SIGKILL, and the publisher lock.

The packages are tiny RPMs built here with rpmbuild from small specs (helpers shared with
test_sign.py and test_verify.py).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO as REPO_ROOT
from helpers import Built, build_rpm, tree

import rpmdeploy.repo.yum as yum_module
from rpmdeploy.errors import RepoError
from rpmdeploy.repo import RepoReport, publish_repo

# --- helpers shared with test_sign.py and test_verify.py --------------------------------------


def served_mtimes(path: Path) -> dict[str, int]:
    """mtimes of the packages and metadata (what HTTP serves as Last-Modified)."""
    root = path.resolve()
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file() and ("Packages" in p.parts or "repodata" in p.parts or "SRPMS" in p.parts)
    }


def dnf_names(repo: Path, tmp: Path, subdir: str = "") -> list[str]:
    """What dnf sees in the repository (name-evr.arch), read with an isolated dnf."""
    out = subprocess.run(
        [
            "dnf",
            "-q",
            "--setopt=reposdir=/dev/null",
            "--disableplugin=*",
            f"--installroot={tmp / 'dnf-root'}",
            "--releasever=1",
            f"--repofrompath=t,{(repo / subdir).as_uri() if subdir else repo.as_uri()}",
            "--repo=t",
            "repoquery",
            "--qf",
            "%{name}-%{evr}.%{arch}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    shutil.rmtree(tmp / "dnf-root", ignore_errors=True)
    return sorted(line for line in out.splitlines() if line.strip())


def revision(repo: Path) -> int:
    root = ET.parse(repo / "repodata" / "repomd.xml").getroot()
    return int(root.findtext("{http://linux.duke.edu/metadata/repo}revision") or 0)


def leftovers(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.parent.iterdir() if ".staging-" in p.name)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pkgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    top = tmp_path_factory.mktemp("rpmbuild")
    return {
        "app1": build_rpm(top, "app", "1.0", requires=("lib",)),
        "lib1": build_rpm(top, "lib", "1.0"),
        "lib2": build_rpm(top, "lib", "2.0"),
        "lib3": build_rpm(top, "lib", "3.0"),
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return tmp_path / "srv" / "myapp"


def publish(repo: Path, tmp_path: Path, built: list[Built], **kwargs: Any) -> RepoReport:
    return publish_repo(
        repo,
        [b.rpm for b in built],
        [b.srpm for b in built],
        log=tmp_path / "publish.log",
        **kwargs,
    )


# --- tests -------------------------------------------------------------------------------------


def test_publish_creates_a_working_repository(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    report = publish(
        repo,
        tmp_path,
        [pkgs["app1"], pkgs["lib1"]],
        extra_files={"myapp.repo": "[myapp]\n", "puppet/myapp.pp": "# manifest\n"},
    )
    assert repo.is_symlink() and os.readlink(repo) == ".myapp.gen-1"
    files = set(tree(repo))
    assert {
        "Packages/app-1.0-1.noarch.rpm",
        "Packages/lib-1.0-1.noarch.rpm",
        "SRPMS/app-1.0-1.src.rpm",
        "SRPMS/lib-1.0-1.src.rpm",
        "repodata/repomd.xml",
        "SRPMS/repodata/repomd.xml",
        "myapp.repo",
        "puppet/myapp.pp",
    } <= files
    assert (repo / "puppet/myapp.pp").read_text() == "# manifest\n"
    assert dnf_names(repo, tmp_path) == ["app-1.0-1.noarch", "lib-1.0-1.noarch"]
    assert dnf_names(repo, tmp_path, "SRPMS") == ["app-1.0-1.src", "lib-1.0-1.src"]
    assert report.added == (
        "Packages/app-1.0-1.noarch.rpm",
        "Packages/lib-1.0-1.noarch.rpm",
        "SRPMS/app-1.0-1.src.rpm",
        "SRPMS/lib-1.0-1.src.rpm",
    )
    assert report.total_size > 0
    assert leftovers(repo) == []


def test_unchanged_republish_is_byte_identical(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    first = publish(repo, tmp_path, [pkgs["app1"], pkgs["lib1"]], extra_files={"a.txt": "x"})
    before, before_mtimes = tree(repo), served_mtimes(repo)
    time.sleep(1.1)  # a second later: any wall-clock time in repodata would show
    second = publish(repo, tmp_path, [pkgs["app1"], pkgs["lib1"]], extra_files={"a.txt": "x"})
    assert tree(repo) == before
    assert served_mtimes(repo) == before_mtimes  # same Last-Modified for HTTP clients
    assert second.unchanged and not second.added and not second.pruned
    assert second.revision == first.revision
    # A new generation replaced the old one, which is gone.
    assert os.readlink(repo) == ".myapp.gen-2"
    assert not (repo.parent / ".myapp.gen-1").exists()


def test_changed_package_replaces_and_prunes_the_old_one(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    publish(repo, tmp_path, [pkgs["app1"], pkgs["lib1"]])
    old_revision = revision(repo)
    app_inode = (repo / "Packages/app-1.0-1.noarch.rpm").stat().st_ino
    report = publish(repo, tmp_path, [pkgs["app1"], pkgs["lib2"]])
    assert dnf_names(repo, tmp_path) == ["app-1.0-1.noarch", "lib-2.0-1.noarch"]
    assert report.added == ("Packages/lib-2.0-1.noarch.rpm", "SRPMS/lib-2.0-1.src.rpm")
    assert report.pruned == ("Packages/lib-1.0-1.noarch.rpm", "SRPMS/lib-1.0-1.src.rpm")
    assert "Packages/app-1.0-1.noarch.rpm" in report.kept
    # Unchanged packages are hard links to the previous generation's file, not copies.
    assert (repo / "Packages/app-1.0-1.noarch.rpm").stat().st_ino == app_inode
    assert revision(repo) > old_revision


def test_keep_two_keeps_history_and_allows_downgrades(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    publish(repo, tmp_path, [pkgs["lib1"]], keep=2)
    publish(repo, tmp_path, [pkgs["lib2"]], keep=2)
    assert dnf_names(repo, tmp_path) == ["lib-1.0-1.noarch", "lib-2.0-1.noarch"]
    report = publish(repo, tmp_path, [pkgs["lib3"]], keep=2)
    assert dnf_names(repo, tmp_path) == ["lib-2.0-1.noarch", "lib-3.0-1.noarch"]
    assert report.pruned == ("Packages/lib-1.0-1.noarch.rpm", "SRPMS/lib-1.0-1.src.rpm")
    # A downgrade: the version asked for is always in, plus the newest older one.
    publish(repo, tmp_path, [pkgs["lib1"]], keep=2)
    assert dnf_names(repo, tmp_path) == ["lib-1.0-1.noarch", "lib-3.0-1.noarch"]
    # keep=1 again: only what was asked for.
    publish(repo, tmp_path, [pkgs["lib1"]])
    assert dnf_names(repo, tmp_path) == ["lib-1.0-1.noarch"]


def test_failed_publish_leaves_the_previous_repository_intact(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built], monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(repo, tmp_path, [pkgs["app1"], pkgs["lib1"]])
    before, link = tree(repo), os.readlink(repo)

    with pytest.raises(RepoError, match="refusing extra file '../escape'"):
        publish(repo, tmp_path, [pkgs["lib2"]], extra_files={"../escape": "x"})
    with pytest.raises(RepoError, match="refusing extra file 'repodata/x'"):
        publish(repo, tmp_path, [pkgs["lib2"]], extra_files={"repodata/x": "x"})

    calls = []

    def failing_createrepo(*args: object, **kwargs: object) -> None:
        calls.append(args)  # packages are already copied into staging by now
        raise RepoError("createrepo_c exploded")

    monkeypatch.setattr(yum_module, "_createrepo", failing_createrepo)
    with pytest.raises(RepoError, match="createrepo_c exploded"):
        publish(repo, tmp_path, [pkgs["app1"], pkgs["lib2"]])
    assert calls
    assert tree(repo) == before and os.readlink(repo) == link
    assert leftovers(repo) == []
    assert sorted(p.name for p in repo.parent.iterdir() if ".gen-" in p.name) == [link]


def _fake_slow_createrepo(bin_dir: Path, marker: Path) -> dict[str, str]:
    bin_dir.mkdir()
    fake = bin_dir / "createrepo_c"
    fake.write_text(f"#!/bin/sh\ntouch '{marker}'\nexec sleep 60\n")
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _start_publisher(
    repo: Path, built: list[Built], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from rpmdeploy.repo import RepoReport, publish_repo
        publish_repo(Path({str(repo)!r}), [Path(p) for p in {[str(b.rpm) for b in built]!r}],
                     [], log=Path({str(log)!r}))
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, start_new_session=True
    )


def _wait_for(marker: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert proc.poll() is None, "the publisher exited before reaching createrepo_c"
        assert time.monotonic() < deadline, "the publisher never reached createrepo_c"
        time.sleep(0.05)


def test_sigkilled_publisher_leaves_the_previous_repository_intact(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    publish(repo, tmp_path, [pkgs["app1"], pkgs["lib1"]])
    before, link = tree(repo), os.readlink(repo)
    marker = tmp_path / "createrepo-started"
    env = _fake_slow_createrepo(tmp_path / "fakebin", marker)
    proc = _start_publisher(repo, [pkgs["app1"], pkgs["lib2"]], env, tmp_path / "killed.log")
    try:
        _wait_for(marker, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the publisher and its fake createrepo_c
        proc.wait()
    assert tree(repo) == before and os.readlink(repo) == link
    assert leftovers(repo) != []  # the dead run's staging directory is still there...

    report = publish(repo, tmp_path, [pkgs["app1"], pkgs["lib2"]])
    assert leftovers(repo) == []  # ...until the next publish cleans it up
    assert dnf_names(repo, tmp_path) == ["app-1.0-1.noarch", "lib-2.0-1.noarch"]
    assert report.pruned == ("Packages/lib-1.0-1.noarch.rpm", "SRPMS/lib-1.0-1.src.rpm")


def test_second_concurrent_publisher_gets_the_lock_error(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    marker = tmp_path / "createrepo-started"
    env = _fake_slow_createrepo(tmp_path / "fakebin", marker)
    proc = _start_publisher(repo, [pkgs["lib1"]], env, tmp_path / "first.log")
    try:
        _wait_for(marker, proc)
        with pytest.raises(RepoError) as caught:
            publish(repo, tmp_path, [pkgs["lib2"]])
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert str(caught.value) == (
        f"another rpmdeploy release is publishing to {repo} (pid {proc.pid}); "
        "try again when it finishes"
    )
    assert not os.path.lexists(repo)  # the first one never finished; nothing was published


def test_a_directory_rpmdeploy_did_not_publish_is_never_moved(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    """A hand-made directory (a yum repo, a checkout) or a foreign link at REPO_DIR is
    refused with one line, and left exactly as it was."""
    repo.mkdir(parents=True)
    shutil.copy(pkgs["lib1"].rpm, repo)
    (repo / "README").write_text("made by hand\n")
    before = tree(repo)
    with pytest.raises(RepoError, match="existing directory that rpmdeploy did not publish"):
        publish(repo, tmp_path, [pkgs["lib2"]])
    assert tree(repo) == before and not repo.is_symlink()
    assert leftovers(repo) == []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(repo)
    repo.symlink_to(elsewhere)
    with pytest.raises(RepoError, match="not a repository rpmdeploy published"):
        publish(repo, tmp_path, [pkgs["lib2"]])
    assert os.readlink(repo) == str(elsewhere)


def test_an_empty_directory_becomes_the_repository(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    repo.mkdir(parents=True)
    publish(repo, tmp_path, [pkgs["lib2"]])
    assert repo.is_symlink() and dnf_names(repo, tmp_path) == ["lib-2.0-1.noarch"]


def test_the_lock_never_follows_a_link(repo: Path, tmp_path: Path, pkgs: dict[str, Built]) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    repo.parent.mkdir(parents=True)
    (repo.parent / f".{repo.name}.lock").symlink_to(victim)
    with pytest.raises(RepoError, match="is a symbolic link: refusing to use it as a lock"):
        publish(repo, tmp_path, [pkgs["lib2"]])
    assert victim.read_text() == "precious\n"


def test_inputs_are_checked(repo: Path, tmp_path: Path, pkgs: dict[str, Built]) -> None:
    with pytest.raises(RepoError, match="is a source package"):
        publish_repo(repo, [pkgs["lib1"].srpm], [], log=tmp_path / "log")
    not_rpm = tmp_path / "x.rpm"
    not_rpm.write_text("nope")
    with pytest.raises(RepoError, match="cannot read RPM"):
        publish_repo(repo, [not_rpm], [], log=tmp_path / "log")
    assert not os.path.lexists(repo)


def primary_checksums(repo: Path) -> dict[str, str]:
    """location href -> package checksum, as the published primary.xml says."""
    ns = {"c": "http://linux.duke.edu/metadata/common", "r": "http://linux.duke.edu/metadata/repo"}
    repomd = ET.parse(repo / "repodata" / "repomd.xml").getroot()
    href = repomd.find("r:data[@type='primary']/r:location", ns).get("href")  # type: ignore[union-attr]
    primary = ET.fromstring(gzip.decompress((repo / str(href)).read_bytes()))
    return {
        p.find("c:location", ns).get("href"): p.findtext("c:checksum", namespaces=ns)  # type: ignore[union-attr,misc]
        for p in primary.findall("c:package", ns)
    }


def test_replaced_package_with_same_name_size_and_mtime_gets_fresh_metadata(
    repo: Path, tmp_path: Path, pkgs: dict[str, Built]
) -> None:
    """createrepo_c --update trusts (name, size, mtime): a rebuilt file matching all three
    must not keep the old checksum in the metadata."""
    publish_repo(repo, [pkgs["lib1"].rpm], [], log=tmp_path / "log")
    published = repo / "Packages/lib-1.0-1.noarch.rpm"
    rebuilt = tmp_path / "rebuilt" / published.name
    rebuilt.parent.mkdir()
    data = bytearray(published.read_bytes())
    data[-200] ^= 0xFF  # same size, other content
    rebuilt.write_bytes(bytes(data))
    stat = published.stat()
    os.utime(rebuilt, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    report = publish_repo(repo, [rebuilt], [], log=tmp_path / "log")
    assert report.added == ("Packages/lib-1.0-1.noarch.rpm",)
    new_sum = hashlib.sha256((repo / "Packages/lib-1.0-1.noarch.rpm").read_bytes()).hexdigest()
    assert primary_checksums(repo) == {"Packages/lib-1.0-1.noarch.rpm": new_sum}

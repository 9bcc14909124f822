"""The app's version and changelog excerpt from its git checkout (real git, a temp repo)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rpmdeploy import appgit
from rpmdeploy.errors import UsageError

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
    reason="git is not installed",
)
WHEN = "2024-03-15T12:00:00+00:00"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": WHEN,
        "GIT_COMMITTER_DATE": WHEN,
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, subject: str) -> str:
    (repo / "file.txt").write_text(subject)
    git(repo, "add", "file.txt")
    git(repo, "commit", "-q", "-m", subject)
    return git(repo, "rev-parse", "--short=7", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "app"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def test_no_checkout_no_facts(tmp_path: Path) -> None:
    assert appgit.checkout(tmp_path) is None


def test_untagged_checkout_is_a_snapshot(repo: Path) -> None:
    short = commit(repo, "first")
    found = appgit.checkout(repo)
    assert found is not None and found.version() == f"0^20240315git{short}"


def test_tagged_head_and_commits_after_it(repo: Path) -> None:
    commit(repo, "first")
    git(repo, "tag", "v1.2.0")
    assert appgit.checkout(repo).version() == "1.2.0"  # type: ignore[union-attr]
    short = commit(repo, "second %prep")
    assert appgit.checkout(repo).version() == f"1.2.0^20240315git{short}"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tag", "version"), [("v2.0rc1", "2.0~rc1"), ("3.0.0", "3.0.0"), ("V1.0.post2", "1.0^post2")]
)
def test_tag_versions(tag: str, version: str) -> None:
    assert appgit.tag_version(tag) == version


def test_unusable_tag_is_a_one_line_error() -> None:
    with pytest.raises(UsageError, match="git tag 'release 1:0' is not a usable version"):
        appgit.tag_version("release 1:0")


def test_subjects_since_a_commit(repo: Path) -> None:
    commit(repo, "first")
    since = git(repo, "rev-parse", "HEAD")
    commit(repo, "second")
    commit(repo, "third %(touch /tmp/x)")
    assert appgit.subjects(repo, since) == ["third %(touch /tmp/x)", "second"]
    assert appgit.subjects(repo, None, limit=2) == ["third %(touch /tmp/x)", "second"]
    assert appgit.subjects(repo, "0" * 40)[-1] == "first"  # unknown commit: the recent ones


def test_subjects_only_of_the_app_directory(repo: Path) -> None:
    app = repo / "apps" / "shop"
    app.mkdir(parents=True)
    (app / "bin").mkdir()
    (app / "bin" / "wsgiapp").write_text("application = None\n")
    git(repo, "add", "apps")
    git(repo, "commit", "-q", "-m", "shop: first")
    commit(repo, "elsewhere in the repo")
    assert appgit.subjects(app, None) == ["shop: first"]

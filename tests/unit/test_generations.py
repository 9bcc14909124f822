"""Atomic generations (rpmdeploy.repo.generations): stage, seal, commit; abandoned stages
leave nothing behind; a commit is one swap of the link; the lock is required."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import rpmdeploy.repo.generations as generations
from rpmdeploy.errors import RepoError
from rpmdeploy.repo import repo_lock
from rpmdeploy.repo.generations import stage


def siblings(repo: Path) -> list[str]:
    """Everything beside REPO_DIR but the lock file."""
    return sorted(p.name for p in repo.parent.iterdir() if not p.name.endswith(".lock"))


def publish(repo: Path, text: str) -> Path:
    with repo_lock(repo), stage(repo) as staged:
        (staged.path / "file").write_text(text)
        return staged.commit().generation


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return tmp_path / "srv" / "myapp"


def test_commit_points_the_link_at_the_sealed_generation(repo: Path) -> None:
    with repo_lock(repo), stage(repo) as staged:
        assert staged.path.name == ".myapp.staging-1" and staged.previous is None
        (staged.path / "file").write_text("one")
        sealed = staged.seal()
        # Sealed: complete and named as it will be served, but not live yet.
        assert sealed == staged.path == repo.parent / ".myapp.gen-1"
        assert not os.path.lexists(repo)
        done = staged.commit()
    assert done.generation == sealed and done.adopted is None
    assert os.readlink(repo) == ".myapp.gen-1"
    assert (repo / "file").read_text() == "one"
    assert siblings(repo) == [".myapp.gen-1", "myapp"]


def test_next_commit_replaces_the_previous_generation(repo: Path) -> None:
    publish(repo, "one")
    with repo_lock(repo), stage(repo) as staged:
        assert staged.previous == repo.parent / ".myapp.gen-1"
        (staged.path / "file").write_text("two")
        staged.seal()
        assert (repo / "file").read_text() == "one"  # readers still see the old one
        staged.commit()
    assert (repo / "file").read_text() == "two"
    assert siblings(repo) == [".myapp.gen-2", "myapp"]  # the previous one is removed


@pytest.mark.parametrize("seal", [False, True], ids=["staged", "sealed"])
def test_abandoned_stage_leaves_nothing(repo: Path, seal: bool) -> None:
    publish(repo, "one")
    with repo_lock(repo), stage(repo) as staged:
        (staged.path / "file").write_text("two")
        if seal:
            staged.seal()
        # the block ends without a commit
    assert (repo / "file").read_text() == "one"
    assert siblings(repo) == [".myapp.gen-1", "myapp"]


def test_failure_inside_the_stage_discards_it(repo: Path) -> None:
    publish(repo, "one")
    with pytest.raises(RuntimeError, match="verification failed"):
        with repo_lock(repo), stage(repo) as staged:
            (staged.path / "file").write_text("two")
            staged.seal()
            raise RuntimeError("verification failed")
    assert (repo / "file").read_text() == "one"
    assert siblings(repo) == [".myapp.gen-1", "myapp"]


def test_failed_swap_leaves_the_old_generation_live(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(repo, "one")

    def no_replace(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(generations.os, "replace", no_replace)
    with pytest.raises(OSError, match="disk on fire"):
        with repo_lock(repo), stage(repo) as staged:
            (staged.path / "file").write_text("two")
            staged.commit()
    monkeypatch.undo()
    assert os.readlink(repo) == ".myapp.gen-1" and (repo / "file").read_text() == "one"
    # The new generation is gone; the link the failed swap made is a leftover, which the
    # next stage removes.
    assert ".myapp.gen-2" not in siblings(repo)
    assert siblings(repo) == [".myapp.gen-1", ".myapp.link-2", "myapp"]
    publish(repo, "three")
    assert siblings(repo) == [".myapp.gen-2", "myapp"]


def test_leftovers_of_dead_runs_are_removed_by_the_next_stage(repo: Path) -> None:
    publish(repo, "one")
    (repo.parent / ".myapp.staging-7").mkdir()
    (repo.parent / ".myapp.gen-5").mkdir()
    (repo.parent / ".myapp.link-6").symlink_to(".myapp.gen-5")
    (repo.parent / ".other.staging-1").mkdir()  # another directory's: not ours to remove
    with repo_lock(repo), stage(repo):
        assert siblings(repo) == [".myapp.gen-1", ".myapp.staging-2", ".other.staging-1", "myapp"]


def test_stage_needs_the_lock(repo: Path) -> None:
    with pytest.raises(RuntimeError, match="needs its repo_lock"):
        with stage(repo):
            pass
    assert not os.path.lexists(repo)


def test_a_file_in_the_way_is_refused(repo: Path) -> None:
    repo.parent.mkdir(parents=True)
    repo.write_text("not a repository")
    with pytest.raises(RepoError, match="is not a directory or a link to one"):
        with repo_lock(repo), stage(repo):
            pass
    assert repo.read_text() == "not a repository"


def test_the_lock_is_exclusive(repo: Path) -> None:
    with repo_lock(repo):
        with pytest.raises(RepoError, match=rf"publishing to {repo} \(pid {os.getpid()}\)"):
            with repo_lock(repo):
                pass
    with repo_lock(repo):  # released
        pass

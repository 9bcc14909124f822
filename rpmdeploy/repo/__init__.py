"""Stage 7, repo: publish RPMs as a yum repository, atomically and incrementally.

One module per concept:

- ``yum``: the repository itself: createrepo_c, signing, the staged publish
  (``repo_inputs`` -> ``stage_repo`` -> ``StagedRepo.commit``) and ``publish_repo``;
- ``content``: the layout, the inputs, which packages are kept, carried over or pruned;
- ``rpmfile``: reading an RPM's header (``read_rpm``; the ``rpm`` bindings are imported
  only when a header is read);
- ``generations``: atomic generations of a directory (stage, seal, commit; the lock;
  leftovers of dead runs), which knows nothing about yum.

What this module names is the public API; the submodules' other names are internal.
"""

from __future__ import annotations

from rpmdeploy.repo.content import PACKAGES, REPODATA, SRPMS, public_key_name
from rpmdeploy.repo.generations import canonical_repo_dir, check_outside, repo_lock
from rpmdeploy.repo.rpmfile import RpmFile, read_rpm
from rpmdeploy.repo.yum import (
    RepoInputs,
    RepoReport,
    StagedRepo,
    publish_repo,
    repo_inputs,
    stage_repo,
)

__all__ = [
    "PACKAGES",
    "REPODATA",
    "SRPMS",
    "RepoInputs",
    "RepoReport",
    "RpmFile",
    "StagedRepo",
    "canonical_repo_dir",
    "check_outside",
    "public_key_name",
    "publish_repo",
    "read_rpm",
    "repo_inputs",
    "repo_lock",
    "stage_repo",
]

"""Builders turn a rendered spec and its sources into an SRPM and binary RPMs.

``rpmbuild`` uses the host's rpmbuild; ``mock`` (later) builds in a chroot of the target.
Both take a BuildRequest and return a BuildResult, so the pipeline does not care which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rpmdeploy.errors import UsageError
from rpmdeploy.targets import Target


@dataclass(frozen=True)
class BuildRequest:
    label: str  # what the user sees: "python3-foo 1.0"
    spec: Path
    sources: tuple[Path, ...]
    macros: tuple[tuple[str, str], ...] = ()  # --define NAME VALUE pairs
    environment: tuple[tuple[str, str], ...] = ()  # variables the build scripts read
    source_date_epoch: int = 0


@dataclass(frozen=True)
class BuildResult:
    srpm: Path
    rpms: tuple[Path, ...]
    log: Path


class Builder(Protocol):
    name: str

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult: ...


def get_builder(name: str, target: Target, jobs: int = 1) -> Builder:
    from rpmdeploy.builders.rpmbuild import RpmbuildBuilder

    if name == "rpmbuild":
        return RpmbuildBuilder(target, jobs)
    raise UsageError(f"unknown builder {name!r}; available: rpmbuild")

"""Builders turn a rendered spec and its sources into an SRPM and binary RPMs.

The seam, modelled on how pypa/build hides pip or uv behind one interface:

- A **request** is neutral: the spec, its sources, ``--define`` macros, the time stamp, and
  what the scheduler needs to order builds (the capabilities the spec's packages provide and
  the ones its build requires).  Nothing in it says where or how the build runs.
- A **builder** is opened once per run with :func:`open_builder` (a context manager: a chroot
  or a remote project is set up on entry and torn down on exit) and then builds requests.
  Whatever is specific to one way of building (the host's interpreters and build
  environments for rpmbuild, chroots for mock, a project for Copr) lives inside its module.
- A builder **declares what it can do** (:class:`Capabilities`): whether it builds inside the
  target distribution, whether a build sees the packages built before it (then the scheduler
  orders builds by their BuildRequires), and whether it runs builds locally or remotely.

Adding a builder is one module in this package and one entry in :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from rpmdeploy.cache import Cache
from rpmdeploy.errors import UsageError
from rpmdeploy.targets import Target


@dataclass(frozen=True)
class BuildRequest:
    """One package to build.  Paths are files the builder may read but not change."""

    label: str  # what the user sees: "python3-foo 1.0"
    spec: Path
    sources: tuple[Path, ...]
    macros: tuple[tuple[str, str], ...] = ()  # --define NAME VALUE pairs
    source_date_epoch: int = 0
    # For ordering: capability names (no versions) its packages provide, and the ones its
    # build requires.  Only requirements that another request of the run provides matter.
    provides: tuple[str, ...] = ()
    build_requires: tuple[str, ...] = ()
    # PEP 508 requirements (pinned) the spec's %build runs the package's build backend with,
    # or None when %build runs no backend (a wheel).  A builder that builds on the host
    # provides them itself; a chroot gets them as packages.
    python_build_requires: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BuildResult:
    srpm: Path
    rpms: tuple[Path, ...]
    log: Path  # the build log (rpmbuild's output)
    extra_logs: tuple[Path, ...] = ()  # kept beside the result (mock: root.log, state.log)


@dataclass(frozen=True)
class Capabilities:
    """What a builder can do, so the pipeline need not know which builder it drives."""

    in_target: bool  # builds inside the target distribution (its libraries, its %dist)
    ordered: bool  # a build sees earlier results: build in dependency order
    where: Literal["local", "remote"]  # local builds share this machine's cores


#: The host's build environments for a set of pinned build requirements: returns the
#: interpreter of a venv that has them (see rpmdeploy.wheels.BuildEnvironments).
BuildEnvironmentFactory = Callable[[Sequence[str], Path], str]


@dataclass(frozen=True)
class BuilderContext:
    """Everything a builder is opened with."""

    target: Target
    cache: Cache
    jobs: int = 1
    settings: Mapping[str, str] = field(default_factory=dict)  # [builder] table / options
    build_environment: BuildEnvironmentFactory | None = None


class Builder(Protocol):
    """An opened builder.  ``build`` may be called from several threads at once."""

    name: str
    capabilities: Capabilities

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        """Build ``request`` using ``workdir`` (empty, private) for anything it writes.

        Raises BuildError with a one-line reason (and the log) when the build fails.
        """
        ...

    def provide(self, results: Sequence[BuildResult]) -> None:
        """Make finished packages available to later builds (mock: its local repository)."""
        ...


#: Where a builder says what it is doing (the pipeline passes its reporter's ``stage``).
Progress = Callable[[str], None]
#: One request's outcome in a level: its index in the level, and its result or the error that
#: failed it (a BuildError with a one-line reason, as ``build`` raises).
LevelOutcome = tuple[int, "BuildResult | Exception"]


class LevelBuilder(Builder, Protocol):
    """A builder that takes a whole dependency level at once (a build farm with its own queue:
    one submission, one watch, instead of ``--jobs`` threads each waiting on one build).

    Optional: the pipeline calls ``build_level`` when a builder has it, else ``build`` from
    ``--jobs`` workers.  ``build`` is still needed (the app's own RPM is built with it).
    """

    def build_level(
        self, work: Sequence[tuple[BuildRequest, Path]], progress: Progress
    ) -> Iterator[LevelOutcome]:
        """Build every ``(request, workdir)`` of one level; yield each one's outcome as it
        finishes, in any order.  A request the builder yields nothing for has failed."""
        ...


def level_builder(builder: Builder) -> LevelBuilder | None:
    """``builder`` if it builds whole levels at once (see :class:`LevelBuilder`), else None."""
    return builder if callable(getattr(builder, "build_level", None)) else None  # type: ignore[return-value]


class BuilderFactory(Protocol):
    """A builder class: its capabilities are known before it is opened."""

    capabilities: Capabilities

    def __call__(self, context: BuilderContext) -> BuilderSession: ...


class BuilderSession(Protocol):
    """What a builder class returns: entering it sets the builder up."""

    def __enter__(self) -> Builder: ...

    def __exit__(self, *exc: object) -> None: ...


#: Builder name -> "module:Class".  Imported only when chosen, so a builder's dependencies
#: (mock, Copr's client) are needed only by those who use it.
REGISTRY: Mapping[str, str] = {
    "rpmbuild": "rpmdeploy.builders.rpmbuild:RpmbuildBuilder",
    "mock": "rpmdeploy.builders.mock:MockBuilder",
    "copr": "rpmdeploy.builders.copr:CoprBuilder",
}
DEFAULT = "rpmbuild"


def available() -> list[str]:
    return list(REGISTRY)


def builder_class(name: str) -> BuilderFactory:
    """The class registered as ``name`` (UsageError naming the choices otherwise)."""
    if name not in REGISTRY:
        raise UsageError(f"unknown builder {name!r}; available: {', '.join(available())}")
    module, _, attribute = REGISTRY[name].partition(":")
    factory: BuilderFactory = getattr(importlib.import_module(module), attribute)
    return factory


@contextmanager
def open_builder(name: str, context: BuilderContext) -> Iterator[Builder]:
    """Set up the builder called ``name`` for one run; tear it down afterwards."""
    with builder_class(name)(context) as builder:
        yield builder

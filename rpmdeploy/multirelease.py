"""Several targets in one release: ``release APP --out OUT --targets rocky-9-x86_64,...``.

Each target gets a complete repository of its own, ``OUT/<target>/``, made by the one
single-target release path (``rpmdeploy.release``: its generations, record, history, report,
``.repo`` file and manifest, verified before the swap), and the release gets ONE Puppet
manifest, ``OUT/puppet/<app>.pp``, that picks each host's repository from its
``$facts['os']`` (name, release major, architecture; ``data/puppet-os.toml``) and fails on a
host that none is for.

Target names are rpmdeploy's own (``rocky-9-x86_64``, ``al2023``: ``rpmdeploy targets``) or
Copr chroots (``epel-9-aarch64``: ``data/copr-chroots.toml`` read backwards, the first
release of the table that builds there); a target named by its chroot is built in exactly
that chroot by the copr builder and published as ``OUT/<chroot>/``.  With the copr builder
the targets are built side by side (each target's levels in its chroot of the one project);
with a local builder (rpmbuild, mock) one after another, and an architecture other than this
machine's, which it cannot build, is refused before anything is built.

**All or nothing.**  Every target is built and checked first (a target that fails does not
stop the others being built: the summary names every failure at once, and what built is
cached), then every new generation is staged and verified, and only when all of them
verified are they swapped in, one rename each, back to back.  A failed package, rpmlint
error or verification anywhere publishes nothing anywhere.  A release engineer expects this:
the manifest pins one version of the app for every host, so publishing some targets would
move some hosts to the new release and leave others on the old one (a mixed fleet nobody
asked for, with the manifest and the repositories disagreeing), and the fix-and-rerun that
follows a failure then has to reason about a half-published release.  Kept back, the next
run simply publishes the set.  The swaps themselves are separate renames: a crash between
two of them leaves the earlier targets published (each repository still whole and
verified) and the manifest not yet rewritten; rerunning completes the set.  A target whose
repository already holds exactly this release is kept as it is.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rpmdeploy import builders, distributions
from rpmdeploy.builders.copr.chroots import CHROOT, chroot_for, shipped_chroots
from rpmdeploy.distributions import Distribution, arch_named, host_arch
from rpmdeploy.errors import RpmdeployError, UsageError
from rpmdeploy.pin import compile_pins
from rpmdeploy.pipeline import SILENT, PackageOutcome, Reporter, run_log_dir
from rpmdeploy.puppet import HostRepository, render_puppet_multi
from rpmdeploy.record import RELEASE_FILE, ReleaseRecord
from rpmdeploy.release import (
    PreparedRelease,
    ReleaseOptions,
    ReleaseReport,
    prepare_release,
    repo_urls,
    stage_release,
)
from rpmdeploy.repo import canonical_repo_dir, check_outside, repo_lock
from rpmdeploy.targets import Target, resolve_target

PUPPET_OS = "rpmdeploy/data/puppet-os.toml"


@dataclass(frozen=True)
class ReleaseTarget:
    """One target of a several-target release."""

    label: str  # as named, canonical: OUT/<label>/ and the manifest's name for it
    target: Target
    distribution: Distribution  # with its arch
    # The Copr chroot the copr builder builds it in: the one it was named by, or (resolved
    # for the copr builder) the target's own from data/copr-chroots.toml.
    chroot: str | None = None


@dataclass(frozen=True)
class TargetRelease:
    target: ReleaseTarget
    repo_dir: Path
    report: ReleaseReport  # repo None: not published (this target's failure, or another's)


@dataclass(frozen=True)
class MultiReleaseReport:
    targets: tuple[TargetRelease, ...]
    manifest: Path | None  # the Puppet manifest; None: nothing was published
    seconds: float

    @property
    def published(self) -> bool:
        return self.manifest is not None


# --- naming the targets ------------------------------------------------------------------------


def resolve_targets(names: Sequence[str], builder: str) -> tuple[ReleaseTarget, ...]:
    """The targets called ``names`` (rpmdeploy's names or Copr chroots), checked: no target
    twice, none the builder cannot build here, every one matchable by Puppet's facts."""
    if not names:
        raise UsageError("--targets: name at least one target")
    found: list[ReleaseTarget] = []
    for name in names:
        target = _resolve_one(name.strip())
        for other in found:
            if target.label == other.label or target.target.name == other.target.name:
                raise UsageError(
                    f"--targets: {other.label} and {target.label} are the same target "
                    f"({target.target.name}): name each once"
                )
        found.append(target)
    check_buildable(found, builder)
    for target in found:
        _os_name(target.distribution)  # every target can be matched by the manifest
    if builder == "copr":  # every target's chroot, named or the target's own
        found = [
            t if t.chroot else dataclasses.replace(t, chroot=chroot_for(t.target)) for t in found
        ]
    return tuple(found)


def _resolve_one(name: str) -> ReleaseTarget:
    if name in ("", "host"):
        raise UsageError(
            "--targets: 'host' cannot be one of several targets (no Puppet fact matches "
            "it): name distribution releases such as rocky-9-x86_64 or epel-9-x86_64"
        )
    row = distributions.find_release(name)
    if row is not None and row.is_target:
        target = resolve_target(name)
        return ReleaseTarget(target.name, target, row.with_arch(target.arch))
    chroot = _chroot_target(name)
    if chroot is not None:
        return chroot
    raise UsageError(
        f"--targets: unknown target {name!r}: name rpmdeploy targets (`rpmdeploy targets`: "
        "rocky-9-x86_64, fedora-43-aarch64, ...) or Copr chroots (epel-9-x86_64, ...)"
    )


def _chroot_target(name: str) -> ReleaseTarget | None:
    """The target a Copr chroot name builds: the first release of data/copr-chroots.toml
    that builds in it (epel-9 -> rhel-9: RHEL and its rebuilds are one target there)."""
    text = name.lower()
    if not CHROOT.match(text):
        return None
    prefix, _, arch_name = text.rpartition("-")
    arch = arch_named(arch_name)
    if arch is None:
        return None
    release = next((r for r, chroot in shipped_chroots().items() if chroot == prefix), None)
    if release is None:
        return None
    target = resolve_target(f"{release}-{arch.name}")
    row = distributions.find_release(target.name)
    assert row is not None  # the copr table names releases of distributions.toml (tested)
    return ReleaseTarget(f"{prefix}-{arch.name}", target, row, chroot=f"{prefix}-{arch.name}")


def check_buildable(targets: Sequence[ReleaseTarget], builder: str) -> None:
    """A local builder builds for this machine's architecture only: refuse the others up
    front, before anything is built, and say where they can be built."""
    if builders.builder_class(builder).capabilities.where != "local":
        return
    here = host_arch()
    foreign = [f"{t.label} ({t.target.arch})" for t in targets if t.target.arch != here]
    if foreign:
        raise UsageError(
            f"--targets: cannot build {', '.join(foreign)} with the {builder} builder: it "
            f"builds on this machine, which is {here}; build them on Copr with --builder copr "
            "(and --copr-project), or leave them out"
        )


def pin_warnings(app_dir: Path, targets: Sequence[ReleaseTarget]) -> list[str]:
    """``rpmdeploy.pin.pin_warning`` for each target the pins do not fit, naming it.

    One pinned set serves every target, pinned for one of them: a target that differs from
    that one only by its name (rhel-9 for rocky-9, an EL rebuild) fits and is not warned
    about; another Python X.Y, or for uv's pins another platform (aarch64 wheels), is.
    """
    from rpmdeploy.pin import PINNED_FILE, parse_record, pin_warning

    try:
        with (app_dir / PINNED_FILE).open() as f:
            record = parse_record("".join(line for line, _ in zip(f, range(64), strict=False)))
    except OSError:
        return []
    if record is None:
        return []
    found = []
    for target in targets:
        named_alike = dataclasses.replace(target.target, name=record.target)
        if pin_warning(app_dir, named_alike) is not None:
            found.append(f"{target.label}: {pin_warning(app_dir, target.target)}")
    return found


# --- Puppet's facts ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _puppet_os() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """data/puppet-os.toml: (ID -> os.name, base -> compatible os.names), checked."""
    try:
        data = tomllib.loads(
            resources.files("rpmdeploy").joinpath("data", "puppet-os.toml").read_text("utf-8")
        )
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RpmdeployError(f"{PUPPET_OS} is unreadable: {exc}") from exc
    names, compatible = data.get("names"), data.get("compatible", {})
    if data.get("schema") != 1 or not isinstance(names, dict) or not isinstance(compatible, dict):
        raise RpmdeployError(f"{PUPPET_OS}: expected schema = 1, [names] and [compatible]")
    if not all(isinstance(v, str) for v in names.values()) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in compatible.values()
    ):
        raise RpmdeployError(f"{PUPPET_OS}: [names] maps to strings, [compatible] to lists")
    return dict(names), {k: tuple(v) for k, v in compatible.items()}


def _os_name(row: Distribution) -> str:
    if not row.release.isdigit():
        raise UsageError(
            f"--targets: {row.name} has no fixed release number for Puppet's "
            "os.release.major to match: name a numbered release"
        )
    name = _puppet_os()[0].get(row.id)
    if name is None:
        raise RpmdeployError(f"{PUPPET_OS}: no os.name for {row.id}")
    return name


def host_repositories(
    published: Sequence[tuple[ReleaseTarget, ReleaseRecord, str, str | None]],
) -> list[HostRepository]:
    """What the manifest chooses from, in order: every target for hosts of its own
    distribution first, then for the other hosts its packages install on (``[compatible]``):
    an AlmaLinux 9 host gets almalinux-9 when it was released, else rocky-9 or epel-9."""
    own: list[HostRepository] = []
    compatible: list[HostRepository] = []
    for target, record, base_url, key_url in published:
        row = target.distribution
        name = _os_name(row)
        arch = target.target.arch
        own.append(
            HostRepository(target.label, (name,), row.release, arch, base_url, record.evr, key_url)
        )
        others = _puppet_os()[1].get(row.base, ())
        if name in others and len(others) > 1:
            rest = tuple(n for n in others if n != name)
            compatible.append(
                HostRepository(target.label, rest, row.release, arch, base_url, record.evr, key_url)
            )
    return own + compatible


# --- the release -------------------------------------------------------------------------------


def release_targets(
    app_dir: Path,
    out: Path,
    targets: Sequence[ReleaseTarget],
    options: ReleaseOptions,
    progress: Reporter = SILENT,
) -> MultiReleaseReport:
    """Release ``app_dir`` for every target into ``out/<target>/``, all or nothing (see the
    module's docstring), and write ``out/puppet/<app>.pp``.

    ``options`` are the release's options for any one target: each target's build target,
    Copr chroot and base URL (``--base-url`` + ``/<target>``) are put in here; the namespace
    (``--name-prefix``, ``--install-prefix``) and everything else is shared.  ``--pin``
    compiles ``dependencies.in`` once, for the first target, before any build.  With the copr
    builder the targets are built side by side (:func:`_side_by_side`), else one after
    another.
    """
    started = time.monotonic()
    check_buildable(targets, options.build.builder)
    if len(targets) > 1 and options.build.builder_settings.get("copr-chroot"):
        raise UsageError(
            "[builder] copr-chroot names one chroot: with several targets, name each chroot "
            "in --targets instead (epel-9-x86_64,epel-9-aarch64)"
        )
    check_outside(out, app_dir)
    out = canonical_repo_dir(out)
    if out.is_symlink() or (out / RELEASE_FILE).exists():
        raise UsageError(
            f"{out} is the repository of a release of one target: publish several targets "
            "into another directory (each gets OUT/<target>/)"
        )
    out.mkdir(exist_ok=True)
    dirs = [out / t.label for t in targets]
    for repo_dir in dirs:
        check_outside(repo_dir, app_dir)
    with ExitStack() as held:
        # The whole set is locked from the start, each repository as a single release
        # would lock it (a single release into OUT/<target> meanwhile is refused too).
        held.enter_context(repo_lock(out))
        for repo_dir in dirs:
            held.enter_context(repo_lock(repo_dir))
        work = [
            (target, repo_dir, _options_for(options, target))
            for target, repo_dir in zip(targets, dirs, strict=True)
        ]
        prepared = _prepare_all(app_dir, work, options, progress)
        if any(_failed(p) for p in prepared):
            failed = [t.label for t, p in zip(targets, prepared, strict=True) if _failed(p)]
            progress.stage(
                f"nothing published: {', '.join(failed)} failed, so no target is published "
                "(all or nothing)"
            )
            return _report(targets, dirs, [p.report for p in prepared], None, started)
        staged = {}
        for target, ready in zip(targets, prepared, strict=True):
            if ready.inputs is None:
                continue  # unchanged: the published repository is this release already
            progress.stage(f"{target.label}: staging and verifying the new repository")
            with _named(target, "; nothing was published for any target"):
                staged[target.label] = held.enter_context(stage_release(ready, progress))
        # Every target verified: swap them in, back to back.
        reports = [
            staged[t.label].commit() if t.label in staged else p.report
            for t, p in zip(targets, prepared, strict=True)
        ]
        manifest = _write_manifest(out, targets, dirs, options)
    return _report(targets, dirs, reports, manifest, started)


Work = tuple[ReleaseTarget, Path, ReleaseOptions]  # a target, its repository, its options


def _prepare_all(
    app_dir: Path, work: Sequence[Work], options: ReleaseOptions, progress: Reporter
) -> list[PreparedRelease]:
    """Pin once (when asked, for the first target), then build and check every target."""
    if options.pin is not None:
        resolver = options.pin.resolver or "the app's resolver"
        first = work[0][0]
        progress.stage(f"pinning dependencies.in ({resolver}) for {first.label}")
        compile_pins(app_dir, first.target, options.pin, run_log_dir(options.build) / "pin.log")
    if options.build.builder == "copr" and len(work) > 1:
        return _side_by_side(app_dir, work, progress)
    prepared = []
    for number, (target, repo_dir, target_options) in enumerate(work):
        progress.stage(f"target {number + 1}/{len(work)}: {target.label}")
        with _named(target):
            prepared.append(prepare_release(app_dir, repo_dir, target_options, progress))
    return prepared


@contextmanager
def _named(target: ReleaseTarget, more: str = "") -> Iterator[None]:
    """An error of the block, as the same error naming the target first."""
    try:
        yield
    except RpmdeployError as exc:
        raise type(exc)(f"{target.label}: {exc.message}{more}", exc.log) from exc


def _side_by_side(app_dir: Path, work: Sequence[Work], progress: Reporter) -> list[PreparedRelease]:
    """Prepare every target at once, each in a thread of its own: with the copr builder each
    target's levels are submitted to its chroot and watched while the others' are, so the
    farm builds every chroot at the same time (each SRPM is made for its target: Python
    version, paths, %dist, so one build cannot serve several chroots).  The project gets
    every chroot first, one after another.  Interrupted, the watches stop at their next poll
    and leave the submitted builds running, as a single target's would."""
    from rpmdeploy.builders.copr import STOP_WATCHING, ensure_chroots

    chroots = [str(target.chroot) for target, _, _ in work]
    for note in ensure_chroots(work[0][2].build.builder_settings, chroots):
        progress.stage(f"copr: {note}")
    STOP_WATCHING.clear()
    results: dict[str, PreparedRelease | BaseException] = {}

    def prepare(target: ReleaseTarget, repo_dir: Path, target_options: ReleaseOptions) -> None:
        try:
            labelled = _Labelled(target.label, progress)
            results[target.label] = prepare_release(app_dir, repo_dir, target_options, labelled)
        except BaseException as exc:  # handed to the main thread
            results[target.label] = exc

    progress.stage(f"building {len(work)} targets side by side: {', '.join(chroots)}")
    threads = [
        threading.Thread(target=prepare, args=item, name=f"rpmdeploy-{item[0].label}", daemon=True)
        for item in work
    ]
    _run_all(threads, STOP_WATCHING)
    prepared = []
    for target, _, _ in work:
        result = results[target.label]
        with _named(target):
            if isinstance(result, BaseException):
                raise result
        prepared.append(result)
    return prepared


def _run_all(threads: Sequence[threading.Thread], stop: threading.Event) -> None:
    """Start ``threads`` and wait for them; interrupted, set ``stop`` and give them a minute
    to stop at their next poll (the copr builder's) before the interruption goes on."""
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)  # short waits: Ctrl-C and SIGTERM reach the main thread
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join(60)
        raise


class _Labelled:
    """A reporter that names the target of each line (targets prepared side by side)."""

    def __init__(self, label: str, inner: Reporter) -> None:
        self.label = label
        self.inner = inner

    def stage(self, message: str) -> None:
        self.inner.stage(f"{self.label}: {message}")

    def started(self, name: str, version: str) -> None:
        self.inner.started(f"{self.label}: {name}", version)

    def package(self, outcome: PackageOutcome, done: int, total: int) -> None:
        shown = dataclasses.replace(outcome, name=f"{self.label}: {outcome.name}")
        self.inner.package(shown, done, total)


def _failed(prepared: PreparedRelease) -> bool:
    return prepared.inputs is None and prepared.report.repo is None


def _options_for(options: ReleaseOptions, target: ReleaseTarget) -> ReleaseOptions:
    build = options.build
    settings = dict(build.builder_settings)
    if target.chroot is not None:
        settings["copr-chroot"] = target.chroot
    namespaced = dataclasses.replace(
        target.target,
        name_prefix=build.target.name_prefix,
        install_prefix=build.target.install_prefix,
    )
    return dataclasses.replace(
        options,
        build=dataclasses.replace(build, target=namespaced, builder_settings=settings),
        base_url=f"{options.base_url.rstrip('/')}/{target.label}" if options.base_url else None,
        pin=None,  # release_targets pins once, before every target
    )


def _write_manifest(
    out: Path, targets: Sequence[ReleaseTarget], dirs: Sequence[Path], options: ReleaseOptions
) -> Path:
    """OUT/puppet/<app>.pp from what each repository now publishes (its release record)."""
    published = []
    for target, repo_dir in zip(targets, dirs, strict=True):
        record = ReleaseRecord.load(repo_dir)
        base_url, key_url = repo_urls(repo_dir, _options_for(options, target))
        published.append((target, record, base_url, key_url))
    first = published[0][1]
    text = render_puppet_multi(
        first.app,
        first.app,
        host_repositories(published),
        first.signed,
        first.app,
        template_dir=options.build.template_dir,
    )
    path = out / "puppet" / f"{first.app}.pp"
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _report(
    targets: Sequence[ReleaseTarget],
    dirs: Sequence[Path],
    reports: Sequence[ReleaseReport],
    manifest: Path | None,
    started: float,
) -> MultiReleaseReport:
    return MultiReleaseReport(
        tuple(TargetRelease(t, d, r) for t, d, r in zip(targets, dirs, reports, strict=True)),
        manifest,
        time.monotonic() - started,
    )

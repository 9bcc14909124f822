"""Build on Copr, Fedora's build service (or a site's own Copr), in dependency-ordered batches.

Copr runs mock on a farm for every chroot and publishes each chroot as a repository.  This
builder submits exactly the pinned set, as rpmdeploy's own SRPMs (made here with ``rpmbuild
-bs``: nothing of a package runs on this machine), and hands back what Copr built, downloaded
and checked against the repository metadata's checksums, as the ``BuildResult`` the pipeline
publishes and verifies like any local build.

- **One level at a time** (:meth:`CoprBuilder.build_level`): the pipeline's dependency levels
  become Copr batches.  The first build of a level is created ``after_build_id`` a build of
  the previous level's batch, the others ``with_build_id`` the first, so Copr itself starts a
  package only after what its build needs is in the project's repository.  A level is
  submitted once the previous one finished, so the dependants of a failed build are never
  submitted (Copr would run them: a batch whose builds failed still counts as finished).
- **Only what changed is submitted**: each SRPM is uploaded under a name that carries the
  digest of what it is made of (spec, sources, macros, time stamp).  A build of the project
  with that name, the same name-version-release and the same chroot is reused: its results
  are downloaded, nothing is submitted.  A build still pending or running is watched, not
  submitted again: an interrupted run resumes where it was.
- **Watching**: one listing of the project's builds per poll (``copr-poll-interval``
  seconds) for the whole level; a line per change of state (pending, running, succeeded,
  failed with the build's URL and the last lines of its builder-live.log); a deadline
  (``copr-timeout``); Ctrl-C leaves the submitted builds running and says how to resume.

Settings (``[builder]``, options, ``RPMDEPLOY_*``): ``copr-project`` OWNER/PROJECT (created,
unlisted, if missing; the chroot is added if the project lacks it); ``copr-chroot`` [from the
target, ``data/copr-chroots.toml``]; ``copr-config``, the path of Copr's configuration file
with the credentials [``~/.config/copr``] (from the operator only); ``copr-timeout`` [21600];
``copr-poll-interval`` [20].
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.builders import BuilderContext, BuildRequest, BuildResult, Capabilities
from rpmdeploy.builders.copr.chroots import chroot_for
from rpmdeploy.builders.copr.remote import FINISHED, Build, ProjectName, Remote
from rpmdeploy.builders.copr.results import Repository, fetch_log
from rpmdeploy.builders.rpmbuild import source_rpm
from rpmdeploy.cache import sha256_file
from rpmdeploy.errors import BuildError, RpmdeployError, UsageError

Progress = Callable[[str], None]
Outcome = tuple[int, BuildResult | Exception]
DEFAULT_TIMEOUT = 6 * 3600
DEFAULT_POLL = 20.0
_MISSING = re.compile(r"No matching package to install: '([^']+)'")
_BAD_EXIT = re.compile(r"error: Bad exit status from \S+ \((%\w+)\)")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


#: Set, the watch stops at its next poll as on Ctrl-C (the submitted builds left running, and
#: said so).  Signals reach only the main thread: a release of several targets, which watches
#: each target's builds in a thread of its own, sets this when it is interrupted.
STOP_WATCHING = threading.Event()


def _quiet(message: str) -> None:
    pass


def ensure_chroots(settings: Mapping[str, str], chroots: Sequence[str]) -> list[str]:
    """Give the project (``copr-project`` of ``settings``) every one of ``chroots``, one after
    another; what changed, one note each.

    For builders of several chroots opened side by side: each would add its chroot itself,
    and Copr's project edit replaces the project's list of chroots, so two at once could drop
    one another's.
    """
    remote = Remote(
        settings.get("copr-config") or None, ProjectName.parse(settings.get("copr-project"))
    )
    notes = []
    for chroot in chroots:
        remote.changed = ""
        remote.ensure_project(chroot)
        if remote.changed:
            notes.append(remote.changed)
    return notes


class _Gone(BuildError):
    """A succeeded build whose packages are no longer in the repository (pruned)."""


@dataclass
class _Work:
    """One request of a level on its way through Copr."""

    index: int
    request: BuildRequest
    workdir: Path
    srpm: Path = Path()
    upload_name: str = ""
    name: str = ""  # the SRPM's Name
    evr: str = ""  # its [E:]V-R, as Copr writes it
    build: Build | None = None
    state: str = ""


class CoprBuilder:
    name = "copr"
    capabilities = Capabilities(in_target=True, ordered=True, where="remote")

    def __init__(self, context: BuilderContext) -> None:
        self.context = context
        settings = context.settings
        self.project = ProjectName.parse(settings.get("copr-project"))
        self.chroot = chroot_for(context.target, settings.get("copr-chroot"))
        self.timeout = _seconds(settings, "copr-timeout", DEFAULT_TIMEOUT)
        self.interval = _seconds(settings, "copr-poll-interval", DEFAULT_POLL)
        self.config = settings.get("copr-config") or None
        self.previous: int | None = None  # a build of the previous level's batch
        self.remote: Remote | None = None
        self.repository = Repository("http://unset.invalid/")
        self.note = ""

    def __enter__(self) -> CoprBuilder:
        self.remote = Remote(self.config, self.project)
        self.repository = Repository(self.remote.ensure_project(self.chroot))
        self.note = self.remote.changed
        return self

    def __exit__(self, *exc: object) -> None:
        self.remote = None

    @property
    def _remote(self) -> Remote:
        if self.remote is None:
            raise BuildError("the copr builder was used without being opened")
        return self.remote

    def provide(self, results: Sequence[BuildResult]) -> None:
        """Nothing to do: every build's packages are in the project's repository, which
        Copr's later builds install from."""

    # --- the seam ------------------------------------------------------------------------------

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        for _index, outcome in self.build_level([(request, workdir)], _quiet):
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        raise BuildError(f"{request.label}: Copr returned no result")

    def build_level(
        self, work: Sequence[tuple[BuildRequest, Path]], progress: Progress
    ) -> Iterator[Outcome]:
        """Build one dependency level as one Copr batch; yield each result as it comes."""
        if self.note:
            progress(f"copr: {self.note}")
            self.note = ""
        items = [_Work(i, request, workdir) for i, (request, workdir) in enumerate(work)]
        ready: list[_Work] = []
        for item, problem in self._prepare(items):
            if problem is None:
                ready.append(item)
            else:
                yield item.index, problem
        watch, submit, outcomes = self._match(ready, progress)
        yield from outcomes
        watch += self._submit(submit, progress)
        yield from self._watch(watch, progress)

    # --- SRPMs and what identifies them --------------------------------------------------------

    def _prepare(self, items: list[_Work]) -> list[tuple[_Work, Exception | None]]:
        """Each request's SRPM, made here, and the name it is uploaded under."""

        def one(item: _Work) -> tuple[_Work, Exception | None]:
            try:
                self._make_srpm(item)
            except RpmdeployError as exc:
                return item, exc
            return item, None

        with ThreadPoolExecutor(max_workers=max(1, self.context.jobs)) as pool:
            return list(pool.map(one, items))

    def _make_srpm(self, item: _Work) -> None:
        from rpmdeploy.repo.rpmfile import read_rpm  # the rpm bindings, lazily

        request = item.request
        if request.macros:
            raise BuildError(f"{request.label}: Copr cannot rebuild with --define macros")
        payload = self.context.target.payload
        item.srpm = source_rpm(request, item.workdir, payload, item.workdir / "srpm.log")
        header = read_rpm(item.srpm)
        item.name = header.name
        epoch = "" if header.epoch in ("", "0") else f"{header.epoch}:"
        item.evr = f"{epoch}{header.version}-{header.release}"
        stem = _UNSAFE.sub("", item.srpm.name.removesuffix(".src.rpm")).strip("._")
        item.upload_name = f"{stem}.rpmdeploy-{source_digest(request)[:32]}.src.rpm"

    # --- what the project has already ----------------------------------------------------------

    def _match(
        self, items: list[_Work], progress: Progress
    ) -> tuple[list[_Work], list[_Work], list[Outcome]]:
        """Split a level into builds to watch (already submitted, not finished), to submit,
        and outcomes of builds the project already has (reused: downloaded, not rebuilt)."""
        if not items:
            return [], [], []
        wanted = {item.upload_name: item for item in items}
        found: dict[str, list[Build]] = {}
        for build in self._remote.builds():
            if build.source_file in wanted and build.chroots == (self.chroot,):
                found.setdefault(build.source_file, []).append(build)
        watch, submit, outcomes = [], [], []
        for item in items:
            candidates = found.get(item.upload_name, [])
            done = next((b for b in candidates if self._same_success(item, b)), None)
            running = next((b for b in candidates if b.state not in FINISHED), None)
            if done is not None:
                outcome = self._reuse(item, done, progress)
                if outcome is None:
                    submit.append(item)
                else:
                    outcomes.append(outcome)
            elif running is not None:
                item.build = running
                progress(
                    f"copr: {item.request.label}: picking up build {running.id} ({running.state})"
                )
                watch.append(item)
            else:
                submit.append(item)
        return watch, submit, outcomes

    @staticmethod
    def _same_success(item: _Work, build: Build) -> bool:
        versions = {item.evr, f"0:{item.evr}"}
        return (
            build.state == "succeeded"
            and build.source_name == item.name
            and build.source_version in versions
        )

    def _reuse(self, item: _Work, build: Build, progress: Progress) -> Outcome | None:
        try:
            result = self._collect(item, build.id)
        except _Gone:
            return None  # pruned from the repository: build it again
        except RpmdeployError as exc:
            return item.index, exc
        progress(f"copr: {item.request.label}: reusing build {build.id} (same source, succeeded)")
        return item.index, result

    # --- submitting ----------------------------------------------------------------------------

    def _submit(self, items: list[_Work], progress: Progress) -> list[_Work]:
        """Submit a level as one batch: the first after the previous level's batch, the
        others with the first."""
        if not items:
            return []
        first, rest = items[0], items[1:]
        after = {"after_build_id": self.previous} if self.previous else {}
        submitted = [self._create(first, after, progress)]
        batch = {"with_build_id": first.build.id} if first.build else {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            submitted += list(pool.map(lambda item: self._create(item, batch, progress), rest))
        self.previous = first.build.id if first.build else None
        return submitted

    def _create(self, item: _Work, batch: dict[str, int], progress: Progress) -> _Work:
        options: dict[str, object] = {"chroots": [self.chroot]}
        try:
            try:
                item.build = self._remote.submit(item.srpm, item.upload_name, {**options, **batch})
            except BuildError:
                if not batch:
                    raise
                # The batch finished before this build joined it (a fast farm): nothing is
                # left to wait for, so the build needs no batch.
                item.build = self._remote.submit(item.srpm, item.upload_name, options)
        except BuildError as exc:
            item.build = None
            item.state = f"not submitted: {exc.message}"
            return item
        progress(
            f"copr: {item.request.label}: submitted as build {item.build.id} "
            f"({self._remote.build_url(item.build.id)})"
        )
        return item

    # --- watching ------------------------------------------------------------------------------

    def _watch(self, items: list[_Work], progress: Progress) -> Iterator[Outcome]:
        """Poll the project's builds until every one of ``items`` finished (or the deadline)."""
        waiting = {item.build.id: item for item in items if item.build is not None}
        for item in items:
            if item.build is None:
                yield item.index, BuildError(f"{item.request.label}: {item.state}")
        deadline = time.monotonic() + self.timeout
        try:
            while waiting:
                yield from self._poll(waiting, progress)
                if waiting and time.monotonic() > deadline:
                    for item in waiting.values():
                        yield item.index, self._timed_out(item)
                    waiting.clear()
                elif waiting and STOP_WATCHING.wait(self.interval):
                    raise KeyboardInterrupt
        except BaseException:
            if waiting:
                progress(self._resume_hint(list(waiting.values())))
            raise

    def _poll(self, waiting: dict[int, _Work], progress: Progress) -> Iterator[Outcome]:
        """One listing of the project's builds: report changes, finish what finished."""
        for build in self._remote.builds(down_to=min(waiting)):
            item = waiting.get(build.id)
            if item is None:
                continue
            self._report(item, build, progress)
            if build.state in FINISHED:
                del waiting[build.id]
                yield item.index, self._finish(item, build, progress)

    def _report(self, item: _Work, build: Build, progress: Progress) -> None:
        if build.state == item.state:
            return
        item.state = build.state
        if build.state not in FINISHED:
            progress(f"copr: {item.request.label}: {build.state} (build {build.id})")

    def _finish(self, item: _Work, build: Build, progress: Progress) -> BuildResult | Exception:
        url = self._remote.build_url(build.id)
        if build.state == "succeeded":
            try:
                result = self._collect(item, build.id)
            except RpmdeployError as exc:
                return exc
            progress(f"copr: {item.request.label}: succeeded (build {build.id})")
            return result
        text = self._log(item, build.id)
        tail = [line for line in text.splitlines() if line.strip()][-5:]
        progress(
            f"copr: {item.request.label}: {build.state} ({url})"
            + "".join(f"\n       | {line[:200]}" for line in tail)
        )
        log = item.workdir / "build.log"
        reason = explain_failure(text)
        return BuildError(
            f"{item.request.label}: Copr build {build.id} {build.state} in {self.chroot}"
            f"{': ' + reason if reason else ''} ({url})",
            str(log),
        )

    def _timed_out(self, item: _Work) -> BuildError:
        assert item.build is not None
        return BuildError(
            f"{item.request.label}: Copr build {item.build.id} still {item.state or 'pending'} "
            f"after {self.timeout:.0f}s (copr-timeout); it is left running: run again to pick "
            f"it up ({self._remote.build_url(item.build.id)})"
        )

    def _resume_hint(self, items: list[_Work]) -> str:
        ids = sorted(item.build.id for item in items if item.build is not None)
        shown = ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
        return (
            f"copr: {len(ids)} build(s) left running in {self.project} ({shown}): run the same "
            "command again to pick them up (nothing is submitted twice), or cancel them with "
            "`copr-cli cancel ID`"
        )

    # --- results -------------------------------------------------------------------------------

    def _collect(self, item: _Work, build_id: int) -> BuildResult:
        """Download a succeeded build's packages, each checked against the repository
        metadata, and its logs."""
        chroot = self._remote.build_chroot(build_id, self.chroot)
        result_dir = self.repository.result_dir(str(chroot.get("result_url") or ""))
        entries = self.repository.entries(result_dir)
        sources = [e for e in entries if e.arch == "src"]
        binaries = [e for e in entries if e.arch != "src"]
        if len(sources) != 1 or not binaries:
            raise _Gone(
                f"{item.request.label}: build {build_id}'s packages are not in the repository"
            )
        if sources[0].name != item.name:
            raise BuildError(
                f"{item.request.label}: Copr build {build_id} holds {sources[0].name}, "
                f"not {item.name}"
            )
        reported = {
            (p.get("name"), p.get("arch"))
            for p in self._remote.built_packages(build_id, self.chroot)
        }
        listed = {(e.name, e.arch) for e in entries}
        if not reported <= listed:
            raise BuildError(
                f"{item.request.label}: Copr reports packages of build {build_id} that its "
                f"repository does not list: {sorted(map(str, reported - listed))}"
            )
        dest = item.workdir / "copr-results"
        dest.mkdir(exist_ok=True)
        srpm = self.repository.download(sources[0], dest)
        rpms = tuple(self.repository.download(e, dest) for e in binaries)
        self._log(item, build_id, result_dir)
        backend = fetch_log(f"{self.repository.url}{result_dir}/backend.log.gz")
        extra: tuple[Path, ...] = ()
        if backend is not None:
            (item.workdir / "copr-backend.log").write_text(backend)
            extra = (item.workdir / "copr-backend.log",)
        return BuildResult(srpm, rpms, item.workdir / "build.log", extra)

    def _log(self, item: _Work, build_id: int, result_dir: str | None = None) -> str:
        """builder-live.log of the build into the package's build.log; its text."""
        log = item.workdir / "build.log"
        if result_dir is None:
            try:
                url = str(self._remote.build_chroot(build_id, self.chroot).get("result_url") or "")
                result_dir = self.repository.result_dir(url)
            except RpmdeployError:
                result_dir = None
        text = None
        if result_dir is not None:
            base = f"{self.repository.url}{result_dir}/"
            text = fetch_log(base + "builder-live.log.gz") or fetch_log(base + "builder-live.log")
        if text is None:
            text = (
                f"Copr build {build_id}: no builder-live.log ({self._remote.build_url(build_id)})\n"
            )
        log.write_text(text)
        return text


def source_digest(request: BuildRequest) -> str:
    """What an SRPM is made of, as one digest: its spec, its sources, macros and time stamp."""
    digest = hashlib.sha256(b"rpmdeploy-copr-source-1\0")
    digest.update(request.spec.read_bytes())
    for source in sorted(request.sources, key=lambda p: p.name):
        digest.update(f"\0{source.name}\0{sha256_file(source)}".encode())
    digest.update(f"\0{request.macros!r}\0{request.source_date_epoch}".encode())
    return digest.hexdigest()


def explain_failure(log: str) -> str:
    """One line from a failed build's builder-live.log: what it lacked or which step failed."""
    missing = list(dict.fromkeys(_MISSING.findall(log)))
    if missing:
        return f"missing BuildRequires: {', '.join(missing)}"
    lines = log.splitlines()
    cut = next((i for i, line in enumerate(lines) if _BAD_EXIT.search(line)), None)
    if cut is None:
        return ""
    match = _BAD_EXIT.search(lines[cut])
    before = [ln.strip() for ln in lines[:cut] if ln.strip() and not ln.startswith("+ ")]
    why = before[-1] if before else ""
    return f"{match.group(1) if match else 'the build'} failed{': ' + why if why else ''}"


def _seconds(settings: Mapping[str, str], key: str, default: float) -> float:
    text = settings.get(key)
    if text in (None, ""):
        return default
    try:
        value = float(str(text))
    except ValueError:
        raise UsageError(f"[builder] {key}: expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise UsageError(f"[builder] {key}: expected a positive number of seconds")
    return value

"""Build inside a clean chroot of the target distribution with mock.

The SRPM is made on the host (``rpmbuild -bs``: nothing of the package runs there); mock
rebuilds it in a chroot of the target, installing its BuildRequires from the distribution's
repositories and from a **local repository** of the packages built earlier in the run
(:meth:`MockBuilder.provide`), and runs the build as its unprivileged user with no network.
The results carry the chroot's ``%dist``.

Speed: each worker (``--jobs``) has a chroot of its own (``--uniqueext``), initialised by its
first build and reused by the next ones (``--no-clean``, ``--no-cleanup-after``); the chroots
are scrubbed when the run ends.  Nothing runs mock before a package actually needs building,
so a run whose packages are all cached never starts it.

Settings (``[builder]`` in rpmdeploy.toml, or options): ``mock-config``, a config name mock
knows (``rocky-9-x86_64``) or the path of a site's own ``.cfg`` [default: the target's config
from the distribution table]; ``mock-command`` [mock]; ``mock-chroot-name``, the prefix of the
workers' chroot names [one per run].  Each run renders ``templates/mock/rpmdeploy.cfg.j2``, which
includes that config and adds the local repository and the reproducible-build settings.
"""

from __future__ import annotations

import grp
import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy import diagnose
from rpmdeploy._run import log_tail, run
from rpmdeploy.builders import BuilderContext, BuildRequest, BuildResult, Capabilities
from rpmdeploy.builders.rpmbuild import explain_build, source_rpm
from rpmdeploy.errors import BuildError, RpmdeployError, UsageError
from rpmdeploy.render import render

MOCK = "mock"
CONFIG_TEMPLATE = "mock/rpmdeploy.cfg.j2"
#: mock's logs, kept beside each package's result.
LOGS = ("build.log", "root.log", "state.log")
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_MISSING = re.compile(r"No matching package to install: '([^']+)'")


@dataclass(frozen=True)
class MockConfigContext:
    base: str  # what the generated config includes: a name or an absolute path
    local_repo_section: str
    source_date_epoch: int


class MockBuilder:
    name = "mock"
    capabilities = Capabilities(in_target=True, ordered=True, where="local")

    def __init__(self, context: BuilderContext) -> None:
        self.context = context
        self.base = _base_config(context)
        self.command = context.settings.get("mock-command", MOCK)
        self.lock = threading.Lock()
        self.slots: queue.Queue[str] = queue.Queue()
        self.initialised: set[str] = set()
        self.configs: dict[int, Path] = {}
        self.run_dir = Path()
        self.local_repo = Path()

    def __enter__(self) -> MockBuilder:
        if shutil.which(self.command) is None:
            raise UsageError(
                f"the mock builder needs mock ({self.command} is not on PATH): install it "
                "(Fedora/EL: dnf install mock; add yourself to the 'mock' group)"
            )
        # mock reads its config and writes results as its unprivileged user: the run's
        # directory is shared with the 'mock' group only, outside the (private) cache.
        self.run_dir = Path(tempfile.mkdtemp(prefix="rpmdeploy-mock-"))
        _share_with_mock(self.run_dir)
        self.local_repo = self.run_dir / "local-repo"
        self.local_repo.mkdir()
        self._createrepo()
        # One chroot per worker, named for this run unless the site names them.
        prefix = self.context.settings.get("mock-chroot-name") or (
            "rpmdeploy-" + self.run_dir.name.removeprefix("rpmdeploy-mock-")
        )
        if not _CONFIG_NAME.match(prefix):
            raise UsageError(f"invalid mock-chroot-name {prefix!r}")
        for slot in range(max(1, self.context.jobs)):
            self.slots.put(f"{prefix}-{slot}")
        return self

    def __exit__(self, *exc: object) -> None:
        log = self.run_dir / "scrub.log"
        # Any of the run's configs names the chroots (they differ in SOURCE_DATE_EPOCH only).
        config = next(iter(self.configs.values()), None)
        for slot in sorted(self.initialised) if config is not None else []:
            try:  # best effort: a chroot left behind costs disk, not correctness
                argv = [self.command, "-r", str(config), "--uniqueext", slot, "--scrub=chroot"]
                run(argv, log=log, what="scrubbing a mock chroot")
            except RpmdeployError:
                pass
        shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- the local repository ------------------------------------------------------------------

    def provide(self, results: Sequence[BuildResult]) -> None:
        """Put finished binary RPMs into the local repository later builds install from."""
        with self.lock:
            for result in results:
                for rpm in result.rpms:
                    dest = self.local_repo / rpm.name
                    if not dest.exists():
                        shutil.copy2(rpm, dest)
            self._createrepo()

    def _createrepo(self) -> None:
        argv = ["createrepo_c", "--quiet", "--update", str(self.local_repo)]
        log = self.run_dir / "local-repo.log"
        run(argv, log=log, what="indexing the local repository")

    # --- building -------------------------------------------------------------------------------

    def build(self, request: BuildRequest, workdir: Path) -> BuildResult:
        built = source_rpm(request, workdir, self.context.target.payload, workdir / "srpm.log")
        area = Path(tempfile.mkdtemp(prefix="build-", dir=self.run_dir))
        _share_with_mock(area)
        srpm = Path(shutil.copy(built, area / built.name))
        resultdir = area / "result"
        try:
            return self._rebuild(request, srpm, resultdir, workdir)
        finally:
            shutil.rmtree(area, ignore_errors=True)

    def _rebuild(
        self, request: BuildRequest, srpm: Path, resultdir: Path, workdir: Path
    ) -> BuildResult:
        log = workdir / "build.log"
        slot = self.slots.get()
        try:
            config = self._config(request.source_date_epoch)
            argv = [self.command, "-r", config, "--uniqueext", slot, "--rebuild", str(srpm)]
            argv += ["--resultdir", str(resultdir), "--no-cleanup-after"]
            # A worker's chroot is set up by its first build and reused by the next ones.
            argv += ["--no-clean"] if slot in self.initialised else []
            for name, value in request.macros:
                argv += ["--define", f"{name} {value}"]
            mock_log = workdir / "mock.log"
            try:
                run(argv, log=mock_log, what=f"mock build of {request.label}")
            except BuildError as exc:
                _keep_logs(resultdir, workdir)
                if not log.exists():  # mock failed before rpmbuild ran: its own output
                    shutil.copyfile(mock_log, log)
                code = _exit_code(exc.message)
                reason = explain_failure(code, mock_log, workdir, self.base, request)
                raise BuildError(f"{request.label}: {reason}", str(log)) from None
            with self.lock:
                self.initialised.add(slot)
        finally:
            self.slots.put(slot)
        return _collect(resultdir, workdir, log)

    def _config(self, source_date_epoch: int) -> str:
        with self.lock:
            if source_date_epoch not in self.configs:
                section = (
                    "\n[rpmdeploy-local]\nname=packages built earlier in this rpmdeploy run\n"
                    f"baseurl={self.local_repo.as_uri()}\ngpgcheck=0\nenabled=1\n"
                    "metadata_expire=0\nskip_if_unavailable=False\n"
                )
                ctx = MockConfigContext(self.base, section, source_date_epoch)
                path = self.run_dir / f"rpmdeploy-{source_date_epoch}.cfg"
                path.write_text(render(CONFIG_TEMPLATE, ctx))
                self.configs[source_date_epoch] = path
            return str(self.configs[source_date_epoch])


def _base_config(context: BuilderContext) -> str:
    """The config the run's config includes: ``mock-config``, else the target's."""
    chosen = context.settings.get("mock-config") or context.target.mock_config
    if not chosen:
        raise UsageError(
            f"target {context.target.name} has no mock config: name one with --mock-config "
            "(a config name such as rocky-9-x86_64, or the path of a .cfg file)"
        )
    if "/" in chosen or chosen.endswith(".cfg"):
        path = Path(chosen).resolve()
        if not path.is_file():
            raise UsageError(f"mock config {chosen} not found")
        return str(path)
    if not _CONFIG_NAME.match(chosen):
        raise UsageError(f"invalid mock config name {chosen!r}")
    return f"{chosen}.cfg"


def _share_with_mock(directory: Path) -> None:
    """Let the 'mock' group (mock's unprivileged user) read and create entries in a
    directory this process made private (mkdtemp)."""
    try:
        os.chown(directory, -1, grp.getgrnam("mock").gr_gid)
        os.chmod(directory, 0o2770)
    except (KeyError, PermissionError):  # no such group, or not ours to give: mock says
        os.chmod(directory, 0o2775)


def _collect(resultdir: Path, workdir: Path, log: Path) -> BuildResult:
    srpms = sorted(resultdir.glob("*.src.rpm"))
    rpms = sorted(p for p in resultdir.glob("*.rpm") if not p.name.endswith(".src.rpm"))
    if len(srpms) != 1 or not rpms:
        raise BuildError("mock reported success but left no packages", str(resultdir))
    results = workdir / "mock-results"
    results.mkdir()
    moved = [Path(shutil.move(str(p), results / p.name)) for p in (*srpms, *rpms)]
    extra = _keep_logs(resultdir, workdir)
    return BuildResult(moved[0], tuple(moved[1:]), log, extra)


def _keep_logs(resultdir: Path, workdir: Path) -> tuple[Path, ...]:
    """mock's logs beside the package's result: build.log (rpmbuild's output) as the
    package's log, root.log and state.log as mock-root.log and mock-state.log."""
    kept = []
    for name in LOGS:
        source = resultdir / name
        if not source.is_file():
            continue
        dest = workdir / (name if name == "build.log" else f"mock-{name}")
        shutil.copyfile(source, dest)
        if name != "build.log":
            kept.append(dest)
    return tuple(kept)


# --- failures users can act on -----------------------------------------------------------------


def explain_failure(
    code: int | None, mock_log: Path, workdir: Path, config: str, request: BuildRequest
) -> str:
    """One line from mock's exit code and logs: what failed and what to do."""
    output = log_tail(mock_log, 40)
    if code == 30:
        missing = _MISSING.findall(_read(workdir / "mock-root.log") + output)
        if missing:
            return (
                f"missing BuildRequires: {', '.join(dict.fromkeys(missing))} (neither the "
                "pinned set nor the distribution provides them)"
            )
        # dnf's own account of why the BuildRequires cannot be installed (root.log).
        problem = diagnose.explain(_read(workdir / "mock-root.log"), "dnf")
        return f"installing the BuildRequires failed: {problem or 'see root.log'}"
    if code == 1 and "Bad exit status" in (build := _read(workdir / "build.log")):
        cause = explain_build(build, request=request, tool="mock", chroot=True)
        return f"{cause} (in the chroot)" if cause else "the build failed in the chroot"
    known = {
        3: f"mock config {config} not found",
        60: "the mock chroot is locked by another build (mock exit 60); wait, or use --jobs 1",
        70: "mock could not create its result directory (exit 70): the cache directory must "
        "be reachable by the 'mock' group",
        11: "the build timed out in mock (exit 11)",
    }
    if code in known:
        return known[code]
    if "root account" in output or "as root" in output or "mock group" in output:
        return "mock refuses to run: run rpmdeploy as a user in the 'mock' group, not as root"
    last = next((ln for ln in reversed(output.splitlines()) if "ERROR" in ln), "")
    return f"mock failed (exit {code}){': ' + last.strip() if last else ''}"


def _exit_code(message: str) -> int | None:
    """mock's exit code, from the run helper's message ("... failed (exit 30)")."""
    match = re.search(r"\(exit (\d+)\)", message)
    return int(match.group(1)) if match else None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""

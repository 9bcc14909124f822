"""A stand-in Copr frontend and backend on a loopback port, for the copr builder's tests.

**This is a stand-in, not Copr.**  The real Copr cannot be reached from the test machines
(no network beyond loopback), so this serves the subset of Copr's API v3 that the ``copr``
client calls for rpmdeploy, written from Copr's API documentation and its frontend's API v3
routes (``frontend/coprs_frontend/coprs/views/apiv3_ns``): the answers have the same shape
(``to_dict`` of projects, builds and build chroots; ``{"items", "meta"}`` pages; ``{"error"}``
with 403/404/400), so the real client runs against it unchanged.

- ``GET /api_3/project``, ``POST /api_3/project/add/OWNER``, ``PUT /api_3/project/edit/O/P``
- ``POST /api_3/build/create/upload`` (multipart: the SRPM and a ``json`` part with
  ``chroots``, ``after_build_id``, ``with_build_id``), ``GET /api_3/build/ID``,
  ``GET /api_3/build/list`` (limit, offset, order=id, order_type), ``PUT /api_3/build/cancel/ID``
- ``GET /api_3/build-chroot``, ``GET /api_3/build-chroot/built-packages``
- the results as Copr's backend serves them: ``/results/OWNER/PROJECT/CHROOT/`` is a yum
  repository (createrepo_c, gzip metadata as Copr makes it) of result directories
  ``00000012-NAME/`` holding the RPMs, the SRPM, ``builder-live.log.gz`` and
  ``backend.log.gz``; ``/results/OWNER/PROJECT/srpm-builds/00000012/`` the uploaded SRPM.

Builds are **really built**: each chroot of a build is ``mock --rebuild`` of the uploaded SRPM
with the mock config the stand-in is given (the tests' synthetic buildroot), with the
project's chroot repository enabled so later builds install earlier results, as Copr's
builders do.  Batches behave as in Copr (``BuildsLogic.setup_batch``): ``with_build_id``
joins the build's batch (refused once it finished), ``after_build_id`` makes a new batch
blocked until that one finished; a blocked build stays ``pending``.  Outside batches Copr
promises no order, and the stand-in deliberately starts the *newest* ready build first, so
only batches give order.

Authentication is Copr's API token as HTTP basic auth (login:token) on every write.
``fake_builds=True`` (the benchmark only, never a test) replaces mock by an instant fake
result (the uploaded SRPM and one small noarch RPM), to measure rpmdeploy's own overhead.

Run standalone (the benchmark does): ``python copr_frontend.py ROOT MOCK_CONFIG [--fake]``
prints the URL, the login and the token as JSON on its first line.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

FINISHED = {"succeeded", "failed", "canceled", "skipped"}
MOCK = os.environ.get("RPMDEPLOY_TEST_MOCK_COMMAND", "mock")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Batch:
    id: int
    blocked_by: int | None
    builds: list[int] = field(default_factory=list)


@dataclass
class Build:
    id: int
    owner: str
    project: str
    chroots: list[str]
    upload: Path  # the uploaded SRPM
    batch: int | None = None
    states: dict[str, str] = field(default_factory=dict)  # chroot -> state
    name: str | None = None
    version: str | None = None
    submitted_on: int = 0
    started_on: dict[str, float] = field(default_factory=dict)
    ended_on: dict[str, float] = field(default_factory=dict)
    built: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """Copr's Build.state: the worst of its chroots' states."""
        states = set(self.states.values())
        for state in ("running", "pending", "failed", "canceled"):
            if state in states:
                return state
        return "succeeded" if states else "pending"

    @property
    def result_dir(self) -> str:
        return f"{self.id:08d}-{self.name}"


class CoprStandIn:
    """The stand-in: an HTTP server thread and a builder thread.  Use as a context manager."""

    def __init__(self, root: Path, mock_config: str, *, fake_builds: bool = False) -> None:
        self.root = root
        self.mock_config = mock_config
        self.fake_builds = fake_builds
        self.login = "rpmdeploy-test"
        self.token = "tok-" + secrets.token_hex(16)  # the secret that must never be printed
        self.lock = threading.Condition()
        self.projects: dict[tuple[str, str], dict[str, Any]] = {}
        self.builds: dict[int, Build] = {}
        self.batches: dict[int, Batch] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.events: list[tuple[str, int, str]] = []  # ("started"|"ended", build id, state)
        self.busy_seconds = 0.0  # time spent building (mock or fake)
        self.paused = False  # tests stop the builder to interrupt runs mid-level
        # Source package names whose builds the farm fails (as a broken builder would), with
        # a log as Copr's: to test what rpmdeploy does with a failure at any level.
        self.fail_packages: set[str] = set()
        self.stopping = False
        self.results = root / "results"
        self.results.mkdir(parents=True, exist_ok=True)
        _share_with_mock(root)
        _share_with_mock(self.results)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.initialised = False
        self.threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._builder, daemon=True),
        ]

    def __enter__(self) -> CoprStandIn:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify_all()
        self.server.shutdown()
        self.threads[1].join(timeout=600)
        if self.initialised:
            subprocess.run(
                [MOCK, "-r", str(self._mock_cfg()), "--uniqueext", self._ext(), "--scrub=chroot"],
                capture_output=True,
                check=False,
            )

    def write_config(self, path: Path, token: str | None = None) -> Path:
        """Copr's configuration file (~/.config/copr) for this stand-in."""
        path.write_text(
            "[copr-cli]\n"
            f"login = {self.login}\nusername = {self.login}\n"
            f"token = {token or self.token}\ncopr_url = {self.url}\n"
            "# the stand-in speaks plain HTTP on loopback\nencrypted = False\n"
        )
        path.chmod(0o600)
        return path

    def uploads(self) -> int:
        return sum(1 for m, p in self.requests if p.endswith("/build/create/upload"))

    def set_paused(self, paused: bool) -> None:
        with self.lock:
            self.paused = paused
            self.lock.notify_all()

    def interrupt(self, argv: list[str], ready: Callable[[], bool]) -> tuple[int, str]:
        """Run the command ``argv`` while the farm is paused (its builds stay pending) and
        press Ctrl-C once ``ready()`` holds (a second later, so rpmdeploy is watching);
        its exit status and output."""
        self.set_paused(True)
        try:
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            deadline = time.monotonic() + 120
            while not ready():
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout
                time.sleep(0.2)
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=60)
        finally:
            self.set_paused(False)
        return proc.returncode, output

    # --- the API -------------------------------------------------------------------------------

    def api(self, method: str, path: str, query: dict[str, str], body: Any, auth: bool) -> Any:
        self.requests.append((method, path))
        route = path.removeprefix("/api_3").strip("/")
        if method in ("POST", "PUT", "DELETE") and not auth:
            raise ApiError(
                403, "Login invalid/expired. Please visit the API page to get a new token."
            )
        with self.lock:
            return self._route(method, route, query, body)

    def _route(self, method: str, route: str, query: dict[str, str], body: Any) -> Any:
        routes: list[tuple[str, Any]] = [
            (r"", lambda m: {"version": 3}),
            (
                r"project",
                lambda m: self._project_dict(
                    self._project(query["ownername"], query["projectname"])
                ),
            ),
            (
                r"project/add/([^/]+)",
                lambda m: self._add_project(m[1], body, query.get("exist_ok") == "True"),
            ),
            (r"project/edit/([^/]+)/([^/]+)", lambda m: self._edit_project(m[1], m[2], body)),
            (r"build/list", lambda m: self._list(query)),
            (r"build/create/upload", lambda m: self._create(body)),
            (r"build/cancel/(\d+)", lambda m: self._cancel(int(m[1]))),
            (r"build/(\d+)", lambda m: self._build_dict(self._build(int(m[1])))),
            (
                r"build-chroot",
                lambda m: self._chroot_dict(
                    self._build(int(query["build_id"])), query["chrootname"]
                ),
            ),
            (
                r"build-chroot/built-packages",
                lambda m: {
                    "packages": self._build(int(query["build_id"])).built.get(
                        query["chrootname"], []
                    )
                },
            ),
        ]
        for pattern, answer in routes:
            match = re.fullmatch(pattern, route)
            if match is not None:
                return answer(match)
        raise ApiError(404, f"no such API route: {route}")

    def _edit_project(self, owner: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        project = self._project(owner, name)
        for chroot in body.get("chroots") or []:
            self._enable(project, chroot)
        return self._project_dict(project)

    def _project(self, owner: str, name: str) -> dict[str, Any]:
        project = self.projects.get((owner, name))
        if project is None:
            raise ApiError(404, f"Project {owner}/{name} does not exist.")
        return project

    def _add_project(self, owner: str, body: dict[str, Any], exist_ok: bool) -> dict[str, Any]:
        name = body["name"]
        if (owner, name) in self.projects and not exist_ok:
            raise ApiError(400, f"You already have a project named '{name}'.")
        project = self.projects.setdefault(
            (owner, name),
            {"id": len(self.projects) + 1, "owner": owner, "name": name, "chroots": []},
        )
        for chroot in body.get("chroots") or []:
            self._enable(project, chroot)
        return self._project_dict(project)

    def _enable(self, project: dict[str, Any], chroot: str) -> None:
        if chroot in project["chroots"]:
            return
        project["chroots"].append(chroot)
        repo = self.results / project["owner"] / project["name"] / chroot
        repo.mkdir(parents=True, exist_ok=True)
        for directory in (repo.parent.parent, repo.parent, repo):
            _share_with_mock(directory)
        _createrepo(repo)

    def _repo_url(self, owner: str, name: str) -> str:
        return f"{self.url}/results/{owner}/{name}"

    def _project_dict(self, project: dict[str, Any]) -> dict[str, Any]:
        owner, name = project["owner"], project["name"]
        base = self._repo_url(owner, name)
        return {
            "id": project["id"],
            "name": name,
            "ownername": owner,
            "full_name": f"{owner}/{name}",
            "chroot_repos": {c: f"{base}/{c}/" for c in project["chroots"]},
            "auto_prune": True,
        }

    def _build(self, build_id: int) -> Build:
        if build_id not in self.builds:
            raise ApiError(404, f"Build {build_id} does not exist.")
        return self.builds[build_id]

    def _build_dict(self, build: Build) -> dict[str, Any]:
        base = self._repo_url(build.owner, build.project)
        if build.name:  # after the source build: Copr's backend results
            url = f"{base}/srpm-builds/{build.id:08d}/{build.upload.name}"
        else:  # before it: the frontend's upload storage
            url = f"{self.url}/tmp/{build.id}/{build.upload.name}"
        return {
            "id": build.id,
            "state": build.state,
            "projectname": build.project,
            "ownername": build.owner,
            "repo_url": base,
            "source_package": {"name": build.name, "version": build.version, "url": url},
            "submitted_on": build.submitted_on,
            "started_on": int(min(build.started_on.values())) if build.started_on else None,
            "ended_on": int(max(build.ended_on.values())) if build.state in FINISHED else None,
            "submitter": self.login,
            "chroots": list(build.chroots),
            "project_dirname": build.project,
            "is_background": False,
        }

    def _chroot_dict(self, build: Build, chroot: str) -> dict[str, Any]:
        if chroot not in build.states:
            raise ApiError(404, f"Build chroot {build.id}/{chroot} does not exist.")
        result = None
        if build.name and build.states[chroot] != "pending":
            result = f"{self._repo_url(build.owner, build.project)}/{chroot}/{build.result_dir}/"
        return {
            "name": chroot,
            "started_on": build.started_on.get(chroot),
            "ended_on": build.ended_on.get(chroot),
            "result_url": result,
            "state": build.states[chroot],
        }

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        owner, name = query["ownername"], query["projectname"]
        self._project(owner, name)
        builds = [b for b in self.builds.values() if (b.owner, b.project) == (owner, name)]
        builds.sort(key=lambda b: b.id, reverse=query.get("order_type", "ASC") == "DESC")
        offset = int(query.get("offset") or 0)
        limit = int(query["limit"]) if query.get("limit") else None
        page = builds[offset : offset + limit if limit else None]
        meta = {
            "limit": limit,
            "offset": offset,
            "order": "id",
            "order_type": query.get("order_type"),
        }
        return {"items": [self._build_dict(b) for b in page], "meta": meta}

    def _create(self, form: dict[str, Any]) -> dict[str, Any]:
        data, upload = form["json"], form["pkgs"]
        project = self._project(data["ownername"], data["projectname"])
        chroots = data.get("chroots") or list(project["chroots"])
        unknown = [c for c in chroots if c not in project["chroots"]]
        if unknown:
            raise ApiError(400, f"Bad request parameters: chroots {unknown} are not enabled")
        batch = self._setup_batch(data.get("after_build_id"), data.get("with_build_id"))
        build_id = max(self.builds, default=0) + 1
        stored = self.root / "uploads" / str(build_id) / _secure_filename(upload[0])
        stored.parent.mkdir(parents=True)
        stored.write_bytes(upload[1])
        build = Build(build_id, project["owner"], project["name"], chroots, stored)
        build.states = dict.fromkeys(chroots, "pending")
        build.submitted_on = int(time.time())
        if batch is not None:
            build.batch = batch.id
            batch.builds.append(build_id)
        self.builds[build_id] = build
        self.lock.notify_all()
        return self._build_dict(build)

    def _setup_batch(self, after: int | None, with_: int | None) -> Batch | None:
        """Copr's BuildsLogic.setup_batch and BatchesLogic.get_batch_or_create."""
        if after and with_:
            raise ApiError(400, "You may either build after build ID, or with build id, not both.")
        if with_:
            build = self._build_for_batch(with_)
            batch = self._batch_of(build, modify=True)
            return batch
        if after:
            old = self._batch_of(self._build_for_batch(after), modify=False)
            batch = Batch(max(self.batches, default=0) + 1, blocked_by=old.id)
            self.batches[batch.id] = batch
            return batch
        return None

    def _build_for_batch(self, build_id: int) -> Build:
        if build_id not in self.builds:
            raise ApiError(400, f"Build {build_id} doesn't exist")
        return self.builds[build_id]

    def _batch_of(self, build: Build, modify: bool) -> Batch:
        if build.batch is not None:
            batch = self.batches[build.batch]
            if modify and self._batch_finished(batch):
                raise ApiError(400, f"Batch {batch.id} is already finished")
            return batch
        if build.state in FINISHED:
            raise ApiError(
                400,
                f"Build {build.id} is not yet in any batch, and new batch can not be created "
                "because the build has already finished",
            )
        batch = Batch(max(self.batches, default=0) + 1, blocked_by=None, builds=[build.id])
        self.batches[batch.id] = batch
        build.batch = batch.id
        return batch

    def _batch_finished(self, batch: Batch) -> bool:
        return all(self.builds[b].state in FINISHED for b in batch.builds)

    def _blocked(self, build: Build) -> bool:
        if build.batch is None:
            return False
        parent = self.batches[build.batch].blocked_by
        while parent is not None:
            if not self._batch_finished(self.batches[parent]):
                return True
            parent = self.batches[parent].blocked_by
        return False

    def _cancel(self, build_id: int) -> dict[str, Any]:
        build = self._build(build_id)
        for chroot, state in build.states.items():
            if state in ("pending", "running"):
                build.states[chroot] = "canceled"
        return self._build_dict(build)

    # --- the builder ---------------------------------------------------------------------------

    def _ready(self) -> list[Build]:
        ready = [
            b
            for b in self.builds.values()
            if "pending" in b.states.values() and not self._blocked(b)
        ]
        return sorted(ready, key=lambda b: -b.id)  # newest first: no order outside batches

    def _builder(self) -> None:
        while True:
            with self.lock:
                while not self.stopping and (self.paused or not self._ready()):
                    self.lock.wait(0.2)
                if self.stopping:
                    return
                todo = self._ready() if self.fake_builds else self._ready()[:1]
                for build in todo:
                    self._source_build(build)
                    for chroot in build.chroots:
                        build.states[chroot] = "running"
                        build.started_on[chroot] = time.time()
                    self.events.append(("started", build.id, "running"))
            started = time.monotonic()
            states = {(b.id, c): self._build_chroot(b, c) for b in todo for c in b.chroots}
            # As Copr's backend: the repository is published before the build is finished.
            repos = {(b.owner, b.project, c) for b in todo for c in b.chroots}
            for owner, project, chroot in sorted(repos):
                _createrepo(self.results / owner / project / chroot)
            self.busy_seconds += time.monotonic() - started
            with self.lock:
                for build in todo:
                    for chroot in build.chroots:
                        if build.states[chroot] == "running":  # not canceled meanwhile
                            build.states[chroot] = states[(build.id, chroot)]
                        build.ended_on[chroot] = time.time()
                    self.events.append(("ended", build.id, build.state))
                self.lock.notify_all()

    def _source_build(self, build: Build) -> None:
        """Copr's SRPM build for an upload: the file as it is, its name and version read."""
        out = subprocess.run(
            [
                "rpm",
                "-qp",
                "--nosignature",
                "--qf",
                "%{NAME}\\n%{EPOCH}\\n%{VERSION}-%{RELEASE}",
                str(build.upload),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        build.name = out[0]
        build.version = out[2] if out[1] == "(none)" else f"{out[1]}:{out[2]}"
        srpm_dir = self.results / build.owner / build.project / "srpm-builds" / f"{build.id:08d}"
        srpm_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build.upload, srpm_dir / build.upload.name)

    def _build_chroot(self, build: Build, chroot: str) -> str:
        resultdir = self.results / build.owner / build.project / chroot / build.result_dir
        if self.fake_builds:
            return self._fake(build, chroot, resultdir)
        if build.name in self.fail_packages:
            resultdir.mkdir(parents=True, exist_ok=True)
            log = "+ make\nbuilder: out of disk space\nerror: Bad exit status from /var/tmp/rpm-tmp.1 (%build)\n"
            (resultdir / "builder-live.log.gz").write_bytes(gzip.compress(log.encode()))
            return "failed"
        work = self.root / "work" / str(build.id)
        work.mkdir(parents=True, exist_ok=True)
        _share_with_mock(work)
        srpm = Path(shutil.copy(build.upload, work / build.upload.name))
        os.chmod(srpm, 0o644)
        argv = [MOCK, "-r", str(self._mock_cfg(build.owner, build.project, chroot))]
        argv += ["--uniqueext", self._ext(), "--rebuild", str(srpm), "--resultdir", str(resultdir)]
        argv += ["--no-cleanup-after"] + (["--no-clean"] if self.initialised else [])
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        self.initialised = True
        live = proc.stdout + proc.stderr
        for name in ("root.log", "build.log"):
            if (resultdir / name).is_file():
                live += f"\n--- {name} ---\n" + (resultdir / name).read_text(errors="replace")
        resultdir.mkdir(parents=True, exist_ok=True)
        (resultdir / "builder-live.log.gz").write_bytes(gzip.compress(live.encode()))
        backend = f"stand-in backend: mock exit {proc.returncode}\n"
        (resultdir / "backend.log.gz").write_bytes(gzip.compress(backend.encode()))
        if proc.returncode != 0:
            for rpm in resultdir.glob("*.rpm"):
                rpm.unlink()
            return "failed"
        build.built[chroot] = [_nevra(p) for p in sorted(resultdir.glob("*.rpm"))]
        return "succeeded"

    def _fake(self, build: Build, chroot: str, resultdir: Path) -> str:
        """Benchmark only: an instant 'build' (the SRPM and one small noarch RPM)."""
        resultdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build.upload, resultdir / build.upload.name)
        fake = self._fake_rpm()
        shutil.copyfile(fake, resultdir / f"{build.name}-fake.noarch.rpm")
        (resultdir / "builder-live.log.gz").write_bytes(gzip.compress(b"fake build\n"))
        build.built[chroot] = [
            {"name": build.name, "epoch": None, "version": "1", "release": "1", "arch": "src"},
            {
                "name": "rpmdeploy-fake",
                "epoch": None,
                "version": "1",
                "release": "1",
                "arch": "noarch",
            },
        ]
        return "succeeded"

    def _fake_rpm(self) -> Path:
        path = self.root / "fake" / "RPMS" / "noarch" / "rpmdeploy-fake-1-1.noarch.rpm"
        if not path.is_file():
            spec = self.root / "fake" / "fake.spec"
            spec.parent.mkdir(parents=True, exist_ok=True)
            spec.write_text(
                "Name: rpmdeploy-fake\nVersion: 1\nRelease: 1\nSummary: fake\nLicense: MIT\n"
                "BuildArch: noarch\n%description\nfake\n%files\n"
            )
            subprocess.run(
                ["rpmbuild", "-bb", "--define", f"_topdir {spec.parent}", str(spec)],
                capture_output=True,
                check=True,
            )
        return path

    def _ext(self) -> str:
        return f"copr-standin-{os.getpid()}-{id(self) % 100000}"

    def _mock_cfg(self, owner: str = "", project: str = "", chroot: str = "") -> Path:
        """A mock config per chroot: the given one plus the project's chroot repository, as
        Copr enables a project's own repository in its builds."""
        path = self.root / "mock" / f"{owner or 'any'}-{project or 'any'}-{chroot or 'any'}.cfg"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            _share_with_mock(path.parent)
            repo = self.results / owner / project / chroot if chroot else None
            section = ""
            if repo is not None:
                section = (
                    f"\n[copr_base]\nname=the project's own repository\nbaseurl={repo.as_uri()}"
                    "\ngpgcheck=0\nenabled=1\nmetadata_expire=0\nskip_if_unavailable=False\n"
                )
            path.write_text(
                f"include({self.mock_config + '.cfg'!r})\n"
                f"config_opts['dnf.conf'] += {section!r}\n"
                "config_opts['rpmbuild_networking'] = False\n"
            )
            path.chmod(0o644)
        return path


def _handler(standin: CoprStandIn) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"standin": standin})


class _Handler(BaseHTTPRequestHandler):
    standin: CoprStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        if url.path.startswith("/results/"):
            return self._file(url.path)
        if url.path == "/standin/stats":  # not Copr's: what the benchmark reads
            stats = {"busy_seconds": self.standin.busy_seconds, "uploads": self.standin.uploads()}
            return self._json(200, stats)
        self._api("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._api("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._api("PUT")

    def _api(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._body()
            result = self.standin.api(method, url.path, query, body, self._authorised())
            self._json(200, result)
        except ApiError as exc:
            self._json(exc.status, {"error": str(exc)})
        except (KeyError, ValueError) as exc:
            self._json(400, {"error": f"Bad request: {exc}"})

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        login, _, token = base64.b64decode(header[6:]).decode().partition(":")
        return (login, token) == (self.standin.login, self.standin.token)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("multipart/form-data"):
            return _multipart(kind, raw)
        return json.loads(raw) if raw else {}

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, path: str) -> None:
        relative = unquote(path).removeprefix("/results/")
        target = (self.standin.results / relative).resolve()
        if self.standin.results.resolve() not in target.parents or not target.is_file():
            self.send_error(404)
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "json":  # the client sends it as a file part named "json"
            form["json"] = json.loads(payload)
        elif part.get_filename():
            form[str(name)] = (part.get_filename(), payload)
        else:
            form[str(name)] = payload.decode()
    return form


def _secure_filename(name: str) -> str:
    """As werkzeug's secure_filename, which Copr applies to uploads."""
    name = name.replace("/", " ").replace("\\", " ")
    name = re.sub(r"[^A-Za-z0-9_.-]", "", "_".join(name.split()))
    return name.strip("._") or "upload.src.rpm"


def _nevra(path: Path) -> dict[str, Any]:
    fields = subprocess.run(
        [
            "rpm",
            "-qp",
            "--nosignature",
            "--qf",
            "%{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH}",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    arch = "src" if path.name.endswith(".src.rpm") else fields[4]
    epoch = None if fields[1] == "(none)" else int(fields[1])
    return {
        "name": fields[0],
        "epoch": epoch,
        "version": fields[2],
        "release": fields[3],
        "arch": arch,
    }


def _createrepo(directory: Path) -> None:
    """As Copr's backend publishes a chroot: createrepo_c with gzip-compressed metadata."""
    subprocess.run(
        ["createrepo_c", "--quiet", "--update", "--general-compress-type=gz", str(directory)],
        capture_output=True,
        check=True,
    )


def _share_with_mock(directory: Path) -> None:
    """mock's unprivileged user reads the config and SRPM and writes the result directory."""
    import grp

    try:
        os.chown(directory, -1, grp.getgrnam("mock").gr_gid)
        os.chmod(directory, 0o2775)
    except (KeyError, PermissionError):
        os.chmod(directory, 0o2777)


@contextmanager
def configured(mock_config: str) -> Iterator[CoprStandIn]:
    """A running stand-in and RPMDEPLOY_COPR_CONFIG naming its configuration file, for a
    test module (the environment is restored and everything removed afterwards)."""
    # Under /tmp itself: mock's unprivileged user must reach the SRPMs and result directories.
    root = Path(tempfile.mkdtemp(prefix="rpmdeploy-copr-standin-"))
    os.chmod(root, 0o755)
    before = os.environ.get("RPMDEPLOY_COPR_CONFIG")
    try:
        with CoprStandIn(root, mock_config) as standin:
            os.environ["RPMDEPLOY_COPR_CONFIG"] = str(standin.write_config(root / "copr-config"))
            yield standin
    finally:
        if before is None:
            os.environ.pop("RPMDEPLOY_COPR_CONFIG", None)
        else:
            os.environ["RPMDEPLOY_COPR_CONFIG"] = before
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    root, config = Path(sys.argv[1]), sys.argv[2]
    with CoprStandIn(root, config, fake_builds="--fake" in sys.argv) as standin:
        print(json.dumps({"url": standin.url, "login": standin.login, "token": standin.token}))
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

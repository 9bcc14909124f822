"""`rpmdeploy pin` against a loopback simple index (PEP 691 JSON with PEP 700 upload times):
--uploaded-prior-to, --index-url written back, the summary of what changed, and files
uploaded between two pins (uv's cache, which the pins' files are first listed from, is
behind the index then)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import BACKEND_WHEELS, PACKAGES, AppDir, build_package, make_wheel, new_app, run_cli

from rpmdeploy.pin import parse_pins

UPLOADED = {"2.0": "2020-01-01T00:00:00Z", "2.1": "2024-01-01T00:00:00Z"}


@contextlib.contextmanager
def serving(files: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT/simple/``: the delta wheels and sdists in ``files``, as they
    are at each request (a file added is uploaded)."""

    class Handler(BaseHTTPRequestHandler):
        head = False

        def do_HEAD(self) -> None:  # noqa: N802 - uv asks before a range request
            self.head = True
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") == "/simple/delta":
                entries = [
                    {
                        "filename": path.name,
                        "url": f"/files/{path.name}",
                        "hashes": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
                        "upload-time": UPLOADED[path.name.split("-")[1].removesuffix(".tar.gz")],
                    }
                    for path in sorted(files.iterdir())
                    if path.name.endswith((".whl", ".tar.gz"))
                ]
                page = {"meta": {"api-version": "1.1"}, "name": "delta", "files": entries}
                self.reply(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json")
            elif self.path.startswith("/files/") and (files / self.path[7:]).is_file():
                self.reply((files / self.path[7:]).read_bytes(), "application/octet-stream")
            else:
                self.send_error(404)

        def reply(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not self.head:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    """delta 2.0 (uploaded 2020) and 2.1 (2024), wheels."""
    files = tmp_path / "files"
    files.mkdir()
    for version in UPLOADED:
        meta = f"Metadata-Version: 2.1\nName: delta\nVersion: {version}\n"
        make_wheel(files, "delta", version, meta, {"delta/__init__.py": ""})
    with serving(files) as url:
        yield url


@pytest.fixture
def backends(tmp_path: Path) -> Path:
    """A find-links directory with delta's build backend (flit_core) only."""
    links = tmp_path / "backends"
    links.mkdir()
    for wheel in BACKEND_WHEELS.glob("flit_core-*.whl"):
        shutil.copy(wheel, links)
    return links


def test_uploaded_prior_to_resolves_as_of_a_date(tmp_path: Path, index: str) -> None:
    app: AppDir = new_app(tmp_path / "app", tmp_path, "delta\n")
    result = run_cli("pin", app.path, "--index-url", index, "--uploaded-prior-to", "2023-06-01")
    assert "1 added (delta 2.0)" in result.output
    text = app.pinned.read_text()
    assert "delta==2.0 \\\n" in text
    assert "# rpmdeploy:uploaded-prior-to = 2023-06-01T00:00:00Z\n" in text
    assert "#    rpmdeploy pin --uploaded-prior-to 2023-06-01T00:00:00Z\n" in text
    assert f"--index-url {index}\n" in text
    pinned = parse_pins(text, app.pinned)
    assert pinned.index.index_url == index and len(pinned.pins[0].hashes) == 1
    # The same cut again: nothing changes, byte for byte.
    first = app.pinned.read_bytes()
    run_cli("pin", app.path, "--index-url", index, "--uploaded-prior-to", "2023-06-01")
    assert app.pinned.read_bytes() == first
    # Upgrading without the cut takes the newer upload, and says so.
    result = run_cli("pin", app.path, "--index-url", index, "--upgrade")
    assert "dependencies.txt: 1 upgraded (delta 2.0 -> 2.1), 0 unchanged" in result.output
    assert "uploaded-prior-to" not in app.pinned.read_text()


def test_uploaded_prior_to_refuses_a_time_without_its_zone(tmp_path: Path, index: str) -> None:
    app: AppDir = new_app(tmp_path / "app", tmp_path, "delta\n")
    result = run_cli(
        "pin", app.path, "--index-url", index, "--uploaded-prior-to", "2023-06-01T10:00", expect=2
    )
    assert "invalid --uploaded-prior-to '2023-06-01T10:00'" in result.output
    assert not app.pinned.exists()


def test_a_wheel_uploaded_since_the_last_pin(tmp_path: Path, backends: Path) -> None:
    """delta 2.0 has only an sdist, then a wheel too.  Pinning again keeps delta's hashes,
    so it is still built from its sdist, with its backend; ``--upgrade`` pins the wheel's
    hash too and no backend any more, though uv's cache, before it resolved, knew no wheel."""
    files = tmp_path / "files"
    files.mkdir()
    build_package(PACKAGES / "delta", files, ("--sdist",))
    app: AppDir = new_app(tmp_path / "app", tmp_path, "delta\n")
    with serving(files) as url:
        args = ("pin", app.path, "--index-url", url, "--find-links", backends)
        result = run_cli(*args)
        assert "1 build dependencies of 1 sdist (delta==2.0)" in result.output
        assert [p.name for p in parse_pins(app.build_pinned.read_text(), app.path).pins] == [
            "flit-core"
        ]
        build_package(PACKAGES / "delta", files, ("--wheel",))
        first = app.pinned.read_bytes(), app.build_pinned.read_bytes()
        run_cli(*args)
        assert (app.pinned.read_bytes(), app.build_pinned.read_bytes()) == first
        result = run_cli(*args, "--upgrade")
    assert "no sdists to build from, none pinned" in result.output
    (delta,) = parse_pins(app.pinned.read_text(), app.pinned).pins
    assert delta.version == "2.0" and len(delta.hashes) == 2
    assert "# rpmdeploy:sdist" not in app.build_pinned.read_text()


def test_an_sdist_only_upgrade_pins_its_backend(tmp_path: Path, backends: Path) -> None:
    """delta 2.0 as a wheel, then 2.1 as an sdist only: ``--upgrade`` pins 2.1 and its build
    backend, though uv's cache, as it was, resolves to the 2.0 wheel."""
    files = tmp_path / "files"
    files.mkdir()
    meta = "Metadata-Version: 2.1\nName: delta\nVersion: 2.0\n"
    make_wheel(files, "delta", "2.0", meta, {"delta/__init__.py": ""})
    app: AppDir = new_app(tmp_path / "app", tmp_path, "delta\n")
    with serving(files) as url:
        args = ("pin", app.path, "--index-url", url, "--find-links", backends)
        result = run_cli(*args)
        assert "no sdists to build from, none pinned" in result.output
        source = tmp_path / "delta-2.1"
        shutil.copytree(PACKAGES / "delta", source)
        project = source / "pyproject.toml"
        project.write_text(project.read_text().replace('version = "2.0"', 'version = "2.1"'))
        build_package(source, files, ("--sdist",))
        result = run_cli(*args, "--upgrade")
    assert "1 upgraded (delta 2.0 -> 2.1)" in result.output
    assert "1 build dependencies of 1 sdist (delta==2.1)" in result.output
    assert "# rpmdeploy:sdist = delta==2.1\n" in app.build_pinned.read_text()

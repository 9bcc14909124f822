"""`rpmdeploy pin` against a loopback simple index (PEP 691 JSON with PEP 700 upload times):
--uploaded-prior-to, --index-url written back, the summary of what changed."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import AppDir, make_wheel, new_app, run_cli

from rpmdeploy.pin import parse_pins

UPLOADED = {"2.0": "2020-01-01T00:00:00Z", "2.1": "2024-01-01T00:00:00Z"}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT/simple/``: delta 2.0 (uploaded 2020) and 2.1 (2024)."""
    files = tmp_path / "files"
    files.mkdir()
    for version in UPLOADED:
        meta = f"Metadata-Version: 2.1\nName: delta\nVersion: {version}\n"
        make_wheel(files, "delta", version, meta, {"delta/__init__.py": ""})

    class Handler(BaseHTTPRequestHandler):
        head = False

        def do_HEAD(self) -> None:  # noqa: N802 - uv asks before a range request
            self.head = True
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") == "/simple/delta":
                entries = [
                    {
                        "filename": wheel.name,
                        "url": f"/files/{wheel.name}",
                        "hashes": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()},
                        "upload-time": UPLOADED[wheel.name.split("-")[1]],
                    }
                    for wheel in sorted(files.glob("*.whl"))
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

"""Serving an installed app's launcher on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def serve_once(
    root: Path, app: str, path: str, python: str = "/usr/bin/python3", **settings: str
) -> str:
    """Start the installed launcher of ``app`` on a free loopback port, GET ``path``, stop.

    ``python`` runs it: an interpreter of the Python version the RPMs were built for.
    """
    port = free_port()
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    sites = [
        f"{root}/usr/lib/python{version}/site-packages",
        f"{root}/usr/lib64/python{version}/site-packages",
    ]
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(sites),
        "RPMDEPLOY_APP_DIR": str(root / "opt" / app),
        "RPMDEPLOY_BIND": f"127.0.0.1:{port}",
        **settings,
    }
    launcher = root / "opt" / app / "bin" / f"{app}-serve"
    server = subprocess.Popen(
        [python, str(launcher)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        return get_when_up(f"http://127.0.0.1:{port}{path}", server)
    finally:
        server.terminate()
        server.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_when_up(url: str, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"launcher exited: {server.stdout.read() if server.stdout else ''!r}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError("launcher did not answer within 20 s")

"""report.html in a real browser: `rpms --report FILE` and the report every release publishes.

Headless Chromium loads the report from disk; the tests read back the DOM it rendered (one
row per package, failures first, the dependency graph's SVG nodes and edges) and keep a
screenshot in the test's tmp directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import AppDir, run_cli

from rpmdeploy.htmlreport import parse_graph

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; make test does)"
)


def chromium(page: Path, tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@dataclass
class Dom(HTMLParser):
    """What the rendered page holds: package rows, graph nodes and edges, log links."""

    rows: list[tuple[str, str]] = field(default_factory=list)  # (name, status)
    nodes: list[str] = field(default_factory=list)
    edges: int = 0
    logs: list[str] = field(default_factory=list)
    svgs: int = 0

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        classes = attr.get("class", "").split()
        if tag == "tr" and "package" in classes:
            self.rows.append((attr["data-name"], attr["data-status"]))
        elif tag == "g" and "node" in classes:
            self.nodes.append(attr["data-name"])
        elif tag == "line" and "edge" in classes:
            self.edges += 1
        elif tag == "a" and "log" in classes:
            self.logs.append(attr["href"])
        elif tag == "svg":
            self.svgs += 1


def rendered(page: Path, tmp_path: Path) -> Dom:
    dom = Dom()
    dom.feed(chromium(page, tmp_path, "--dump-dom"))
    return dom


def screenshot(page: Path, tmp_path: Path) -> Path:
    png = tmp_path / "report.png"
    chromium(page, tmp_path, f"--screenshot={png}", "--window-size=1200,900", "--hide-scrollbars")
    assert png.is_file() and png.stat().st_size > 10_000, "the screenshot is missing or blank"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def pinned_names(app: AppDir) -> set[str]:
    return set(parse_graph(app.pinned.read_text()).nodes)


@needs_chromium
def test_rpms_report_in_a_browser(built_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    page = out / "report.html"
    result = run_cli(
        "rpms", built_app.app.path, "--out", out, "--cache-dir", built_app.cache, "--report", page
    )
    assert f"report: {page}" in result.output
    dom = rendered(page, tmp_path)
    pins = pinned_names(built_app.app)
    assert len(dom.rows) == len(pins) == 5  # alpha, beta, cext, delta, gamma-flit
    assert {status for _, status in dom.rows} == {"cached"}
    assert dom.svgs == 1 and set(dom.nodes) == pins
    graph = parse_graph(built_app.app.pinned.read_text())
    assert dom.edges == len(graph.edges) > 0
    # The logs are inside the output: relative links that resolve to files there.
    assert dom.logs and all(not href.startswith(("file:", "/")) for href in dom.logs)
    assert all((out / href).is_file() for href in dom.logs), dom.logs
    png = screenshot(page, tmp_path)
    print(f"screenshot: {png}")


@needs_chromium
def test_failures_come_first(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\nbroken\n")
    app.pin()
    page = tmp_path / "reports" / "report.html"
    run_cli(
        "rpms",
        app.path,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        tmp_path / "cache",
        "--report",
        page,
        expect=1,
    )
    dom = rendered(page, tmp_path)
    assert dom.rows == [("python3-broken", "failed"), ("python3-delta", "built")]
    # Nothing was written to the output: the logs stay in the cache, linked as file:// URLs.
    assert dom.logs and all(href.startswith("file:///") for href in dom.logs)
    text = page.read_text()
    assert "rpmbuild of python3-broken 1.0 failed" in text


@needs_chromium
def test_every_release_publishes_its_report(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha[fast]\n")
    app.pin()
    repo = tmp_path / "repo"
    verify = () if os.geteuid() == 0 else ("--no-verify",)  # dnf --installroot needs root
    result = run_cli(
        "release",
        app.path,
        "--out",
        repo,
        "--cache-dir",
        tmp_path / "cache",
        "--distro",
        "fedora-43",
        "--app-version",
        "1.0",
        *verify,
    )
    page = repo / "report.html"
    assert f"report: {page.resolve()}" in result.output or f"report: {page}" in result.output
    dom = rendered(page, tmp_path)
    names = [name for name, _ in dom.rows]
    assert len(names) == len(pinned_names(app)) + 1  # the pins and the app
    assert "app" in names and {status for _, status in dom.rows} == {"built"}
    assert set(dom.nodes) == pinned_names(app)
    assert dom.edges >= 1  # alpha[fast] requires delta
    assert re.search(r"<title>rpmdeploy release: app ", page.read_text())
    screenshot(page, tmp_path)

"""The build report people look at: ``report.html`` (part of issue #12).

Pure: data in (``PackageOutcome``s, a ``ReleaseReport``, the text of ``dependencies.txt``),
HTML text out; the caller writes it (``release`` into the new generation, ``rpms --report``).
It holds one row per package (status, time, bytes of its RPMs, licence, wheel or sdist, a link
to its log), failures first, and the dependency graph of the pinned set as inline SVG, read
statically from the ``# via`` annotations of ``dependencies.txt`` and laid out in layers here.

Escaping: the template (``report/report.html.j2``) is rendered through
:func:`rpmdeploy.render.render`, whose environment has autoescape off (it renders specs).
So this module escapes every value itself with ``markupsafe.escape`` before it reaches the
template: the context holds only ``Markup`` strings and numbers, and the template never
builds markup from raw text.  Package metadata (names, versions, licences, errors) is
untrusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from markupsafe import Markup, escape

from rpmdeploy.pipeline import PackageOutcome, RpmsReport
from rpmdeploy.render import render

if TYPE_CHECKING:  # release.py imports this module
    from rpmdeploy.release import ReleaseReport

REPORT_FILE = "report.html"
TEMPLATE = "report/report.html.j2"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;\\]+)")
_ORDER = {"failed": 0, "skipped": 1, "built": 2, "cached": 3}


# --- the graph ------------------------------------------------------------------------------


def normalize(name: str) -> str:
    """PEP 503: the name a pin and a ``# via`` line agree on."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Graph:
    """The pinned set: nodes in file order (name -> version), edges requirer -> required."""

    nodes: dict[str, str]
    edges: tuple[tuple[str, str], ...]


def _via_names(comment: str) -> list[str]:
    """The package names of one ``# via`` comment (``-r file`` and the like name none)."""
    names = []
    for item in comment.split(","):
        word = item.strip().split(" ")[0] if item.strip() else ""
        if word and not word.startswith("-") and _PIN.match(word + "==0"):
            names.append(normalize(word))
    return names


def _requirers(lines: Iterable[str]) -> dict[str, list[str]]:
    """Pin -> the names its ``# via`` annotations list, in order of appearance."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    in_via = False
    for line in lines:
        if match := _PIN.match(line):
            current, in_via = normalize(match.group(1)), False
            found.setdefault(current, [])
            continue
        text = line.strip()
        if current is None or not text.startswith("#"):
            in_via = False
            continue
        body = text[1:].strip()
        if body == "via" or body.startswith("via "):
            in_via = True
            found[current] += _via_names(body[3:])
        elif in_via and line.lstrip().startswith("#  "):
            found[current] += _via_names(body)
        else:
            in_via = False
    return found


def parse_graph(pinned: str) -> Graph:
    """The dependency graph of ``dependencies.txt``, from its ``# via`` lines, statically.

    A ``# via X`` line, or the ``#   X`` lines under a bare ``# via``, below a pin name the
    packages that require it; only edges between pins are kept.
    """
    nodes: dict[str, str] = {}
    for line in pinned.splitlines():
        if match := _PIN.match(line):
            nodes.setdefault(normalize(match.group(1)), match.group(2))
    edges: dict[tuple[str, str], None] = {}
    for required, requirers in _requirers(pinned.splitlines()).items():
        for requirer in requirers:
            if requirer in nodes and requirer != required:
                edges[(requirer, required)] = None
    return Graph(nodes, tuple(edges))


# --- its layered drawing ----------------------------------------------------------------------

NODE_HEIGHT = 28
LAYER_GAP = 70
NODE_GAP = 16
MARGIN = 12
CHAR_WIDTH = 7.2


@dataclass(frozen=True)
class Node:
    name: Markup
    label: Markup
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    title: Markup


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def layers(graph: Graph) -> dict[str, int]:
    """Each node's layer: the longest chain of requirers above it (a cycle is cut)."""
    requirers: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for requirer, required in graph.edges:
        requirers[required].append(requirer)
    depth: dict[str, int] = {}

    def visit(node: str, path: frozenset[str]) -> int:
        if node in depth:
            return depth[node]
        above = [visit(r, path | {node}) for r in requirers[node] if r not in path | {node}]
        depth[node] = max(above, default=-1) + 1
        return depth[node]

    for node in graph.nodes:
        visit(node, frozenset())
    return depth


def _order(rows: list[list[str]], graph: Graph) -> None:
    """Sort each layer by where its requirers sit (barycentres), keeping the drawing tidy."""
    position: dict[str, float] = {n: i for i, n in enumerate(rows[0])} if rows else {}
    for row in rows[1:]:

        def centre(node: str) -> float:
            xs = [position[a] for a, b in graph.edges if b == node and a in position]
            return sum(xs) / len(xs) if xs else float("inf")

        row.sort(key=lambda n: (centre(n), n))
        position.update({n: i for i, n in enumerate(row)})


def layout(graph: Graph) -> Drawing:
    """A simple layered drawing: requirers above what they require, layers centred."""
    depth = layers(graph)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(graph.nodes):
        rows[depth[node]].append(node)
    _order(rows, graph)
    labels = {n: f"{n} {v}" for n, v in graph.nodes.items()}
    widths = {n: len(label) * CHAR_WIDTH + 2 * MARGIN for n, label in labels.items()}
    row_widths = [sum(widths[n] for n in row) + NODE_GAP * (len(row) - 1) for row in rows]
    width = max(row_widths, default=0) + 2 * MARGIN
    boxes: dict[str, Node] = {}
    for level, (row, row_width) in enumerate(zip(rows, row_widths, strict=True)):
        x = (width - row_width) / 2
        y = MARGIN + level * (NODE_HEIGHT + LAYER_GAP)
        for name in row:
            boxes[name] = Node(escape(name), escape(labels[name]), x, y, widths[name])
            x += widths[name] + NODE_GAP
    edges = tuple(_edge(boxes[a], boxes[b], f"{a} requires {b}") for a, b in graph.edges)
    height = MARGIN * 2 + len(rows) * NODE_HEIGHT + max(len(rows) - 1, 0) * LAYER_GAP
    return Drawing(width, height, tuple(boxes[n] for n in graph.nodes), edges)


def _edge(top: Node, bottom: Node, title: str) -> Edge:
    upward = bottom.y <= top.y  # a cut cycle: from the top of one to the bottom of the other
    return Edge(
        top.x + top.width / 2,
        top.y if upward else top.y + NODE_HEIGHT,
        bottom.x + bottom.width / 2,
        bottom.y + NODE_HEIGHT if upward else bottom.y,
        escape(title),
    )


# --- the rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One package, every text escaped."""

    name: Markup
    version: Markup
    status: Markup
    seconds: Markup
    size: Markup
    bytes: int
    license: Markup
    license_note: Markup
    kind: Markup
    artifact: Markup
    log_href: Markup | None
    log_name: Markup
    error: Markup
    note: Markup
    build_only: bool


def log_href(log: Path, where: Path) -> str:
    """A relative link when the log is under the report's directory, else a file:// URL."""
    log, where = Path(log).absolute(), Path(where).absolute()
    if log.is_relative_to(where):
        return quote(log.relative_to(where).as_posix())
    return log.as_uri()


def artifact_kind(artifact: str | None) -> str:
    if artifact is None:
        return ""
    return "wheel" if artifact.endswith(".whl") else "sdist"


def rpm_bytes(outcome: PackageOutcome) -> int:
    return sum(p.stat().st_size for p in outcome.rpms if p.is_file())


def _row(outcome: PackageOutcome, where: Path) -> Row:
    lic = outcome.license.license if outcome.license is not None else None
    size = rpm_bytes(outcome)
    href = log_href(outcome.log, where) if outcome.log is not None else None
    return Row(
        name=escape(outcome.name),
        version=escape(outcome.version),
        status=escape(outcome.status),
        seconds=escape(f"{outcome.seconds:.1f}s"),
        size=escape(f"{size:,}" if outcome.rpms else ""),
        bytes=size,
        license=escape(lic.expression if lic else ""),
        license_note=escape(
            f"{lic.status}{': ' + lic.source if lic.source else ''}" if lic else ""
        ),
        kind=escape(artifact_kind(outcome.artifact)),
        artifact=escape(outcome.artifact or ""),
        log_href=escape(href) if href is not None else None,
        log_name=escape(outcome.log.name if outcome.log is not None else ""),
        error=escape(outcome.error or ""),
        note=escape(outcome.note or ""),
        build_only=outcome.build_only,
    )


def rows(outcomes: Sequence[PackageOutcome], where: Path) -> list[Row]:
    """Failures first (failed, then skipped), then the rest; by name within each."""
    ordered = sorted(outcomes, key=lambda o: (_ORDER.get(o.status, 9), o.name))
    return [_row(o, where) for o in ordered]


# --- the page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    title: Markup
    summary: tuple[Markup, ...]
    notes: tuple[Markup, ...]
    rows: tuple[Row, ...]
    failed: int
    graph: Drawing


def render_report(
    title: str,
    outcomes: Sequence[PackageOutcome],
    seconds: float,
    pinned: str,
    where: Path,
    notes: Sequence[str] = (),
    template_dir: Path | None = None,
) -> str:
    """The report's HTML: ``where`` is the directory it is served from (for log links)."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    total = sum(rpm_bytes(o) for o in outcomes)
    summary = [f"{n} {status}" for status, n in sorted(counts.items(), key=_status_key)]
    summary += [f"{total:,} bytes of RPMs", f"{seconds:.1f}s"]
    context = Context(
        title=escape(title),
        summary=tuple(escape(s) for s in summary),
        notes=tuple(escape(n) for n in notes),
        rows=tuple(rows(outcomes, where)),
        failed=sum(1 for o in outcomes if o.status in ("failed", "skipped")),
        graph=layout(parse_graph(pinned)),
    )
    return render(TEMPLATE, context, template_dir)


def _status_key(item: tuple[str, int]) -> int:
    return _ORDER.get(item[0], 9)


def rpms_report(
    report: RpmsReport, pinned: str, where: Path, app: str, template_dir: Path | None = None
) -> str:
    """The report of ``rpmdeploy rpms``: the logs linked are the copies in OUT/logs/ if any."""
    outcomes = report.outcomes
    notes = ["nothing was written to the output directory: the logs are the cache's"]
    if report.out is not None:
        notes = []
        # outdir.publish copies each package's log to OUT/logs/NAME.log.
        logs = report.out / "logs"
        outcomes = tuple(
            replace(o, log=logs / f"{o.name}.log") if o.log is not None else o for o in outcomes
        )
    return render_report(
        f"rpmdeploy rpms: {app}",
        outcomes,
        report.seconds,
        pinned,
        where,
        notes,
        template_dir,
    )


def release_report(
    report: ReleaseReport, pinned: str, where: Path, template_dir: Path | None = None
) -> str:
    """The report of ``rpmdeploy release`` (the app is the last outcome)."""
    app = report.outcomes[-1] if report.outcomes else None
    title = f"rpmdeploy release: {app.name} {app.version}" if app else "rpmdeploy release"
    notes = list(report.doubtful_licenses)
    if report.lint is not None:
        notes.append(report.lint.summary())
    return render_report(title, report.outcomes, report.seconds, pinned, where, notes, template_dir)

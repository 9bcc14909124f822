"""Machine-readable results: what ``--format json`` prints, one document per command.

Every document has ``"schema": "rpmdeploy/<kind>"`` and ``"version"`` (this module's
:data:`SCHEMA_VERSION`, raised when a field changes meaning or goes away; new fields may be
added within a version).  The JSON Schema is shipped as ``rpmdeploy/data/report.schema.json``
and the tests validate every document against it.  Paths are absolute strings; times are
seconds.  A failure is a document too (``"kind": "error"``), so a CI job always gets JSON on
stdout whatever happened, and the exit code says whether it worked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rpmdeploy.distributions import releases
from rpmdeploy.pin import Pin, PinChanges, PinResult
from rpmdeploy.pipeline import PackageOutcome, RpmsReport
from rpmdeploy.release import ReleaseReport
from rpmdeploy.repo import RepoReport
from rpmdeploy.verify import VerifyReport

if TYPE_CHECKING:  # multirelease imports the Copr client only when it is used
    from rpmdeploy.multirelease import MultiReleaseReport

SCHEMA_VERSION = 1
Json = dict[str, Any]


def document(kind: str, body: Json) -> Json:
    return {"schema": f"rpmdeploy/{kind}", "version": SCHEMA_VERSION, "kind": kind, **body}


def error(message: str, exit_code: int) -> Json:
    return document("error", {"error": message, "exit_code": exit_code})


def rpms(report: RpmsReport, logs: Path | None = None) -> Json:
    """``logs``: the run's log directory [the report's]."""
    return document(
        "rpms",
        {
            "ok": not report.failed,
            "out": _path(report.out),
            "seconds": round(report.seconds, 3),
            "logs": _path(logs or report.logs),
            "notes": list(report.notes),
            "counts": _counts(report.outcomes),
            "packages": [package(o) for o in report.outcomes],
        },
    )


def app(outcome: PackageOutcome, out: Path) -> Json:
    return document(
        "app", {"ok": outcome.status != "failed", "out": str(out), "package": package(outcome)}
    )


def release(report: ReleaseReport, logs: Path | None = None) -> Json:
    """``logs``: the run's log directory [the report's]."""
    return document(
        "release",
        {
            "ok": report.repo is not None,
            "seconds": round(report.seconds, 3),
            "logs": _path(logs or report.logs),
            "notes": list(report.notes),
            "counts": _counts(report.outcomes),
            "packages": [package(o) for o in report.outcomes],
            "repository": repository(report.repo) if report.repo else None,
            "verification": verification(report.verification) if report.verification else None,
            "doubtful_licenses": report.doubtful_licenses,
        },
    )


def release_targets(result: MultiReleaseReport) -> Json:
    """``release --targets``: a release document over every target (``counts`` and
    ``packages`` of all of them; ``repository``/``verification`` null, since there is one
    per target) with ``manifest`` and each target's own release fields under ``targets``."""
    reports = [one.report for one in result.targets]
    outcomes = tuple(o for r in reports for o in r.outcomes)
    body = release(replace(reports[0], outcomes=outcomes, repo=None, verification=None))
    body.update(
        ok=result.published,
        seconds=round(result.seconds, 3),
        manifest=_path(result.manifest),
        targets=[
            {
                "target": one.target.label,
                "build_target": one.target.target.name,
                "chroot": one.target.chroot,
                "out": str(one.repo_dir),
                **{
                    k: v
                    for k, v in release(one.report).items()
                    if k not in ("schema", "version", "kind")
                },
            }
            for one in result.targets
        ],
    )
    return body


def verify(report: VerifyReport) -> Json:
    return document("verify", verification(report))


def targets() -> Json:
    rows = [
        {
            "name": r.name,
            "python": r.python_version,
            "python_full": r.python_full_version,
            "dist": r.dist,
            "glibc": r.glibc,
            "arches": list(r.arches),
            "mock_config": r.mock_config,
        }
        for r in releases()
        if r.family == "rpm"
    ]
    return document("targets", {"targets": [{"name": "host"}, *rows]})


def pin(result: PinResult, log: Path | None = None) -> Json:
    """What ``rpmdeploy pin`` wrote: both files, what they were pinned for, and how each
    changed (``summary`` is the line the text output prints)."""
    record = result.pinned_for
    return document(
        "pin",
        {
            "ok": True,
            "pinned": str(result.path),
            "build": _path(result.build_path),
            "summary": result.changes.summary(),
            "target": record.target,
            "python": record.python,
            "platform": record.platform,
            "resolver": record.resolver,
            "uploaded_prior_to": record.uploaded_prior_to,
            "logs": _path(log),
            "changes": pin_changes(result.changes),
            "build_changes": pin_changes(result.build_changes),
            "sdists": list(result.sdists),
            "build_pins": result.build_pins,
        },
    )


# --- parts -------------------------------------------------------------------------------------


def package(o: PackageOutcome) -> Json:
    lic = o.license.license if o.license is not None else None
    return {
        "name": o.name,
        "version": o.version,
        "nevr": _nevr(o.rpms),
        "status": o.status,
        "source": o.source,
        "license": lic.expression if lic else None,
        "license_status": lic.status if lic else None,
        "seconds": round(o.seconds, 3),
        "log": _path(o.log),
        "error": o.error,
        "note": o.note,
        "build_only": o.build_only,
        "rpms": [str(p) for p in o.rpms],
        "srpm": _path(o.srpm),
    }


def repository(repo: RepoReport) -> Json:
    return {
        "path": str(repo.path),
        "revision": repo.revision,
        "added": list(repo.added),
        "kept": list(repo.kept),
        "pruned": list(repo.pruned),
        "size": repo.total_size,
        "signed": repo.signed,
        "unchanged": repo.unchanged,
    }


def verification(v: VerifyReport) -> Json:
    return {
        "repository": str(v.repo),
        "package": v.package,
        # What was proven: dnf installed these into an empty root; signatures as checked;
        # the import check's result.  What was assumed: the stand-in's declarations.
        "proven": {
            "installed": list(v.installed),
            "signatures": v.signatures,
            "import_check": v.import_check,
            "module_imports": v.module_imports,
        },
        # The stand-in's declarations: each grown one with where it came from, and which of
        # them the repository's packages really required.
        "assumed": {
            "capabilities": list(v.assumed),
            "packages": list(v.assumed_packages),
            "declared": [{"capability": c, "source": s} for c, s in v.declared],
            "relied_on": list(v.relied_on),
        },
        "timings": {step: round(seconds, 3) for step, seconds in v.timings},
    }


def pin_changes(changes: PinChanges) -> Json:
    """How one pinned file changed: counts, then each pin (``name``, ``version``; a move
    has ``from`` and ``to``)."""
    moves = {"upgraded": changes.upgraded, "downgraded": changes.downgraded}
    return {
        "counts": {
            "added": len(changes.added),
            "removed": len(changes.removed),
            **{label: len(pairs) for label, pairs in moves.items()},
            "unchanged": changes.unchanged,
        },
        "added": [_pin(p) for p in changes.added],
        "removed": [_pin(p) for p in changes.removed],
        **{
            label: [{"name": a.name, "from": a.version, "to": b.version} for a, b in pairs]
            for label, pairs in moves.items()
        },
        "summary": changes.summary(),
    }


def _pin(pin: Pin) -> Json:
    return {"name": pin.name, "version": pin.version, "extras": list(pin.extras)}


def _counts(outcomes: Iterable[PackageOutcome]) -> Json:
    counts = {s: 0 for s in ("built", "cached", "failed", "skipped")}
    for o in outcomes:
        counts[o.status] += 1
    return counts


def _nevr(rpms: Sequence[Path]) -> str | None:
    """name-[epoch:]version-release of the first binary RPM (its file name, less .arch.rpm)."""
    return rpms[0].name.rsplit(".", 2)[0] if rpms else None


def _path(path: Path | None) -> str | None:
    return str(path) if path is not None else None

"""Benchmark of `rpmdeploy rpms` (not a test): run `make bench`, figures go in the README.

A fixed set of wheels, all local (the build backends from the test wheelhouse plus generated
pure packages), is built three ways, and the script prints:

(a) rpmdeploy's wall time per package against the floor: a hand-written minimal spec per wheel
    (install with `python -m installer`, list site-packages) built with plain `rpmbuild -ba`,
    sequentially.  Artifacts are already fetched for both.  Target: <= 1.3x.
(b) a rerun with nothing changed against the cold build.  Target: < 2%.
(c) `--jobs 2` against `--jobs 1`, cold builds.  Target: >= 1.6x.

`python bench/bench_rpms.py targets` (needs PyPI) measures instead:

(d) an app whose compiled dependencies all have manylinux wheels (markupsafe, pyyaml,
    charset-normalizer, and pure six) pinned and built for `--target rocky-9` and for
    `--target host`: artifacts fetched first (not measured), then cold builds of each in
    turn (which goes first alternates between rounds), medians of five rounds; every package
    must come from a wheel (nothing compiled).  Target: rocky-9 <= 1.0x host.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from helpers import BACKEND_WHEELS, make_wheel  # noqa: E402

from rpmdeploy import settings  # noqa: E402
from rpmdeploy.cache import Cache  # noqa: E402
from rpmdeploy.pipeline import build_rpms  # noqa: E402

SYNTHETIC = 6  # generated pure packages, 40 modules each
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rpmdeploy-bench-"))
    try:
        wheels = prepare_wheels(work / "wheels")
        app = write_app(work / "app", wheels)
        print(f"{len(wheels)} wheels: {', '.join(w.name.split('-')[0] for w in wheels)}")
        cache = Cache(work / "cache")
        run(app, work / "warm", cache, jobs=1)  # fetch the artifacts once: not measured
        # Medians of REPEAT rounds, each round measuring all four in turn, so a burst of
        # load from elsewhere on the machine hits one round, not one figure.
        rounds = [
            (
                time_floor(wheels, work / f"floor-{i}"),
                cold_run(app, work, cache, jobs=1),
                timed(lambda: run(app, work / "out-1", cache, jobs=1)),
                cold_run(app, work, cache, jobs=2),
            )
            for i in range(REPEAT)
        ]
        floor, cold1, rerun, cold2 = (statistics.median(r[k] for r in rounds) for k in range(4))
        report(len(wheels), floor, cold1, rerun, cold2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prepare_wheels(dest: Path) -> list[Path]:
    dest.mkdir(parents=True)
    newest: dict[str, Path] = {}  # the wheelhouse may hold two setuptools (for Python 3.9)
    for wheel in sorted(BACKEND_WHEELS.glob("*.whl")):
        newest[wheel.name.split("-")[0]] = wheel
    for wheel in newest.values():
        shutil.copy(wheel, dest)
    body = "".join(f"def f{i}(x):\n    return x * {i} + len(str(x))\n\n" for i in range(60))
    for n in range(SYNTHETIC):
        name = f"benchpkg{n}"
        files = {f"{name}/__init__.py": '"""bench"""\n'}
        files.update({f"{name}/mod{i}.py": body for i in range(40)})
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{n}\nSummary: bench {n}\n"
        make_wheel(dest, name, f"1.{n}", meta, files)
    return sorted(dest.glob("*.whl"))


def write_app(app: Path, wheels: list[Path]) -> Path:
    app.mkdir(parents=True)
    lines = ["--no-index", f"--find-links {wheels[0].parent}"]
    for wheel in wheels:
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    (app / "dependencies.txt").write_text("\n".join(lines) + "\n")
    return app


FLOOR_SPEC = """\
Name: floor-{name}
Version: 1
Release: 1
Summary: floor
License: MIT
BuildArch: noarch
Source0: {wheel}
%description
floor
%install
{python} -m installer --destdir %{{buildroot}} --prefix /usr %{{SOURCE0}}
rm -f %{{buildroot}}/usr/lib/python3*/site-packages/*.dist-info/RECORD
%files
/usr/lib/python3*/site-packages/*
%exclude /usr/bin
"""


def time_floor(wheels: list[Path], work: Path) -> float:
    """Plain rpmbuild with a minimal hand-written spec per wheel, one after the other."""
    started = time.monotonic()
    for wheel in wheels:
        top = work / wheel.name
        (top / "SOURCES").mkdir(parents=True)
        shutil.copy(wheel, top / "SOURCES")
        spec = top / "floor.spec"
        name = wheel.name.split("-")[0].lower()
        spec.write_text(FLOOR_SPEC.format(name=name, wheel=wheel.name, python=sys.executable))
        subprocess.run(
            ["rpmbuild", "-ba", "--nodeps", "--define", f"_topdir {top}", str(spec)],
            check=True,
            capture_output=True,
        )
    return time.monotonic() - started


def run(app: Path, out: Path, cache: Cache, jobs: int) -> None:
    # The same settings path as the command line: `rpmdeploy rpms APP --jobs N --cache-dir C`.
    resolved = settings.resolve(app, {"jobs": jobs, "cache_dir": str(cache.root)}, env={})
    options = settings.rpms_options(resolved, env={})
    report = build_rpms(settings.load(resolved, options, externals=False), out, options)
    assert not report.failed, report.failed


def cold_run(app: Path, work: Path, cache: Cache, jobs: int) -> float:
    shutil.rmtree(cache.root / "builds", ignore_errors=True)
    return timed(lambda: run(app, work / f"out-{jobs}", cache, jobs=jobs))


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    action()
    return time.monotonic() - started


def report(count: int, floor: float, cold1: float, rerun: float, cold2: float) -> None:
    per_floor, per_cold = floor / count, cold1 / count
    print(
        f"(a) floor {per_floor:.2f}s/pkg, rpmdeploy --jobs 1 {per_cold:.2f}s/pkg: "
        f"{cold1 / floor:.2f}x (target <= 1.3x)"
    )
    print(
        f"(b) rerun, nothing changed: {rerun:.3f}s = {100 * rerun / cold1:.1f}% of the cold "
        "build (target < 2%)"
    )
    print(
        f"(c) --jobs 2 {cold2:.2f}s vs --jobs 1 {cold1:.2f}s: {cold1 / cold2:.2f}x (target >= 1.6x)"
    )


# --- (d) a distribution target from manylinux wheels against the host -------------------------

TARGET_APP = ("markupsafe", "pyyaml", "charset-normalizer", "six")
TARGETS = ("rocky-9", "host")
TARGET_REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))  # builds of four packages: more rounds
# A fixed date: the same versions (and wheels) every run.
PRIOR_TO = os.environ.get("BENCH_PRIOR_TO", "2026-10-01")


def targets_main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rpmdeploy-bench-targets-"))
    try:
        apps = {target: pin_for(work / target, target) for target in TARGETS}
        caches = {target: Cache(work / f"cache-{target}") for target in TARGETS}
        for target in TARGETS:  # fetch the wheels once: not measured
            built = run_target(apps[target], work / f"warm-{target}", caches[target], target)
            from_sdists = [o.name for o in built.outcomes if o.source == "sdist"]
            if from_sdists:
                sys.exit(f"{target}: built from sdists: {', '.join(from_sdists)}")
            print(f"{target}: " + ", ".join(f"{o.name} {o.artifact}" for o in built.outcomes))
        rounds = []
        for i in range(TARGET_REPEAT):
            times = {}
            # Each target first in every other round: neither always builds after the other.
            for target in TARGETS if i % 2 == 0 else TARGETS[::-1]:
                shutil.rmtree(caches[target].root / "builds", ignore_errors=True)
                out = work / f"out-{target}-{i}"
                times[target] = timed(lambda: run_target(apps[target], out, caches[target], target))  # noqa: B023
            rounds.append(times)
        print(
            "rounds (rocky-9/host): "
            + ", ".join(f"{r['rocky-9']:.2f}/{r['host']:.2f}" for r in rounds)
        )
        rocky, host = (statistics.median(r[t] for r in rounds) for t in TARGETS)
        count = len(TARGET_APP)
        print(
            f"(d) {count} packages from manylinux wheels, nothing compiled: rocky-9 "
            f"{rocky:.2f}s vs host {host:.2f}s: {rocky / host:.2f}x (target <= 1.0x), "
            f"medians of {TARGET_REPEAT} rounds"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pin_for(app: Path, target: str) -> Path:
    app.mkdir(parents=True)
    (app / "dependencies.in").write_text("".join(f"{name}\n" for name in TARGET_APP))
    pin = [sys.executable, "-m", "rpmdeploy", "pin", str(app), "--target", target]
    done = subprocess.run(
        [*pin, "--uploaded-prior-to", PRIOR_TO], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"pin for {target} failed:\n{done.stdout}{done.stderr}")
    return app


def run_target(app: Path, out: Path, cache: Cache, target: str):  # type: ignore[no-untyped-def]
    """`rpmdeploy rpms APP --target T --jobs 1 --cache-dir C`: the packages only."""
    given = {"jobs": 1, "cache_dir": str(cache.root), "target": target}
    resolved = settings.resolve(app, given, env={})
    options = settings.rpms_options(resolved, env={})
    report = build_rpms(settings.load(resolved, options, externals=False), out, options)
    assert not report.failed, report.failed
    return report


if __name__ == "__main__":
    targets_main() if sys.argv[1:] == ["targets"] else main()

"""Benchmark of the mock builder (not a test): run `make bench-mock`; figures go in the README.

Ten local wheels (generated pure packages) are built two ways with the real mock and the
config named by RPMDEPLOY_BENCH_MOCK_CONFIG [synthetic-x86_64], and the script prints:

(a) `rpmdeploy rpms --builder mock --jobs 2` (cold cache) against the naive way: the same
    SRPMs, `mock --rebuild` one after the other, each in a freshly cleaned chroot.
    Target: at least 3x faster.
(b) a rerun with nothing changed against the cold build.  Target: under 2 %.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from bench_rpms import write_app  # noqa: E402 - the same pinned-wheels app as bench_rpms
from helpers import make_wheel  # noqa: E402

from rpmdeploy import settings  # noqa: E402
from rpmdeploy.pipeline import build_rpms  # noqa: E402

CONFIG = os.environ.get("RPMDEPLOY_BENCH_MOCK_CONFIG", "synthetic-x86_64")
PACKAGES = 10


def main() -> None:
    if shutil.which("mock") is None:
        sys.exit("bench_mock: mock is not installed")
    work = Path(tempfile.mkdtemp(prefix="rpmdeploy-bench-mock-"))
    os.chmod(work, 0o755)
    try:
        app = write_app(work / "app", make_wheels(work / "wheels"))
        cache = work / "cache"
        started = time.monotonic()
        rpmdeploy(app, work / "out", cache)
        cold = time.monotonic() - started
        started = time.monotonic()
        rpmdeploy(app, work / "out-again", cache)
        rerun = time.monotonic() - started
        naive = naive_mock(sorted((work / "out" / "SRPMS").glob("*.src.rpm")), work / "naive")
        print(f"{PACKAGES} packages, mock config {CONFIG}")
        print(
            f"(a) rpmdeploy --builder mock --jobs 2: {cold:.1f}s; naive mock --rebuild one "
            f"after the other: {naive:.1f}s: {naive / cold:.2f}x faster (target >= 3x)"
        )
        print(
            f"(b) rerun, nothing changed: {rerun:.2f}s = {100 * rerun / cold:.1f}% of the "
            "cold build (target < 2%)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_wheels(dest: Path) -> list[Path]:
    dest.mkdir(parents=True)
    body = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(30))
    for n in range(PACKAGES):
        name = f"mockbench{n}"
        files = {f"{name}/__init__.py": '"""bench"""\n'}
        files.update({f"{name}/mod{i}.py": body for i in range(10)})
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{n}\nSummary: bench {n}\n"
        make_wheel(dest, name, f"1.{n}", meta, files)
    return sorted(dest.glob("*.whl"))


def rpmdeploy(app: Path, out: Path, cache: Path) -> None:
    given = {"jobs": 2, "cache_dir": str(cache), "builder": "mock", "mock_config": CONFIG}
    resolved = settings.resolve(app, given, env={})
    options = settings.rpms_options(resolved, env={})
    report = build_rpms(settings.load(resolved, options, externals=False), out, options)
    assert not report.failed, report.failed


def naive_mock(srpms: list[Path], results: Path) -> float:
    """What a release job without rpmdeploy does: one clean mock build per package."""
    results.mkdir()
    os.chmod(results, 0o777)
    started = time.monotonic()
    for srpm in srpms:
        subprocess.run(
            ["mock", "-r", CONFIG, "--rebuild", str(srpm), "--resultdir", str(results / srpm.name)],
            check=True,
            capture_output=True,
        )
    return time.monotonic() - started


if __name__ == "__main__":
    main()

"""Benchmark of `rpmdeploy pin` (not a test): run `make bench`, figures go in the README.

Seven top-level requirements (pyramid, cornice, sqlalchemy, gunicorn, requests, flask,
celery) are pinned from PyPI three ways, on the same input with the same (warm) cache state,
alternating within each round so a burst of load or network delay hits one round:

(a) `rpmdeploy pin` (uv, for the host) against `uv pip compile --generate-hashes` itself,
    both with uv's cache in the same directory.  Target: <= 1.2x.  rpmdeploy runs as users
    install it: built and installed from this checkout into a venv of its own (with uv, not
    measured), and the checkout's editable install (.venv) is timed beside it for reference:
    its import finder costs every start of Python about 15 ms.  Every run but the first
    finds the plan its command line left and starts uv early (rpmdeploy.prestart).
(b) `rpmdeploy pin` against `pip-compile --generate-hashes --allow-unsafe` with a warm pip
    cache.  Target: >= 5x faster.
(c) for reference: (a) with uv's cache emptied before every run (a first pin), and the time
    `rpmdeploy --version` takes (starting Python and importing the command line).

Each run starts without an output file (no preferences from an earlier pin).  Medians of
BENCH_REPEAT rounds (default 5, or ``--repeat N``; pip-compile runs in the first three).
``--no-pip-compile`` and ``--no-cold`` leave (b) and (c) out, for a quick look at (a).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = "pyramid\ncornice\nsqlalchemy\ngunicorn\nrequests\nflask\ncelery\n"
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
PIP_COMPILE_ROUNDS = 3
COLD_ROUNDS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEAT, help="rounds (median of them)")
    parser.add_argument("--no-pip-compile", action="store_true", help="leave (b) out")
    parser.add_argument("--no-cold", action="store_true", help="leave (c) out")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rpmdeploy-bench-pin-"))
    try:
        cache = work / "cache"
        env = clean_env(cache)
        app = work / "app"
        app.mkdir()
        (app / "dependencies.in").write_text(REQUIREMENTS)
        installed = install(work / "venv", env)
        runs = {
            "rpmdeploy pin": lambda: rpmdeploy_pin(installed, app, env),
            "uv pip compile": lambda: uv_compile(app, cache, env),
            "pip-compile": lambda: pip_compile(app, env),
            "  (checkout)": lambda: rpmdeploy_pin(BIN, app, env),
        }
        if args.no_pip_compile:
            del runs["pip-compile"]
        for name, job in runs.items():  # warm every cache once: not measured
            job()
            print(f"warm: {name}", file=sys.stderr)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for round_ in range(args.repeat):
            for name, job in runs.items():
                if name == "pip-compile" and round_ >= PIP_COMPILE_ROUNDS:
                    continue
                times[name].append(timed(job))
        report({name: statistics.median(t) for name, t in times.items()}, times)
        if args.no_cold:
            return
        cold: dict[str, list[float]] = {"rpmdeploy pin": [], "uv pip compile": []}
        for _ in range(COLD_ROUNDS):
            for name in cold:
                shutil.rmtree(cache / "tools" / "uv-cache", ignore_errors=True)
                cold[name].append(timed(runs[name]))
        version = [str(installed / "rpmdeploy"), "--version"]
        startup = [timed(lambda: run(version, env)) for _ in range(5)]
        report_reference({n: statistics.median(t) for n, t in cold.items()}, startup)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def clean_env(cache: Path) -> dict[str, str]:
    """No machine pip/uv configuration for any of the three; caches under ``cache``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        RPMDEPLOY_CACHE_DIR=str(cache),  # rpmdeploy's uv cache: CACHE/tools/uv-cache
        PIP_CONFIG_FILE=os.devnull,
        PIP_CACHE_DIR=str(cache / "pip"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    return env


def fresh(app: Path, name: str) -> Path:
    for stale in (app / name, app / "dependencies.txt", app / "build-dependencies.txt"):
        stale.unlink(missing_ok=True)
    return app / name


def install(venv: Path, env: dict[str, str]) -> Path:
    """rpmdeploy built from this checkout and installed into ``venv``, as ``pip install``
    would; its bin directory."""
    run([str(BIN / "uv"), "venv", "-q", "--python", sys.executable, str(venv)], env)
    python = str(venv / "bin" / "python")
    # --compile-bytecode: as pip does (uv leaves it to the first import, which cannot write
    # it where PYTHONDONTWRITEBYTECODE is set, compiling every module at every start).
    argv = [str(BIN / "uv"), "pip", "install", "-q", "--compile-bytecode", "--python", python]
    run([*argv, str(REPO)], env)
    return venv / "bin"


def rpmdeploy_pin(bin_dir: Path, app: Path, env: dict[str, str]) -> None:
    fresh(app, "dependencies.txt")
    run([str(bin_dir / "rpmdeploy"), "pin", "--target", "host", str(app)], env)


def uv_compile(app: Path, cache: Path, env: dict[str, str]) -> None:
    out = fresh(app, "uv.txt")
    uv = [str(BIN / "uv"), "pip", "compile", "--quiet", "--no-config", "--generate-hashes"]
    uv += ["--python", sys.executable]
    uv += ["--cache-dir", str(cache / "tools" / "uv-cache"), "-o", str(out), "dependencies.in"]
    run(uv, env, cwd=app)


def pip_compile(app: Path, env: dict[str, str]) -> None:
    out = fresh(app, "pip-compile.txt")
    argv = [str(BIN / "pip-compile"), "--quiet", "--generate-hashes", "--allow-unsafe"]
    run([*argv, "-o", str(out), "dependencies.in"], env, cwd=app)


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr}")


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def report(median: dict[str, float], times: dict[str, list[float]]) -> None:
    pin, uv = median["rpmdeploy pin"], median["uv pip compile"]
    for name, values in times.items():
        print(f"{name:<16} median {median[name]:6.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")
    verdict_a = "ok" if pin <= 1.2 * uv else "MISSED"
    print(f"(a) rpmdeploy pin / uv pip compile: {pin / uv:.2f}x (target <= 1.2x): {verdict_a}")
    if "  (checkout)" in median:
        print(f"    from the checkout's editable install: {median['  (checkout)'] / uv:.2f}x")
    if "pip-compile" in median:
        piptools = median["pip-compile"]
        verdict_b = "ok" if piptools >= 5 * pin else "MISSED"
        print(f"(b) pip-compile / rpmdeploy pin: {piptools / pin:.1f}x (target >= 5x): {verdict_b}")


def report_reference(cold: dict[str, float], startup: list[float]) -> None:
    pin, uv = cold["rpmdeploy pin"], cold["uv pip compile"]
    print(f"(c) cold uv cache: rpmdeploy pin {pin:.2f} s, uv {uv:.2f} s ({pin / uv:.2f}x)")
    floor = statistics.median(startup)
    print(f"    rpmdeploy --version (Python start and imports): {floor:.2f} s")


if __name__ == "__main__":
    main()

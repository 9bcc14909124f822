"""Benchmark of the copr builder's own overhead (not a test): run `make bench-copr`.

Against the stand-in Copr of the tests (``tests/helpers/copr_frontend.py``) with its builds
replaced by **instant fake results** (``--fake``: the uploaded SRPM and one small noarch RPM,
published with createrepo_c) — clearly not real builds: this measures what rpmdeploy itself
spends, not what a build farm does.  For N generated packages (N = 50 and 200), in a child
process of its own (so its memory is rpmdeploy's alone), the copr builder takes one level:

- the SRPMs are made (``rpmbuild -bs``, as for the mock builder: reported apart);
- cold: every package submitted (upload + create, one batch), watched (one listing per poll),
  its results downloaded and checked against the repository metadata;
- rerun elsewhere (fresh work directories): every package found in the project and reused.

Overhead per package = (the builder's wall time - SRPM time - the stand-in's own busy time) / N.
Targets: under 0.1 s per package; under 200 MB RSS at N = 200, flat in N.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

POLL = 0.2


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), int(sys.argv[3]))
        return
    work = Path(tempfile.mkdtemp(prefix="rpmdeploy-bench-copr-"))
    os.chmod(work, 0o755)
    frontend = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests/helpers/copr_frontend.py"),
            str(work / "copr"),
            "none",
            "--fake",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert frontend.stdout is not None
        info = json.loads(frontend.stdout.readline())
        config = work / "copr-config"
        config.write_text(
            f"[copr-cli]\nlogin = {info['login']}\nusername = {info['login']}\n"
            f"token = {info['token']}\ncopr_url = {info['url']}\nencrypted = False\n"
        )
        print("copr builder overhead, stand-in Copr with instant FAKE builds (bench only)")
        for n in (50, 200):
            figures = run_child(work / f"n{n}", n, config, info["url"])
            report(n, figures)
    finally:
        frontend.terminate()
        frontend.wait(timeout=30)
        subprocess.run(["rm", "-rf", str(work)], check=False)


def run_child(work: Path, n: int, config: Path, url: str) -> dict[str, float]:
    work.mkdir()
    env = {
        **os.environ,
        "RPMDEPLOY_BENCH_COPR_CONFIG": str(config),
        "RPMDEPLOY_BENCH_COPR_URL": url,
    }
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(work), str(n)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def report(n: int, f: dict[str, float]) -> None:
    cold = (f["cold"] - f["busy_cold"]) / n
    rerun = (f["rerun"] - f["busy_rerun"]) / n
    print(
        f"N={n}: SRPMs {f['srpm_cold']:.1f}s ({f['srpm_cold'] / n:.3f}s each, rpmbuild -bs, "
        "apart); "
        f"cold submit+watch+download {f['cold']:.1f}s (stand-in busy {f['busy_cold']:.1f}s): "
        f"{cold:.3f}s per package; rerun (all reused) {f['rerun']:.1f}s: {rerun:.3f}s per "
        f"package (target < 0.1s); uploads {f['uploads_cold']:.0f} then {f['uploads_rerun']:.0f}; "
        f"max RSS {f['rss_mb']:.0f} MB (target < 200 MB)"
    )


# --- the child: rpmdeploy's process ----------------------------------------------------------


def child(work: Path, n: int) -> None:
    from rpmdeploy.builders import BuilderContext
    from rpmdeploy.builders.copr import CoprBuilder
    from rpmdeploy.cache import Cache
    from rpmdeploy.targets import resolve_target

    requests = [make_request(work / "specs", i) for i in range(n)]
    target = resolve_target("host")
    settings = {
        "copr-project": f"bench/n{n}",
        "copr-chroot": "fake-x86_64",
        "copr-poll-interval": str(POLL),
        "copr-config": os.environ["RPMDEPLOY_BENCH_COPR_CONFIG"],
    }
    context = BuilderContext(target=target, cache=Cache(work / "cache"), jobs=2, settings=settings)
    figures: dict[str, float] = {}
    for run in ("cold", "rerun"):
        before = stats()
        busy = before["busy_seconds"]
        with CoprBuilder(context) as builder:
            prepare = builder._prepare
            spent = [0.0]

            def timed(items, prepare=prepare, spent=spent):  # type: ignore[no-untyped-def]
                began = time.monotonic()
                try:
                    return prepare(items)
                finally:
                    spent[0] += time.monotonic() - began

            builder._prepare = timed  # type: ignore[method-assign]
            started = time.monotonic()
            work_items = [(r, fresh(work, run)) for r in requests]
            outcomes = list(builder.build_level(work_items, lambda message: None))
            elapsed = time.monotonic() - started
        failed = [o for _, o in outcomes if isinstance(o, Exception)]
        assert not failed and len(outcomes) == n, failed[:3]
        figures[run] = elapsed - spent[0]  # the SRPMs (rpmbuild -bs) are reported apart
        figures[f"srpm_{run}"] = spent[0]
        now = stats()
        figures[f"busy_{run}"] = now["busy_seconds"] - busy
        figures[f"uploads_{run}"] = now["uploads"] - before["uploads"]
    figures["rss_mb"] = peak_rss_mb()
    print(json.dumps(figures))


def make_request(root: Path, i: int):  # type: ignore[no-untyped-def]
    from rpmdeploy.builders import BuildRequest

    root.mkdir(parents=True, exist_ok=True)
    name = f"bench-pkg-{i:04d}"
    source = root / f"{name}.txt"
    source.write_text(f"{name}\n" * 200)
    spec = root / f"{name}.spec"
    spec.write_text(
        f"Name: {name}\nVersion: 1.0\nRelease: 1\nSummary: bench\nLicense: MIT\n"
        f"BuildArch: noarch\nSource0: {source.name}\n%description\nbench\n"
        "%install\nmkdir -p %{buildroot}/usr/share/bench\n%files\n"
    )
    return BuildRequest(
        label=f"{name} 1.0", spec=spec, sources=(source,), source_date_epoch=315532800
    )


_counter = [0]


def fresh(work: Path, kind: str) -> Path:
    _counter[0] += 1
    path = work / kind / str(_counter[0])
    path.mkdir(parents=True)
    return path


def stats() -> dict[str, float]:
    with urllib.request.urlopen(os.environ["RPMDEPLOY_BENCH_COPR_URL"] + "/standin/stats") as r:
        return dict(json.loads(r.read()))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()

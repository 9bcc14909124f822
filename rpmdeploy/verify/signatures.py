"""Package signatures, checked against one given key and nothing else.

Every package of the repository, binary and source, goes through ``rpmkeys --checksig``
against a keyring made for this run (never the host's rpmdb), with ``_pkgverify_level all``
so an unsigned package fails too instead of passing on its digests alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.errors import VerifyError
from rpmdeploy.verify._logged import run_logged, truncate


def check_package_signatures(repo_dir: Path, key: Path, keyring: Path, log: Path) -> int:
    """Check every RPM of the repository against ``key`` alone; return how many were checked.

    A VerifyError names each package that failed (relative to ``repo_dir``).
    """
    packages = sorted(
        [*repo_dir.glob("Packages/*.rpm"), *repo_dir.glob("SRPMS/*.rpm"), *repo_dir.glob("*.rpm")]
    )
    if not packages:
        raise VerifyError(f"{repo_dir} holds no packages")
    keyring.mkdir(parents=True)
    run(
        ["rpmkeys", "--dbpath", keyring, "--import", key],
        log=log,
        what=f"importing {key} into a private keyring",
        error=VerifyError,
    )
    argv: list[str | os.PathLike[str]] = [
        "rpmkeys",
        "--dbpath",
        keyring,
        "--define",
        "_pkgverify_level all",
        "--checksig",
        *packages,
    ]
    ok, output = run_logged(argv, log, "checking package signatures")
    bad = []
    for line in output.splitlines():
        path, sep, verdict = line.partition(": ")
        if sep and path.endswith(".rpm") and (not verdict.endswith("OK") or "NOT OK" in verdict):
            bad.append(f"{os.path.relpath(path, repo_dir)} ({verdict.strip()})")
    if bad or not ok:
        detail = "; ".join(bad) if bad else "rpmkeys failed"
        raise VerifyError(
            truncate(f"signature check failed against {key.name}: {detail}"), log=str(log)
        )
    return len(packages)

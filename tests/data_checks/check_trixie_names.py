#!/usr/bin/env python3
"""Check the table's Debian 13 (trixie) names from any Debian machine.

Not a pytest test.  Fetches trixie's main package lists into a throwaway apt state directory
(the host's /etc/apt and /var/lib/apt are not touched), then runs the same check as
check_debian_names.py for debian-13.  Needs network access to deb.debian.org and the Debian
archive keyring (apt-get may warn that it runs unsandboxed; that is harmless here).

    python3 tests/data_checks/check_trixie_names.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_debian_names import apt_state_options, check  # noqa: E402

SOURCE = "deb http://deb.debian.org/debian trixie main\n"


def fetch_lists(state: Path) -> None:
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text(SOURCE, encoding="utf-8")
    (state / "status").touch()
    subprocess.run(  # noqa: S603  (fixed argument list, no shell)
        ["apt-get", "-q", *apt_state_options(state), "update"],
        check=True,
        env={"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="use (and keep) this state directory")
    args = parser.parse_args(argv)
    if args.keep:
        fetch_lists(args.keep)
        return check("debian-13", apt_state_options(args.keep))
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-trixie-") as tmp:
        fetch_lists(Path(tmp))
        return check("debian-13", apt_state_options(Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())

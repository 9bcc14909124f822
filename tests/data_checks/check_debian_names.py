#!/usr/bin/env python3
"""Check that every Debian package name in rpmdeploy/data/externals.toml exists.

Not a pytest test: it needs apt and Debian's package lists.  On a Debian 12 machine, after
``apt-get update``::

    python3 tests/data_checks/check_debian_names.py

checks every build and run name the table gives for debian-12 against the host's lists.
``--distro debian-13 --apt-state DIR`` checks another release against lists fetched into a
throwaway apt state directory (see check_trixie_names.py, which does that).  A name passes
when ``apt-cache policy`` shows a candidate version: a purely virtual name does not pass,
because a run-time Requires on it would pick an arbitrary provider.

Exit status: 0 when every name passes, 1 when some do not (they are listed), 2 on misuse.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from rpmdeploy.externals import (  # noqa: E402  (needs the repository on sys.path first)
    load_mapping,
    map_hints,
    parse_hints,
    resolve_distro,
)


def apt_state_options(state: Path) -> list[str]:
    """apt options that read package lists from ``state`` instead of the host's."""
    return [
        "-o",
        f"Dir::State={state}",
        "-o",
        f"Dir::State::status={state}/status",
        "-o",
        f"Dir::Etc::SourceList={state}/sources.list",
        "-o",
        "Dir::Etc::SourceParts=/dev/null",
        "-o",
        f"Dir::Cache={state}/cache",
    ]


def table_names(distro_name: str) -> dict[str, list[str]]:
    """Package name -> the table keys that use it, for ``distro_name``."""
    distro = resolve_distro(distro_name)
    if distro.family != "deb":
        raise SystemExit(f"{distro_name} is not a Debian-family distribution")
    table = load_mapping(None)
    hints = parse_hints("\n".join(table.entries), source="externals.toml keys")
    names: dict[str, list[str]] = {}
    for mapped in map_hints(hints, distro, table, strict=True):
        for field_text in (*mapped.build, *mapped.run):
            for name in field_text.split("|"):
                names.setdefault(name.strip(), []).append(mapped.key or mapped.hint.name)
    return names


def candidates(names: Sequence[str], apt_options: Sequence[str]) -> dict[str, str]:
    """Package name -> candidate version ("(none)" for virtual names); unknown names absent."""
    result = subprocess.run(  # noqa: S603  (fixed argument list, no shell)
        ["apt-cache", *apt_options, "policy", *names],
        capture_output=True,
        text=True,
        check=False,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    found: dict[str, str] = {}
    current = None
    for line in result.stdout.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            current = line[:-1]
        elif current and line.strip().startswith("Candidate:"):
            found[current] = line.split(":", 1)[1].strip()
    return found


def check(distro_name: str, apt_options: Sequence[str]) -> int:
    names = table_names(distro_name)
    found = candidates(sorted(names), apt_options)
    bad = []
    for name in sorted(names):
        version = found.get(name)
        if version is None or version == "(none)":
            why = "no such package" if version is None else "virtual, no candidate"
            bad.append(f"  {name} ({why}; used by {', '.join(sorted(set(names[name])))})")
    print(f"{distro_name}: {len(names) - len(bad)} of {len(names)} package names found")
    if bad:
        print("missing:")
        print("\n".join(bad))
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distro", default="debian-12", help="table release to check")
    parser.add_argument(
        "--apt-state", type=Path, help="apt state directory holding that release's lists"
    )
    args = parser.parse_args(argv)
    options = apt_state_options(args.apt_state) if args.apt_state else []
    return check(args.distro, options)


if __name__ == "__main__":
    sys.exit(main())

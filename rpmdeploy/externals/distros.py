"""The distributions package names are mapped for, as the mapping sees them.

Contract: a ``Distro`` is ``rpmdeploy.distributions.Distribution`` (one row of the one
distributions table; ``table_name`` is its release layer in the mapping table).
``resolve_distro`` accepts every name ``distributions.find_release`` does, ``None``/``host``
for this machine, and raises ``UsageError`` listing the known names otherwise;
``table_distros`` gives one release per mapping-table layer, for ``--distro all``.
"""

from __future__ import annotations

from pathlib import Path

from rpmdeploy.distributions import (
    OS_RELEASE,
    Distribution,
    find_release,
    host_distribution,
    parse_os_release,
    releases,
)
from rpmdeploy.errors import UsageError

#: ``--distro all``: every release layer of the mapping table.
ALL = "all"

Distro = Distribution

__all__ = ["ALL", "Distro", "known_distros", "parse_os_release", "resolve_distro", "table_distros"]


def known_distros() -> list[Distro]:
    """Every distribution release the table covers, in a stable order."""
    return list(releases())


def table_distros() -> list[Distro]:
    """One distribution per table release (``el-9`` stands for RHEL, Rocky, Alma, Stream)."""
    seen: dict[str, Distro] = {}
    for distro in known_distros():
        seen.setdefault(distro.table_name, distro)
    return list(seen.values())


def resolve_distro(name: str | None, os_release: Path = OS_RELEASE) -> Distro:
    """The Distro called ``name`` (``fedora-43``, ``rocky-9-x86_64``, ``debian``, ``noble``...).

    ``None`` (or ``host``) means the machine's own distribution, read from ``os_release``.
    A bare name (``fedora``, ``debian``) is its newest numbered release here.
    """
    if name is None or name.strip() in ("", "host"):
        return host_distribution(os_release)
    distro = find_release(name)
    if distro is None:
        raise UsageError(
            f"unknown distribution {name!r}; known: "
            + ", ".join(d.name for d in known_distros())
            + f", their bare names (newest release), mock names such as rocky-9-x86_64, "
            f"or '{ALL}'"
        )
    return distro

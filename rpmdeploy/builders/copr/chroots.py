"""Which Copr chroot builds a target: ``rpmdeploy/data/copr-chroots.toml`` (data, not code).

A Copr chroot is named DISTRIBUTION-RELEASE-ARCH (``epel-9-x86_64``); the table maps each RPM
release rpmdeploy knows (``rocky-9``) to the first part (``epel-9``) and the target's
architecture completes it.  ``[builder] copr-chroot`` names the chroot directly, for a Copr
whose chroots are named otherwise (and for the host target, which has no distribution).
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

from rpmdeploy.errors import RpmdeployError, UsageError
from rpmdeploy.targets import Target

SHIPPED = "rpmdeploy/data/copr-chroots.toml"
#: A Copr chroot name: DISTRIBUTION-RELEASE-ARCH in lowercase letters, digits, '.', '_', '-'.
CHROOT = re.compile(r"^[a-z0-9][a-z0-9._+-]*-[a-z0-9_]+$")


def load_chroots(text: str, source: str) -> dict[str, str]:
    """Parse and check a chroot table (see ``data/copr-chroots.toml``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RpmdeployError(f"{source}: not valid TOML: {exc}") from exc
    if data.get("schema") != 1 or set(data) - {"schema", "chroots"}:
        raise RpmdeployError(f"{source}: expected schema = 1 and a [chroots] table only")
    table = data.get("chroots", {})
    for release, chroot in table.items():
        if not isinstance(chroot, str) or not CHROOT.match(f"{chroot}-x86_64"):
            raise RpmdeployError(f"{source}: [chroots] {release}: {chroot!r} is no chroot name")
    return dict(table)


@lru_cache(maxsize=1)
def shipped_chroots() -> dict[str, str]:
    resource = resources.files("rpmdeploy").joinpath("data", "copr-chroots.toml")
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError as exc:
        raise RpmdeployError(f"{SHIPPED} is unreadable: {exc}") from exc
    return load_chroots(text, SHIPPED)


def chroot_for(target: Target, override: str | None = None) -> str:
    """The Copr chroot that builds ``target`` (``override``: a chroot named by the operator)."""
    if override:
        if not CHROOT.match(override):
            raise UsageError(
                f"invalid copr-chroot {override!r}: a Copr chroot name such as epel-9-x86_64"
            )
        return override
    release = target.name.removesuffix(f"-{target.arch}")
    prefix = None if target.is_host else shipped_chroots().get(release)
    if prefix is None:
        raise UsageError(
            f"target {target.name} has no Copr chroot: choose a distribution target "
            "(--target rocky-9-x86_64, say) or name the chroot with [builder] copr-chroot"
        )
    return f"{prefix}-{target.arch}"

"""Publishing into ``--out``: RPMS/<arch>/, SRPMS/, logs/ and the release history.

Each file appears whole (written beside, then renamed); ``rpms`` and ``app`` call this only
when every package succeeded, so a failed run leaves ``--out`` as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rpmdeploy.cache import link_or_copy
from rpmdeploy.releases import HISTORY_FILE, History, check_replacements

if TYPE_CHECKING:  # the pipeline imports this module
    from rpmdeploy.pipeline import PackageOutcome


def publish(outcomes: list[PackageOutcome], out: Path, history: History | None = None) -> None:
    """Copy results into ``out``: RPMS/<arch>/, SRPMS/, logs/.  Each file appears whole.

    A package already in ``out`` under the same file name with other content is refused
    (``rpmdeploy.releases``); ``history`` is written to ``out/rpmdeploy-history.json``."""
    check_replacements(
        [(p, out / "RPMS" / p.name.rsplit(".", 2)[-2] / p.name) for o in outcomes for p in o.rpms]
        + [(o.srpm, out / "SRPMS" / o.srpm.name) for o in outcomes if o.srpm is not None]
    )
    for outcome in outcomes:
        for rpm_path in outcome.rpms:
            arch = rpm_path.name.rsplit(".", 2)[-2]
            _atomic_copy(rpm_path, out / "RPMS" / arch / rpm_path.name)
        if outcome.srpm is not None:
            _atomic_copy(outcome.srpm, out / "SRPMS" / outcome.srpm.name)
        if outcome.log is not None:
            _atomic_copy(outcome.log, out / "logs" / f"{outcome.name}.log")
    if history is not None:
        history.save(out / HISTORY_FILE)


def _atomic_copy(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    link_or_copy(source, tmp)
    os.replace(tmp, dest)

"""What a wheel's or an sdist's file name says: its project and version.

One reader of artifact file names (packaging's parsers, PEP 427 and PEP 625) for every
module that meets them: the indexes and find-links directories (``indexes``), fetched files
(``fetch``), uv's find-links candidates (``pin_uv``).  Standard library and packaging only,
so ``rpmdeploy pin`` can use it without loading the network modules.
"""

from __future__ import annotations

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version


def artifact_key(filename: str) -> tuple[NormalizedName, Version] | None:
    """(canonical project name, version) of a wheel or sdist file name; None for anything
    else (another kind of file, a name that is not a valid wheel or sdist name)."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return name, version
        return parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def project_name(filename: str) -> NormalizedName | None:
    """The canonical project name of a wheel or sdist file name, or None for anything else."""
    key = artifact_key(filename)
    return key[0] if key is not None else None

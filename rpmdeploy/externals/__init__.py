"""External dependencies: the system packages an app needs, for a target distribution.

An app directory lists its system-level needs in ``external-dependencies.txt``, one hint per
line, written in any of the styles people use (``hints``).  ``map_hints`` (``mapping``) turns
each hint into the build-time (headers) and run-time package names of one distribution, from
the curated table shipped in ``rpmdeploy/data/externals.toml`` plus the app's own
``external-mappings.toml`` (``table``); a hint the table does not know is mapped by a
fallback that is always labelled.  ``relations`` renders mapped hints as RPM or Debian
requirement strings, ``report`` is what ``rpmdeploy map-externals`` prints.  Distributions
(``distros``) are the rows of ``rpmdeploy/data/distributions.toml``, shared with the build
targets.

The names below are the package's interface; import them from ``rpmdeploy.externals``.
"""

from __future__ import annotations

from rpmdeploy.externals.distros import (
    ALL,
    Distro,
    known_distros,
    parse_os_release,
    resolve_distro,
    table_distros,
)
from rpmdeploy.externals.hints import HINTS_FILE, Constraint, Hint, parse_hints, read_hints
from rpmdeploy.externals.mapping import (
    RESOLVED_GUESS,
    RESOLVED_OVERRIDE,
    RESOLVED_PKGCONFIG,
    RESOLVED_TABLE,
    MappedHint,
    hint_applies,
    map_hints,
)
from rpmdeploy.externals.relations import rpm_build_requires, rpm_requires
from rpmdeploy.externals.report import FORMATS, report
from rpmdeploy.externals.table import (
    BASE_LAYERS,
    FAMILY_LAYERS,
    KINDS,
    MAPPINGS_FILE,
    Entry,
    Layer,
    MappingTable,
    load_mapping,
)

__all__ = [
    "ALL",
    "BASE_LAYERS",
    "FAMILY_LAYERS",
    "FORMATS",
    "HINTS_FILE",
    "KINDS",
    "MAPPINGS_FILE",
    "RESOLVED_GUESS",
    "RESOLVED_OVERRIDE",
    "RESOLVED_PKGCONFIG",
    "RESOLVED_TABLE",
    "Constraint",
    "Distro",
    "Entry",
    "Hint",
    "Layer",
    "MappedHint",
    "MappingTable",
    "hint_applies",
    "known_distros",
    "load_mapping",
    "map_hints",
    "parse_hints",
    "parse_os_release",
    "read_hints",
    "report",
    "resolve_distro",
    "rpm_build_requires",
    "rpm_requires",
    "table_distros",
]

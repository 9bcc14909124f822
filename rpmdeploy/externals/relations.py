"""Relations: mapped hints rendered as requirement strings of their distribution's syntax.

Contract: ``rendered`` gives one mapped hint's build or run names with its version
constraints on the primary name, as RPM requirements (``name >= 1``; ``!=`` and guessed
alternatives as rich dependencies) or Debian relations (``name (>= 1)``, ``a | b``).
``rpm_requires``/``rpm_build_requires`` give a spec's ``Requires:``/``BuildRequires:``
values in order without repeats, and raise ``UsageError`` for a ``.deb`` distribution.
"""

from __future__ import annotations

from collections.abc import Sequence

from rpmdeploy.errors import UsageError
from rpmdeploy.externals.hints import Constraint
from rpmdeploy.externals.mapping import MappedHint


def rpm_requires(mapped: Sequence[MappedHint]) -> list[str]:
    """``Requires:`` values (run-time names, RPM version syntax), in order, without repeats."""
    return _rpm_lines(mapped, "run")


def rpm_build_requires(mapped: Sequence[MappedHint]) -> list[str]:
    """``BuildRequires:`` values (build-time names, RPM version syntax), without repeats."""
    return _rpm_lines(mapped, "build")


def _rpm_lines(mapped: Sequence[MappedHint], which: str) -> list[str]:
    lines: dict[str, None] = {}
    for item in mapped:
        if item.distro.family != "rpm":
            raise UsageError(f"RPM requirements need an RPM distribution, not {item.distro.name}")
        for line in rendered(item, which):
            lines.setdefault(line, None)
    return list(lines)


def rendered(item: MappedHint, which: str) -> list[str]:
    """The requirement strings of one mapped hint, in its distribution's syntax."""
    names: tuple[str, ...] = getattr(item, which)
    out: list[str] = []
    for position, name in enumerate(names):
        constraints = item.constraints if position == 0 else ()
        if item.distro.family == "rpm":
            out.extend(_rpm_requirement(name, constraints))
        else:
            out.append(_deb_relation(name, constraints))
    return out


def _rpm_atoms(name: str, constraints: Sequence[Constraint]) -> list[str]:
    if not constraints:
        return [name]
    atoms = []
    for constraint in constraints:
        if constraint.op == "!=":
            atoms.append(f"({name} < {constraint.version} or {name} > {constraint.version})")
        else:
            atoms.append(f"{name} {constraint.op} {constraint.version}")
    return atoms


def _rpm_requirement(field_text: str, constraints: Sequence[Constraint]) -> list[str]:
    alternatives = [part.strip() for part in field_text.split("|")]
    if len(alternatives) == 1:
        return _rpm_atoms(alternatives[0], constraints)
    parts = []
    for alternative in alternatives:
        atoms = _rpm_atoms(alternative, constraints)
        parts.append(atoms[0] if len(atoms) == 1 else "(" + " with ".join(atoms) + ")")
    return ["(" + " or ".join(parts) + ")"]


_DEB_OPS = {"<": "<<", "<=": "<=", "=": "=", ">=": ">=", ">": ">>"}


def _deb_relation(field_text: str, constraints: Sequence[Constraint]) -> str:
    alternatives = [part.strip() for part in field_text.split("|")]
    if len(alternatives) > 1:
        return " | ".join(_deb_relation(part, constraints) for part in alternatives)
    name = alternatives[0]
    if not constraints:
        return name
    relations = []
    for constraint in constraints:
        if constraint.op == "!=":
            relations.append(f"{name} (<< {constraint.version}) | {name} (>> {constraint.version})")
        else:
            relations.append(f"{name} ({_DEB_OPS[constraint.op]} {constraint.version})")
    return ", ".join(relations)

"""The build order: dependency levels from the specs' BuildRequires among the pinned set.

A builder whose builds see earlier results (mock with a local repository, Copr with
batches) must build a package only after every pinned package its build requires.
:func:`levels` groups the packages into levels: each level needs only packages of earlier
levels, and the packages of one level can build side by side.  A cycle is an error naming it.
A builder that builds without installing BuildRequires (the host's rpmbuild) gets one level.

Within a level the biggest package goes first (longest-processing-time first): a large
package started last would otherwise leave the other workers idle at the end.

Pure functions over plain data: no building happens here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rpmdeploy.errors import BuildError

# "python3dist(foo) >= 1.0" -> "python3dist(foo)"; "(a or b)" rich deps are not split.
_CAPABILITY_NAME = re.compile(r"^\s*([^\s<>=]+)")


@dataclass(frozen=True)
class Unit:
    """One package to schedule."""

    name: str
    provides: frozenset[str]  # capability names, without versions
    build_requires: frozenset[str]
    weight: int = 0  # bigger builds first within a level (artifact size)


def capability_name(dependency: str) -> str:
    """The name part of an rpm dependency string (``python3dist(x) >= 1`` -> ``python3dist(x)``)."""
    match = _CAPABILITY_NAME.match(dependency)
    return match.group(1) if match else dependency.strip()


def dependencies(units: Sequence[Unit]) -> dict[str, frozenset[str]]:
    """For each unit, the other units of the set whose packages its build requires."""
    providers: dict[str, set[str]] = {}
    for unit in units:
        for capability in unit.provides:
            providers.setdefault(capability, set()).add(unit.name)
    return {
        unit.name: frozenset(
            provider
            for capability in unit.build_requires
            for provider in providers.get(capability, ())
            if provider != unit.name
        )
        for unit in units
    }


def levels(units: Sequence[Unit]) -> list[list[Unit]]:
    """Units grouped so that each level needs only earlier levels, biggest first in each.

    Raises BuildError naming a cycle when the BuildRequires go round in a circle.
    """
    needs = dependencies(units)
    by_name = {unit.name: unit for unit in units}
    done: set[str] = set()
    result: list[list[Unit]] = []
    while len(done) < len(units):
        ready = [u for u in units if u.name not in done and needs[u.name] <= done]
        if not ready:
            left = {name: needs[name] - done for name in by_name if name not in done}
            raise BuildError(f"build dependency cycle: {' -> '.join(find_cycle(left))}")
        result.append(biggest_first(ready))
        done.update(u.name for u in ready)
    return result


def one_level(units: Sequence[Unit]) -> list[list[Unit]]:
    """Every unit in one level (a builder that needs no order), biggest first."""
    return [biggest_first(units)] if units else []


def biggest_first(units: Sequence[Unit]) -> list[Unit]:
    return sorted(units, key=lambda u: (-u.weight, u.name))


def find_cycle(graph: Mapping[str, frozenset[str]]) -> list[str]:
    """A cycle in ``graph`` (node -> nodes it needs) as [a, b, ..., a]; [] if there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def blocked_by(name: str, needs: Mapping[str, frozenset[str]], failed: set[str]) -> str | None:
    """The failed (or skipped) package that keeps ``name`` from building, if any."""
    return next((dep for dep in sorted(needs.get(name, ())) if dep in failed), None)

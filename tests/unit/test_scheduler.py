"""Dependency levels from BuildRequires among the pinned set."""

from __future__ import annotations

import pytest

from rpmdeploy.errors import BuildError
from rpmdeploy.scheduler import Unit, capability_name, find_cycle, levels, one_level


def unit(name: str, needs: tuple[str, ...] = (), weight: int = 0) -> Unit:
    return Unit(
        name,
        frozenset({f"python3dist({name})"}),
        frozenset(f"python3dist({n})" for n in needs),
        weight,
    )


def names(result: list[list[Unit]]) -> list[list[str]]:
    return [[u.name for u in level] for level in result]


@pytest.mark.parametrize(
    ("dependency", "name"),
    [
        ("python3dist(foo) >= 1.0", "python3dist(foo)"),
        ("gcc", "gcc"),
        ("  python3-devel", "python3-devel"),
        ("pkgconfig(libpq)=9", "pkgconfig(libpq)"),
    ],
)
def test_capability_name(dependency: str, name: str) -> None:
    assert capability_name(dependency) == name


def test_levels_put_backends_first_and_biggest_first_within_a_level() -> None:
    units = [
        unit("app", ("flask", "hatchling")),
        unit("flask", ("flit-core",), weight=5),
        unit("flit-core"),
        unit("hatchling", weight=9),
        unit("six", weight=1),
    ]
    assert names(levels(units)) == [["hatchling", "six", "flit-core"], ["flask"], ["app"]]


def test_requirements_outside_the_set_do_not_order() -> None:
    units = [unit("a", ("setuptools",)), unit("b", ("wheel",))]
    assert names(levels(units)) == [["a", "b"]]


def test_a_self_requirement_is_no_cycle() -> None:
    assert names(levels([unit("setuptools", ("setuptools",))])) == [["setuptools"]]


def test_a_cycle_is_an_error_naming_it() -> None:
    units = [unit("a", ("b",)), unit("b", ("c",)), unit("c", ("a",)), unit("d")]
    with pytest.raises(BuildError, match=r"cycle: a -> b -> c -> a"):
        levels(units)


def test_find_cycle_finds_none_in_a_dag() -> None:
    assert find_cycle({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_one_level_is_biggest_first() -> None:
    assert names(one_level([unit("s", weight=1), unit("b", weight=3), unit("m", weight=2)])) == [
        ["b", "m", "s"]
    ]
    assert one_level([]) == []

"""Dependency levels from BuildRequires among the pinned set."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_wheel

from rpmdeploy.errors import BuildError
from rpmdeploy.fetch import Artifact
from rpmdeploy.metadata import read_wheel_metadata
from rpmdeploy.pin import Pin
from rpmdeploy.scheduler import Unit, capability_name, find_cycle, levels, one_level
from rpmdeploy.specs import spec_context
from rpmdeploy.targets import resolve_target
from rpmdeploy.wheels import BuiltWheel


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


def test_a_renamed_backend_still_builds_first(tmp_path: Path) -> None:
    """python-backend is packaged as python3-backend (Fedora's rule); a package whose sdist
    build needs it (BuildRequires: python3dist(python-backend) >= 1) still comes after it:
    the capabilities the scheduler matches keep the PyPI name, whatever the package's."""
    target = resolve_target("fedora-43-x86_64")
    contexts = []
    for name, build_requires in (("python-backend", ()), ("user", ("python-backend>=1",))):
        module = name.replace("-", "_")
        wheel = make_wheel(
            tmp_path,
            module,
            "1.0",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
            {f"{module}.py": ""},
        )
        source = wheel
        if build_requires:  # built from its sdist: BuildRequires from its build system
            source = tmp_path / f"{module}-1.0.tar.gz"
            source.write_bytes(b"")
        pin = Pin(name=name, version="1.0", hashes=("sha256:" + "0" * 64,), extras=())  # type: ignore[arg-type]
        built = BuiltWheel(wheel, build_requires=build_requires, sdist_top_dir=f"{module}-1.0")
        meta = read_wheel_metadata(wheel)
        contexts.append(spec_context(meta, Artifact(pin, source, "0" * 64), built, target))
    units = [
        Unit(
            ctx.binary_name,
            frozenset(capability_name(p) for p in ctx.provides),
            frozenset(capability_name(r) for r in ctx.build_requires),
        )
        for ctx in contexts
    ]
    assert "python3dist(python-backend) >= 1" in contexts[1].build_requires
    assert names(levels(units)) == [["python3-backend"], ["python3-user"]]

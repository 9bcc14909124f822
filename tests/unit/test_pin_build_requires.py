"""Build requirements read statically from sdists: pyproject.toml, the PEP 517 default,
setuptools' extras; nothing in the sdist runs.  Which pins are built from their sdists:
a listing of their files made from uv's cache is used only when it covers the pins."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from rpmdeploy.errors import PinError
from rpmdeploy.pin import Pin
from rpmdeploy.pin_build import LEGACY_REQUIRES, static_build_requires
from rpmdeploy.pin_uv import ArtifactFiles, listing_covers

SETUP_PY_TRAP = "open({marker!r}, 'w').write('setup.py ran')\n"


def sdist(tmp_path: Path, files: dict[str, str], name: str = "pkg-1.0", zip_: bool = False) -> Path:
    if zip_:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for member, text in files.items():
                zf.writestr(f"{name}/{member}", text)
        return path
    path = tmp_path / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{member}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_pyproject_build_system(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["flit_core>=3.4,<4"]\nbuild-backend = "flit_core.buildapi"\n'
    )
    nested = '[build-system]\nrequires = ["not-this-one"]\n'
    path = sdist(tmp_path, {"pyproject.toml": pyproject, "sub/pyproject.toml": nested})
    assert static_build_requires(path) == ("flit_core>=3.4,<4",)


def test_legacy_setup_py_gets_setuptools_and_wheel_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = sdist(tmp_path, {"setup.py": SETUP_PY_TRAP.format(marker=str(marker))})
    assert static_build_requires(path) == LEGACY_REQUIRES
    assert not marker.exists()


def test_pyproject_without_build_system_is_legacy(tmp_path: Path) -> None:
    path = sdist(tmp_path, {"pyproject.toml": "[tool.black]\nline-length = 99\n"}, zip_=True)
    assert static_build_requires(path) == LEGACY_REQUIRES


def test_setuptools_backend_gets_wheel_and_setup_cfg_setup_requires(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    setup_cfg = "[options]\nsetup_requires =\n    setuptools_scm>=6  # versions\n    cffi\n"
    path = sdist(tmp_path, {"pyproject.toml": pyproject, "setup.cfg": setup_cfg})
    assert static_build_requires(path) == ("setuptools>=61", "wheel", "setuptools_scm>=6", "cffi")


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("[build-system\n", "pyproject.toml is not valid TOML"),
        ('[build-system]\nbuild-backend = "x"\n', "requires must be a list of strings"),
        ('[build-system]\nrequires = "setuptools"\n', "requires must be a list of strings"),
        (
            '[build-system]\nrequires = ["good", "bad ~~ 1"]\n',
            "invalid build requirement 'bad ~~ 1'",
        ),
    ],
)
def test_bad_build_systems_are_one_line_errors(
    tmp_path: Path, pyproject: str, message: str
) -> None:
    with pytest.raises(PinError, match=message) as info:
        static_build_requires(sdist(tmp_path, {"pyproject.toml": pyproject}))
    assert str(info.value).startswith("pkg-1.0.tar.gz") and "\n" not in str(info.value)


def test_unreadable_sdist(tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0.tar.gz"
    path.write_bytes(b"not a tar file")
    with pytest.raises(PinError, match="cannot read the sdist"):
        static_build_requires(path)


def test_hatchling_build_and_hook_dependencies(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[tool.hatch.build]\ndependencies = ["hatch-fancy-pypi-readme"]\n'
        '[tool.hatch.build.hooks.vcs]\ndependencies = ["hatch-vcs>=0.3"]\n'
        '[tool.hatch.build.targets.wheel.hooks.mypyc]\ndependencies = ["hatch-mypyc"]\n'
    )
    path = sdist(tmp_path, {"pyproject.toml": pyproject})
    assert static_build_requires(path) == (
        "hatchling",
        "hatch-fancy-pypi-readme",
        "hatch-vcs>=0.3",
        "hatch-mypyc",
    )


WHEEL, SDIST, OTHER = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64


def listed(name: str, version: str, wheels: tuple[str, ...], sdist: str | None) -> ArtifactFiles:
    return ArtifactFiles(
        name=canonicalize_name(name),
        version=version,
        has_wheel=bool(wheels),
        sdist_url=f"https://files.example/{name}-{version}.tar.gz" if sdist else None,
        sdist_sha256=sdist.removeprefix("sha256:") if sdist else None,
        wheel_hashes=frozenset(wheels),
    )


@pytest.mark.parametrize(
    ("files", "from_sdist", "covers"),
    [
        ({"a": listed("a", "1.0", (WHEEL,), SDIST)}, frozenset(), True),
        ({"a": listed("a", "1.0", (WHEEL,), None)}, frozenset(), True),  # a wheel only
        ({"a": listed("A", "1.0.0", (WHEEL,), SDIST)}, frozenset(), True),  # the same version
        ({"a": listed("a", "1.1", (WHEEL,), SDIST)}, frozenset(), False),  # resolved otherwise
        ({}, frozenset(), False),  # a pin it does not list
        (
            {"a": listed("a", "1.0", (WHEEL,), SDIST), "b": listed("b", "1", (WHEEL,), None)},
            frozenset(),
            False,
        ),  # a package that is not pinned
        ({"a": listed("a", "1.0", (WHEEL, OTHER), SDIST)}, frozenset(), False),  # a file not pinned
        ({"a": listed("a", "1.0", (), SDIST)}, frozenset(), False),  # no wheel known yet
        ({"a": listed("a", "1.0", (WHEEL,), SDIST)}, frozenset({":all:"}), True),
        ({"a": listed("a", "1.0", (WHEEL,), None)}, frozenset({"a"}), False),  # its sdist?
    ],
)
def test_a_listing_from_uvs_cache_is_used_only_when_it_covers_the_pins(
    files: dict[str, ArtifactFiles], from_sdist: frozenset[str], covers: bool
) -> None:
    pins = [Pin(canonicalize_name("a"), "1.0", (SDIST, WHEEL))]
    files = {canonicalize_name(name): found for name, found in files.items()}
    assert listing_covers(files, pins, from_sdist) is covers


def test_a_wheel_counts_only_when_its_hash_is_pinned() -> None:
    """fetch takes a wheel only by a pinned hash: a wheel not among them means the sdist."""
    found = listed("a", "1.0", (WHEEL,), SDIST)
    assert found.has_pinned_wheel(Pin(canonicalize_name("a"), "1.0", (SDIST, WHEEL)))
    assert not found.has_pinned_wheel(Pin(canonicalize_name("a"), "1.0", (SDIST,)))
    assert found.hashes == {WHEEL, SDIST}

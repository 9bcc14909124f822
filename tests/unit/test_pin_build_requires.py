"""Build requirements read statically from sdists: pyproject.toml, the PEP 517 default,
setuptools' extras; nothing in the sdist runs."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from rpmdeploy.errors import PinError
from rpmdeploy.pin_build import LEGACY_REQUIRES, static_build_requires

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

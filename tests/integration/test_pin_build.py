"""Build dependencies (real uv, real pip, real builds): the backends of the sdists among the
pins, read statically and pinned with hashes in build-dependencies.txt, recursively; `rpms`
builds sdists from exactly those."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from helpers import PACKAGES, AppDir, build_package, run_cli

from rpmdeploy.errors import PinError
from rpmdeploy.pin import parse_pins, read_build_pins


def names(path: Path) -> list[str]:
    return [p.name for p in parse_pins(path.read_text(), path).pins]


def write_sdist(dest: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """An sdist by hand: static metadata only, so nothing of it needs to run to resolve it."""
    top = f"{name}-{version}"
    path = dest / f"{top}.tar.gz"
    pkg_info = f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n"
    with tarfile.open(path, "w:gz") as tf:
        for member, text in {"PKG-INFO": pkg_info, **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_build_dependencies_of_the_sdists(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("alpha[fast]\ngamma-flit\ncext\n")
    result = app.pin()
    assert "build-dependencies.txt: 4 build dependencies of 3 sdists" in result.output
    text = app.build_pinned.read_text()
    assert text.startswith("# Build dependencies only, never installed at run time")
    assert "# rpmdeploy:purpose = build-only\n" in text
    assert "--no-index\n" in text and f"--find-links {app.wheelhouse}\n" in text
    # flit_core for the flit sdist, setuptools and wheel (PEP 517's default) for the
    # setup.py-only beta, setuptools (+wheel) for cext's setuptools backend; wheel's own dep.
    assert names(app.build_pinned) == ["flit-core", "packaging", "setuptools", "wheel"]
    assert "flit-core==4.2.0 \\\n" in text and "    # via -r gamma-flit==1.2.0rc1\n" in text
    build = read_build_pins(app.path)
    assert build.pinned_for is not None and build.pinned_for.build_only
    assert build.pinned_for.sdists == ("beta==0.5.post1", "cext==0.1", "gamma-flit==1.2.0rc1")
    assert all(pin.hashes for pin in build.pins)
    assert build.index.no_index
    # None of them is a run-time pin: the app's own file has only what it runs with.
    assert names(app.pinned) == ["alpha", "beta", "cext", "delta", "gamma-flit"]


def test_wheels_need_no_build_dependencies(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\nneeds-setuptools\n")
    result = app.pin()
    assert "build-dependencies.txt: no sdists to build from, none pinned" in result.output
    build = read_build_pins(app.path)
    assert build.pins == () and build.pinned_for is not None and build.pinned_for.sdists == ()


def test_no_binary_pins_the_backend_of_a_forced_sdist(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    links = tmp_path / "delta-sdist"
    links.mkdir()
    build_package(PACKAGES / "delta", links, ("--sdist",))  # delta: a wheel and an sdist
    app.pin("--find-links", links)
    assert read_build_pins(app.path).pins == ()
    # Both files of delta are hashed (uv itself hashes only the one it picked).
    assert app.pinned.read_text().count("--hash=") == 2
    (app.path / "rpmdeploy.toml").write_text("[rpms]\nno-binary = ['delta']\n")
    result = app.pin("--find-links", links)
    assert "1 sdist (delta==2.0)" in result.output
    assert names(app.build_pinned) == ["flit-core"]
    # The command line adds to the file's; --sdist forces every pin.
    (app.path / "rpmdeploy.toml").unlink()
    app.pin("--find-links", links, "--sdist")
    assert read_build_pins(app.path).pinned_for.sdists == ("delta==2.0",)  # type: ignore[union-attr]
    # rpms follows the record: delta from its sdist without being told again.
    built = run_cli("rpms", app.path, "--out", tmp_path / "out", "--cache-dir", tmp_path / "c")
    assert "compiled from sdists (1): python3-delta;" in built.output


def test_forcing_an_sdist_that_does_not_exist(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")  # the wheelhouse has only delta's wheel
    result = app.pin("--no-binary", "delta", expect=1)
    assert "delta 2.0 must be built from its sdist (it is forced to (no-binary))" in result.output
    assert result.output.count("\n") == 2 and not app.pinned.exists()


def test_build_dependencies_that_are_sdists_bring_their_own(
    app_factory,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    backend = (
        '[build-system]\nrequires = ["flit_core>=3.4"]\nbuild-backend = "flit_core.buildapi"\n'
        '[project]\nname = "tinybackend"\nversion = "1.0"\ndescription = "a backend"\n'
    )
    write_sdist(links, "tinybackend", "1.0", {"pyproject.toml": backend})
    user = (
        '[build-system]\nrequires = ["tinybackend>=1"]\nbuild-backend = "tinybackend.api"\n'
        '[project]\nname = "usesbackend"\nversion = "1.0"\ndescription = "built by it"\n'
        "dependencies = []\n"
    )
    write_sdist(links, "usesbackend", "1.0", {"pyproject.toml": user})
    app: AppDir = app_factory("usesbackend\n")
    app.pin("--find-links", links)
    build = read_build_pins(app.path)
    assert [p.name for p in build.pins] == ["flit-core", "tinybackend"]
    assert build.pinned_for is not None
    assert build.pinned_for.sdists == ("tinybackend==1.0", "usesbackend==1.0")
    text = app.build_pinned.read_text()
    assert "    # via -r tinybackend==1.0\n" in text and "    # via -r usesbackend==1.0\n" in text


def test_a_broken_build_system_is_a_one_line_error(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    bad = (
        '[build-system]\nbuild-backend = "x"\n'
        '[project]\nname = "nobuildreqs"\nversion = "1.0"\ndescription = "x"\n'
    )
    write_sdist(links, "nobuildreqs", "1.0", {"pyproject.toml": bad})
    app: AppDir = app_factory("nobuildreqs\n")
    result = app.pin("--find-links", links, expect=1)
    assert (
        "nobuildreqs-1.0.tar.gz: pyproject.toml: [build-system] requires must be" in result.output
    )
    assert result.output.count("\n") == 2


def test_rpms_builds_sdists_from_the_pinned_build_dependencies_only(
    app_factory,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    app: AppDir = app_factory("gamma-flit\n")
    app.pin()
    cache = tmp_path / "cache"
    run_cli("rpms", app.path, "--out", tmp_path / "out", "--cache-dir", cache)
    logs = "".join(p.read_text() for p in (tmp_path / "out" / "logs").glob("*.log"))
    install = [ln for ln in logs.splitlines() if " install " in ln and "--require-hashes" in ln]
    assert install and all("--no-index" in ln for ln in install), install
    assert " download " not in logs.replace("pip download --no-deps --require-hashes", "")
    # Without its build dependencies the sdist is not built: one line naming the fix.
    saved = app.build_pinned.read_text()
    app.build_pinned.unlink()
    result = run_cli(
        "rpms", app.path, "--out", tmp_path / "o2", "--cache-dir", tmp_path / "c2", expect=1
    )
    assert (
        "build-dependencies.txt not found: sdists are built only with pinned build" in result.output
    )
    assert "run 'rpmdeploy pin" in result.output
    # A backend missing from the file is never downloaded: the build names what to do.
    start = saved.index("flit-core==")
    end = saved.index("\n", saved.index("# via", start)) + 1
    app.build_pinned.write_text(saved[:start] + saved[end:])
    result = run_cli(
        "rpms", app.path, "--out", tmp_path / "o3", "--cache-dir", tmp_path / "c3", expect=1
    )
    assert "build requirement 'flit_core>=3.4' is not pinned in" in result.output
    assert (
        "(pinned for the sdists gamma-flit==1.2.0rc1): run 'rpmdeploy pin' again" in result.output
    )


def test_read_build_pins_refuses_a_run_time_file(app_factory) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    shutil.copyfile(app.pinned, app.build_pinned)
    with pytest.raises(PinError, match="not a build dependencies file"):
        read_build_pins(app.path)


def test_build_dependencies_in_adds_requirements(app_factory) -> None:  # type: ignore[no-untyped-def]
    """APP_DIR/build-dependencies.in: what a backend asks for at build time beyond what its
    sdist declares is pinned too."""
    app: AppDir = app_factory("gamma-flit\n")
    (app.path / "build-dependencies.in").write_text("# asked for by a build hook\nwheel\n")
    app.pin()
    text = app.build_pinned.read_text()
    assert names(app.build_pinned) == ["flit-core", "packaging", "wheel"]
    assert "wheel==0.48.0 \\\n" in text and "    # via -r build-dependencies.in\n" in text
    assert read_build_pins(app.path).pinned_for.sdists == ("gamma-flit==1.2.0rc1",)  # type: ignore[union-attr]

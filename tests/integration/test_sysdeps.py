"""System build dependencies of packages built from sdists end up in their SRPMs.

From rpmdeploy's table of well-known packages, from an sdist's PEP 725 [external] table,
and from the app's [packages.NAME] external; mapped to the target's package names.
"""

from __future__ import annotations

from pathlib import Path

from helpers import AppDir, deps, make_sdist, read_header, run_cli

from rpmdeploy.sysdeps import known_packages


def srpm_build_requires(out: Path, name: str) -> list[str]:
    [srpm] = out.glob(f"SRPMS/python-{name}-*.src.rpm")
    return deps(read_header(srpm), "requires")


def test_table_pep725_and_app_hints_become_build_requires(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert len(known_packages()) >= 30
    links = tmp_path / "links"
    links.mkdir()
    make_sdist(links, "psycopg2")  # in rpmdeploy's table: libpq
    make_sdist(links, "xmlthing", '[external]\nbuild-requires = ["dep:generic/libxml2"]\n')
    make_sdist(links, "plain")
    app: AppDir = app_factory("psycopg2\nxmlthing\nplain\n")
    (app.path / "rpmdeploy.toml").write_text('[packages.plain]\nexternal = ["libyaml"]\n')
    app.pin("--find-links", links)
    out = tmp_path / "out"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "c", "--jobs", "1")
    # This host is Debian: the names are Fedora's (the default mapping for a non-RPM host).
    assert "libpq-devel" in srpm_build_requires(out, "psycopg2")
    assert "libxml2-devel" in srpm_build_requires(out, "xmlthing")
    assert "libyaml-devel" in srpm_build_requires(out, "plain")
    # The binary RPMs do not require the headers: rpm adds the run-time sonames itself.
    [binary] = out.glob("RPMS/*/python3-psycopg2-*.rpm")
    assert not any("devel" in r for r in deps(read_header(binary), "requires"))


def test_wheels_need_no_system_build_requires(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    (app.path / "rpmdeploy.toml").write_text('[packages.delta]\nexternal = ["libpq"]\n')
    app.pin()
    out = tmp_path / "out"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "c")
    assert not any("libpq" in r for r in srpm_build_requires(out, "delta"))


def test_bad_package_hints_are_one_line(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    (app.path / "rpmdeploy.toml").write_text('[packages.delta]\nexternal = "libpq"\n')
    app.pin(expect=None)
    result = run_cli("rpms", app.path, "--out", tmp_path / "o", expect=2)
    assert "[packages.delta] external must be a list of hints" in result.output

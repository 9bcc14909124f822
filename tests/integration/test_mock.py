"""The mock builder with the real mock: chroots of the target, dependency order, a local
repository, failures named, nothing rebuilt.

These tests need mock and a config it can build in.  CI installs the real mock 6.7 with a
synthetic buildroot (a Debian userland dressed as a Fedora-like distribution, ``%dist`` .syn,
Python 3.11); RPMDEPLOY_TEST_MOCK_CONFIG names another config.  Without mock they skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import AppDir, file_names, read_header, run_cli

CONFIG = os.environ.get("RPMDEPLOY_TEST_MOCK_CONFIG", "synthetic-x86_64")
pytestmark = [
    pytest.mark.skipif(
        shutil.which("mock") is None,
        reason="mock is not installed (Fedora/EL: `dnf install mock` and join the 'mock' "
        "group; Debian 12: the CI installs the real mock with a synthetic buildroot)",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the synthetic mock setup runs as root"),
]


def mock_rpms(app: AppDir, out: Path, cache: Path, *extra: str, expect: int = 0):  # type: ignore[no-untyped-def]
    return run_cli(
        "rpms",
        app.path,
        "--out",
        out,
        "--cache-dir",
        cache,
        "--builder",
        "mock",
        "--mock-config",
        CONFIG,
        "--jobs",
        "2",
        *extra,
        expect=expect,
    )


@contextlib.contextmanager
def mock_command(path: Path) -> Iterator[None]:
    """RPMDEPLOY_MOCK_COMMAND (the operator's setting) for the duration of the block."""
    old = os.environ.get("RPMDEPLOY_MOCK_COMMAND")
    os.environ["RPMDEPLOY_MOCK_COMMAND"] = str(path)
    try:
        yield
    finally:
        if old is None:
            del os.environ["RPMDEPLOY_MOCK_COMMAND"]
        else:
            os.environ["RPMDEPLOY_MOCK_COMMAND"] = old


def spy_on_mock(root: Path) -> tuple[Path, Path]:
    """A `mock` that records each call, then runs the real one."""
    calls = root / "mock-calls"
    spy = root / "mock-spy"
    spy.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {shutil.which("mock")} "$@"\n')
    spy.chmod(0o755)
    return spy, calls


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> dict[str, object]:
    """A pinned set built once with mock: flit-core is pinned, and gamma-flit's build needs
    it (so flit-core is built first and installed from the local repository); cext is a C
    extension from its sdist; alpha needs delta at run time."""
    root = tmp_path_factory.mktemp("mock")
    from helpers import new_app

    app = new_app(root / "app", wheelhouse, "alpha\ncext\ngamma-flit\nflit-core\n")
    spy, calls = spy_on_mock(root)
    app.pin()
    out, cache = root / "out", root / "cache"
    with mock_command(spy):
        result = mock_rpms(app, out, cache)
    return {"app": app, "out": out, "cache": cache, "result": result, "calls": calls}


def the_rpm(out: Path, name: str) -> Path:
    found = sorted(out.glob(f"RPMS/*/{name}-[0-9]*.rpm"))
    assert len(found) == 1, (name, found)
    return found[0]


def test_every_package_is_built_in_the_chroot(built: dict[str, object]) -> None:
    out = built["out"]
    assert isinstance(out, Path)
    for name in (
        "python3-alpha",
        "python3-delta",
        "python3-cext",
        "python3-gamma-flit",
        "python3-flit-core",
    ):
        header = read_header(the_rpm(out, name))
        assert header["release"].endswith(".syn"), name  # the chroot's %dist
    app = built["app"]
    assert isinstance(app, AppDir)
    pins = [ln for ln in app.pinned.read_text().splitlines() if "==" in ln]
    assert len(list(out.glob("SRPMS/*.syn.src.rpm"))) == len(pins) == 6


def test_c_extension_compiled_in_the_chroot(built: dict[str, object]) -> None:
    out = built["out"]
    assert isinstance(out, Path)
    rpm_path = the_rpm(out, "python3-cext")
    assert rpm_path.name.endswith(".x86_64.rpm")
    files = file_names(read_header(rpm_path))
    # The synthetic distribution's python3 keeps packages in dist-packages: the spec took
    # the chroot's own %python3_sitearch, not the host target's site-packages.
    assert any(f.startswith("/usr/lib/python3/dist-packages/cext/_speed") for f in files), files


def entry_of(cache: Path, name: str) -> Path:
    """The build cache entry of package ``name``."""
    for entry in (cache / "builds").iterdir():
        if (entry / "result.json").is_file() and f'"{name}"' in (entry / "result.json").read_text():
            return entry
    raise AssertionError(f"no cache entry for {name}")


def test_backend_built_first_and_found_through_the_local_repo(built: dict[str, object]) -> None:
    cache, calls = built["cache"], built["calls"]
    assert isinstance(cache, Path) and isinstance(calls, Path)
    rebuilt = [
        ln.split("--rebuild ")[1].split()[0]
        for ln in calls.read_text().splitlines()
        if "--rebuild" in ln
    ]
    order = [Path(p).name.split("-1.")[0] for p in rebuilt]
    flit = next(i for i, n in enumerate(order) if n.startswith("python-flit-core"))
    gamma = next(i for i, n in enumerate(order) if n.startswith("python-gamma-flit"))
    assert flit < gamma, order
    # gamma-flit's chroot installed flit-core from the run's local repository.
    root_log = (entry_of(cache, "python3-gamma-flit") / "mock-root.log").read_text()
    assert "python3-flit-core" in root_log and "rpmdeploy-local" in root_log


def test_mock_logs_are_kept_beside_the_result(built: dict[str, object]) -> None:
    cache = built["cache"]
    assert isinstance(cache, Path)
    entries = [p for p in (cache / "builds").iterdir() if (p / "result.json").is_file()]
    assert entries
    for entry in entries:
        assert (entry / "build.log").is_file()
        assert (entry / "mock-root.log").is_file() and (entry / "mock-state.log").is_file()


def test_rerun_starts_no_mock(built: dict[str, object], tmp_path: Path) -> None:
    calls = built["calls"]
    app = built["app"]
    assert isinstance(calls, Path) and isinstance(app, AppDir)
    before = calls.read_text()
    assert "--rebuild" in before
    with mock_command(calls.parent / "mock-spy"):
        result = mock_rpms(app, tmp_path / "out", built["cache"])  # type: ignore[arg-type]
    counts = re.search(r"(\d+) packages: 0 built, (\d+) cached, 0 failed", result.output)
    assert counts and counts.group(1) == counts.group(2), result.output
    assert calls.read_text() == before  # mock was not started at all


def test_pinned_build_backends_are_built_first_and_not_published(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """gamma-flit's backend, flit-core, is only in build-dependencies.txt: mock builds it
    first, installs it from the local repository for gamma-flit, and it is not published."""
    app: AppDir = app_factory("gamma-flit\ndelta\n")
    app.pin()
    assert "flit-core==" in (app.path / "build-dependencies.txt").read_text()
    assert "flit-core" not in app.pinned.read_text()
    out = tmp_path / "out"
    result = mock_rpms(app, out, tmp_path / "cache")
    assert "fetching 1 pinned build dependencies" in result.output
    assert any("built" in ln and "python3-flit-core" in ln for ln in result.output.splitlines())
    names = sorted(p.name.rsplit("-", 2)[0] for p in out.glob("RPMS/*/*.rpm"))
    assert names == ["python3-delta", "python3-gamma-flit"]
    assert not list(out.glob("SRPMS/python-flit-core-*"))


def test_build_requires_nobody_provides_fail_alone_and_named(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A BuildRequires neither the pinned set nor the distribution has (here a system
    library, added to gamma-flit's spec by a template override): mock's exit 30, the
    missing names in one line, every other package built."""
    override = tmp_path / "templates" / "package"
    override.mkdir(parents=True)
    shipped = Path(__file__).resolve().parents[2] / "rpmdeploy/templates/package"
    spec = (shipped / "python-package.spec.j2").read_text()
    marker = "{% for dep in ctx.build_requires %}"
    extra = (
        '{% if ctx.binary_name == "python3-gamma-flit" %}\n'
        "BuildRequires:  libnobody-devel >= 2\n{% endif %}\n"
    )
    assert marker in spec
    (override / "python-package.spec.j2").write_text(spec.replace(marker, extra + marker, 1))
    app: AppDir = app_factory("gamma-flit\ndelta\n")
    app.pin()
    result = mock_rpms(
        app,
        tmp_path / "out",
        tmp_path / "cache",
        "--template-dir",
        tmp_path / "templates",
        expect=1,
    )
    lines = result.output.splitlines()
    failure = next(line for line in lines if line.startswith("FAILED python3-gamma-flit"))
    assert "missing BuildRequires: libnobody-devel >= 2" in failure
    assert any("built" in line and "python3-delta" in line for line in lines)
    assert not (tmp_path / "out").exists()


def test_unknown_mock_config_is_named(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    result = run_cli(
        "rpms",
        app.path,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        tmp_path / "cache",
        "--builder",
        "mock",
        "--mock-config",
        "no-such-distro-1-x86_64",
        expect=1,
    )
    assert "mock config no-such-distro-1-x86_64.cfg not found" in result.output


def test_locked_chroot_is_named(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Another process holds the worker's chroot (mock's own lock file): exit 60, named."""
    app: AppDir = app_factory("delta\n")
    app.pin()
    (app.path / "rpmdeploy.toml").write_text('[builder]\nmock-chroot-name = "rpmdeploy-locktest"\n')
    basedir = Path("/var/tmp/realmock/var/lib/mock/synthetic-x86_64-rpmdeploy-locktest-0")
    if CONFIG != "synthetic-x86_64":
        pytest.skip("the lock file's place is known for the synthetic config only")
    basedir.mkdir(parents=True, exist_ok=True)
    with (basedir / "buildroot.lock").open("a+") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        result = mock_rpms(app, tmp_path / "out", tmp_path / "cache", "--jobs", "1", expect=1)
    assert "the mock chroot is locked by another build (mock exit 60)" in result.output


def test_result_directory_mock_cannot_create_is_named(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The real mock, run where its user cannot create the result directory: exit 70."""
    app: AppDir = app_factory("delta\n")
    app.pin()
    wrapper = tmp_path / "mock-no-write"
    # Take the group's write permission from the result directory's parent, then run mock.
    wrapper.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do case "$prev" in --resultdir) chmod 0750 "$(dirname "$a")";; esac; '
        'prev="$a"; done\n'
        f'exec {shutil.which("mock")} "$@"\n'
    )
    wrapper.chmod(0o755)
    with mock_command(wrapper):
        result = mock_rpms(app, tmp_path / "out", tmp_path / "cache", expect=1)
    assert "mock could not create its result directory (exit 70)" in result.output


def test_mock_run_as_plain_root_is_named(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """mock itself, started as root without the user to drop to: it refuses, and we say why."""
    source = Path("/var/tmp/realmock/mock/py/mock.py")
    if not source.is_file():
        pytest.skip("this check runs the realmock install's mock directly")
    app: AppDir = app_factory("delta\n")
    app.pin()
    plain = tmp_path / "plain-mock"
    plain.write_text(
        "#!/bin/sh\nunset SUDO_USER SUDO_UID SUDO_GID\n"
        f'PYTHONPATH=/var/tmp/realmock/pylib exec /usr/bin/python3 {source} "$@"\n'
    )
    plain.chmod(0o755)
    with mock_command(plain):
        result = mock_rpms(app, tmp_path / "out", tmp_path / "cache", expect=1)
    assert "mock refuses to run: run rpmdeploy as a user in the 'mock' group" in result.output


def test_the_apps_settings_cannot_choose_what_runs_as_root(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: AppDir = app_factory("delta\n")
    app.pin()
    for toml in (
        '[builder]\nmock-command = "/bin/sh"\n',
        '[builder]\nmock-config = "./evil.cfg"\n',
    ):
        (app.path / "rpmdeploy.toml").write_text(toml)
        result = mock_rpms(app, tmp_path / "out", tmp_path / "cache", expect=2)
        assert "not accepted from the app's rpmdeploy.toml" in result.output
        assert result.output.count("\n") == 1


def test_release_with_the_mock_builder_publishes_and_verifies(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`release --builder mock`: every RPM (the app's too) from the chroot, then the usual
    publish and verify: dnf installs the app from the new repository and its WSGI app answers."""
    app: AppDir = app_factory("alpha\ncext\n")
    app.pin()
    (app.path / "rpmdeploy.toml").write_text('[app]\nname = "shop"\nversion = "1.0"\n')
    (app.path / "external-dependencies.txt").write_text("")
    repo = tmp_path / "repo"
    result = run_cli(
        "release",
        app.path,
        "--out",
        repo,
        "--cache-dir",
        tmp_path / "cache",
        "--builder",
        "mock",
        "--mock-config",
        CONFIG,
        "--distro",
        "fedora-43",
    )
    packages = sorted(p.name for p in repo.glob("Packages/*.rpm"))
    assert any(n.startswith("shop-1.0-1.syn.") for n in packages), packages
    assert all(".syn." in n for n in packages), packages
    assert "import check: passed (200 OK" in result.output


def test_a_system_library_the_chroot_lacks_fails_that_package_alone(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """psycopg2 from its sdist needs libpq's headers (rpmdeploy's table): its SRPM says so,
    the chroot has no libpq-devel, so it fails alone with the missing name."""
    from helpers import make_sdist

    links = tmp_path / "links"
    links.mkdir()
    make_sdist(links, "psycopg2")
    app: AppDir = app_factory("psycopg2\ndelta\n")
    app.pin("--find-links", links)
    result = mock_rpms(app, tmp_path / "out", tmp_path / "cache", expect=1)
    failure = next(
        ln for ln in result.output.splitlines() if ln.startswith("FAILED python3-psycopg2")
    )
    assert "missing BuildRequires: libpq-devel" in failure
    assert any("built" in ln and "python3-delta" in ln for ln in result.output.splitlines())

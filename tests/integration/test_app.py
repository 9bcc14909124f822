"""The app's own RPM (`rpmdeploy app`, `rpmdeploy spec`): built for real, read back, run."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import rpm
from helpers import (
    AppDir,
    deps,
    file_names,
    install_into_root,
    new_app,
    python_in_root,
    read_header,
    run_cli,
    serve_once,
)

APP_TOML = """\
[app]
name = "shop"
version = "2.3.0"
summary = "The shop: 100% WSGI"
license = "MIT"
bind = "127.0.0.1:8123"
"""
EXTERNALS = "# system packages\nlibffi\nzlib (>=1.2.11)\nlibpq-dev\n"
WSGIAPP = """\
#!/home/dev/venv/bin/python
import alpha


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"shop says hello, alpha {alpha.VERSION}".encode()]
"""


@dataclass(frozen=True)
class BuiltShop:
    app: AppDir
    out: Path
    cache: Path

    @property
    def rpm(self) -> Path:
        return next(self.out.glob("RPMS/noarch/shop-2.3.0-1.noarch.rpm"))


def write_shop(root: Path, wheelhouse: Path) -> AppDir:
    app = new_app(root, wheelhouse, "alpha\n")
    (root / "rpmdeploy.toml").write_text(APP_TOML)
    (root / "external-dependencies.txt").write_text(EXTERNALS)
    (root / "bin" / "wsgiapp").write_text(WSGIAPP)
    (root / "static").mkdir()
    (root / "static" / "style.css").write_text("body { color: black }\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    return app


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> BuiltShop:
    root = tmp_path_factory.mktemp("shop")
    app = write_shop(root / "shop", wheelhouse)
    app.pin()
    out, cache = root / "out", root / "cache"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", cache)
    run_cli("app", app.path, "--out", out, "--cache-dir", cache, "--distro", "fedora-43")
    return BuiltShop(app, out, cache)


def test_app_rpm_header(shop: BuiltShop) -> None:
    header = read_header(shop.rpm)
    assert header[rpm.RPMTAG_NAME] == "shop"
    assert header[rpm.RPMTAG_VERSION] == "2.3.0"
    assert header[rpm.RPMTAG_SUMMARY] == "The shop: 100% WSGI"
    assert header[rpm.RPMTAG_ARCH] == "noarch"


def test_app_requires_exactly_the_pinned_set_and_mapped_packages(shop: BuiltShop) -> None:
    requires = deps(read_header(shop.rpm), "requires")
    assert "python3.11dist(alpha) = 1" in requires
    assert "python3.11dist(beta) = 0.5^post1" in requires
    assert "python(abi) = 3.11" in requires
    # fedora-43 names for libffi, zlib (with the hint's version), libpq-dev (run time)
    assert "libffi" in requires
    assert "zlib-ng-compat >= 1.2.11" in requires
    assert "libpq" in requires
    assert "shadow-utils" in requires
    srpm = read_header(next(shop.out.glob("SRPMS/shop-2.3.0-1.src.rpm")))
    build_requires = deps(srpm, "requires")
    assert "libffi-devel" in build_requires and "libpq-devel" in build_requires


def test_app_files(shop: BuiltShop) -> None:
    files = file_names(read_header(shop.rpm))
    for path in (
        "/opt/shop/bin/wsgiapp",
        "/opt/shop/bin/shop-serve",
        "/opt/shop/static/style.css",
        "/opt/shop/dependencies.txt",
        "/usr/lib/systemd/system/shop.service",
        "/usr/lib/sysusers.d/shop.conf",
        "/etc/sysconfig/shop",
    ):
        assert path in files
    assert not any("__pycache__" in f for f in files)


def test_installed_app_serves_a_request(shop: BuiltShop, tmp_path: Path) -> None:
    root = tmp_path / "root"
    install_into_root(root, [shop.rpm, *shop.out.glob("RPMS/noarch/python3-*.rpm")])
    wsgiapp = root / "opt/shop/bin/wsgiapp"
    assert wsgiapp.read_text().startswith("#!/usr/bin/python3\n"), "build venv shebang replaced"
    # The application imports from the installed files and answers a WSGI call.
    code = (
        f"import runpy; ns = runpy.run_path('{wsgiapp}'); out = []\n"
        "body = ns['application']({'REQUEST_METHOD': 'GET'}, lambda s, h: out.append(s))\n"
        "print(out[0], b''.join(body).decode())"
    )
    result = python_in_root(root, code)
    assert result.stdout.strip() == "200 OK shop says hello, alpha 1.0.0", result.stderr
    # The launcher serves it on a loopback port (wsgiref: gunicorn is not pinned here).
    launcher = root / "opt/shop/bin/shop-serve"
    assert launcher.read_text().startswith("#!/usr/bin/python3\n")
    assert serve_once(root, "shop", "/") == "shop says hello, alpha 1.0.0"


def test_unit_file(shop: BuiltShop, tmp_path: Path) -> None:
    root = tmp_path / "root"
    install_into_root(root, [shop.rpm])
    unit = root / "usr/lib/systemd/system/shop.service"
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    service = parser["Service"]
    assert service["User"] == "shop" and service["Group"] == "shop"
    assert service["ExecStart"] == "/opt/shop/bin/shop-serve"
    assert service["EnvironmentFile"] == "-/etc/sysconfig/shop"
    assert parser["Unit"]["Description"] == "The shop: 100%% WSGI"  # systemd's own % escape
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    assert "RPMDEPLOY_BIND=127.0.0.1:8123" in (root / "etc/sysconfig/shop").read_text()
    assert (
        (root / "usr/lib/sysusers.d/shop.conf").read_text().splitlines()[-1].startswith("u shop ")
    )
    # systemd-analyze resolves the unit's dependencies (sysinit.target...) inside --root:
    # give the root this machine's own systemd units beside ours.
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", dirs_exist_ok=True)
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "/usr/lib/systemd/system/shop.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [ln for ln in result.stderr.splitlines() if "shop.service" in ln]
    assert result.returncode == 0 and not problems, result.stderr


def test_spec_command_prints_without_building(shop: BuiltShop, tmp_path: Path) -> None:
    result = run_cli("spec", shop.app.path, "--distro", "rocky-9", "--cache-dir", tmp_path / "c")
    assert "Name:           shop" in result.output
    assert "Requires:       zlib >= 1.2.11" in result.output  # EL9 names zlib 'zlib'
    assert "Summary:        The shop: 100%% WSGI" in result.output
    assert not (tmp_path / "c" / "builds").exists()


def test_rebuilding_the_app_with_nothing_changed_is_cached(shop: BuiltShop) -> None:
    result = run_cli(
        "app", shop.app.path, "--out", shop.out, "--cache-dir", shop.cache, "--distro", "fedora-43"
    )
    assert "cached shop 2.3.0" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: (p / "bin" / "wsgiapp").unlink(), "bin/wsgiapp is missing"),
        # (An app without an 'application' is found at verify time, by loading it.)
        (lambda p: (p / "bin" / "wsgiapp").write_text("return application\n"), "not valid Python"),
        (lambda p: (p / "bin" / "wsgiapp").write_text("def application(:\n"), "not valid Python"),
        (
            lambda p: (p / "external-dependencies.txt").write_text("libxml2 (>= \n"),
            "external-dependencies.txt:1",
        ),
        (
            lambda p: (p / "external-dependencies.txt").write_text("frobnicator-9000\n"),
            "frobnicator-9000",
        ),
        (
            lambda p: (p / "rpmdeploy.toml").write_text("[app]\nname = 'shop'\n"),
            "the app has no version",
        ),
        (
            lambda p: (p / "rpmdeploy.toml").write_text(
                "[app]\nversion = '1'\nname = 'Bad Name'\n"
            ),
            "invalid app name",
        ),
        (lambda p: (p / "rpmdeploy.toml").write_text("[app\n"), "not valid TOML"),
    ],
)
def test_bad_app_directories(shop: BuiltShop, tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    app = write_shop(tmp_path / "shop", shop.app.wheelhouse)
    (app.path / "dependencies.txt").write_text(shop.app.pinned.read_text())
    change(app.path)
    result = run_cli(
        "app",
        app.path,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        shop.cache,
        "--distro",
        "fedora-43",
        "--strict",
        expect=None,
    )
    assert result.exit_code != 0
    assert result.output.startswith("rpmdeploy: error: ") and result.output.count("\n") == 1, (
        result.output
    )
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_distro_and_unmappable_hint(shop: BuiltShop, tmp_path: Path) -> None:
    result = run_cli("app", shop.app.path, "--out", tmp_path / "o", "--distro", "plan9", expect=2)
    assert "unknown distribution 'plan9'" in result.output
    app = write_shop(tmp_path / "shop", shop.app.wheelhouse)
    (app.path / "dependencies.txt").write_text(shop.app.pinned.read_text())
    (app.path / "external-dependencies.txt").write_text("libxml (>=2)\nfrobnicator-9000\n")
    result = run_cli("map-externals", app.path, "--distro", "fedora-43", "--strict", expect=None)
    assert result.exit_code != 0 and "frobnicator-9000" in result.output


def test_missing_external_dependencies_means_none(shop: BuiltShop, tmp_path: Path) -> None:
    app = write_shop(tmp_path / "shop", shop.app.wheelhouse)
    (app.path / "dependencies.txt").write_text(shop.app.pinned.read_text())
    (app.path / "external-dependencies.txt").unlink()
    spec = run_cli("spec", app.path, "--cache-dir", shop.cache, "--distro", "fedora-43").output
    assert spec.count("no external-dependencies.txt: no system packages required") == 1
    assert "Requires:       libffi" not in spec
    built = run_cli(
        "app",
        app.path,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        shop.cache,
        "--distro",
        "fedora-43",
    )
    assert built.output.count("no external-dependencies.txt") == 1  # said once


def test_systemd_and_sysusers_macros_when_the_target_has_them(
    shop: BuiltShop, tmp_path: Path
) -> None:
    """The distribution's macros where defined, the shell fallback where not (this host)."""
    spec = tmp_path / "shop.spec"
    spec.write_text(
        run_cli("spec", shop.app.path, "--cache-dir", shop.cache, "--distro", "fedora-43").output
    )
    defined = [
        "--define",
        "systemd_post() SYSTEMD-POST %1",
        "--define",
        "systemd_preun() SYSTEMD-PREUN %1",
        "--define",
        "systemd_postun_with_restart() SYSTEMD-POSTUN %1",
        "--define",
        "sysusers_create_compat() SYSUSERS %1",
    ]
    with_macros = subprocess.run(
        ["rpmspec", "-P", *defined, str(spec)], capture_output=True, text=True, check=True
    ).stdout
    for line in ("SYSTEMD-POST shop.service", "SYSTEMD-PREUN shop.service", "SYSTEMD-POSTUN"):
        assert line in with_macros
    assert "SYSUSERS " in with_macros and "useradd" not in with_macros
    plain = subprocess.run(
        ["rpmspec", "-P", str(spec)], capture_output=True, text=True, check=True
    ).stdout
    assert "useradd -r -g shop" in plain and "systemctl try-restart shop.service" in plain
    # the built RPM (this host defines none of them) carries the fallback
    scripts = subprocess.run(
        ["rpm", "-qp", "--scripts", str(shop.rpm)], capture_output=True, text=True, check=True
    ).stdout
    assert "getent passwd shop" in scripts and "systemctl --no-reload disable" in scripts

"""The WSGI check decides by loading (issue #8, item 8).

At build time ``bin/wsgiapp`` only has to exist and compile; at verify time it is loaded as
module ``wsgiapp`` (registered in ``sys.modules`` before it runs, as import does) from the
files an RPM installed, and must yield a callable ``application``.  The apps below are
installed by rpm into a private root (and once by dnf through ``verify_repo``); the check
runs with the target's interpreter against them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import Built, build_rpm, install_into_root, python311_host

from rpmdeploy.app import check_wsgi_script
from rpmdeploy.errors import UsageError, VerifyError
from rpmdeploy.repo import publish_repo
from rpmdeploy.targets import Target
from rpmdeploy.verify import (
    VerifyReport,
    base_provides_for,
    run_in_installroot_python,
    verify_repo,
    wsgi_check,
)

SITE = "/usr/lib/python3.11/site-packages"

# A stand-in for Pyramid's Configurator: a context manager whose make_wsgi_app() gives the app.
FAKE_PYRAMID = """\
class Configurator:
    def __enter__(self):
        self.routes = []
        return self
    def __exit__(self, *exc):
        return False
    def add_route(self, name, path):
        self.routes.append(name)
    def make_wsgi_app(self):
        routes = list(self.routes)
        def app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [('routes: ' + ','.join(routes)).encode()]
        return app
"""

APPS = {
    # Pyramid's documented pattern, plus a fallback bound inside try: (both were rejected by
    # the static reading).
    "pyramid-style": """\
from fakepyramid import Configurator
try:
    from not_installed_speedups import application
except ImportError:
    with Configurator() as config:
        config.add_route('home', '/')
        config.add_route('about', '/about')
        application = config.make_wsgi_app()
""",
    # Django's ROOT_URLCONF = __name__: the module looks itself up in sys.modules while it
    # runs (runpy without registering it raised KeyError here).
    "django-style": """\
import sys
ROOT_URLCONF = __name__
urlconf = sys.modules[ROOT_URLCONF]
GREETING = b'urlconf is ' + ROOT_URLCONF.encode()
def application(environ, start_response):
    start_response('200 ' + urlconf.ROOT_URLCONF, [])
    return [urlconf.GREETING]
""",
    "no-application": "app = None\n",
    "not-callable": "application = 42\n",
    "bound-by-globals": (
        "globals()['application'] = lambda e, s: (s('204 No Content', []), [])[1]\n"
    ),
}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")


@pytest.fixture(scope="module")
def target() -> Target:
    return python311_host()


@pytest.fixture(scope="module")
def apps_rpm(tmp_path_factory: pytest.TempPathFactory) -> Built:
    files = {f"/opt/{name}/bin/wsgiapp": text for name, text in APPS.items()}
    files[f"{SITE}/fakepyramid.py"] = FAKE_PYRAMID
    return build_rpm(
        tmp_path_factory.mktemp("rpmbuild"),
        "wsgiapps",
        "1.0",
        requires=("python(abi) = 3.11",),
        files=files,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, apps_rpm: Built) -> Path:
    made = tmp_path_factory.mktemp("root")
    install_into_root(made, [apps_rpm.rpm])
    return made


def check(root: Path, target: Target, name: str) -> str:
    made = wsgi_check(f"/opt/{name}")
    return run_in_installroot_python(root, target, made.code, arguments=made.arguments).strip()


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("pyramid-style", "200 OK 18 bytes"),  # b"routes: home,about"
        # It ran as module "wsgiapp" (its status line says), not as __main__.
        ("django-style", "200 wsgiapp 18 bytes"),
        ("bound-by-globals", "204 No Content 0 bytes"),
    ],
)
def test_apps_whose_loading_yields_a_callable_pass(
    root: Path, target: Target, tmp_path: Path, name: str, answer: str
) -> None:
    assert check(root, target, name) == answer
    # ... and the build-time check (exists, compiles) accepts them too.
    app_dir = tmp_path / name
    (app_dir / "bin").mkdir(parents=True)
    (app_dir / "bin" / "wsgiapp").write_text(APPS[name])
    assert check_wsgi_script(app_dir) == app_dir / "bin" / "wsgiapp"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-application", "/opt/no-application/bin/wsgiapp defines no WSGI 'application'"),
        (
            "not-callable",
            "/opt/not-callable/bin/wsgiapp: 'application' is a int, not a WSGI callable",
        ),
    ],
)
def test_a_missing_or_uncallable_application_fails_at_verify_time_in_one_line(
    root: Path, target: Target, tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(VerifyError) as caught:
        check(root, target, name)
    assert "\n" not in caught.value.message
    assert caught.value.message.endswith(message + " once loaded" * (name == "no-application"))
    # The build-time check does not decide this: it cannot load the app.
    app_dir = tmp_path / name
    (app_dir / "bin").mkdir(parents=True)
    (app_dir / "bin" / "wsgiapp").write_text(APPS[name])
    check_wsgi_script(app_dir)


@pytest.mark.parametrize("text", ["def application(:\n", "return application\n", "x = 1\x00\n"])
def test_a_script_that_does_not_compile_fails_at_build_time(tmp_path: Path, text: str) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "wsgiapp").write_text(text)
    with pytest.raises(UsageError) as caught:
        check_wsgi_script(tmp_path)
    assert "bin/wsgiapp: not valid Python: " in caught.value.message
    assert "\n" not in caught.value.message


def test_verify_loads_the_app_dnf_installed(
    tmp_path: Path, apps_rpm: Built, target: Target
) -> None:
    repo = tmp_path / "repo"
    publish_repo(repo, [apps_rpm.rpm], [apps_rpm.srpm], signing=None, log=tmp_path / "log")

    def verify(install_dir: str) -> VerifyReport:
        return verify_repo(
            repo,
            "wsgiapps",
            target,
            base_provides=base_provides_for(target),
            check_signatures=False,
            gpg_key=None,
            import_check=wsgi_check(install_dir),
            log=tmp_path / "verify.log",
        )

    report = verify("/opt/pyramid-style")
    assert report.import_check == "passed"
    assert report.import_output.strip() == "200 OK 18 bytes"
    with pytest.raises(VerifyError, match=r"'application' is a int, not a WSGI callable$"):
        verify("/opt/not-callable")

"""Helpers shared by the unit and integration tests (fixtures live in tests/conftest.py).

Everything is re-exported here, so a test writes ``from helpers import run_cli``.
"""

from helpers.apps import (
    BACKEND_WHEELS,
    FIXTURE_APP_REQUIREMENTS,
    PACKAGES,
    REPO,
    SDIST_PACKAGES,
    WHEEL_PACKAGES,
    AppDir,
    BuiltApp,
    build_package,
    log_path,
    make_sdist,
    make_wheel,
    new_app,
    repin_delta_21,
    run_cli,
    write_app,
)
from helpers.keys import throwaway_key
from helpers.puppet import needs_puppet, puppet
from helpers.rpms import (
    Built,
    build_rpm,
    deps,
    file_names,
    install_into_root,
    python311_host,
    python_in_root,
    read_header,
    tree,
)
from helpers.serving import free_port, get_when_up, serve_once

__all__ = [
    "BACKEND_WHEELS",
    "FIXTURE_APP_REQUIREMENTS",
    "PACKAGES",
    "REPO",
    "SDIST_PACKAGES",
    "WHEEL_PACKAGES",
    "AppDir",
    "Built",
    "BuiltApp",
    "build_package",
    "build_rpm",
    "deps",
    "file_names",
    "free_port",
    "get_when_up",
    "install_into_root",
    "log_path",
    "make_sdist",
    "make_wheel",
    "needs_puppet",
    "new_app",
    "puppet",
    "python311_host",
    "python_in_root",
    "read_header",
    "repin_delta_21",
    "run_cli",
    "write_app",
    "serve_once",
    "throwaway_key",
    "tree",
]

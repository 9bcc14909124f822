"""Running Python against the files installed in the verify root, with the target's Python.

What runs is never generated: an ``ImportCheck`` is the text of a static script (the WSGI
check, ``wsgi_check.py`` in this package, or a caller's own) plus its command-line
arguments.  ``bootstrap.py`` (also static) runs first in the checked interpreter and sets
``sys.path`` up, then runs the check with those arguments in ``sys.argv[1:]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rpmdeploy._run import capture
from rpmdeploy.confine import confined, interpreter_dirs
from rpmdeploy.errors import VerifyError
from rpmdeploy.targets import SYSTEM_PYTHON, Target, python_version_of


class TargetPythonUnavailable(VerifyError):
    """The target's Python X.Y is not on this machine, so installed code cannot be run."""


@dataclass(frozen=True)
class ImportCheck:
    """Python to run against the installed files: a script's text and its arguments."""

    code: str
    arguments: tuple[str, ...] = ()


def wsgi_check(install_dir: str, site_dirs: Sequence[str] = ()) -> ImportCheck:
    """Load the installed app's ``bin/wsgiapp`` and call its ``application`` once.

    ``install_dir`` and ``site_dirs`` are paths on the target (the root is prefixed inside
    the check); they reach the script as one JSON argument, never as code.
    """
    arguments = {"install_dir": install_dir, "site_dirs": list(site_dirs)}
    return ImportCheck(_script("wsgi_check.py"), (json.dumps(arguments),))


def module_imports(installed: Mapping[str, Sequence[str]] | None = None) -> ImportCheck:
    """Import every installed package's top-level modules (``module_imports.py``).

    ``installed``: a dist-info directory (a path on the target) -> the top-level modules its
    RPM installs beside it (``RepoPackage.top_level_modules``), for distributions that have
    neither ``top_level.txt`` nor ``RECORD``; passed as JSON data, never as code.
    """
    data = {"installed": {k: list(v) for k, v in (installed or {}).items()}}
    return ImportCheck(_script("module_imports.py"), (json.dumps(data),))


@dataclass(frozen=True)
class ModuleImports:
    """What ``module_imports.py`` answered: how many packages, what imported, what failed."""

    packages: int
    imported: tuple[tuple[str, str], ...]  # (distribution, module)
    failed: tuple[tuple[str, str, str], ...]  # (distribution, module, "Error: message")

    @classmethod
    def from_output(cls, output: str) -> ModuleImports:
        """Parse the script's last line of stdout; a VerifyError when it is not its answer."""
        lines = output.strip().splitlines()
        try:
            data = json.loads(lines[-1])
            return cls(
                int(data["packages"]),
                tuple((str(d), str(m)) for d, m in data["imported"]),
                tuple((str(d), str(m), str(e)) for d, m, e in data["failed"]),
            )
        except (IndexError, ValueError, KeyError, TypeError):
            raise VerifyError("the module-import check gave no answer") from None


def run_in_installroot_python(
    root: Path,
    target: Target,
    code: str,
    extra_paths: Sequence[str] = (),
    *,
    arguments: Sequence[str] = (),
    interpreter: str = SYSTEM_PYTHON,
) -> str:
    """Run ``code`` with ``interpreter`` on the files installed under ``root``; return stdout.

    The interpreter stands in for the target's, so it must be the same X.Y, or
    TargetPythonUnavailable ("skipped: ...") is raised.  It runs with ``-S`` so the host's own
    site-packages cannot supply a module the RPMs failed to install; ``sys.path`` holds the
    root's purelib and platlib (and ``extra_paths``), with their .pth files processed, and
    ``$RPMDEPLOY_INSTALLROOT`` names the root.  ``arguments`` are the code's ``sys.argv[1:]``.
    Failure raises VerifyError with the last line of stderr (the exception, usually).
    """
    version = python_version_of(interpreter)
    if version != target.python_version:
        found = f"{interpreter} is {version}" if version else f"no {interpreter}"
        raise TargetPythonUnavailable(
            f"target Python {target.python_version} not on this machine ({found})"
        )
    paths = [
        str(root / target.purelib.lstrip("/")),
        str(root / target.platlib.lstrip("/")),
        *extra_paths,
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "LC_ALL": "C.UTF-8",
        "RPMDEPLOY_INSTALLROOT": str(root),  # lets the check find the app's installed files
    }
    # The bootstrap is passed with -c rather than run as a file: a file would put its own
    # directory (inside rpmdeploy) at the front of sys.path.
    # The installed code is the repository's (a stranger's, for dependencies): it runs
    # confined, unprivileged, without network, seeing the root read-only.
    argv = confined(
        [interpreter, "-S", "-c", _script("bootstrap.py"), code, *arguments],
        readable=[root, *interpreter_dirs(interpreter)],
    )
    return capture(
        argv, what=f"running the import check against {root}", env=env, error=VerifyError
    )


def _script(name: str) -> str:
    return resources.files("rpmdeploy.verify").joinpath(name).read_text()

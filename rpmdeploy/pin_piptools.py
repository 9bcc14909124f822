"""Pinning with pip-tools (``--resolver pip-tools``): pip-compile under the target's Python.

pip-compile decides environment markers with the interpreter it runs under, so it runs under
an interpreter of the target's X.Y: the host's, or for a distribution target ``pythonX.Y``
on PATH or in pyenv's versions, or ``--python PATH``.  An interpreter without pip-tools gets
a cached venv with rpmdeploy's own pip-tools version.  pip's configuration is isolated, so
machine-local indexes never leak into the file.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from rpmdeploy._run import capture, isolated_pip_env, run
from rpmdeploy.confine import confined, interpreter_dirs
from rpmdeploy.errors import PinError
from rpmdeploy.pin import IN_FILE, PINNED_FILE, PinnedFor, PinOptions
from rpmdeploy.pin_uv import host_glibc, local_find_links
from rpmdeploy.targets import Target, find_python, host_arch


def compile_run_time(
    app_dir: Path, target: Target, options: PinOptions, log: Path
) -> tuple[str, PinnedFor]:
    """Run pip-compile on ``APP_DIR/dependencies.in``: the pins (annotated, hashed) and the
    record of what they were pinned for (the interpreter's Python, this machine's platform)."""
    app_dir = app_dir.absolute()  # the confinement's working directory must be absolute
    python = find_target_python(target, options, log)
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-pin-") as tmp:
        output = Path(tmp) / PINNED_FILE
        if (app_dir / PINNED_FILE).is_file():
            shutil.copyfile(app_dir / PINNED_FILE, output)  # today's pins are kept
        argv = [
            python,
            "-m",
            "piptools",
            "compile",
            "--quiet",
            "--no-header",  # rpmdeploy writes its own, with what the file was pinned for
            "--generate-hashes",
            "--allow-unsafe",  # setuptools/pip are real run-time deps of pkg_resources users
            "--no-strip-extras",  # foo[bar]==1 tells rpms which +bar subpackages are needed
            "--no-emit-trusted-host",
            "--no-emit-index-url",  # rpmdeploy writes the user's own index options
            "--no-emit-find-links",
            "--output-file",
            str(output),
            *options.index.pip_args(),  # relative find-links stay relative to APP_DIR
            *(["--upgrade"] if options.upgrade else []),
            *[arg for pkg in options.upgrade_packages for arg in ("--upgrade-package", pkg)],
            *(
                ["--uploaded-prior-to", options.uploaded_prior_to]
                if options.uploaded_prior_to
                else []
            ),
            IN_FILE,
        ]
        env = isolated_pip_env()
        what = f"pip-compile of {app_dir / IN_FILE}"
        # pip-compile prepares sdists' metadata by running their code: confined, with the
        # network it resolves over, writing only the app directory and the output.
        links = local_find_links(options.index, app_dir.resolve())
        readable = [*links, *interpreter_dirs(), *interpreter_dirs(python)]
        argv = confined(
            argv,
            network=True,
            cwd=app_dir,
            writable=[app_dir.resolve(), output.parent],
            readable=readable,
        )
        run(argv, log=log, what=what, env=env, cwd=app_dir, error=PinError)
        body = output.read_text()
    return body, PinnedFor(
        target=target.name,
        python=_full_version(python),
        platform=_host_platform(),
        resolver="pip-tools",
        uploaded_prior_to=options.uploaded_prior_to,
    )


def _full_version(python: str) -> str:
    return capture(
        [python, "-c", "import platform; print(platform.python_version())"],
        what=f"asking {python} for its version",
        error=PinError,
    ).strip()


def _host_platform() -> str:
    """pip-compile resolves for this machine: its arch and glibc."""
    glibc = host_glibc()
    level = f"manylinux_{glibc[0]}_{glibc[1]}" if glibc else platform.system().lower()
    return f"{host_arch()}-{level}"


def find_target_python(target: Target, options: PinOptions, log: Path) -> str:
    """An interpreter of the target's X.Y with pip-tools importable.

    rpmdeploy's own interpreter when it matches, else the target's (the host's python3, or
    ``pythonX.Y`` on PATH for a distribution target).  An interpreter without pip-tools gets
    a cached venv with it (``options.tools_dir``), installed from the pin's own indexes.
    """
    if options.python:
        found = [options.python]
    else:
        preferred = (sys.executable, target.interpreter) if target.is_host else (sys.executable,)
        found = find_python(target.python_version, preferred)
    for path in found:
        if _has_piptools(path):
            return path
    if found and options.tools_dir is not None:
        return _piptools_venv(found[0], target, options, log)
    raise PinError(
        f"no Python {target.python_version} found to pin for target {target.name} with "
        f"pip-tools: pip-compile decides markers with the Python it runs under. Install "
        f"python{target.python_version} (with pip-tools), pass --python PATH, or pin with uv "
        "(--resolver uv), which needs no interpreter of the target's version"
    )


def _piptools_venv(python: str, target: Target, options: PinOptions, log: Path) -> str:
    """A venv of ``python`` with this rpmdeploy's pip-tools version, made once and cached."""
    assert options.tools_dir is not None
    version = importlib.metadata.version("pip-tools")
    venv = options.tools_dir / f"pip-tools-{version}-py{target.python_version}"
    venv_python = venv / "bin" / "python"
    if _has_piptools(str(venv_python)):
        return str(venv_python)
    shutil.rmtree(venv, ignore_errors=True)
    what = f"installing pip-tools {version} for Python {target.python_version} ({python})"
    run([python, "-m", "venv", venv], log=log, what=what, error=PinError)
    install = [
        str(venv_python),
        "-m",
        "pip",
        "install",
        "--quiet",
        *options.index.pip_args(),
        f"pip-tools=={version}",
    ]
    run(install, log=log, what=what, env=isolated_pip_env(), error=PinError)
    return str(venv_python)


def _has_piptools(python: str) -> bool:
    try:
        capture([python, "-c", "import piptools"], what="pip-tools check")
    except Exception:  # noqa: BLE001
        return False
    return True

"""`rpmdeploy init DIR`: a new app directory that follows the WSGI deployment standard.

It writes ``dependencies.in`` (gunicorn, to start with), an empty
``external-dependencies.txt`` (comments only), ``bin/wsgiapp`` (a WSGI ``application`` that
answers) and a commented ``rpmdeploy.toml``.  The files are templates
(``templates/init/``); the app's name is checked before it reaches any of them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from rpmdeploy.errors import UsageError
from rpmdeploy.render import render
from rpmdeploy.targets import resolve_target

_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
#: file in the app directory -> template, and whether it is executable.
FILES = (
    ("dependencies.in", "init/dependencies.in.j2", False),
    ("external-dependencies.txt", "init/external-dependencies.txt.j2", False),
    ("bin/wsgiapp", "init/wsgiapp.j2", True),
    ("rpmdeploy.toml", "init/rpmdeploy.toml.j2", False),
)


@dataclass(frozen=True)
class Skeleton:
    name: str
    directory: str
    target: str | None = None  # written as [rpms] target; None: left commented out


def init_app(directory: Path, name: str | None = None, target: str | None = None) -> list[Path]:
    """Write a new app directory; refuse one that exists and is not empty.  ``target`` (a
    name ``rpmdeploy targets`` lists) becomes its ``[rpms] target``."""
    if any(ord(c) < 32 for c in str(directory)):
        raise UsageError(f"invalid directory name {str(directory)!r}")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"{directory} exists and is not an empty directory: choose a new one")
    app_name = canonicalize_name(name or directory.resolve().name)
    if not _NAME.match(app_name):
        raise UsageError(f"invalid app name {app_name!r}: use letters, digits, '.', '_', '-'")
    if target is not None:
        resolve_target(target)  # a UsageError naming the choices for an unknown one
    context = Skeleton(app_name, str(directory), target)
    written = []
    for relative, template, executable in FILES:
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template, context))
        if executable:
            os.chmod(path, 0o755)
        written.append(path)
    return written

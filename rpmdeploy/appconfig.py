"""The app directory's own settings: ``APP_DIR/rpmdeploy.toml`` (optional).

Command-line options add to what the file says, so a release job can run the same command
for every app and keep per-app choices with the app.

    [rpms]
    no-binary = ["itsdangerous"]   # build these from their sdists (":all:" for every package)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from rpmdeploy.errors import UsageError

CONFIG_FILE = "rpmdeploy.toml"
_ALL = ":all:"


@dataclass(frozen=True)
class AppConfig:
    no_binary: frozenset[str] = frozenset()


def read_app_config(app_dir: Path) -> AppConfig:
    path = app_dir / CONFIG_FILE
    if not path.is_file():
        return AppConfig()
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    rpms = data.get("rpms", {})
    if not isinstance(rpms, dict):
        raise UsageError(f"{path}: [rpms] must be a table")
    unknown = set(rpms) - {"no-binary"}
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [rpms]: {', '.join(sorted(unknown))}")
    names = rpms.get("no-binary", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{path}: [rpms] no-binary must be a list of package names")
    return AppConfig(no_binary=frozenset(n if n == _ALL else canonicalize_name(n) for n in names))

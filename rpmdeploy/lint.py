"""rpmlint on everything a release built, with the configuration rpmdeploy ships.

``rpmdeploy release --lint`` (``[release] lint = true``) runs rpmlint (the PyPI package, a
dependency of rpmdeploy) on every binary RPM and SRPM before anything is published; an error
stops the release (nothing is published), warnings are reported.  The configuration is
``rpmdeploy/data/rpmlint.toml`` alone: rpmlint's own defaults, then that file (Fedora's
settings, and each check it turns off listed with the reason), plus the SPDX licence list
of ``packaging.licenses`` as rpmlint's ValidLicenses, so ``invalid-license`` means a licence
that is not SPDX.  The machine's own rpmlint configuration (``/etc/xdg/rpmlint``) is not
loaded, so the verdict is the same on every machine.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rpmdeploy._run import run
from rpmdeploy.errors import BuildError, RpmdeployError

CONFIG = "data/rpmlint.toml"
_LINE = re.compile(r"^(?P<where>\S+?): (?P<level>[EW]): (?P<check>[\w%.+-]+)(?: (?P<detail>.*))?$")
# Licence references rpmdeploy itself writes (rpmdeploy.licenses, [app] license).
_LICENSE_REFS = ("LicenseRef-Unknown", "LicenseRef-Proprietary", "LicenseRef-Fedora-Public-Domain")


@dataclass(frozen=True)
class Message:
    where: str  # "python3-alpha.noarch" or "python-alpha.spec:25"
    level: str  # "E" or "W"
    check: str
    detail: str

    def line(self) -> str:
        return f"{self.where}: {self.level}: {self.check} {self.detail}".rstrip()


@dataclass(frozen=True)
class LintReport:
    checked: int  # files given to rpmlint
    messages: tuple[Message, ...]
    log: Path

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.level == "E")

    @property
    def warnings(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.level == "W")

    def summary(self) -> str:
        return (
            f"rpmlint: {self.checked} packages checked, {len(self.errors)} errors, "
            f"{len(self.warnings)} warnings (log: {self.log})"
        )


def config_path() -> Path:
    """The rpmlint configuration rpmdeploy ships."""
    return Path(str(resources.files("rpmdeploy").joinpath(CONFIG)))


def lint(paths: Sequence[Path], log: Path) -> LintReport:
    """Run rpmlint on ``paths`` (RPMs and SRPMs); its whole output goes to ``log``."""
    if not paths:
        return LintReport(0, (), log)
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-lint-") as tmp:
        # rpmlint keeps only the last --config: one directory holds both files.
        configs = Path(tmp) / "config"
        configs.mkdir()
        (configs / "rpmdeploy.toml").write_text(config_path().read_text())
        (configs / "spdx-licenses.toml").write_text(_licenses_config())
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "LC_ALL": "C.UTF-8",
            "TMPDIR": tmp,
            "CONFIG_DISABLE_AUTOLOADING": "1",  # no /etc/xdg/rpmlint: the same everywhere
            "XDG_CONFIG_HOME": tmp,
            "XDG_CONFIG_DIRS": tmp,
        }
        argv = [
            sys.executable,
            "-c",
            "import sys; from rpmlint.cli import lint; sys.exit(lint())",
            "--config",
            str(configs),
            *map(str, sorted(paths)),
        ]
        start = log.stat().st_size if log.exists() else 0
        try:
            run(argv, log=log, what="rpmlint", env=env, error=BuildError)
        except RpmdeployError:
            pass  # rpmlint exits non-zero when it reports errors: read what it said
        text = log.read_bytes()[start:].decode(errors="replace")
    messages = tuple(_messages(text))
    if "checked;" not in text:
        raise BuildError(f"rpmlint did not run to the end (log: {log})", log=str(log))
    return LintReport(len(paths), messages, log)


def _messages(text: str) -> list[Message]:
    found = []
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            found.append(
                Message(
                    match["where"], match["level"], match["check"], (match["detail"] or "").strip()
                )
            )
    return found


def _licenses_config() -> str:
    """ValidLicenses: every SPDX licence id (and exception) packaging knows, and the
    LicenseRef- ids rpmdeploy writes."""
    from packaging.licenses._spdx import EXCEPTIONS, LICENSES

    ids = sorted({v["id"] for v in LICENSES.values() if not v["deprecated"]} | set(_LICENSE_REFS))
    exceptions = sorted(v["id"] for v in EXCEPTIONS.values() if not v["deprecated"])
    return (
        f"ValidLicenses = [{', '.join(map(_quote, ids))}]\n"
        f"ValidLicenseExceptions = [{', '.join(map(_quote, exceptions))}]\n"
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

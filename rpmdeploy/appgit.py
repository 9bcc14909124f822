"""What the app's git checkout says: its version, its commit, its recent commit subjects.

The WSGI deployment standard's app directory has no version file; when neither ``--version``
nor ``[app] version`` gives one, the checkout does (Fedora's versioning guidelines):

* HEAD on a tag ``v1.2.0`` (or ``1.2.0``): ``1.2.0`` (a PEP 440 tag in RPM syntax, so
  ``v2.0rc1`` is ``2.0~rc1``);
* N commits after it: a post-release snapshot ``1.2.0^YYYYMMDDgitHASH``;
* no tag at all: ``0^YYYYMMDDgitHASH``,

with the date of HEAD's commit (UTC) and its short hash, so it only moves when the checkout
does.  git runs with an environment of its own (no pager, no prompts, no system config,
``C`` locale); a directory that is not in a git checkout has no git facts (None).

Everything git prints (commit subjects above all) is untrusted text.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy._run import capture
from rpmdeploy.errors import RpmdeployError, UsageError
from rpmdeploy.versions import rpm_tag_version

_HASH = re.compile(r"^[0-9a-f]{7,40}$")
_LEGAL_VERSION = re.compile(r"^[A-Za-z0-9._+~^]+$")
MAX_SUBJECTS = 10


@dataclass(frozen=True)
class Checkout:
    """The facts of HEAD in the app's checkout."""

    commit: str  # full hash
    short: str  # abbreviated hash (7+)
    date: str  # YYYYMMDD of HEAD's commit, UTC
    tag: str | None  # the nearest tag, if any
    distance: int  # commits since that tag (0: HEAD is tagged)

    def version(self) -> str:
        """The app's RPM version (see the module doc)."""
        snapshot = f"{self.date}git{self.short}"
        if self.tag is None:
            return f"0^{snapshot}"
        base = tag_version(self.tag)
        return base if self.distance == 0 else f"{base}^{snapshot}"


def tag_version(tag: str) -> str:
    """A release tag as an RPM version: ``v1.2.0`` -> ``1.2.0``, ``v2.0rc1`` -> ``2.0~rc1``."""
    text = tag[1:] if tag[:1] in ("v", "V") and tag[1:2].isdigit() else tag
    try:
        converted = rpm_tag_version(text)
    except RpmdeployError:
        if _LEGAL_VERSION.match(text):
            return text
        raise UsageError(
            f"git tag {tag!r} is not a usable version: tag releases like v1.2.0, or pass "
            "--app-version"
        ) from None
    if converted.epoch:
        raise UsageError(f"git tag {tag!r} has an epoch, which an app version cannot have")
    return converted.version


def checkout(app_dir: Path) -> Checkout | None:
    """HEAD's facts, or None when ``app_dir`` is not in a git checkout (or git is missing)."""
    if shutil.which("git") is None:
        return None
    try:
        head = _git(app_dir, "log", "-1", "--format=%H %h %cd", "--date=format-local:%Y%m%d")
    except RpmdeployError:
        return None  # not a checkout, no commit yet, or one git refuses to read
    parts = head.split()
    if len(parts) != 3 or not _HASH.match(parts[0]) or not parts[2].isdigit():
        return None
    tag, distance = _describe(app_dir)
    return Checkout(parts[0], parts[1], parts[2], tag, distance)


def subjects(app_dir: Path, since: str | None, limit: int = MAX_SUBJECTS) -> list[str]:
    """Subjects of the commits after ``since`` up to HEAD that touch the app directory
    (newest first), at most ``limit``; without ``since`` (or when git no longer knows it) the
    last ``limit`` such commits."""
    revision = "HEAD"
    if since and _HASH.match(since):
        try:
            _git(app_dir, "merge-base", "--is-ancestor", since, "HEAD")
            revision = f"{since}..HEAD"
        except RpmdeployError:
            revision = "HEAD"
    try:
        # Only commits that touch the app directory (it may be one folder of a larger repo).
        text = _git(app_dir, "log", f"--max-count={limit}", "--format=%s", revision, "--", ".")
    except RpmdeployError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _describe(app_dir: Path) -> tuple[str | None, int]:
    try:
        text = _git(app_dir, "describe", "--tags", "--long", "--abbrev=7").strip()
    except RpmdeployError:
        return None, 0
    tag, distance, _hash = text.rsplit("-", 2)
    return tag, int(distance) if distance.isdigit() else 0


def _git(app_dir: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
    }
    return capture(["git", "-C", str(app_dir), *args], what=f"git {args[0]}", env=env)

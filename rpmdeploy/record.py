"""The release record, ``rpmdeploy-release.json``: what ``release`` tells ``verify``.

``rpmdeploy release`` writes one into every repository it publishes; ``rpmdeploy verify
REPO_DIR`` reads it back to check that repository on its own, later and elsewhere.  This
module is the contract between the two: the file's fields, their types, and how it is read.

The file is a JSON object with these keys (sorted, one-space indent, a final
newline, so an unchanged release writes identical bytes):

``app``
    the app's RPM name: the package ``verify`` installs (and the ``.repo`` section name);
``evr``
    its ``[EPOCH:]VERSION-RELEASE`` (``EPOCH:`` only when not 0);
``install_dir``
    where the app RPM installs the app directory (absolute); the WSGI check loads
    ``bin/wsgiapp`` from there inside the verify root;
``target``
    the target's name (``host``, ``fedora-43-x86_64``...): decides ``python(abi)``, the
    site-packages paths and the glibc of the declared base system;
``python``
    the interpreter the host target was read from (for ``host`` only, it is re-read from
    that interpreter when verifying);
``site_dirs``
    extra site-packages directories the WSGI check puts on ``sys.path`` (absolute; the
    private namespace mode's, else empty);
``assumed_packages``
    distribution packages the app needs at run time, which the verify stand-in declares
    rather than installs (listed in the report as assumed);
``signed``
    whether the repository is signed (``verify`` then checks every package and
    ``repomd.xml`` against the key);
``assume`` (only when not empty; a record without it assumes nothing more)
    the app's ``[verify] assume``: RPM capabilities the target system is declared to have,
    which the verify stand-in declares too (listed in the report as assumed).

Trust: ``verify`` takes these values as they are written; it checks that they are well
formed (types, absolute paths, one line each), not that they describe the packages in the
repository.  Anyone who can write the repository can write this file too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from rpmdeploy.appconfig import is_rpm_capability
from rpmdeploy.errors import VerifyError
from rpmdeploy.rpmnames import EVR, PACKAGE_NAME

RELEASE_FILE = "rpmdeploy-release.json"


@dataclass(frozen=True)
class ReleaseRecord:
    """One release, as ``rpmdeploy-release.json`` records it (see the module doc)."""

    app: str
    evr: str
    install_dir: str
    target: str
    python: str  # the host target's interpreter
    site_dirs: tuple[str, ...]
    assumed_packages: tuple[str, ...]
    signed: bool
    assume: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem is not None:
            raise ValueError(problem)

    def to_json(self) -> str:
        """The file's text (stable: same record, same bytes)."""
        data = asdict(self)
        if not self.assume:
            del data["assume"]  # records of apps that assume nothing stay as they were
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = RELEASE_FILE) -> ReleaseRecord:
        """Parse and check a record; a one-line VerifyError names ``source`` and the cause."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise _not_a_record(source, f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _not_a_record(source, "not a JSON object")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in data and n not in _OPTIONAL_FIELDS]
        unknown = sorted(k for k in data if k not in names)
        if missing or unknown:
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(map(str, unknown))}" if unknown else "",
                )
                if part
            )
            raise _not_a_record(source, detail)
        values: dict[str, Any] = dict(data)
        for name in _LIST_FIELDS:
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        try:
            return cls(**values)
        except ValueError as exc:
            raise _not_a_record(source, str(exc)) from None

    @classmethod
    def load(cls, repo_dir: Path) -> ReleaseRecord:
        """The record of the repository ``repo_dir``."""
        path = repo_dir / RELEASE_FILE
        try:
            text = path.read_text()
        except OSError as exc:
            raise _not_a_record(str(path), exc.strerror or str(exc)) from None
        except UnicodeDecodeError:
            raise _not_a_record(str(path), "not UTF-8 text") from None
        return cls.from_json(text, str(path))


def _problem(record: ReleaseRecord) -> str | None:
    """What is wrong with ``record``'s values, or None."""
    return _type_problem(record) or _value_problem(record)


_TEXT_FIELDS = ("app", "evr", "install_dir", "target", "python")
_LIST_FIELDS = ("site_dirs", "assumed_packages", "assume")
_OPTIONAL_FIELDS = ("assume",)


def _type_problem(record: ReleaseRecord) -> str | None:
    for name in _TEXT_FIELDS:
        value = getattr(record, name)
        if not isinstance(value, str) or not value:
            return f"{name} must be a non-empty string"
    for name in _LIST_FIELDS:
        value = getattr(record, name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
            return f"{name} must be a list of non-empty strings"
    if not isinstance(record.signed, bool):
        return "signed must be true or false"
    return None


def _value_problem(record: ReleaseRecord) -> str | None:
    texts = [getattr(record, n) for n in _TEXT_FIELDS]
    for text in [*texts, *record.site_dirs, *record.assumed_packages, *record.assume]:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return f"control character in {text!r}"
    for capability in record.assume:
        if not is_rpm_capability(capability):
            return f"assume: {capability!r} is not an RPM capability"
    if not PACKAGE_NAME.fullmatch(record.app):
        return f"invalid app package name {record.app!r}"
    if not EVR.fullmatch(record.evr):
        return f"invalid version {record.evr!r}: need [EPOCH:]VERSION-RELEASE"
    for path in (record.install_dir, *record.site_dirs):
        if not path.startswith("/"):
            return f"{path!r} is not an absolute path"
    return None


def _not_a_record(source: str, detail: str) -> VerifyError:
    detail = " ".join(detail.split())  # one line, whatever the cause said
    return VerifyError(f"{source}: not a repository published by rpmdeploy ({detail})")

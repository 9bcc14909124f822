"""Reading an RPM's header: the facts the publisher needs about one package file.

The ``rpm`` bindings are imported inside the functions that read headers or compare
versions, never at import time: ``rpmdeploy --help`` (and everything that never opens an
RPM) must work on a machine without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.errors import RepoError
from rpmdeploy.rpmnames import FILE_NAME
from rpmdeploy.sign import rpm_signer


@dataclass(frozen=True)
class RpmFile:
    """One package file and what its header says (signatures and digests not checked)."""

    path: Path
    name: str
    epoch: str  # "0" when the header has none
    version: str
    release: str
    arch: str
    is_source: bool
    header_sha256: str | None  # digest of the header, which holds the payload's digest
    signer: str | None  # long key id of the header signature, lower-case hex
    buildtime: int

    @property
    def evr(self) -> tuple[str, str, str]:
        return (self.epoch, self.version, self.release)

    @property
    def file_name(self) -> str:
        """The name rpmdeploy publishes it under (a source package's arch is ``src``)."""
        arch = "src" if self.is_source else self.arch
        return f"{self.name}-{self.version}-{self.release}.{arch}.rpm"


def read_rpm(path: Path) -> RpmFile:
    """Read ``path``'s header; a RepoError names the file when it is not a usable RPM."""
    import rpm  # lazily: see the module doc

    ts = rpm.TransactionSet()
    # Only the header's facts are read here; signatures are checked by rpmkeys in verify.
    ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
    try:
        with path.open("rb") as handle:
            header = ts.hdrFromFdno(handle.fileno())
    except (OSError, rpm.error) as exc:
        raise RepoError(f"cannot read RPM {path}: {exc}") from None
    epoch = header[rpm.RPMTAG_EPOCH]
    sha256 = header[rpm.RPMTAG_SHA256HEADER]
    package = RpmFile(
        path=path,
        name=str(header[rpm.RPMTAG_NAME]),
        epoch=str(epoch) if epoch is not None else "0",
        version=str(header[rpm.RPMTAG_VERSION]),
        release=str(header[rpm.RPMTAG_RELEASE]),
        arch=str(header[rpm.RPMTAG_ARCH]),
        is_source=bool(header.isSource()),
        header_sha256=str(sha256) if sha256 else None,
        signer=rpm_signer(header),
        buildtime=int(header[rpm.RPMTAG_BUILDTIME] or 0),
    )
    if not FILE_NAME.fullmatch(package.file_name):
        raise RepoError(f"{path}: unusable package name {package.file_name!r}")
    return package


def compare_evr(a: tuple[str, str, str], b: tuple[str, str, str]) -> int:
    """rpm's own ordering of two (epoch, version, release): -1, 0 or 1."""
    import rpm  # lazily: see the module doc

    return int(rpm.labelCompare(a, b))

"""A Copr build's results, downloaded and checked against the repository's own metadata.

Copr publishes every chroot of a project as a yum repository (``.../results/OWNER/PROJECT/
CHROOT/``): each build's files lie in its result directory (``00000123-python-foo/``), and
``repodata/`` lists every package with its checksum.  A build's packages are the entries of
``primary.xml`` under its result directory; each is downloaded and its checksum compared with
the metadata's (``repomd.xml`` -> checksummed ``primary.xml`` -> checksummed packages), and a
file that does not match is refused.

Everything the server sends is untrusted: a result URL must lie inside the chroot's
repository, file names must be plain RPM file names inside the build's directory, sizes are
capped, and nothing downloaded is ever run.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from rpmdeploy.errors import BuildError

_RPM_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~^-]*\.rpm$")
_RESULT_DIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~^-]*$")
_ALGORITHMS = {"sha256": "sha256", "sha512": "sha512", "sha384": "sha384", "sha224": "sha224"}
_REPO = "{http://linux.duke.edu/metadata/repo}"
_COMMON = "{http://linux.duke.edu/metadata/common}"
#: Caps on what is read from the server.
MAX_METADATA = 512 * 1024 * 1024
MAX_PACKAGE = 4 * 1024 * 1024 * 1024
MAX_LOG = 64 * 1024 * 1024
TIMEOUT = 60


@dataclass(frozen=True)
class Entry:
    """One package of the repository metadata."""

    href: str  # relative to the chroot's repository: RESULTDIR/FILE.rpm
    algorithm: str
    checksum: str
    size: int
    name: str
    arch: str

    @property
    def file_name(self) -> str:
        return self.href.rsplit("/", 1)[-1]


class Repository:
    """One chroot's repository: its metadata (re-read only when repomd.xml changes)."""

    def __init__(self, url: str) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.lock = threading.Lock()
        self._repomd = b""
        self._by_dir: dict[str, list[Entry]] = {}

    def result_dir(self, result_url: str) -> str:
        """The build's result directory, from the frontend's result URL (which must lie
        directly inside this repository)."""
        if not result_url or not result_url.startswith(self.url):
            raise BuildError(
                f"Copr sent a result URL outside the project's repository: {result_url!r}"
            )
        name = result_url[len(self.url) :].strip("/")
        if not _RESULT_DIR.match(name):
            raise BuildError(f"Copr sent an unusable result directory: {name!r}")
        return name

    def entries(self, result_dir: str) -> list[Entry]:
        """The packages the repository metadata lists in ``result_dir`` (metadata refreshed)."""
        with self.lock:
            self._refresh()
            return list(self._by_dir.get(result_dir, ()))

    def _refresh(self) -> None:
        repomd = fetch_bytes(self.url + "repodata/repomd.xml", 16 * 1024 * 1024)
        if repomd == self._repomd:
            return
        href, algorithm, checksum = _primary_location(repomd)
        raw = fetch_bytes(self.url + href, MAX_METADATA)
        if _digest(algorithm, raw) != checksum:
            raise BuildError(f"Copr repository {self.url}: {href} does not match repomd.xml")
        by_dir: dict[str, list[Entry]] = {}
        for entry in _packages(_decompress(href, raw)):
            by_dir.setdefault(entry.href.split("/", 1)[0], []).append(entry)
        self._repomd, self._by_dir = repomd, by_dir

    def download(self, entry: Entry, dest_dir: Path) -> Path:
        """Download one package into ``dest_dir``; refused unless its checksum matches."""
        dest = dest_dir / entry.file_name
        digest = hashlib.new(entry.algorithm)
        limit = min(MAX_PACKAGE, entry.size if entry.size > 0 else MAX_PACKAGE)
        try:
            with dest.open("wb") as out:
                for chunk in stream(self.url + entry.href, limit):
                    digest.update(chunk)
                    out.write(chunk)
        except _TooLarge:
            dest.unlink(missing_ok=True)
            raise BuildError(
                f"{entry.file_name} from Copr does not match the repository metadata: larger "
                f"than its {entry.size} bytes: refused"
            ) from None
        if digest.hexdigest() != entry.checksum:
            dest.unlink(missing_ok=True)
            raise BuildError(
                f"{entry.file_name} from Copr does not match the repository metadata's "
                f"{entry.algorithm} checksum: refused"
            )
        return dest


def _primary_location(repomd: bytes) -> tuple[str, str, str]:
    try:
        root = ElementTree.fromstring(repomd)
    except ElementTree.ParseError as exc:
        raise BuildError(f"Copr repository metadata is not XML: {exc}") from None
    for data in root.iter(f"{_REPO}data"):
        if data.get("type") != "primary":
            continue
        location = data.find(f"{_REPO}location")
        checksum = data.find(f"{_REPO}checksum")
        if location is None or checksum is None:
            break
        href = location.get("href") or ""
        algorithm = _algorithm(checksum.get("type"))
        if not re.match(r"^repodata/[A-Za-z0-9._-]+$", href):
            raise BuildError(f"Copr repository metadata names an unusable file: {href!r}")
        return href, algorithm, (checksum.text or "").strip().lower()
    raise BuildError("Copr repository metadata has no primary data")


def _packages(primary: bytes) -> Iterator[Entry]:
    """Every package of primary.xml, its location checked to be DIR/FILE.rpm."""
    for _event, element in ElementTree.iterparse(io.BytesIO(primary)):
        if element.tag != f"{_COMMON}package":
            continue
        location = element.find(f"{_COMMON}location")
        checksum = element.find(f"{_COMMON}checksum")
        size = element.find(f"{_COMMON}size")
        href = location.get("href", "") if location is not None else ""
        parts = href.split("/")
        if (
            checksum is not None
            and len(parts) == 2
            and _RESULT_DIR.match(parts[0])
            and _RPM_FILE.match(parts[1])
        ):
            yield Entry(
                href=href,
                algorithm=_algorithm(checksum.get("type")),
                checksum=(checksum.text or "").strip().lower(),
                size=int(size.get("package", "0")) if size is not None else 0,
                name=element.findtext(f"{_COMMON}name", ""),
                arch=element.findtext(f"{_COMMON}arch", ""),
            )
        element.clear()


def _algorithm(name: str | None) -> str:
    algorithm = _ALGORITHMS.get((name or "").lower())
    if algorithm is None:  # md5/sha1 (EL5-era chroots) prove nothing
        raise BuildError(f"Copr repository metadata uses checksum {name!r}: refused (sha2 only)")
    return algorithm


def _digest(algorithm: str, data: bytes) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _decompress(name: str, data: bytes) -> bytes:
    try:
        if name.endswith(".gz"):
            return _capped(gzip.decompress(data))
        if name.endswith(".xz"):
            return _capped(lzma.decompress(data))
        if name.endswith(".bz2"):
            return _capped(bz2.decompress(data))
        if name.endswith(".zst"):
            return _capped(_zstd(data))
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
        raise BuildError(f"Copr repository metadata {name} is damaged: {exc}") from None
    return data


def _zstd(data: bytes) -> bytes:
    try:
        import zstandard
    except ImportError:
        raise BuildError(
            "the Copr repository's metadata is zstd-compressed: install the zstandard module"
        ) from None
    return bytes(zstandard.ZstdDecompressor().decompress(data, max_output_size=MAX_METADATA))


def _capped(data: bytes) -> bytes:
    if len(data) > MAX_METADATA:
        raise BuildError("Copr repository metadata is larger than rpmdeploy reads")
    return data


class _TooLarge(BuildError):
    """A download longer than announced (or than rpmdeploy reads)."""


# --- HTTP ---------------------------------------------------------------------------------------


def stream(url: str, limit: int) -> Iterator[bytes]:
    """The body of ``url`` in chunks; an error past ``limit`` bytes."""
    import requests

    if not url.startswith(("https://", "http://")):
        raise BuildError(f"refusing to download {url!r}: not an HTTP URL")
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                raise BuildError(f"downloading {url}: HTTP {response.status_code}")
            read = 0
            for chunk in response.iter_content(1024 * 1024):
                read += len(chunk)
                if read > limit:
                    raise _TooLarge(f"downloading {url}: larger than expected ({limit} bytes)")
                yield chunk
    except requests.RequestException as exc:
        raise BuildError(f"downloading {url}: {type(exc).__name__}") from None


def fetch_bytes(url: str, limit: int) -> bytes:
    return b"".join(stream(url, limit))


def fetch_log(url: str) -> str | None:
    """A build log (``.gz`` or plain) as text, or None when the server has none."""
    try:
        data = fetch_bytes(url, MAX_LOG)
    except BuildError:
        return None
    if url.endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(MAX_LOG)
        except (OSError, EOFError, zlib.error):
            return None
    return data.decode("utf-8", errors="replace")

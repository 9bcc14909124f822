"""Finding and downloading one pinned file without pip and without running anything.

``pip download`` of an sdist prepares its metadata, which runs the sdist's own build code
(``setup.py``) on the build host, unconfined.  A pin's sdist is fully known without that: its
name, its version and its sha256.  This module finds the file with that hash in the pins'
find-links directories and simple indexes (PEP 503 HTML, PEP 691 JSON) and downloads it with
the hash checked.  pip offers no API for this; the few lines here are standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http.client import HTTPException
from pathlib import Path

from packaging.version import Version

from rpmdeploy.cache import sha256_file
from rpmdeploy.errors import FetchError
from rpmdeploy.filenames import artifact_key, project_name
from rpmdeploy.pin import IndexOptions, Pin

_TIMEOUT = 60
_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Found:
    """A file of a pin: where it is and its (pinned) sha256."""

    filename: str
    url: str  # file:// for a find-links directory
    sha256: str


def find_sdist(pin: Pin, index: IndexOptions, base: Path | None) -> Found:
    """The sdist of ``pin`` whose sha256 is one of the pinned hashes."""
    wanted = {h.split(":", 1)[1] for h in pin.hashes if h.startswith("sha256:")}
    others = []
    for found in _candidates(pin, index, base):
        if _is_sdist_of(found.filename, pin):
            if found.sha256 in wanted:
                return found
            others.append(found)
    if others:
        raise FetchError(
            f"{pin.requirement}: downloaded artifact does not match the pinned hashes "
            f"({others[0].filename} has sha256 {others[0].sha256})"
        )
    raise FetchError(
        f"{pin.requirement}: no matching distribution found on the configured indexes "
        "(no wheel fits the target and no sdist has a pinned hash)"
    )


def check_reachable(index: IndexOptions, timeout: float = 5.0) -> None:
    """Fail at once, naming the cause, when an index of ``index`` cannot be reached.

    pip and uv retry a dead index for a minute and then say only that nothing matched; one
    request per index up front turns "connection refused" into the error itself.
    """
    urls = [] if index.no_index else [index.index_url or "https://pypi.org/simple"]
    urls += list(index.extra_index_urls) if not index.no_index else []
    urls += [link for link in index.find_links if link.startswith(("http://", "https://"))]
    for url in urls:
        try:
            with _open(url, timeout=timeout):
                pass
        except urllib.error.HTTPError:
            continue  # it answered: a 404 for the root page is still a reachable index
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"cannot reach the index {_public(url)}: {reason}") from None


def download(found: Found, dest: Path) -> Path:
    """Copy or download ``found`` into directory ``dest``, checking its sha256.

    The file appears whole or not at all (written beside, then renamed), so a store shared
    by concurrent runs never holds half a file; one already there is kept.
    """
    if "/" in found.filename or found.filename.startswith("."):
        raise FetchError(f"refusing file name {found.filename!r}")
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / found.filename
    if path.is_file() and sha256_file(path) == found.sha256:
        return path
    tmp = dest / f".{found.filename}.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    try:
        with _open(found.url) as source, tmp.open("wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    except (OSError, ValueError, HTTPException) as exc:  # urllib's URLError is an OSError
        tmp.unlink(missing_ok=True)
        raise FetchError(f"downloading {found.filename} from {_public(found.url)}: {exc}") from None
    if digest.hexdigest() != found.sha256:
        tmp.unlink(missing_ok=True)
        raise FetchError(f"{found.filename}: its sha256 does not match the pinned hash")
    os.replace(tmp, path)
    return path


def _is_sdist_of(filename: str, pin: Pin) -> bool:
    key = None if filename.endswith(".whl") else artifact_key(filename)
    return key == (pin.name, Version(pin.version))


def _candidates(pin: Pin, index: IndexOptions, base: Path | None) -> Iterator[Found]:
    for link in index.find_links:
        yield from _find_links(link, pin, base)
    if index.no_index:
        return
    for url in (index.index_url or "https://pypi.org/simple", *index.extra_index_urls):
        yield from _simple_index(url, pin)


def _find_links(link: str, pin: Pin, base: Path | None) -> Iterator[Found]:
    """Files of ``pin`` in a find-links directory (pages of links are read like an index)."""
    if "://" in link and not link.startswith("file:"):
        yield from _page(link, pin)
        return
    if link.startswith("file:"):
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(link).path))
    else:
        path = Path(link)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_dir():
        return
    for entry in sorted(path.iterdir()):
        if entry.is_file() and project_name(entry.name) == pin.name:
            yield Found(entry.name, entry.resolve().as_uri(), sha256_file(entry))


def _simple_index(url: str, pin: Pin) -> Iterator[Found]:
    page = url.rstrip("/") + f"/{pin.name}/"
    yield from _page(page, pin)


def _page(url: str, pin: Pin) -> Iterator[Found]:
    try:
        with _open(url, accept=f"{_JSON}, text/html;q=0.1") as response:
            kind = response.headers.get("Content-Type", "")
            body = response.read()
    except (OSError, ValueError):
        return  # an index without the project, or unreachable: the next one may have it
    links = _json_links(body) if _JSON in kind else _html_links(body.decode(errors="replace"))
    for href, sha256 in links:
        absolute = urllib.parse.urljoin(url, href)
        filename = urllib.parse.unquote(urllib.parse.urlparse(absolute).path.rsplit("/", 1)[-1])
        if sha256 and project_name(filename) == pin.name:
            yield Found(filename, absolute.split("#", 1)[0], sha256)


def _json_links(body: bytes) -> list[tuple[str, str]]:
    data = json.loads(body)
    return [(f["url"], f.get("hashes", {}).get("sha256", "")) for f in data.get("files", [])]


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _html_links(text: str) -> list[tuple[str, str]]:
    parser = _Anchors()
    parser.feed(text)
    links = []
    for href in parser.hrefs:
        fragment = urllib.parse.urlparse(href).fragment
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
        links.append((href, sha256))
    return links


def _open(url: str, accept: str = "*/*", timeout: float = _TIMEOUT):  # type: ignore[no-untyped-def]
    scheme = urllib.parse.urlparse(url).scheme
    if scheme == "file":
        return open(urllib.request.url2pathname(urllib.parse.urlparse(url).path), "rb")  # noqa: SIM115
    if scheme not in ("https", "http"):
        raise ValueError(f"unsupported URL scheme {scheme!r}")
    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("PIP_CERT")
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    request = urllib.request.Request(url, headers={"User-Agent": "rpmdeploy", "Accept": accept})
    return urllib.request.urlopen(request, timeout=timeout, context=context)  # noqa: S310


def _public(url: str) -> str:
    """A URL without credentials, for messages."""
    parts = urllib.parse.urlparse(url)
    host = parts.hostname or ""
    return parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")).geturl()

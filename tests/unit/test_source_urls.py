"""Source0: where an artifact was downloaded from, as pip's log says, made safe for rpm."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rpmdeploy.fetch import FROM_PYPI, Artifact, _download_urls, _pypi_url
from rpmdeploy.pin import Pin
from rpmdeploy.specs import source_url

LOG = """\
$ pip download ...
Collecting flask==3.1.3 (from -r requirements.txt (line 1))
  Downloading flask-3.1.3-py3-none-any.whl (103 kB)
Collecting beta==0.5.post1 (from -r requirements.txt (line 2))
  Downloading https://repo.example.com/simple/beta/beta-0.5.post1.tar.gz#sha256=ab (2 kB)
Collecting secret==1.0
  Downloading https://****@private.example.com/secret-1.0-py3-none-any.whl (1 kB)
Collecting odd==1.0
  Downloading https://repo.example.com/odd-1.0-py3-none-any.whl?token=x (1 kB)
"""


def test_urls_from_pip_log(tmp_path: Path) -> None:
    log = tmp_path / "fetch.log"
    log.write_text("earlier run\n  Downloading https://old.example.com/x-1.tar.gz (1 kB)\n" + LOG)
    urls = _download_urls(log, start=len("earlier run\n") + 58)
    assert urls == {
        "flask-3.1.3-py3-none-any.whl": FROM_PYPI,
        "beta-0.5.post1.tar.gz": "https://repo.example.com/simple/beta/beta-0.5.post1.tar.gz",
        "odd-1.0-py3-none-any.whl": "https://repo.example.com/odd-1.0-py3-none-any.whl",
    }  # no credentials ever recorded; query and fragment dropped


def test_pypi_url_is_where_pypi_stores_the_bytes(tmp_path: Path) -> None:
    wheel = tmp_path / "flask-3.1.3-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    digest = hashlib.blake2b(b"not really a wheel", digest_size=32).hexdigest()
    assert _pypi_url(wheel) == (
        f"https://files.pythonhosted.org/packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}/"
        "flask-3.1.3-py3-none-any.whl"
    )


def artifact(tmp_path: Path, name: str, url: str) -> Artifact:
    pin = Pin("beta", "0.5.post1", ("sha256:" + "0" * 64,))  # type: ignore[arg-type]
    return Artifact(pin, tmp_path / name, "0" * 64, url)


def test_source0_takes_only_urls_rpm_can_use(tmp_path: Path) -> None:
    name = "beta-0.5.post1.tar.gz"
    good = f"https://repo.example.com/beta/{name}"
    assert source_url(artifact(tmp_path, name, good)) == good
    for bad in (
        "",
        f"https://repo.example.com/beta/{name}%(id)",  # macro syntax
        f"https://repo.example.com/x y/{name}",  # whitespace
        "https://repo.example.com/beta/other-1.0.tar.gz",  # not this file
        f"file:///srv/{name}",  # a path on someone's machine
        f"https://repo.example.com/%{{lua:x}}/{name}",
    ):
        assert source_url(artifact(tmp_path, name, bad)) == name, bad

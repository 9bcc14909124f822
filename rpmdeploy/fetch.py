"""Stage 2, fetch: download each pinned artifact with ``pip download``, hash-checked, cached.

A wheel is preferred (as pip prefers it) unless the user forces sdists; for a distribution
target the wheel must fit the target's Python and glibc, not the host's.  One pip call fetches
everything missing; if it fails, each package is fetched alone so the error names the culprit.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import (
    canonicalize_name,
)

from rpmdeploy import diagnose
from rpmdeploy._run import isolated_pip_env, log_tail, output_since, run
from rpmdeploy.cache import Cache, sha256_file, stable_key
from rpmdeploy.errors import FetchError
from rpmdeploy.filenames import project_name
from rpmdeploy.indexes import check_reachable, download, find_sdist
from rpmdeploy.pin import ALL, Pin, PinnedSet
from rpmdeploy.targets import Target


@dataclass(frozen=True)
class Artifact:
    pin: Pin
    path: Path
    sha256: str
    url: str = ""  # where pip downloaded it from (http/https), when its log said so

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def is_wheel(self) -> bool:
        return self.path.name.endswith(".whl")


@dataclass(frozen=True)
class FetchOptions:
    no_binary: frozenset[str] = frozenset()  # canonical names, or {ALL}

    def wants_sdist(self, name: str) -> bool:
        return ALL in self.no_binary or canonicalize_name(name) in self.no_binary


def fetch_artifacts(
    pinned: PinnedSet, target: Target, options: FetchOptions, cache: Cache, log: Path
) -> dict[str, Artifact]:
    """Return an Artifact for every pin, downloading only what the cache lacks."""
    fetch = _Fetch(pinned, target, options, cache, log)
    found: dict[str, Artifact] = {}
    missing: list[Pin] = []
    for pin in pinned.pins:
        cached = fetch.cached(pin)
        if cached is None:
            missing.append(pin)
        else:
            found[pin.name] = cached
    if missing:
        check_reachable(pinned.index)
        found.update(fetch.download(missing))
    return {pin.name: found[pin.name] for pin in pinned.pins}


@dataclass(frozen=True)
class _Fetch:
    """One fetch run: where the pins come from, what they are for, where they go."""

    pinned: PinnedSet
    target: Target
    options: FetchOptions
    cache: Cache
    log: Path
    # Why pip found no wheel for a pin (reported if its sdist cannot be had either).
    wheel_errors: dict[str, str] = field(default_factory=dict)

    def choice_key(self, pin: Pin) -> str:
        """Which file pip picked for this pin depends on the target and on forced sdists."""
        return stable_key(
            pin.requirement,
            sorted(pin.hashes),
            self.target.python_version,
            self.target.arch,
            self.target.glibc,
            self.options.wants_sdist(pin.name),
        )

    def cached(self, pin: Pin) -> Artifact | None:
        choice = self.cache.read_json("artifacts", "choices", self.choice_key(pin) + ".json")
        if choice is None:
            return None
        path = self.cache.root / "artifacts" / choice["sha256"] / choice["filename"]
        if not path.is_file() or f"sha256:{choice['sha256']}" not in pin.hashes:
            return None
        # The cache is not trusted forever: a file whose bytes changed is fetched again.
        if sha256_file(path) != choice["sha256"]:
            path.unlink()
            return None
        return Artifact(pin, path, choice["sha256"], str(choice.get("url", "")))

    def download(self, pins: list[Pin]) -> dict[str, Artifact]:
        """Wheels with pip (``--only-binary``: pip never runs package code for a wheel);
        sdists found by their pinned hash and downloaded directly, since pip would run their
        build code to prepare metadata (rpmdeploy.indexes)."""
        sdists = [p for p in pins if self.options.wants_sdist(p.name)]
        wheels = [p for p in pins if not self.options.wants_sdist(p.name)]
        results: dict[str, Artifact] = {}
        errors: list[str] = []
        if wheels:
            try:
                results.update(self.download_batch(wheels))
            except FetchError:
                # The batch failed: one by one, so each pin without a fitting wheel falls
                # back to its sdist and the error names every package that fails.
                for pin in wheels:
                    try:
                        results.update(self.download_batch([pin]))
                    except FetchError as exc:
                        sdists.append(pin)
                        self.wheel_errors[pin.name] = str(exc)
        for pin in sdists:
            try:
                results.update(self.download_sdist(pin))
            except FetchError as exc:
                # pip's reason for no wheel says more, unless the sdist was there but wrong.
                wheel = self.wheel_errors.get(pin.name)
                errors.append(str(exc) if "does not match" in str(exc) or not wheel else wheel)
        if errors:
            raise FetchError("; ".join(errors))
        return results

    def download_sdist(self, pin: Pin) -> dict[str, Artifact]:
        base = self.pinned.source.parent if self.pinned.source else None
        found = find_sdist(pin, self.pinned.index, base)
        with tempfile.TemporaryDirectory(prefix="rpmdeploy-fetch-") as tmp:
            dest = Path(tmp) / "dl"
            download(found, dest)
            url = found.url if found.url.startswith(("https:", "http:")) else ""
            return self.store([pin], dest, {found.filename: url} if url else {})

    def download_batch(self, pins: list[Pin]) -> dict[str, Artifact]:
        base = self.pinned.source.parent if self.pinned.source else None
        with tempfile.TemporaryDirectory(prefix="rpmdeploy-fetch-") as tmp:
            dest = Path(tmp) / "dl"
            reqfile = Path(tmp) / "requirements.txt"
            reqfile.write_text("".join(_requirement_line(pin) for pin in pins))
            argv = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--require-hashes",
                "--progress-bar",
                "off",
                "--dest",
                str(dest),
                *self.pinned.index.pip_args(base),
                "--only-binary",
                ALL,
                *_platform_args(self.target),
                "--requirement",
                str(reqfile),
            ]
            start = self.log.stat().st_size if self.log.exists() else 0
            try:
                run(
                    argv,
                    log=self.log,
                    what=_describe(pins),
                    env=isolated_pip_env(),
                    error=FetchError,
                )
            except FetchError:
                raise FetchError(_explain_pip_failure(pins, self.log, start)) from None
            return self.store(pins, dest, _download_urls(self.log, start))

    def store(
        self, pins: list[Pin], dest: Path, urls: dict[str, str] | None = None
    ) -> dict[str, Artifact]:
        """Move downloaded files into the content-addressed cache, checking each hash."""
        by_name = {pin.name: pin for pin in pins}
        results: dict[str, Artifact] = {}
        for file in sorted(dest.iterdir()) if dest.is_dir() else []:
            name = project_name(file.name)
            pin = by_name.get(name) if name else None
            if pin is None:
                raise FetchError(f"pip downloaded an unexpected file {file.name!r}")
            digest = sha256_file(file)
            if f"sha256:{digest}" not in pin.hashes:
                # pip checked hashes already; this guards a pin listing only sha384/512.
                raise FetchError(f"{pin.name}: hash of {file.name} does not match the pins")
            final_dir = self.cache.dir("artifacts", digest)
            final = final_dir / file.name
            if not final.exists():
                tmp = final_dir / f".{file.name}.{os.getpid()}.tmp"
                shutil.copyfile(file, tmp)
                os.replace(tmp, final)
            url = (urls or {}).get(file.name, "")
            url = _pypi_url(file) if url == FROM_PYPI else url
            choice = {"sha256": digest, "filename": file.name, "url": url}
            self.cache.write_json(choice, "artifacts", "choices", self.choice_key(pin) + ".json")
            results[pin.name] = Artifact(pin, final, digest, url)
        for pin in pins:
            if pin.name not in results:
                raise FetchError(f"{pin.name}: pip reported success but downloaded nothing")
        return results


_DOWNLOADING = re.compile(r"^\s*Downloading (https?://\S+)", re.MULTILINE)
# pip names only the file for PyPI's file storage (files.pythonhosted.org), the URL otherwise.
_FROM_PYPI = re.compile(r"^\s*Downloading ([A-Za-z0-9][A-Za-z0-9._+!-]*) \(", re.MULTILINE)
PYPI_FILES = "https://files.pythonhosted.org/packages"
FROM_PYPI = "pypi"  # a file pip downloaded from PyPI's file storage


def _download_urls(log: Path, start: int) -> dict[str, str]:
    """file name -> the URL pip says it downloaded it from (``Downloading URL (size)``),
    without credentials, query or fragment; for Source0 (rpmdeploy.specs.source_url).  A file
    from PyPI's file storage (pip names only the file) is marked FROM_PYPI."""
    text = output_since(log, start)
    urls = {}
    for match in _DOWNLOADING.finditer(text):
        url = match.group(1).split("#", 1)[0].split("?", 1)[0]
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        if "@" in host or "*" in host:  # credentials (pip shows them as ****): never recorded
            continue
        urls[path.rsplit("/", 1)[-1]] = f"{scheme}://{host}/{path}"
    for match in _FROM_PYPI.finditer(text):
        urls.setdefault(match.group(1), FROM_PYPI)
    return urls


def _pypi_url(path: Path) -> str:
    """PyPI's address of one of its files: ``packages/`` + the BLAKE2b-256 of its bytes, cut
    2/2/60, + its name (how PyPI stores every file)."""
    digest = hashlib.blake2b(path.read_bytes(), digest_size=32).hexdigest()
    return f"{PYPI_FILES}/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{path.name}"


def _requirement_line(pin: Pin) -> str:
    hashes = " ".join(f"--hash={h}" for h in pin.hashes)
    return f"{pin.requirement} {hashes}\n"


def _platform_args(target: Target) -> list[str]:
    """Make pip choose wheels for the target's Python and glibc instead of the host's.

    pip expands only ``manylinux2014``/``manylinux2010`` to older tags, so every manylinux tag
    the target's glibc allows is passed (PEP 600 and the legacy aliases).  Never musllinux,
    never a plain ``linux_ARCH`` wheel (built for some machine, not for a glibc baseline).
    ``--python-version`` is the full version: X.Y alone means X.Y.0 for Requires-Python.
    """
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if target.glibc is None:  # the host: pip's own platform is right
        if target.python_version == running:
            return []
        return ["--python-version", target.python_full_version]
    args = ["--python-version", target.python_full_version, "--implementation", "cp"]
    for abi in (target.python_tag, "abi3", "none"):
        args += ["--abi", abi]
    for tag in manylinux_tags(target.glibc, target.arch):
        args += ["--platform", tag]
    return args


def manylinux_tags(glibc: str, arch: str) -> list[str]:
    """Every manylinux platform tag a system with glibc ``X.Y`` on ``arch`` can install,
    newest first (PEP 600 ``manylinux_X_Y`` and the PEP 513/571/599 aliases)."""
    major, minor = (int(part) for part in glibc.split(".")[:2])
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for floor, alias in legacy.items():
        if minor >= floor and (floor != 5 or arch in ("x86_64", "i686")):
            tags.append(f"{alias}_{arch}")
    return tags


def _describe(pins: list[Pin]) -> str:
    if len(pins) == 1:
        return f"fetching {pins[0].requirement}"
    return f"fetching {len(pins)} packages"


def _explain_pip_failure(pins: list[Pin], log: Path, start: int) -> str:
    """Turn pip's output into one line that names the package and what went wrong."""
    text = output_since(log, start) or log_tail(log)
    who = pins[0].requirement if len(pins) == 1 else f"{len(pins)} packages"
    if "DO NOT MATCH THE HASHES" in text or "do not match the hashes" in text.lower():
        return f"{who}: downloaded artifact does not match the pinned --hash (log: {log})"
    cause = diagnose.explain(text, "pip") or "pip failed"
    return f"{who}: {cause} (log: {log})"

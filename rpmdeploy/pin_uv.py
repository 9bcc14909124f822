"""Pinning with uv (``uv pip compile``): for the target's Python and platform, from anywhere.

uv resolves for a Python version and platform it is told (``--python-version X.Y.Z``,
``--python-platform x86_64-manylinux_2_34``) instead of the interpreter it runs under, so no
interpreter of the target's version is needed.  It runs with ``--no-config`` and an
environment without ``UV_*``/``PIP_*`` variables, so the machine's configuration never
reaches a pinned file, and with ``--no-python-downloads``: the sdists it must build to learn
their metadata are built with rpmdeploy's own interpreter.

Besides the pinned requirements, uv tells which files each pin has for the target
(:func:`artifact_files`, from a ``pylock.toml`` of the pins): which pins have a wheel that
fits, and where each sdist is, for pinning the build dependencies.  That listing is made
while the resolution runs (offline, from uv's cache, wheels only: :func:`compile_run_time`)
and is used only when :func:`listing_covers` the pins resolved; otherwise it is made again
after it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import tempfile
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import (
    NormalizedName,
    canonicalize_name,
)
from packaging.version import InvalidVersion, Version

from rpmdeploy import prestart
from rpmdeploy._run import isolated_pip_env, output_since, run
from rpmdeploy.cache import sha256_file
from rpmdeploy.confine import confined, interpreter_dirs
from rpmdeploy.errors import PinError
from rpmdeploy.filenames import artifact_key
from rpmdeploy.pin import ALL, IN_FILE, PINNED_FILE, IndexOptions, Pin, PinnedFor, PinOptions
from rpmdeploy.targets import Target

#: The manylinux glibc levels uv's --python-platform names (2_17 is manylinux2014).
_UV_GLIBC_MINORS = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)
_UV_ARCHES = ("x86_64", "aarch64")
#: uv variables that are trust, not configuration: kept.
_UV_TRUST = ("UV_NATIVE_TLS", "UV_SYSTEM_CERTS")


@functools.cache  # asked for every uv command line and its sandbox: looked up once
def uv_binary() -> str:
    """The uv executable of the ``uv`` package rpmdeploy depends on."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError) as exc:
        raise PinError(f"uv not found ({exc}): install rpmdeploy with its dependencies") from None


def host_glibc() -> tuple[int, int] | None:
    """This machine's glibc (major, minor), or None when it has none."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    match = re.fullmatch(r"glibc (\d+)\.(\d+).*", text)
    return (int(match[1]), int(match[2])) if match else None


def _glibc_of(target: Target) -> tuple[int, int] | None:
    if target.glibc is None:
        return host_glibc()
    major, minor = target.glibc.split(".")[:2]
    return int(major), int(minor)


def uv_platform(target: Target) -> str:
    """uv's ``--python-platform`` for the target: its arch and the newest manylinux level
    uv knows that its glibc runs (wheels for an older glibc run on a newer one)."""
    glibc = _glibc_of(target)
    if target.arch not in _UV_ARCHES:
        raise PinError(
            f"uv cannot resolve for {target.arch} (target {target.name}), and rpmdeploy pins "
            "with it (the build dependencies always): pin for an x86_64 or aarch64 target"
        )
    if glibc is None or glibc[0] != 2 or glibc[1] < _UV_GLIBC_MINORS[0]:
        found = "none" if glibc is None else f"{glibc[0]}.{glibc[1]}"
        raise PinError(
            f"target {target.name} has no glibc uv can resolve for (found: {found}; needs "
            f"2.{_UV_GLIBC_MINORS[0]} or newer)"
        )
    minor = max(m for m in _UV_GLIBC_MINORS if m <= glibc[1])
    return f"{target.arch}-manylinux_2_{minor}"


def describe_platform(target: Target) -> str:
    """:func:`uv_platform`, or for a target uv cannot resolve for, its arch and glibc."""
    try:
        return uv_platform(target)
    except PinError:
        glibc = _glibc_of(target)
        return f"{target.arch}-glibc_{glibc[0]}_{glibc[1]}" if glibc else f"{target.arch}-linux"


def uv_env() -> dict[str, str]:
    """The environment uv runs in: without the machine's pip and uv configuration."""
    env = {
        key: value
        for key, value in isolated_pip_env().items()
        if not key.startswith("UV_") or key in _UV_TRUST
    }
    if "PIP_CERT" in env and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = env["PIP_CERT"]  # the same trust pip is given
    return {k: v for k, v in env.items() if not k.startswith("PIP_")}


def index_args(index: IndexOptions, base: Path) -> list[str]:
    """The index options for uv; relative find-links are relative to ``base``."""
    args = [a if a != "--trusted-host" else "--allow-insecure-host" for a in index.pip_args(base)]
    return args


@dataclass(frozen=True)
class UvRun:
    """One target's uv invocation settings."""

    target: Target
    options: PinOptions
    base: Path  # the app directory: relative find-links are relative to it
    log: Path

    def common_args(self) -> list[str]:
        cache = self.options.tools_dir / "uv-cache" if self.options.tools_dir else None
        args = [
            uv_binary(),
            "pip",
            "compile",
            "--quiet",
            "--no-config",
            "--no-python-downloads",
            "--python",  # builds sdists' metadata; markers come from --python-version
            sys.executable,
            "--python-version",
            self.target.python_full_version,
            "--python-platform",
            uv_platform(self.target),
            "--generate-hashes",
            "--no-header",
            *(["--cache-dir", str(cache)] if cache else []),
            *index_args(self.options.index, self.base.resolve()),
        ]
        if self.options.uploaded_prior_to:
            args += ["--exclude-newer", self.options.uploaded_prior_to]
        return args

    def compile(
        self,
        inputs: Sequence[str],
        output: Path,
        cwd: Path,
        what: str,
        *,
        seed: Path | None = None,
        early: bool = False,
    ) -> None:
        """Resolve ``inputs`` (files in ``cwd``) into ``output``, a pip-tools style file with
        ``# via`` annotations; an existing ``output`` (``seed``, today's pins, copied there by
        the caller) gives the preferred versions.  ``early``: the command's first resolution,
        which may be the run the ``rpmdeploy`` command started early (``output`` alone in its
        directory; :mod:`rpmdeploy.prestart`)."""
        upgrade = ["--upgrade"] if self.options.upgrade else []
        upgrade += [a for p in self.options.upgrade_packages for a in ("--upgrade-package", p)]
        argv = [
            *self.common_args(),
            "--no-strip-extras",  # foo[bar]==1 tells rpms which +bar subpackages are needed
            *upgrade,
            "--output-file",
            str(output),
            *inputs,
        ]
        plan = None
        if early and self.options.tools_dir is not None:  # CACHE/tools: plans are kept in CACHE
            plan = (self.options.tools_dir.parent, output, seed, tuple(cwd / i for i in inputs))
        run_uv(argv, cwd=cwd, log=self.log, what=what, early=plan)
        links = local_find_links(self.options.index, self.base.resolve())
        if links:
            output.write_text(complete_hashes(output.read_text(), links))


def local_find_links(index: IndexOptions, base: Path) -> list[Path]:
    """The find-links that are directories on this machine (relative to ``base``)."""
    found = []
    for link in index.find_links:
        path = Path(link[len("file://") :] if link.startswith("file://") else link)
        path = path if path.is_absolute() else base / path
        if "://" not in link or link.startswith("file://"):
            if path.is_dir():
                found.append(path)
    return found


def complete_hashes(text: str, links: Sequence[Path]) -> str:
    """Add the hashes of every file of each pin found in local find-links directories.

    uv hashes only the one file it selected of a find-links candidate (and none when that
    version also has an incompatible wheel there), where pip-compile hashes them all; the
    others are needed when ``rpms`` picks another file (an sdist with ``no-binary``).
    """
    files: dict[tuple[NormalizedName, Version], list[Path]] = {}
    for link in links:
        for path in sorted(link.iterdir()):
            key = artifact_key(path.name)
            if key is not None and path.is_file():
                files.setdefault(key, []).append(path)
    out: list[str] = []
    entry: list[str] = []
    for line in [*text.splitlines(), ""]:
        if entry and (not line.startswith((" ", "\t")) or line.strip().startswith("#")):
            out.extend(_with_hashes(entry, files))
            entry = []
        if line and not line.startswith((" ", "\t", "#", "-")):
            entry = [line]
        elif entry and line.strip().startswith("--hash"):
            entry.append(line)
        else:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


def _with_hashes(
    entry: list[str], files: dict[tuple[NormalizedName, Version], list[Path]]
) -> list[str]:
    """One requirement's lines (``name==version \\`` and its ``--hash`` lines) with the
    hashes of its local files added, sorted as uv sorts them."""
    requirement = entry[0].rstrip(" \\")
    hashes = {ln.strip().rstrip(" \\").removeprefix("--hash=") for ln in entry[1:]}
    match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;]+)", requirement)
    if match:
        try:
            key = (canonicalize_name(match[1]), Version(match[2]))
        except InvalidVersion:
            key = None
        for path in files.get(key, []) if key else []:
            hashes.add(f"sha256:{sha256_file(path)}")
    if not hashes:
        return [requirement]
    ordered = sorted(hashes)
    lines = [f"{requirement} \\"]
    lines += [f"    --hash={h} \\" for h in ordered[:-1]]
    lines.append(f"    --hash={ordered[-1]}")
    return lines


#: What lets a run be the early start's: the cache, the output (alone in its directory),
#: the file copied there first (or None) and the files the run reads.
Early = tuple[Path, Path, Path | None, tuple[Path, ...]]


def run_uv(argv: list[str], *, cwd: Path, log: Path, what: str, early: Early | None = None) -> None:
    """Run uv; a failure is one line with uv's own error and its causes.  With ``early``, the
    run started early for this command line is taken if it is this one
    (:func:`rpmdeploy.prestart.take`), and this run becomes the command line's plan if not."""
    start = log.stat().st_size if log.exists() else 0
    # uv may build an sdist's metadata, which runs that sdist's code: confined, with the
    # network (it resolves against the indexes) but no writes outside its cache and output.
    made = [Path(p) for p in _after(argv, "--cache-dir")]  # bubblewrap binds what exists
    for path in made:
        path.mkdir(parents=True, exist_ok=True)
    argv = confined(argv, network=True, cwd=cwd, **_binds(argv, cwd))
    env = uv_env()
    taken = None
    if early is not None:
        cache, output, seed, inputs = early
        planned = prestart.Run(argv, env, cwd, output.parent, output, seed, inputs, made)
        taken = prestart.take(planned, cache)
    try:
        if taken is None:
            run(argv, log=log, what=what, env=env, cwd=cwd, error=PinError)
        else:
            try:
                taken.started.wait(log=log, what=what, error=PinError, note=prestart.NOTE)
            except PinError:
                taken.discard()
                raise
            taken.finish(output)
    except PinError:
        from rpmdeploy import diagnose  # its rules are compiled on import: only on failure

        cause = diagnose.explain(output_since(log, start), "uv") or _uv_error(log, start)
        raise PinError(f"{what}: {cause}", str(log)) from None


def _binds(argv: Sequence[str], cwd: Path) -> dict[str, list[Path]]:
    """What a confined uv run needs: its cache and output writable; the inputs, local
    find-links and interpreters readable."""

    def after(flag: str) -> list[Path]:
        return [Path(p) for p in _after(argv, flag)]

    cache = after("--cache-dir")
    outputs = [p.parent for p in after("--output-file")]
    links = [p for p in after("--find-links") if p.is_absolute() and p.is_dir()]
    python = [d for p in after("--python") for d in interpreter_dirs(str(p))]
    readable = [*links, *python, *interpreter_dirs(), Path(uv_binary()).parent.parent]
    return {"writable": list(dict.fromkeys([cwd, *cache, *outputs])), "readable": readable}


def _after(argv: Sequence[str], flag: str) -> list[str]:
    """The values given to ``flag`` in ``argv``."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


def _uv_error(log: Path, start: int) -> str:
    with log.open("rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    lines = [ln.strip(" ×╰─▶│") for ln in text.splitlines()[1:]]  # [0]: the command line
    found = [ln.removeprefix("error: ") for ln in lines if ln.startswith(("error:", "cause:"))]
    message = "; ".join(found or [ln for ln in lines if ln][-1:] or ["uv failed"])
    return message if len(message) <= 600 else message[:597] + "..."


@dataclass(frozen=True)
class ArtifactFiles:
    """The files one pin has for the target, as uv sees them."""

    name: NormalizedName
    version: str
    has_wheel: bool  # a wheel fits the target's Python and platform
    sdist_url: str | None = None
    sdist_sha256: str | None = None
    wheel_hashes: frozenset[str] = frozenset()  # "sha256:HEX" of the wheels that fit

    @property
    def hashes(self) -> frozenset[str]:
        """``sha256:HEX`` of every file listed: the wheels that fit and the sdist."""
        sdist = {f"sha256:{self.sdist_sha256}"} if self.sdist_sha256 else set()
        return self.wheel_hashes | sdist

    def has_pinned_wheel(self, pin: Pin) -> bool:
        """Whether a wheel that fits is among ``pin``'s hashes: fetching takes only those
        (``--require-hashes``), else the pin is built from its sdist."""
        return not self.wheel_hashes.isdisjoint(pin.hashes)


#: Each pin's files, by name.
Listing = Mapping[NormalizedName, ArtifactFiles]


def compile_run_time(
    app_dir: Path,
    target: Target,
    options: PinOptions,
    log: Path,
    previous: Sequence[Pin] = (),
) -> tuple[str, PinnedFor, Listing | None]:
    """Resolve ``APP_DIR/dependencies.in`` with uv: the pins (annotated, hashed), the record
    of what they were pinned for, and a listing of their files made meanwhile (None when
    uv's cache could not tell; check it with :func:`listing_covers` before use).

    The listing (:func:`artifact_files`, offline, wheels only) runs beside the resolution,
    which is mostly waiting on the index: of the ``previous`` pins (today's file, which the
    resolution prefers) unless ``--upgrade``, else of an offline resolution of the same
    input.  It spares the wait for a second uv run when the pins come out as uv's cache
    foresaw and all have wheels.
    """
    record = PinnedFor(
        target=target.name,
        python=target.python_full_version,
        platform=uv_platform(target),
        resolver="uv",
        uploaded_prior_to=options.uploaded_prior_to,
    )
    uv = UvRun(target, options, app_dir, log)
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-pin-") as tmp:
        output = Path(tmp) / PINNED_FILE
        if (app_dir / PINNED_FILE).is_file():
            shutil.copyfile(app_dir / PINNED_FILE, output)  # today's pins are preferred
        if previous and not options.upgrade:
            listing = _Listing(uv, app_dir, Path(tmp) / "listing", pins=requirement_lines(previous))
        else:
            listing = _Listing(uv, app_dir, Path(tmp) / "listing", inputs=[IN_FILE])
        listing.start()
        try:
            what = f"uv pip compile of {app_dir / IN_FILE}"
            uv.compile([IN_FILE], output, app_dir, what, seed=app_dir / PINNED_FILE, early=True)
        finally:
            files = listing.result()
        return output.read_text(), record, files


class _Listing(threading.Thread):
    """:func:`artifact_files` in a thread, offline and from wheels only: of ``pins``
    (requirement lines, without their dependencies), or of a resolution of ``inputs``
    (files in ``base``).

    ``--no-build``: it builds no sdist, so it runs no package code and costs next to
    nothing; a pin that has no wheel is listed after the resolution anyway.
    """

    def __init__(
        self,
        uv: UvRun,
        base: Path,
        work: Path,
        *,
        pins: str = "",
        inputs: Sequence[str] = (),
    ) -> None:
        super().__init__(name="rpmdeploy-uv-listing", daemon=True)
        self.uv, self.work, self.pins = uv, work, pins
        self.files: Listing | None = None
        # The command line is made here, in the calling thread: finding uv reads sysconfig,
        # whose first use is not thread-safe.
        self.lock = work / "pylock.toml"
        argv = [*uv.common_args(), "--offline", "--no-build", "--output-file", str(self.lock)]
        if pins:
            self.argv, self.cwd = [*argv, "--no-deps", str(work / "pins.txt")], work
        else:
            self.argv, self.cwd = [*argv, *inputs], base

    def run(self) -> None:
        own_log = self.work / "uv.log"  # not the shared log: uv's errors are read back from it
        what = "uv: listing the pins' files beside the resolution"
        try:
            self.work.mkdir()
            if self.pins:
                (self.work / "pins.txt").write_text(self.pins)
            run_uv(self.argv, cwd=self.cwd, log=own_log, what=what)
            self.files = _read_lock(self.lock)
        except (PinError, OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
            self.files = None  # the files are listed after the resolution instead

    def result(self) -> Listing | None:
        """Wait for the listing; its log is added to the pin's log."""
        self.join()
        own_log = self.work / "uv.log"
        if own_log.is_file():
            with self.uv.log.open("ab") as out:
                out.write(
                    b"# beside the resolution (offline, wheels only):\n" + own_log.read_bytes()
                )
        return self.files


def requirement_lines(pins: Sequence[Pin]) -> str:
    """Pins as requirement lines with their hashes (index options come from the command)."""
    lines = []
    for pin in pins:
        extras = f"[{','.join(pin.extras)}]" if pin.extras else ""
        hashes = " ".join(f"--hash={h}" for h in pin.hashes)
        lines.append(f"{pin.name}{extras}=={pin.version} {hashes}\n")
    return "".join(lines)


def artifact_files(
    requirements: str, target: Target, options: PinOptions, base: Path, log: Path
) -> dict[NormalizedName, ArtifactFiles]:
    """For pinned, hashed ``requirements`` (requirement lines only), the files of each pin
    that fit the target, from uv's ``pylock.toml`` of exactly those pins.

    Run offline first: the resolution just before filled uv's cache with everything needed.
    """
    uv = UvRun(target, options, base, log)
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-files-") as tmp:
        try:
            return _list_pins(uv, requirements, Path(tmp), log, offline=True)
        except PinError:
            return _list_pins(uv, requirements, Path(tmp), log, offline=False)


def _list_pins(
    uv: UvRun, requirements: str, work: Path, log: Path, *, offline: bool
) -> dict[NormalizedName, ArtifactFiles]:
    pins = work / "pins.txt"
    pins.write_text(requirements)
    lock = work / "pylock.toml"
    argv = [*uv.common_args(), "--no-deps", "--output-file", str(lock), str(pins)]
    what = "uv: listing the pinned files"
    run_uv([*argv, "--offline"] if offline else argv, cwd=work, log=log, what=what)
    return _read_lock(lock)


def _read_lock(lock: Path) -> dict[NormalizedName, ArtifactFiles]:
    data = tomllib.loads(lock.read_text())
    packages = [_files_of(package, lock.parent) for package in data.get("packages", [])]
    return {files.name: files for files in packages}


def _files_of(package: dict[str, Any], lock_dir: Path) -> ArtifactFiles:
    sdist = package.get("sdist") or {}
    url = sdist.get("url")
    if url is None and sdist.get("path"):
        url = (lock_dir / sdist["path"]).resolve().as_uri()
    wheels = package.get("wheels") or []
    digests = [(wheel.get("hashes") or {}).get("sha256") for wheel in wheels]
    return ArtifactFiles(
        name=canonicalize_name(str(package["name"])),
        version=str(package["version"]),
        has_wheel=bool(wheels),
        sdist_url=url,
        sdist_sha256=(sdist.get("hashes") or {}).get("sha256"),
        wheel_hashes=frozenset(f"sha256:{d}" for d in digests if d),
    )


def listing_covers(files: Listing, pins: Sequence[Pin], from_sdist: frozenset[str]) -> bool:
    """Whether a listing made from uv's cache before the pins were resolved says what a
    listing made after would: it lists exactly these pins (names and versions), every file
    it lists is among its pin's hashes (still on the index, unchanged), and every pin has a
    wheel that fits, plus its sdist when ``from_sdist`` forces it (names, or ":all:").

    A pin without a fitting wheel in it is not trusted: a wheel may have been uploaded
    since uv's cache was filled, which only a listing made after the resolution sees.
    (Every file it lists being pinned, a wheel it lists is a pinned wheel.)
    """
    if files.keys() != {pin.name for pin in pins}:
        return False
    for pin in pins:
        found = files[pin.name]
        try:
            same = found.version == pin.version or Version(found.version) == Version(pin.version)
        except InvalidVersion:
            return False
        forced = ALL in from_sdist or pin.name in from_sdist
        if not same or not found.hashes or not found.hashes <= set(pin.hashes):
            return False
        if not found.has_wheel or (forced and found.sdist_sha256 is None):
            return False
    return True

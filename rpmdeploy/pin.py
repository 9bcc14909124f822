"""Stage 1, pin: compile ``dependencies.in`` with pip-tools, and read the pinned file back.

Compiling runs ``pip-compile`` under the *target's* interpreter, since environment markers are
evaluated by the interpreter pip-compile runs under.  It runs with pip's configuration isolated
so that machine-local indexes never leak into the user's pinned file; the index options the
user gives are written into the file, and ``rpms`` honours them when fetching.
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from rpmdeploy._run import capture, isolated_pip_env, run
from rpmdeploy.errors import PinError
from rpmdeploy.targets import Target, find_python, python_version_of

IN_FILE = "dependencies.in"
PINNED_FILE = "dependencies.txt"
_HASH_RE = re.compile(r"^(sha256|sha384|sha512):[0-9a-f]+$")


@dataclass(frozen=True)
class IndexOptions:
    """The pip options that say where packages come from."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    trusted_hosts: tuple[str, ...] = ()

    def pip_args(self, base: Path | None = None) -> list[str]:
        args: list[str] = []
        if self.no_index:
            args.append("--no-index")
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", _resolve_link(link, base)]
        for host in self.trusted_hosts:
            args += ["--trusted-host", host]
        return args


@dataclass(frozen=True)
class Pin:
    """One line of a pinned requirements file: ``name==version`` with its allowed hashes."""

    name: NormalizedName
    version: str
    hashes: tuple[str, ...]
    extras: tuple[str, ...] = ()
    line: int = 0

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class PinnedSet:
    pins: tuple[Pin, ...]
    index: IndexOptions = field(default_factory=IndexOptions)
    source: Path | None = None

    def get(self, name: str) -> Pin | None:
        wanted = canonicalize_name(name)
        return next((p for p in self.pins if p.name == wanted), None)


# --- reading -----------------------------------------------------------------------------------


def read_pins(app_dir: Path, target: Target | None = None) -> PinnedSet:
    """Read ``APP_DIR/dependencies.txt``; every line must be ``name==version`` with hashes.

    Lines whose environment marker is false for ``target`` are skipped, as pip would.
    """
    path = app_dir / PINNED_FILE
    if not path.is_file():
        raise PinError(f"{path} not found: run 'rpmdeploy pin {app_dir}' to create it")
    return parse_pins(path.read_text(), path, target)


def parse_pins(text: str, path: Path, target: Target | None = None) -> PinnedSet:
    pins: list[Pin] = []
    index = IndexOptions()
    seen: set[str] = set()
    for lineno, line in _logical_lines(text):
        where = f"{path}:{lineno}"
        if line.startswith("-"):
            index = _apply_option(index, line, where)
            continue
        pin = _parse_pin_line(line, lineno, where, target)
        if pin is None:
            continue
        if pin.name in seen:
            raise PinError(f"{where}: {pin.name} is pinned twice")
        seen.add(pin.name)
        pins.append(pin)
    return PinnedSet(tuple(pins), index, path)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (first line number, line) with comments dropped and continuations joined."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        joined = " ".join(part.strip() for part in buffer).strip()
        buffer = []
        if joined:
            yield start, joined
    if buffer and " ".join(buffer).strip():
        yield start, " ".join(part.strip() for part in buffer).strip()


_OPTION_ALIASES = {
    "-i": "--index-url",
    "-f": "--find-links",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "--find-links": "--find-links",
    "--no-index": "--no-index",
    "--trusted-host": "--trusted-host",
}


def _apply_option(index: IndexOptions, line: str, where: str) -> IndexOptions:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise PinError(f"{where}: cannot parse option line: {exc}") from None
    option, _, inline = words[0].partition("=")
    values = ([inline] if inline else []) + words[1:]
    canonical = _OPTION_ALIASES.get(option)
    if canonical is None:
        raise PinError(
            f"{where}: option {option!r} is not supported in a pinned file "
            "(supported: --index-url, --extra-index-url, --find-links, --no-index, --trusted-host)"
        )
    if canonical == "--no-index":
        return _replace(index, no_index=True)
    if len(values) != 1:
        raise PinError(f"{where}: {canonical} takes exactly one value")
    value = values[0]
    if canonical == "--index-url":
        return _replace(index, index_url=value)
    if canonical == "--extra-index-url":
        return _replace(index, extra_index_urls=(*index.extra_index_urls, value))
    if canonical == "--find-links":
        return _replace(index, find_links=(*index.find_links, value))
    return _replace(index, trusted_hosts=(*index.trusted_hosts, value))


def _replace(index: IndexOptions, **changes: object) -> IndexOptions:
    return replace(index, **changes)  # type: ignore[arg-type]


def _parse_pin_line(line: str, lineno: int, where: str, target: Target | None) -> Pin | None:
    requirement_text, hashes = _split_hashes(line, where)
    if re.match(r"^(-e|--editable)\b|^(git\+|https?://|file:)", requirement_text):
        raise PinError(f"{where}: only PyPI-style 'name==version' pins are supported")
    try:
        req = Requirement(requirement_text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise PinError(f"{where}: not a requirement: {requirement_text!r} ({reason})") from None
    if req.url:
        raise PinError(f"{where}: {req.name} is a URL requirement; pin a released version")
    if req.marker is not None and target is not None:
        if not req.marker.evaluate(target.marker_environment()):
            return None
    specs = list(req.specifier)
    unpinned = (
        f"{where}: {requirement_text!r} is not pinned to one version (name==version with "
        "--hash); run 'rpmdeploy pin' to compile dependencies.in into a pinned, hashed file"
    )
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        raise PinError(unpinned)
    try:
        Version(specs[0].version)
    except InvalidVersion:
        raise PinError(f"{where}: {specs[0].version!r} is not a valid version") from None
    if not hashes:
        raise PinError(
            f"{where}: {req.name} has no --hash; run 'rpmdeploy pin' (pip-compile "
            "--generate-hashes) so every artifact is verified"
        )
    return Pin(
        name=canonicalize_name(req.name),
        version=specs[0].version,
        hashes=tuple(hashes),
        extras=tuple(sorted(canonicalize_name(e) for e in req.extras)),
        line=lineno,
    )


def _split_hashes(line: str, where: str) -> tuple[str, list[str]]:
    parts = re.split(r"\s+(?=--hash)", line)
    hashes: list[str] = []
    for option in parts[1:]:
        value = re.sub(r"^--hash[=\s]\s*", "", option).strip()
        if not _HASH_RE.match(value):
            raise PinError(f"{where}: malformed hash {value!r} (expected sha256:HEX)")
        hashes.append(value)
    if "--" in parts[0] and not parts[0].startswith("--"):
        extra = parts[0][parts[0].index("--") :]
        raise PinError(f"{where}: unsupported per-requirement option {extra.split()[0]!r}")
    return parts[0].strip(), hashes


def _resolve_link(link: str, base: Path | None) -> str:
    """find-links given as relative paths are relative to the pinned file's directory."""
    if base is None or "://" in link or Path(link).is_absolute():
        return link
    return str((base / link).resolve())


# --- compiling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PinOptions:
    index: IndexOptions = field(default_factory=IndexOptions)
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    python: str | None = None  # interpreter to resolve under; default: the target's
    # Where to make a venv with pip-tools for a target interpreter that lacks it (None: don't).
    tools_dir: Path | None = None


def compile_pins(app_dir: Path, target: Target, options: PinOptions, log: Path) -> Path:
    """Run pip-compile on ``APP_DIR/dependencies.in``; return the path of dependencies.txt."""
    source = app_dir / IN_FILE
    if not source.is_file():
        raise PinError(f"{source} not found: list the app's top-level dependencies there")
    if options.python and python_version_of(options.python) != target.python_version:
        raise PinError(
            f"{options.python} is not Python {target.python_version}, the Python of target "
            f"{target.name}"
        )
    python = find_target_python(target, options, log)
    argv = [
        python,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",  # setuptools/pip are real run-time deps of pkg_resources users
        "--no-strip-extras",  # foo[bar]==1 tells rpms which +bar subpackages are needed
        "--no-emit-trusted-host",
        "--emit-index-url",  # only the user's own options reach the file (pip config isolated)
        "--emit-find-links",
        "--output-file",
        PINNED_FILE,
        *options.index.pip_args(),  # relative find-links stay relative to APP_DIR
        *(["--upgrade"] if options.upgrade else []),
        *[arg for pkg in options.upgrade_packages for arg in ("--upgrade-package", pkg)],
        IN_FILE,
    ]
    env = isolated_pip_env({"CUSTOM_COMPILE_COMMAND": "rpmdeploy pin"})
    run(argv, log=log, what=f"pip-compile of {source}", env=env, cwd=app_dir, error=PinError)
    output = app_dir / PINNED_FILE
    if options.index.no_index:
        _ensure_no_index_line(output)
    return output


def _ensure_no_index_line(path: Path) -> None:
    """pip-compile writes --find-links but never --no-index; without it, fetching the pins
    later would also ask the default index, which the user ruled out."""
    lines = path.read_text().splitlines(keepends=True)
    if any(line.strip() == "--no-index" for line in lines):
        return
    header = 0
    while header < len(lines) and lines[header].startswith("#"):
        header += 1
    lines.insert(header, "--no-index\n")
    path.write_text("".join(lines))


def find_target_python(target: Target, options: PinOptions, log: Path) -> str:
    """An interpreter of the target's X.Y with pip-tools importable.

    rpmdeploy's own interpreter when it matches, else the target's (the host's python3, or
    ``pythonX.Y`` on PATH for a distribution target).  An interpreter without pip-tools gets
    a cached venv with it (``options.tools_dir``), installed from the pin's own indexes.
    """
    if options.python:
        found = [options.python]
    else:
        preferred = (sys.executable, target.interpreter) if target.is_host else (sys.executable,)
        found = find_python(target.python_version, preferred)
    for path in found:
        if _has_piptools(path):
            return path
    if found and options.tools_dir is not None:
        return _piptools_venv(found[0], target, options, log)
    raise PinError(
        f"no Python {target.python_version} found to pin for target {target.name}: "
        "environment markers must be evaluated by the target's Python. Install "
        f"python{target.python_version} (with pip-tools), or pass --python PATH"
    )


def _piptools_venv(python: str, target: Target, options: PinOptions, log: Path) -> str:
    """A venv of ``python`` with this rpmdeploy's pip-tools version, made once and cached."""
    assert options.tools_dir is not None
    version = importlib.metadata.version("pip-tools")
    venv = options.tools_dir / f"pip-tools-{version}-py{target.python_version}"
    venv_python = venv / "bin" / "python"
    if _has_piptools(str(venv_python)):
        return str(venv_python)
    shutil.rmtree(venv, ignore_errors=True)
    what = f"installing pip-tools {version} for Python {target.python_version} ({python})"
    run([python, "-m", "venv", venv], log=log, what=what, error=PinError)
    install = [
        str(venv_python),
        "-m",
        "pip",
        "install",
        "--quiet",
        *options.index.pip_args(),
        f"pip-tools=={version}",
    ]
    run(install, log=log, what=what, env=isolated_pip_env(), error=PinError)
    return str(venv_python)


def _has_piptools(python: str) -> bool:
    try:
        capture([python, "-c", "import piptools"], what="pip-tools check")
    except Exception:  # noqa: BLE001
        return False
    return True

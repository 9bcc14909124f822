"""Stage 2b, wheel: what an sdist's wheel will be, without building it; build environments.

The build backend and its requirements are installed into a cached build environment before
anything runs, from the app's pinned build dependencies only (``build-dependencies.txt``,
written by ``rpmdeploy pin``): fetched hash-checked like every pin, installed with
``--require-hashes`` from those files and no index.  A build requirement that is not pinned
there is an error naming the fix (``rpmdeploy pin``), never a download.  The backend then
runs without build isolation, so nothing is fetched mid-build, and confined
(``rpmdeploy.confine``: it is the sdist's own code).

Each sdist is built once, by rpmbuild in %build (so the SRPM is a real source package).
Before that, rpmdeploy only asks the backend for the wheel's metadata (PEP 517
``prepare_metadata_for_build_wheel``, through ``build``'s ``ProjectBuilder.metadata_path``,
which builds a wheel only for a backend without that hook) and decides whether the wheel
will be pure (a noarch RPM) from the sdist itself: see :func:`sdist_purity`.  The safety
net for a wrong "pure" is rpmbuild's own check: it refuses executable ELF files (as compilers
and setuptools' wheels leave extensions) in a noarch package ("Arch dependent binaries in
noarch package", ``%_binaries_in_noarch_packages_terminate_build``, on by default and never
turned off by rpmdeploy's specs).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tarfile
import tempfile
import tomllib
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from rpmdeploy._run import isolated_pip_env, run
from rpmdeploy.cache import Cache, stable_key
from rpmdeploy.confine import confined, interpreter_dirs
from rpmdeploy.diagnose import conflict_message
from rpmdeploy.errors import BuildError
from rpmdeploy.fetch import Artifact, FetchOptions, fetch_artifacts
from rpmdeploy.metadata import wheel_is_pure
from rpmdeploy.pin import Pin, PinnedSet, read_build_pins
from rpmdeploy.targets import Target, find_python, python_version_of


@dataclass(frozen=True)
class BuiltWheel:
    """What the spec of a package is made from.

    For a wheel artifact, the wheel.  For an sdist, nothing is built yet: ``path`` is the
    ``.dist-info`` directory its backend prepared (cached), ``is_pure`` whether the wheel
    %build makes will be pure, and ``purity`` why it was decided so.
    """

    path: Path  # the wheel, or an sdist's prepared .dist-info directory
    build_requires: tuple[str, ...] = ()  # PEP 508 requirements of the sdist's build
    backend_python: str | None = None  # interpreter of the build environment (sdists only)
    sdist_top_dir: str | None = None  # the directory the sdist unpacks into
    is_pure: bool | None = None  # an sdist's, decided without building; None: read the wheel
    purity: str = ""  # why an sdist's wheel is taken to be pure or compiled


@dataclass(frozen=True)
class WheelContext:
    target: Target
    cache: Cache
    pinned: PinnedSet
    artifacts: Mapping[str, Artifact]  # every fetched artifact of the pinned set
    # The builder builds inside the target: what runs here only serves to read the
    # metadata, so a compiled sdist need not be buildable for the target on this machine.
    in_target: bool = False

    def build_pins(self) -> PinnedSet:
        """The app's pinned build dependencies: build-dependencies.txt beside its pins."""
        if self.pinned.source is None:
            raise BuildError("the pinned set was not read from a file: no build dependencies")
        return read_build_pins(self.pinned.source.parent, self.target)

    def build_environment(self, requires: Sequence[str], log: Path) -> str:
        """The interpreter of a cached venv holding ``requires`` (pinned versions)."""
        return _build_env_python(self, requires, log)


def wheel_for(artifact: Artifact, ctx: WheelContext, log: Path) -> BuiltWheel:
    """What ``artifact``'s package is made from: the wheel itself, or an sdist's prepared
    metadata and purity (cached by the sdist's hash and the target)."""
    if artifact.is_wheel:
        return BuiltWheel(artifact.path)
    key = stable_key("sdist-metadata", PURITY_RULES, artifact.sha256, ctx.target.cache_identity())
    meta = ctx.cache.read_json("sdist-metadata", key, "prepared.json")
    if meta is not None:
        dist_info = ctx.cache.root / "sdist-metadata" / key / meta["dist_info"]
        env_python = _build_env_python(ctx, meta["build_requires"], log)
        if dist_info.is_dir():
            return BuiltWheel(
                dist_info,
                tuple(meta["build_requires"]),
                env_python,
                meta["sdist_top_dir"],
                meta["is_pure"],
                meta["purity"],
            )
    with ctx.cache.staging("sdist-metadata", key) as out, tempfile.TemporaryDirectory() as tmp:
        source = unpack_sdist(artifact, Path(tmp))
        prepared = _prepare(artifact, source, out, ctx, log)
        # Written into the staging dir: the rename makes the entry appear complete.
        meta = {
            "dist_info": prepared.path.name,
            "build_requires": list(prepared.build_requires),
            "sdist_top_dir": source.name,
            "is_pure": prepared.is_pure,
            "purity": prepared.purity,
        }
        (out / "prepared.json").write_text(json.dumps(meta, indent=1))
    final = ctx.cache.root / "sdist-metadata" / key / prepared.path.name
    return BuiltWheel(
        final,
        prepared.build_requires,
        prepared.backend_python,
        source.name,
        prepared.is_pure,
        prepared.purity,
    )


def _prepare(
    artifact: Artifact, source: Path, outdir: Path, ctx: WheelContext, log: Path
) -> BuiltWheel:
    from build import BuildBackendException, BuildException, ProjectBuilder
    from pyproject_hooks import BuildBackendWarning

    # Backends' deprecation warnings are re-raised in this process by pyproject_hooks; they
    # are the package author's business and are in the build log already.  A filter, not
    # catch_warnings, since builds run in threads.
    warnings.filterwarnings("ignore", category=BuildBackendWarning)
    name = artifact.pin.requirement
    try:
        project = ProjectBuilder(source)
        static = project.build_system_requires
    except BuildException as exc:
        raise BuildError(f"{name}: invalid build configuration in sdist: {exc}") from None
    requires = sorted(static)
    python = _build_env_python(ctx, requires, log, name)

    def backend(python: str) -> ProjectBuilder:
        runner = _runner(log, python, [source, outdir], ctx.cache.root)
        return ProjectBuilder(source, python_executable=python, runner=runner)

    builder = backend(python)
    try:
        dynamic = sorted(builder.get_requires_for_build("wheel"))
        if any(r not in requires for r in dynamic):
            # The backend asked for more (setuptools asks for wheel, say): an environment
            # with all of it, and the hooks run there.
            requires = sorted({*requires, *dynamic})
            python = _build_env_python(ctx, requires, log, name)
            builder = backend(python)
        # prepare_metadata_for_build_wheel; a wheel only if the backend lacks that hook.
        dist_info = Path(builder.metadata_path(outdir))
    except (BuildBackendException, BuildException, BuildError):
        raise BuildError(
            f"{name}: reading the metadata of {artifact.filename} failed", str(log)
        ) from None
    built = sorted(outdir.glob("*.whl"))
    if built:  # the backend has no metadata hook: its wheel says what it is
        wheel = built[0]
        if not ctx.in_target:
            _check_fits_target(wheel, ctx.target, name)
        with zipfile.ZipFile(wheel) as zf:
            text = zf.read(f"{dist_info.name}/WHEEL").decode("utf-8", "replace")
        pure = wheel_is_pure(text, parse_wheel_filename(wheel.name)[3])
        why = f"built a wheel for its metadata (no metadata hook): {wheel.name}"
        for extra in built:
            extra.unlink()
    else:
        readable = [ctx.cache.root, *interpreter_dirs(), *interpreter_dirs(python)]
        pure, why = sdist_purity(source, dist_info, python, log, readable)
        if not pure and not ctx.in_target:
            _check_compiles_for_target(python, ctx.target, name)
    with log.open("a") as f:
        f.write(f"rpmdeploy: {name}: {'pure (noarch)' if pure else 'compiled'}: {why}\n")
    return BuiltWheel(dist_info, tuple(requires), python, source.name, pure, why)


def _check_compiles_for_target(python: str, target: Target, name: str) -> None:
    """A compiled sdist built on this machine is built by the build environment's Python:
    it must be the target's version (``_builder_interpreter`` looks for one)."""
    version = python_version_of(python)
    if version != target.python_version:
        raise BuildError(
            f"{name}: the sdist compiles for this machine's Python ({version}), not for "
            f"target {target.name} (Python {target.python_version}); it must be built inside "
            "the target: use a builder that builds there, or a wheel for the target"
        )


# --- pure or compiled, without building ----------------------------------------------------------

#: The version of the rules below: part of the cache key of an sdist's prepared metadata.
PURITY_RULES = 2
#: Build backends whose wheels always hold compiled code.
COMPILING_BACKENDS = frozenset(
    {"maturin", "scikit_build_core", "mesonpy", "sipbuild", "py_build_cmake", "enscons"}
)
#: Sources a build compiles (C, C++, Objective-C, Cython, Fortran, Rust, CUDA, Go).
COMPILED_SUFFIXES = frozenset(
    {".c", ".cc", ".cpp", ".cxx", ".c++", ".m", ".mm", ".pyx", ".f", ".for", ".f90", ".f95"}
    | {".rs", ".cu", ".go"}
)
COMPILED_FILES = frozenset({"Cargo.toml"})
#: Directories whose sources are not part of the build (pycparser ships C test inputs).
NOT_BUILT_DIRS = frozenset(
    {"test", "tests", "testing", "doc", "docs", "example", "examples", "benchmarks", "bench"}
)
#: Words in setup.py after which only setuptools itself can say whether it compiles.
SETUP_PY_HINTS = ("ext_modules", "Extension", "cffi_modules", "rust_extensions", "mypycify")


def sdist_purity(
    source: Path,
    dist_info: Path,
    python: str,
    log: Path,
    readable: Sequence[Path] = (),
) -> tuple[bool, str]:
    """Whether the wheel built from the unpacked sdist ``source`` will be pure, and why.

    In order: a WHEEL file among the prepared metadata that says compiled; a backend that
    always compiles; for a setup.py built by setuptools (or by a wrapper around it inside
    the sdist), ``[tool.setuptools] ext-modules``, else when it has compiled sources or
    mentions extensions setuptools' own answer (``Distribution.has_ext_modules()`` after
    reading the configuration: the sdist's code runs, confined, reading only ``readable``
    besides the system; nothing is compiled); for other backends, compiled sources (outside
    test, doc and example directories).  Otherwise pure.
    """
    wheel = dist_info / "WHEEL"
    if wheel.is_file() and not wheel_is_pure(wheel.read_text("utf-8", "replace")):
        return False, "the prepared WHEEL file says it is not pure"
    pyproject = _toml(source / "pyproject.toml")
    build_system = pyproject.get("build-system")
    declared = build_system.get("build-backend") if isinstance(build_system, dict) else None
    backend = str(declared or "setuptools.build_meta:__legacy__")  # PEP 517's default
    top = backend.split(".", 1)[0].split(":", 1)[0]
    if top in COMPILING_BACKENDS:
        return False, f"its build backend {backend} compiles"
    compiled = _compiled_source(source)
    setup_py = source / "setup.py"
    if setup_py.is_file() and (
        top == "setuptools" or isinstance(build_system, dict) and build_system.get("backend-path")
    ):
        # setuptools builds it (or a wrapper in the sdist around setuptools, as
        # charset-normalizer's): its sources compile only if setup.py says so (charset-
        # normalizer ships .pyx files it compiles only when asked by an environment variable).
        ext_modules = _declares_ext_modules(pyproject)
        if ext_modules:
            return False, ext_modules
        text = setup_py.read_text("utf-8", "replace")
        if compiled is None and not any(hint in text for hint in SETUP_PY_HINTS):
            return True, "no compiled sources, no extension modules"
        if _setuptools_has_extensions(source, python, log, readable):
            return False, "setuptools says it has extension modules"
        unused = f" ({compiled} is not built)" if compiled else ""
        return True, f"setuptools says it has no extension modules{unused}"
    if compiled is not None:
        return False, f"it has compiled sources ({compiled})"
    if top == "setuptools" and _declares_ext_modules(pyproject):
        return False, _declares_ext_modules(pyproject)
    return True, "no compiled sources, no extension modules"


def _declares_ext_modules(pyproject: Mapping[str, object]) -> str:
    tool = pyproject.get("tool")
    table = tool.get("setuptools") if isinstance(tool, dict) else None
    if isinstance(table, dict) and table.get("ext-modules"):
        return "pyproject.toml declares [tool.setuptools] ext-modules"
    return ""


def _compiled_source(source: Path) -> str | None:
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d.lower() not in NOT_BUILT_DIRS)
        for filename in sorted(filenames):
            if filename in COMPILED_FILES or Path(filename).suffix.lower() in COMPILED_SUFFIXES:
                return (Path(dirpath) / filename).relative_to(source).as_posix()
    return None


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text("utf-8")) if path.is_file() else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}  # build's ProjectBuilder already accepted it, or it is not there


# Runs in the build environment, confined, in the unpacked sdist: setuptools reads setup.py
# and its configuration (setup.cfg, pyproject.toml) and stops before running any command.
_SETUPTOOLS_PROBE = """\
import sys
sys.path.insert(0, "")
import setuptools  # first: distutils is then setuptools' own
from distutils.core import run_setup
dist = run_setup("setup.py", stop_after="config")
compiled = dist.has_ext_modules() or bool(getattr(dist, "rust_extensions", None))
with open(sys.argv[1], "w") as f:
    f.write("compiled" if compiled else "pure")
"""


def _setuptools_has_extensions(
    source: Path, python: str, log: Path, readable: Sequence[Path]
) -> bool:
    with tempfile.TemporaryDirectory() as answer_dir:
        answer = Path(answer_dir) / "answer"
        argv = confined(
            [python, "-c", _SETUPTOOLS_PROBE, str(answer)],
            writable=[source, Path(answer_dir)],
            readable=readable,
            cwd=source,
        )
        try:
            run(argv, log=log, what="asking setuptools for extension modules", cwd=source)
        except BuildError:
            return True  # it would not say: compiled is the answer that cannot ship wrong
        return not answer.is_file() or answer.read_text().strip() != "pure"


def _check_fits_target(wheel: Path, target: Target, name: str) -> None:
    tags = parse_wheel_filename(wheel.name)[3]
    if all(t.platform == "any" for t in tags):
        return
    if not any(t.interpreter == target.python_tag or t.abi == "abi3" for t in tags):
        raise BuildError(
            f"{name}: the sdist compiled for this machine's Python ({wheel.name}), not for "
            f"target {target.name} (Python {target.python_version}); it must be built inside "
            "the target: use a builder that builds there, or a wheel for the target"
        )


def _runner(log: Path, python: str, writable: Sequence[Path], cache: Path):  # type: ignore[no-untyped-def]
    """pyproject_hooks' runner: the backend (the package's own code) runs confined.

    It sees the build environment and the cache read-only, writes only the unpacked source,
    the wheel's output directory and the hook's control directory (pyproject_hooks passes
    it last), and has no network (``rpmdeploy.confine``).
    """

    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {**os.environ, **(extra_environ or {})}
        control = Path(cmd[-1])
        if not control.is_dir():
            raise BuildError(f"unexpected PEP 517 hook call: {cmd[-1]!r} is no control directory")
        argv = confined(
            cmd,
            writable=[*writable, control],
            readable=[cache, *interpreter_dirs(), *interpreter_dirs(python)],
            cwd=Path(cwd) if cwd else None,
        )
        run(argv, log=log, what="PEP 517 backend", env=env, cwd=Path(cwd) if cwd else None)

    return runner


# --- build environments ------------------------------------------------------------------------


def _build_env_python(
    ctx: WheelContext, requires: Sequence[str], log: Path, package: str = ""
) -> str:
    """A cached venv with ``requires`` installed at their pinned build versions; its python.
    ``package``: the sdist that asked for them (named when one is not pinned)."""
    interpreter = _builder_interpreter(ctx.target)
    pins = ctx.build_pins().pins if requires else ()
    pinned = sorted((p.requirement, sorted(p.hashes)) for p in pins)
    key = stable_key("buildenv", sorted(requires), interpreter, pinned)
    env_dir = ctx.cache.root / "buildenvs" / key
    python = env_dir / "bin" / "python"
    with ctx.cache.lock(f"buildenv-{key}"):
        if not (env_dir / ".complete").exists():
            _create_build_env(ctx, interpreter, key, requires, log, package)
    return str(python)


def _create_build_env(
    ctx: WheelContext,
    interpreter: str,
    key: str,
    requires: Sequence[str],
    log: Path,
    package: str = "",
) -> None:
    # rpmdeploy's own pip serves an env of its own Python version (fast: no ensurepip);
    # another version gets its own pip, which knows which wheels fit it.
    own_pip = python_version_of(interpreter) == f"{sys.version_info[0]}.{sys.version_info[1]}"
    with ctx.cache.staging("buildenvs", key) as tmp:
        venv = [interpreter, "-m", "venv", *(["--without-pip"] if own_pip else []), str(tmp)]
        run(venv, log=log, what="creating build env")
        python = tmp / "bin" / "python"
        pip = (
            [sys.executable, "-m", "pip", "--python", str(python)]
            if own_pip
            else [str(python), "-m", "pip"]
        )
        if requires:
            _install_build_requires(ctx, pip, requires, log, tmp, package)
        (tmp / ".complete").write_text("\n".join(requires) + "\n")


def _builder_interpreter(target: Target) -> str:
    if target.is_host:
        return target.interpreter
    found = find_python(target.python_version)
    return found[0] if found else sys.executable


def _install_build_requires(
    ctx: WheelContext,
    pip: list[str],
    requires: Sequence[str],
    log: Path,
    env_dir: Path,
    package: str = "",
) -> None:
    """Install ``requires`` from the pinned build dependencies only: every file fetched
    hash-checked, installed with ``--require-hashes`` and no index."""
    build = ctx.build_pins()
    wanted = _pinned_requirements(build, requires, ctx.target, package)
    (env_dir / "requirements.txt").write_text("".join(wanted))
    # Their own dependencies: pinned and hashed as constraints (pip checks those hashes too).
    (env_dir / "constraints.txt").write_text("".join(_pin_line(p) for p in build.pins))
    with ctx.cache.lock("build-dependencies-fetch"):
        artifacts = fetch_artifacts(build, ctx.target, FetchOptions(), ctx.cache, log)
    links = sorted({a.path.parent for a in artifacts.values()})
    install = [
        *pip,
        "install",
        "--no-index",
        "--require-hashes",
        *[arg for link in links for arg in ("--find-links", str(link))],
        "--requirement",
        str(env_dir / "requirements.txt"),
        "--constraint",
        str(env_dir / "constraints.txt"),
    ]
    run(install, log=log, what="installing pinned build requirements", env=isolated_pip_env())


def _pinned_requirements(
    build: PinnedSet, requires: Sequence[str], target: Target, package: str = ""
) -> list[str]:
    """Each build requirement as its pin's line (``name[extras]==version --hash=...``)."""
    environment = target.marker_environment()
    chosen: dict[str, tuple[Pin, set[str]]] = {}
    for text in requires:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate(environment):
            continue
        pin = build.get(req.name)
        if pin is None or not req.specifier.contains(pin.version, prereleases=True):
            if pin is None:
                found = f"build requirement {text!r} is not pinned"
            else:  # the one wording of this conflict (rpmdeploy.diagnose)
                pinned = f"{pin.name}=={pin.version}"
                found = conflict_message(text, package or "an sdist", pinned)
            sdists = ", ".join(build.pinned_for.sdists) if build.pinned_for else ""
            raise BuildError(
                f"{found} in {build.source} (pinned for the sdists "
                f"{sdists or 'none'}): run 'rpmdeploy pin' again (with --no-binary NAME for a "
                "package you build from its sdist; a requirement its backend asks for at build "
                "time goes in build-dependencies.in)"
            )
        chosen.setdefault(pin.name, (pin, set()))[1].update(req.extras)
    return [_pin_line(pin, extras) for _, (pin, extras) in sorted(chosen.items())]


def _pin_line(pin: Pin, extras: set[str] | frozenset[str] = frozenset()) -> str:
    hashes = " ".join(f"--hash={h}" for h in pin.hashes)
    extra = f"[{','.join(sorted(extras))}]" if extras else ""
    return f"{pin.name}{extra}=={pin.version} {hashes}\n"


# --- unpacking ---------------------------------------------------------------------------------


def unpack_sdist(artifact: Artifact, dest: Path) -> Path:
    """Unpack an sdist safely (no absolute paths, no '..', no links out, no devices)."""
    name = artifact.filename
    try:
        if name.endswith(".zip"):
            _unpack_zip(artifact.path, dest)
        else:
            _unpack_tar(artifact.path, dest)
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise BuildError(f"{artifact.pin.requirement}: cannot unpack {name}: {exc}") from None
    tops = [p for p in dest.iterdir()]
    if len(tops) != 1 or not tops[0].is_dir():
        raise BuildError(f"{artifact.pin.requirement}: {name} does not unpack into one directory")
    return tops[0]


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts


def _unpack_tar(path: Path, dest: Path) -> None:
    with tarfile.open(path) as tf:
        for member in tf.getmembers():
            if not _safe_member(member.name):
                raise tarfile.TarError(f"unsafe member {member.name!r}")
            if (
                member.isdev()
                or member.islnk()
                or (member.issym() and not _safe_link(member.name, member.linkname))
            ):
                raise tarfile.TarError(f"unsupported member {member.name!r}")
            member.mode = (member.mode or 0o644) & 0o755 | stat.S_IRUSR | stat.S_IWUSR
            tf.extract(member, dest, set_attrs=False)
            if member.isreg() and member.mode & 0o111:
                os.chmod(dest / member.name, 0o755)


def _safe_link(name: str, target: str) -> bool:
    if target.startswith("/"):
        return False
    depth = len(Path(name).parts) - 1
    ups = 0
    for part in Path(target).parts:
        ups += -1 if part == ".." else 1
        if ups < -depth + 1:
            return False
    return True


def _unpack_zip(path: Path, dest: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if not _safe_member(member):
                raise zipfile.BadZipFile(f"unsafe member {member!r}")
        zf.extractall(dest)

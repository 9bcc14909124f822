"""Stage 2b, wheel: turn an sdist into a wheel with PEP 517 (``build``), hermetically.

The build backend and its requirements are installed into a cached build environment from
the pinned set and the local cache before anything is built; ``pip download`` is the one,
visible, logged step that may reach an index for them.  The backend then runs without build
isolation, so nothing is fetched silently mid-build.  The wheel built here is inspected (its
metadata and whether it is pure decide the spec); rpmbuild later builds it again from the
same sdist inside %build, so the SRPM is a real source package.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

from rpmdeploy._run import isolated_pip_env, run
from rpmdeploy.cache import Cache, stable_key
from rpmdeploy.errors import BuildError, FetchError
from rpmdeploy.fetch import Artifact
from rpmdeploy.pin import PinnedSet
from rpmdeploy.targets import Target, find_python, python_version_of


@dataclass(frozen=True)
class BuiltWheel:
    path: Path
    build_requires: tuple[str, ...] = ()  # PEP 508 requirements of the sdist's build
    backend_python: str | None = None  # interpreter of the build environment (sdists only)
    sdist_top_dir: str | None = None  # the directory the sdist unpacks into


@dataclass(frozen=True)
class WheelContext:
    target: Target
    cache: Cache
    pinned: PinnedSet
    artifacts: Mapping[str, Artifact]  # every fetched artifact of the pinned set
    # The builder builds inside the target: a wheel compiled here only serves to read the
    # metadata, so it need not fit the target.
    in_target: bool = False

    def pinned_constraints(self) -> str:
        """The pinned set as pip constraints: build requirements use the pinned versions."""
        return "".join(f"{p.name}=={p.version}\n" for p in self.pinned.pins)

    def build_environment(self, requires: Sequence[str], log: Path) -> str:
        """The interpreter of a cached venv holding ``requires`` (pinned versions)."""
        return _build_env_python(self, requires, log)


def wheel_for(artifact: Artifact, ctx: WheelContext, log: Path) -> BuiltWheel:
    """The wheel to package for ``artifact``: itself, or one built from the sdist (cached)."""
    if artifact.is_wheel:
        return BuiltWheel(artifact.path)
    key = stable_key("wheel", artifact.sha256, ctx.target.cache_identity())
    meta = ctx.cache.read_json("wheels", key, "wheel.json")
    if meta is not None:
        wheel = ctx.cache.root / "wheels" / key / meta["wheel"]
        env_python = _build_env_python(ctx, meta["build_requires"], log)
        if wheel.is_file():
            return BuiltWheel(
                wheel, tuple(meta["build_requires"]), env_python, meta["sdist_top_dir"]
            )
    with ctx.cache.staging("wheels", key) as out, tempfile.TemporaryDirectory() as tmp:
        source = unpack_sdist(artifact, Path(tmp))
        built = _build(artifact, source, out, ctx, log)
        # Written into the staging dir: the rename makes the entry appear complete.
        meta = {
            "wheel": built.path.name,
            "build_requires": list(built.build_requires),
            "sdist_top_dir": source.name,
        }
        (out / "wheel.json").write_text(json.dumps(meta, indent=1))
    final = ctx.cache.root / "wheels" / key / built.path.name
    return BuiltWheel(final, built.build_requires, built.backend_python, source.name)


def _build(
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
        static = ProjectBuilder(source).build_system_requires
    except BuildException as exc:
        raise BuildError(f"{name}: invalid build configuration in sdist: {exc}") from None
    requires = sorted(static)
    python = _build_env_python(ctx, requires, log)
    builder = ProjectBuilder(source, python_executable=python, runner=_runner(log))
    try:
        dynamic = sorted(builder.get_requires_for_build("wheel"))
        if any(r not in requires for r in dynamic):
            # The backend asked for more (setuptools asks for wheel, say): an environment
            # with all of it, and the build runs there.
            requires = sorted({*requires, *dynamic})
            python = _build_env_python(ctx, requires, log)
            builder = ProjectBuilder(source, python_executable=python, runner=_runner(log))
        wheel = Path(builder.build("wheel", outdir))
    except (BuildBackendException, BuildException, BuildError):
        raise BuildError(
            f"{name}: building a wheel from {artifact.filename} failed", str(log)
        ) from None
    if not ctx.in_target:
        _check_fits_target(wheel, ctx.target, name)
    return BuiltWheel(wheel, tuple(requires), python, source.name)


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


def _runner(log: Path):  # type: ignore[no-untyped-def]
    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {**os.environ, **(extra_environ or {})}
        run(cmd, log=log, what="PEP 517 backend", env=env, cwd=Path(cwd) if cwd else None)

    return runner


# --- build environments ------------------------------------------------------------------------


def _build_env_python(ctx: WheelContext, requires: Sequence[str], log: Path) -> str:
    """A cached venv with ``requires`` installed; returns its python."""
    interpreter = _builder_interpreter(ctx.target)
    key = stable_key("buildenv", sorted(requires), interpreter, ctx.pinned_constraints())
    env_dir = ctx.cache.root / "buildenvs" / key
    python = env_dir / "bin" / "python"
    with ctx.cache.lock(f"buildenv-{key}"):
        if not (env_dir / ".complete").exists():
            _create_build_env(ctx, interpreter, key, requires, log)
    return str(python)


def _create_build_env(
    ctx: WheelContext, interpreter: str, key: str, requires: Sequence[str], log: Path
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
            _install_build_requires(ctx, pip, requires, log, tmp)
        (tmp / ".complete").write_text("\n".join(requires) + "\n")


def _builder_interpreter(target: Target) -> str:
    if target.is_host:
        return target.interpreter
    found = find_python(target.python_version)
    return found[0] if found else sys.executable


def _install_build_requires(
    ctx: WheelContext, pip: list[str], requires: Sequence[str], log: Path, env_dir: Path
) -> None:
    wheelhouse = ctx.cache.dir("build-wheels")
    constraints = env_dir / "constraints.txt"
    constraints.write_text(ctx.pinned_constraints())
    links = [wheelhouse, *sorted({a.path.parent for a in ctx.artifacts.values() if a.is_wheel})]
    link_args = [arg for link in links for arg in ("--find-links", str(link))]
    offline = [*pip, "install", "--no-index", *link_args, "-c", str(constraints), *requires]
    try:
        run(offline, log=log, what="installing build requirements", env=isolated_pip_env())
        return
    except BuildError:
        pass
    # Not all in the local cache yet: one explicit, logged download from the app's indexes.
    base = ctx.pinned.source.parent if ctx.pinned.source else None
    download = [
        *pip[:3],
        "download",
        "--only-binary",
        ":all:",
        "--dest",
        str(wheelhouse),
        *ctx.pinned.index.pip_args(base),
        *link_args,
        "-c",
        str(constraints),
        *requires,
    ]
    run(
        download,
        log=log,
        what=f"fetching build requirements {' '.join(requires)}",
        env=isolated_pip_env(),
        error=FetchError,
    )
    run(offline, log=log, what="installing build requirements", env=isolated_pip_env())


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

"""The ``rpmdeploy`` command line: parses options, calls the library, reports.

This is the only module that prints or exits.  Library errors (RpmdeployError) become one
line on stderr and the error's exit code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rpmdeploy import __version__, builders, distributions, settings
from rpmdeploy.errors import RpmdeployError
from rpmdeploy.pin import ALL, RESOLVERS, IndexOptions
from rpmdeploy.targets import Target

if TYPE_CHECKING:  # the commands import what they run when they run it: a quick start
    from rpmdeploy.lint import LintReport
    from rpmdeploy.pipeline import PackageOutcome, RpmsReport
    from rpmdeploy.release import ReleaseReport

#: map-externals' output formats (rpmdeploy.externals.FORMATS, which a test keeps equal)
MAP_FORMATS = ("text", "json", "spec")

F = TypeVar("F", bound=Callable[..., Any])

APP_DIR = click.argument("app_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))


def reports_errors(func: F) -> F:
    """Turn library errors into one-line messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except RpmdeployError as exc:
            if debug:
                raise
            message = " ".join(str(exc).split("\n"))  # one line, whatever a library said
            click.echo(f"rpmdeploy: error: {message}", err=True)
            if kwargs.get("output_format") == "json":
                from rpmdeploy import jsonreport

                _json(jsonreport.error(message, exc.exit_code))
            sys.exit(exc.exit_code)
        except OSError as exc:  # a read-only or full disk, a missing file: one line too
            if debug:
                raise
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"rpmdeploy: error: {exc.strerror or exc}{where}", err=True)
            sys.exit(1)
        except (KeyboardInterrupt, Terminated) as exc:
            # Everything this run created is removed on the way out (context managers).
            click.echo(
                f"rpmdeploy: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}",
                err=True,
            )
            sys.exit(143 if isinstance(exc, Terminated) else 130)

    return wrapper  # type: ignore[return-value]


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup runs as for Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def _options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


target_options = _options(
    click.option(
        "--target",
        "-t",
        metavar="NAME",
        help="What to build for: 'host' (this machine's python3) or a distribution release "
        "such as fedora-43-x86_64, rocky-9, almalinux-10 (see `rpmdeploy targets`) "
        "[RPMDEPLOY_TARGET, [rpms] target; default: host on an RPM distribution, "
        "none elsewhere].",
    ),
    click.option(
        "--python",
        "python",
        metavar="PATH",
        help="Interpreter of the host target (default /usr/bin/python3); for `pin`, the "
        "interpreter to run pip-compile under.",
    ),
)

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Cache of artifacts, builds and logs [RPMDEPLOY_CACHE_DIR, [rpms] cache-dir; "
    "default: $XDG_CACHE_HOME/rpmdeploy].",
)

build_options = _options(
    target_options,
    cache_dir_option,
    click.option(
        "--builder",
        type=click.Choice(builders.available()),
        help="How packages are built: rpmbuild (this machine's rpmbuild, fast, not inside "
        "the target), mock (a clean chroot of the target per worker, in dependency order) or "
        "copr (on a Copr build farm, in dependency-ordered batches) "
        "[RPMDEPLOY_BUILDER, [builder] name; default: rpmbuild].",
    ),
    click.option(
        "--mock-config",
        metavar="NAME|PATH",
        help="mock config to build in: a name mock knows (rocky-9-x86_64) or a site's own "
        ".cfg [RPMDEPLOY_MOCK_CONFIG, [builder] mock-config; default: the target's].",
    ),
    click.option(
        "--copr-project",
        metavar="OWNER/PROJECT",
        help="Copr project the copr builder builds in (created if missing); credentials come "
        "from Copr's config file (~/.config/copr or RPMDEPLOY_COPR_CONFIG), never from here "
        "[RPMDEPLOY_COPR_PROJECT, [builder] copr-project].",
    ),
    click.option(
        "--packager",
        metavar="NAME",
        help="Who %changelog entries name, e.g. 'Release Bot <ops@example.com>' "
        "[RPMDEPLOY_PACKAGER, [rpms] packager; default: rpmdeploy].",
    ),
    click.option(
        "--strict-licenses",
        is_flag=True,
        default=None,
        help="Make a guessed or unknown package licence an error (settle it with "
        "[packages.NAME] license) [RPMDEPLOY_STRICT_LICENSES, [rpms] strict-licenses].",
    ),
    click.option(
        "--name-prefix",
        metavar="PREFIX",
        help="Package name prefix instead of 'python3-' (private namespace, e.g. "
        "'myapp-python3-').",
    ),
    click.option(
        "--install-prefix",
        metavar="DIR",
        help="Install Python packages under DIR/lib/pythonX.Y/site-packages instead of /usr "
        "(private namespace, e.g. /opt/myapp).",
    ),
    click.option(
        "--template-dir",
        type=click.Path(exists=True, file_okay=False),
        help="Directory of template overrides, laid out like the shipped rpmdeploy/templates/ "
        "(package/, app/, publish/); templates it lacks come from rpmdeploy.",
    ),
)

app_options = _options(
    click.option("--name", "app_name", metavar="NAME", help="App RPM name [rpmdeploy.toml]."),
    click.option(
        "--app-version",
        "app_version",
        metavar="VERSION",
        help="App version [rpmdeploy.toml; default: from the app's git checkout, e.g. "
        "1.2.0 on tag v1.2.0, 0^20240506git1a2b3c4 with no tag].",
    ),
    click.option(
        "--distro",
        metavar="NAME",
        help="Distribution whose package names the external dependencies map to [the "
        "target's; on a non-RPM host, Fedora's].",
    ),
    click.option("--strict", is_flag=True, help="Refuse guessed external-dependency names."),
)


def _resolve(app_dir: Path, **given: Any) -> settings.Resolved:
    """Settings for APP_DIR: what the command line gave over the environment and the file."""
    return settings.resolve(app_dir, given)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rpmdeploy")
@click.option(
    "--debug",
    is_flag=True,
    envvar="RPMDEPLOY_DEBUG",
    help="Show tracebacks instead of one-line errors (also after the command).",
)
@click.option("-v", "--verbose", count=True, help="More progress (each package's log).")
@click.option("-q", "--quiet", is_flag=True, help="Only failures and the summary.")
def cli(debug: bool, verbose: int, quiet: bool) -> None:
    """Turn a Python WSGI app directory into RPMs and a yum repository.

    An app directory holds dependencies.in (top-level deps), dependencies.txt (pinned,
    hashed), external-dependencies.txt (system dependency hints), bin/wsgiapp (exposes a
    WSGI `application`) and optionally rpmdeploy.toml (app name, version, service settings).

    \b
    Typical use:
      rpmdeploy init APP_DIR                 a new standard app directory
      rpmdeploy pin APP_DIR                  compile dependencies.in -> dependencies.txt
      rpmdeploy release APP_DIR --out REPO   everything: a verified, published yum repo
      rpmdeploy rpms APP_DIR --out DIR       one RPM per pinned package
      rpmdeploy app APP_DIR --out DIR        the app's own RPM
      rpmdeploy map-externals APP_DIR        system packages the app needs, per distribution

    \b
    Settings: command line > RPMDEPLOY_<OPTION> environment variables > APP_DIR/rpmdeploy.toml
    ([rpms], [builder], [release], [pin], [app]) > defaults.  NO_COLOR turns colours off.

    \b
    Exit codes: 0 success; 1 a build, publish or verification failed; 2 a usage or input
    error; 75 temporarily locked (another release publishes to the same repository);
    130/143 interrupted (Ctrl-C/SIGTERM, after cleaning up).
    """
    PROGRESS.verbosity = -1 if quiet else verbose


index_options = _options(
    click.option("--index-url", metavar="URL", help="Base URL of the package index [PyPI]."),
    click.option(
        "--extra-index-url", multiple=True, metavar="URL", help="Extra index (repeatable)."
    ),
    click.option(
        "--find-links",
        multiple=True,
        metavar="DIR|URL",
        help="Directory or page with archives to use (repeatable).",
    ),
    click.option("--no-index", is_flag=True, help="Use no index: only --find-links."),
)

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document on stdout (schema rpmdeploy/data/report.schema.json, versioned; "
    "errors too); progress stays on stderr.",
)

jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    help="Packages built in parallel [RPMDEPLOY_JOBS, [rpms] jobs; default: the CPU count].",
)

no_binary_options = _options(
    click.option(
        "--no-binary",
        multiple=True,
        metavar="NAME",
        help="Build NAME from its sdist instead of a wheel (repeatable; ':all:' for every "
        "package), besides [rpms] no-binary in APP_DIR/rpmdeploy.toml. `pin` records the "
        "sdists it pinned in build-dependencies.txt; `rpms` and `release` build those from "
        "their sdists too.",
    ),
    click.option("--sdist", "all_sdists", is_flag=True, help="Same as --no-binary :all:."),
)


def _no_binary(no_binary: tuple[str, ...], all_sdists: bool) -> tuple[str, ...]:
    return (*no_binary, *([ALL] if all_sdists else []))


@cli.command()
@APP_DIR
@index_options
@click.option("--upgrade", "-U", is_flag=True, help="Upgrade every pin to its newest version.")
@click.option("--upgrade-package", "-P", multiple=True, metavar="NAME", help="Upgrade one package.")
@click.option(
    "--resolver",
    type=click.Choice(RESOLVERS),
    help="uv: resolves for the target's Python version and platform, no interpreter of it "
    "needed; pip-tools: pip-compile under the target's interpreter "
    "[RPMDEPLOY_RESOLVER, [pin] resolver; default: uv].",
)
@click.option(
    "--uploaded-prior-to",
    metavar="DATE",
    help="Consider only files uploaded before DATE (YYYY-MM-DD, midnight UTC, or an ISO 8601 "
    "time with its zone): the same resolution whenever it runs.",
)
@no_binary_options
@target_options
@cache_dir_option
@format_option
@reports_errors
def pin(
    app_dir: Path,
    index_url: str | None,
    extra_index_url: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    upgrade: bool,
    upgrade_package: tuple[str, ...],
    resolver: str | None,
    uploaded_prior_to: str | None,
    no_binary: tuple[str, ...],
    all_sdists: bool,
    target: str | None,
    python: str | None,
    cache_dir: str | None,
    output_format: str,
) -> None:
    """Compile APP_DIR/dependencies.in into a pinned, hashed APP_DIR/dependencies.txt, and the
    build dependencies of its sdists into APP_DIR/build-dependencies.txt.

    uv resolves for the target's Python version and platform (no interpreter of it needed);
    --resolver pip-tools runs pip-compile under the target's Python. Your pip and uv
    configuration is ignored; the index options given here are written into the files, and
    their headers record the target, Python, platform and resolver. Without --upgrade an
    existing pin is kept, so running pin twice changes nothing.
    """
    from rpmdeploy.pin import compile_pins

    # The resolvers run confined, and the confinement binds and enters absolute paths only.
    app_dir = app_dir.absolute()
    resolved = _resolve(
        app_dir,
        target=target,
        python=python,
        resolver=resolver,
        no_binary=_no_binary(no_binary, all_sdists),
        cache_dir=cache_dir,
    )
    index = IndexOptions(index_url, extra_index_url, find_links, no_index)
    job = settings.pin_job(resolved, index, upgrade, upgrade_package)
    options = replace(
        job.options,
        resolver=resolved["resolver"],
        uploaded_prior_to=uploaded_prior_to,
        no_binary=resolved["no_binary"],
    )
    click.echo(
        f"pinning {app_dir / 'dependencies.in'} for {_describe(job.target)} "
        f"with {options.resolver}...",
        err=True,
    )
    result = compile_pins(app_dir, job.target, options, job.log)
    click.echo(f"wrote {result.path}: {result.changes.summary()}", err=True)
    if result.sdists:
        sdists = f"{len(result.sdists)} sdist{'s' if len(result.sdists) > 1 else ''}"
        built = f"{sdists} ({', '.join(result.sdists)})"
        click.echo(
            f"wrote {result.build_path}: {result.build_pins} build dependencies of {built}: "
            f"{result.build_changes.summary()}",
            err=True,
        )
    else:
        click.echo(f"wrote {result.build_path}: no sdists to build from, none pinned", err=True)
    if output_format == "json":
        from rpmdeploy import jsonreport

        _json(jsonreport.pin(result, job.log))


@cli.command()
@APP_DIR
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory receiving RPMS/<arch>/, SRPMS/ and logs/.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write an HTML build report to FILE (failures first, the dependency graph).",
)
@jobs_option
@no_binary_options
@build_options
@format_option
@reports_errors
def rpms(
    app_dir: Path,
    out: Path,
    report_file: Path | None,
    no_binary: tuple[str, ...],
    all_sdists: bool,
    output_format: str,
    **given: Any,
) -> None:
    """Build one SRPM and binary RPM per pin of APP_DIR/dependencies.txt.

    Every artifact is fetched with its hash checked (a wheel when one fits the target, else
    the sdist), its spec rendered from the package/python-package.spec.j2 template and built
    by the builder. Unchanged packages are taken from the cache. If any package fails, all
    others are still attempted, the failures are listed with their logs, and OUT is left as
    it was.
    """
    from rpmdeploy import jsonreport
    from rpmdeploy.pin import pin_mismatch
    from rpmdeploy.pipeline import build_rpms

    resolved = _resolve(app_dir, no_binary=_no_binary(no_binary, all_sdists), **given)
    options = settings.rpms_options(resolved)
    app = settings.load(resolved, options, externals=False)
    if mismatch := pin_mismatch(app.pins, options.target):
        click.echo(f"rpmdeploy: warning: {mismatch}", err=True)
    click.echo(f"building RPMs for {app_dir} (target {_describe(options.target)})", err=True)
    result = build_rpms(app, out, options, progress=PROGRESS)
    _print_summary(result)
    if report_file is not None:
        _write_report(result, app.path, app.settings.name, report_file, options.template_dir)
    if output_format == "json":
        _json(jsonreport.rpms(result))
    if result.failed:
        sys.exit(1)


@cli.command()
@APP_DIR
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory receiving RPMS/noarch/, SRPMS/ and logs/.",
)
@app_options
@build_options
@format_option
@reports_errors
def app(
    app_dir: Path,
    out: Path,
    app_name: str | None,
    app_version: str | None,
    distro: str | None,
    strict: bool,
    output_format: str,
    **given: Any,
) -> None:
    """Build the app's own RPM from APP_DIR.

    The RPM installs the app directory under /opt/NAME (see [app] prefix), a launcher that
    serves bin/wsgiapp:application (gunicorn when pinned, else wsgiref), a systemd unit
    running it as a dedicated user, and /etc/sysconfig/NAME. It requires every pin of
    dependencies.txt at exactly its version and the system packages mapped from
    external-dependencies.txt.
    """
    from rpmdeploy import jsonreport
    from rpmdeploy.appbuild import build_app_rpm
    from rpmdeploy.release import missing_externals_note

    resolved = _resolve(app_dir, **given)
    options = settings.rpms_options(resolved)
    loaded = settings.load(
        resolved, options, name=app_name, version=app_version, distro=distro, strict=strict
    )
    for note in missing_externals_note(loaded):
        click.echo(f"rpmdeploy: note: {note}", err=True)
    outcome = build_app_rpm(loaded, out, options)
    PROGRESS.package(outcome, 1, 1)
    if output_format == "json":
        _json(jsonreport.app(outcome, out))
    if outcome.status == "failed":
        click.echo(f"FAILED {outcome.name} {outcome.version}: {outcome.error}", err=True)
        click.echo(f"       log: {outcome.log}", err=True)
        sys.exit(1)
    click.echo(f"RPMs in {out}", err=True)


@cli.command()
@APP_DIR
@app_options
@build_options
@reports_errors
def spec(
    app_dir: Path,
    app_name: str | None,
    app_version: str | None,
    distro: str | None,
    strict: bool,
    **given: Any,
) -> None:
    """Print the app's rendered spec file, without building anything."""
    import tempfile

    from rpmdeploy.appbuild import render_app

    resolved = _resolve(app_dir, **given)
    options = settings.rpms_options(resolved)
    loaded = settings.load(
        resolved, options, name=app_name, version=app_version, distro=distro, strict=strict
    )
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-spec-") as tmp:
        _ctx, spec_path, _sources = render_app(loaded, Path(tmp), options)
        click.echo(spec_path.read_text(), nl=False)


@cli.command()
@APP_DIR
@click.option(
    "--out",
    "-o",
    "repo_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The yum repository to publish (created or updated atomically).",
)
@click.option(
    "--sign",
    metavar="KEYID",
    help="Sign every RPM and repodata/repomd.xml with this GPG key "
    "[RPMDEPLOY_SIGN, [release] sign].",
)
@click.option(
    "--gnupghome",
    type=click.Path(exists=True, file_okay=False),
    help="GnuPG home holding the signing key [$GNUPGHOME or ~/.gnupg].",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="URL servers reach the repository at, for the .repo file and the Puppet "
    "manifest [RPMDEPLOY_BASE_URL, [release] base-url; default: file://REPO_DIR].",
)
@click.option(
    "--keep",
    type=click.IntRange(1, 1000),
    help="Versions of each package kept in the repository (history) "
    "[RPMDEPLOY_KEEP, [release] keep; default: 1].",
)
@click.option(
    "--pin",
    "do_pin",
    is_flag=True,
    help="Compile dependencies.in first (as `rpmdeploy pin`, with the index options).",
)
@click.option(
    "--no-verify",
    is_flag=True,
    help="Publish without installing the app from the new repository first "
    "[RPMDEPLOY_VERIFY=0, [release] verify = false].",
)
@click.option(
    "--lint",
    is_flag=True,
    default=None,
    help="Run rpmlint (rpmdeploy's configuration) on every RPM and SRPM before publishing; "
    "an error stops the release [RPMDEPLOY_LINT, [release] lint = true].",
)
@click.option(
    "--targets",
    metavar="T1,T2,...",
    help="Release for several targets at once: rpmdeploy targets (rocky-9-x86_64) or Copr "
    "chroots (epel-9-aarch64), comma-separated; one verified repository per target in "
    "REPO_DIR/<target>/ and one Puppet manifest REPO_DIR/puppet/<app>.pp that picks each "
    "host's; all or nothing. Not with --target [RPMDEPLOY_TARGETS, [release] targets].",
)
@index_options
@jobs_option
@no_binary_options
@app_options
@build_options
@format_option
@reports_errors
def release(
    app_dir: Path,
    repo_dir: Path,
    do_pin: bool,
    no_verify: bool,
    index_url: str | None,
    extra_index_url: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    no_binary: tuple[str, ...],
    all_sdists: bool,
    app_name: str | None,
    app_version: str | None,
    distro: str | None,
    strict: bool,
    output_format: str,
    **given: Any,
) -> None:
    """Build everything and publish a verified yum repository: what `make rpms` runs.

    Builds every pinned dependency and the app RPM, then assembles a new repository beside
    REPO_DIR (createrepo_c; SRPMS/ as a second repository; optional GPG signatures; the
    <app>.repo file and puppet/<app>.pp), installs the app from it with dnf into an empty
    root and calls its WSGI application, and only then swaps it in. A failed or killed
    release leaves the previous repository as it was; a second release into the same
    REPO_DIR at the same time is refused.
    """
    from rpmdeploy import jsonreport
    from rpmdeploy.pin import pin_warning
    from rpmdeploy.release import release as run_release

    resolved = _resolve(
        app_dir,
        no_binary=_no_binary(no_binary, all_sdists),
        verify=False if no_verify else None,
        **given,
    )
    index = IndexOptions(index_url, extra_index_url, find_links, no_index) if do_pin else None
    if names := settings.release_targets(resolved):
        _release_targets(
            app_dir,
            repo_dir,
            resolved,
            names,
            index,
            output_format,
            app_name,
            app_version,
            distro,
            strict,
        )
        return
    options = settings.release_options(
        resolved, index, name=app_name, version=app_version, distro=distro, strict=strict
    )
    click.echo(
        f"releasing {app_dir} into {repo_dir} (target {_describe(options.build.target)})", err=True
    )
    if not do_pin and (mismatch := pin_warning(app_dir, options.build.target)):
        click.echo(f"rpmdeploy: warning: {mismatch}", err=True)
    result = run_release(app_dir, repo_dir, options, progress=PROGRESS)
    _print_release(result)
    if output_format == "json":
        _json(jsonreport.release(result))
    if result.repo is None:
        sys.exit(1)


def _release_targets(
    app_dir: Path,
    out: Path,
    resolved: settings.Resolved,
    names: tuple[str, ...],
    index: IndexOptions | None,
    output_format: str,
    app_name: str | None,
    app_version: str | None,
    distro: str | None,
    strict: bool,
) -> None:
    """`release --targets`: one repository per target, one manifest (rpmdeploy.multirelease)."""
    from rpmdeploy import jsonreport
    from rpmdeploy.multirelease import pin_warnings, release_targets, resolve_targets

    chosen = resolve_targets(names, resolved["builder"])
    options = settings.release_options(
        settings.for_target(resolved, chosen[0].target.name),
        index,
        name=app_name,
        version=app_version,
        distro=distro,
        strict=strict,
    )
    click.echo(
        f"releasing {app_dir} into {out}/<target>/ for {len(chosen)} targets: "
        + ", ".join(f"{t.label} ({_describe(t.target)})" for t in chosen),
        err=True,
    )
    for warning in pin_warnings(app_dir, chosen) if index is None else []:
        click.echo(f"rpmdeploy: warning: {warning}", err=True)
    result = release_targets(app_dir, out, chosen, options, progress=PROGRESS)
    for one in result.targets:
        click.echo(_style(f"== {one.target.label}: {one.repo_dir}", bold=True), err=True)
        _print_release(one.report, published=result.published)
    if result.manifest is not None:
        click.echo(
            f"published {len(result.targets)} targets in {result.seconds:.1f}s; Puppet "
            f"manifest: {result.manifest}",
            err=True,
        )
    if output_format == "json":
        _json(jsonreport.release_targets(result))
    if not result.published:
        sys.exit(1)


@cli.command()
@click.argument("repo_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Public key to check signatures against [the one in the repository].",
)
@cache_dir_option
@format_option
@reports_errors
def verify(repo_dir: Path, key: Path | None, cache_dir: str | None, output_format: str) -> None:
    """Prove REPO_DIR installs: repoclosure, then dnf installs the app into an empty root.

    The host is untouched (a private installroot, dnf configuration and cache). Signatures
    are checked when the repository is signed, and the app's WSGI application is loaded from
    the installed files and called once. Capabilities of the target's base system that
    cannot be installed here are declared by a stand-in package, and the report lists them.
    """
    from rpmdeploy import jsonreport
    from rpmdeploy.release import verify_published

    # No app directory here, so no rpmdeploy.toml: the option, then RPMDEPLOY_CACHE_DIR.
    cache = settings.cache_at(cache_dir or os.environ.get("RPMDEPLOY_CACHE_DIR"))
    report = verify_published(repo_dir, cache.new_log_file("verify"), key)
    if output_format == "json":
        _json(jsonreport.verify(report))
    else:
        click.echo(report.text())


@cli.command("map-externals")
@APP_DIR
@click.option(
    "--distro",
    metavar="NAME",
    help="Distribution to map for: fedora-43, rhel-9, rocky-8, debian-12, ubuntu-24.04, ... "
    "or 'all' for a table [this host, from /etc/os-release].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(MAP_FORMATS),
    default="text",
    show_default=True,
    help="text: one line per hint; json: machine-readable; spec: BuildRequires/Requires lines.",
)
@click.option("--strict", is_flag=True, help="Make a guessed package name an error.")
@reports_errors
def map_externals(app_dir: Path, distro: str | None, fmt: str, strict: bool) -> None:
    """Print the system packages APP_DIR/external-dependencies.txt needs on a distribution.

    Each hint (PEP 345 'libpq (>=9)', Debian 'libxml2-dev', Fedora 'openssl-devel',
    'pkgconfig(x)', PEP 725 'dep:generic/x') is looked up in rpmdeploy's curated table and in
    APP_DIR/external-mappings.toml; unknown ones fall back to pkgconfig() or a guess, always
    labelled as such.
    """
    from rpmdeploy.externals import report

    click.echo(report(app_dir, distro, fmt, strict), nl=False)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", "app_name", metavar="NAME", help="The app's name [the directory's].")
@click.option(
    "--target",
    "-t",
    metavar="NAME",
    help="The distribution the RPMs are for, written as [rpms] target (see `rpmdeploy "
    "targets`) [left to choose in rpmdeploy.toml].",
)
@reports_errors
def init(directory: Path, app_name: str | None, target: str | None) -> None:
    """Create DIRECTORY as a new app directory following the WSGI deployment standard.

    Writes dependencies.in, an empty external-dependencies.txt, bin/wsgiapp (a WSGI
    application that answers) and a commented rpmdeploy.toml. Then: edit dependencies.in,
    `rpmdeploy pin DIRECTORY`, `rpmdeploy release DIRECTORY --out REPO`.
    """
    from rpmdeploy.skeleton import init_app

    for path in init_app(directory, app_name, target):
        click.echo(f"wrote {path}", err=True)
    steps = [f"edit {directory / 'dependencies.in'}"]
    if target is None and distributions.host_rpm_release() is None:
        steps.append(f"name your servers' distribution in {directory / 'rpmdeploy.toml'}")
    click.echo(f"next: {', '.join(steps)}, then `rpmdeploy pin {directory}`", err=True)


@cli.command()
@format_option
def targets(output_format: str) -> None:
    """List the targets RPMs can be built for: name, Python, dist tag, glibc, arches."""
    from rpmdeploy import jsonreport

    if output_format == "json":
        _json(jsonreport.targets())
        return
    for row in jsonreport.targets()["targets"]:
        if row["name"] == "host":
            click.echo("host  (this machine's python3 and rpmbuild)")
            continue
        click.echo(
            f"{row['name']:<20} Python {row['python_full']:<8} {row['dist'] or '':<10} "
            f"glibc {row['glibc']:<5} {', '.join(row['arches'])}"
        )


def _style(text: str, **styles: Any) -> str:
    """click.style, unless NO_COLOR (no-color.org) asks for plain text."""
    return text if os.environ.get("NO_COLOR") else click.style(text, **styles)


def _json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=1, sort_keys=True))


def _describe(target: Target) -> str:
    return f"{target.name}, Python {target.python_version}, {target.arch}"


class _Progress:
    """Progress on stderr: a line per stage, when a package starts and when it ends, and a
    heartbeat for long builds ("still building NAME, 40 s", every RPMDEPLOY_HEARTBEAT
    seconds, default 30).  ``-q`` keeps only failures and the summary; ``-v`` adds details."""

    def __init__(self) -> None:
        self.verbosity = 0
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()
        self.beating = False

    def stage(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(_style(f"-- {message}", bold=True), err=True)

    def started(self, name: str, version: str) -> None:
        with self.lock:
            self.running[name] = time.monotonic()
            if not self.beating:
                self.beating = True
                threading.Thread(target=self._heartbeat, daemon=True).start()
        if self.verbosity >= 0:
            click.echo(f"        start  {name} {version}", err=True)

    def package(self, outcome: PackageOutcome, done: int, total: int) -> None:
        with self.lock:
            self.running.pop(outcome.name, None)
        if self.verbosity < 0 and outcome.status not in ("failed", "skipped"):
            return
        width = len(str(total))
        timing = f" ({outcome.seconds:.1f}s)" if outcome.status == "built" else ""
        status = _style(
            f"{outcome.status:<6}",
            fg={"built": "green", "cached": "cyan", "failed": "red", "skipped": "yellow"}[
                outcome.status
            ],
        )
        click.echo(
            f"[{done:>{width}}/{total}] {status} {outcome.name} {outcome.version}{timing}", err=True
        )
        if outcome.note:
            click.echo(f"       note: {outcome.note}", err=True)
        if self.verbosity > 0 and outcome.log is not None:
            click.echo(f"       log: {outcome.log}", err=True)

    def _heartbeat(self) -> None:
        every = float(os.environ.get("RPMDEPLOY_HEARTBEAT", "30") or 30)
        while True:
            time.sleep(every)
            now = time.monotonic()
            with self.lock:
                long = [(n, now - t) for n, t in sorted(self.running.items()) if now - t >= every]
            if self.verbosity >= 0:
                for name, seconds in long:
                    click.echo(f"        still building {name}, {seconds:.0f} s", err=True)


PROGRESS = _Progress()


def _print_outcomes(outcomes: tuple[PackageOutcome, ...], seconds: float) -> None:
    """One line of counts, then each failure with the log to read."""
    from rpmdeploy.pipeline import from_sdists

    counts = ", ".join(
        f"{sum(1 for o in outcomes if o.status == s)} {s}"
        for s in ("built", "cached", "failed", "skipped")
    )
    click.echo(f"{len(outcomes)} packages: {counts} in {seconds:.1f}s", err=True)
    sdists = from_sdists(outcomes)
    if sdists:
        click.echo(
            f"compiled from sdists ({len(sdists)}): {', '.join(sdists)}; the others from wheels",
            err=True,
        )
    for outcome in (o for o in outcomes if o.status in ("failed", "skipped")):
        click.echo(
            f"{outcome.status.upper()} {outcome.name} {outcome.version}: {outcome.error}", err=True
        )
        if outcome.log is not None:
            click.echo(f"       log: {outcome.log}", err=True)


def _print_notes(notes: tuple[str, ...], logs: Path | None) -> None:
    """What the run says once (not per package), and where its own logs are."""
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if logs is not None:
        click.echo(f"logs of this run: {logs}", err=True)


def _print_licenses(found: list[str]) -> None:
    """Guessed and unknown licences (all of them: rpmdeploy-licenses.json)."""
    if found:
        click.echo(f"licences guessed or unknown ({len(found)}):", err=True)
        for line in found:
            click.echo(f"  {line}", err=True)


def _print_lint(report: LintReport | None) -> None:
    if report is None:
        return
    for message in report.errors:
        click.echo(f"  {message.line()}", err=True)
    click.echo(report.summary(), err=True)


def _print_release(result: ReleaseReport, *, published: bool = True) -> None:
    """The summary of a release (``published``: False when a release of several targets
    published none of them, this one's repository included)."""
    _print_outcomes(result.outcomes, result.seconds)
    _print_notes(result.notes, result.logs)
    _print_licenses(result.doubtful_licenses)
    _print_lint(result.lint)
    if result.repo is None or not published:
        click.echo(
            "nothing published: the repository is as it was (finished packages are cached)",
            err=True,
        )
        return
    repo = result.repo
    if repo.unchanged and result.verification is None:
        click.echo(
            f"nothing changed: {repo.path} is up to date ({len(repo.kept)} packages; not "
            f"verified or published again) in {result.seconds:.1f}s",
            err=True,
        )
        return
    click.echo(
        result.verification.text() if result.verification else "verification skipped (--no-verify)",
        err=True,
    )
    click.echo(
        f"published {repo.path}: {len(repo.added)} added, {len(repo.kept)} unchanged, "
        f"{len(repo.pruned)} pruned, {repo.total_size / 1e6:.1f} MB"
        f"{', signed' if repo.signed else ''} in {result.seconds:.1f}s",
        err=True,
    )
    click.echo(f"report: {repo.path / 'report.html'}", err=True)


def _write_report(
    result: RpmsReport, app_dir: Path, name: str, path: Path, template_dir: Path | None
) -> None:
    """``rpms --report FILE``: the HTML report, its log links relative to FILE's directory."""
    from rpmdeploy import htmlreport
    from rpmdeploy.pin import PINNED_FILE

    pinned = app_dir / PINNED_FILE
    text = pinned.read_text(encoding="utf-8") if pinned.is_file() else ""
    html = htmlreport.rpms_report(result, text, path.parent, name, template_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    click.echo(f"report: {path}", err=True)


def _print_summary(result: RpmsReport) -> None:
    from rpmdeploy.licenses import report_lines

    _print_outcomes(result.outcomes, result.seconds)
    _print_notes(result.notes, result.logs)
    _print_licenses(report_lines(o.license for o in result.outcomes if o.license is not None))
    if result.out is not None:
        click.echo(f"RPMs in {result.out}", err=True)
    else:
        click.echo(
            "nothing written to the output directory: fix the failures and rerun "
            "(finished packages are cached)",
            err=True,
        )


#: Options of the whole command line that may also be written after the command.
_GLOBAL_FLAGS = ("--debug", "-v", "-vv", "--verbose", "-q", "--quiet")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    # `rpmdeploy release APP --debug` means what `rpmdeploy --debug release APP` means.
    args = sys.argv[1:]
    flags = [a for a in args if a in _GLOBAL_FLAGS]
    rest = [a for a in args if a not in _GLOBAL_FLAGS]
    cli(args=[*flags, *rest], prog_name="rpmdeploy")

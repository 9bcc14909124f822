"""The ``rpmdeploy`` command line: parses options, calls the library, reports.

This is the only module that prints or exits.  Library errors (RpmdeployError) become one
line on stderr and the error's exit code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from packaging.utils import canonicalize_name

from rpmdeploy import __version__
from rpmdeploy.appconfig import read_app_config
from rpmdeploy.cache import Cache, default_cache_dir
from rpmdeploy.errors import RpmdeployError
from rpmdeploy.fetch import ALL, FetchOptions
from rpmdeploy.pin import IndexOptions, PinOptions, compile_pins
from rpmdeploy.pipeline import PackageOutcome, RpmsOptions, RpmsReport, build_rpms
from rpmdeploy.targets import Target, known_targets, resolve_target

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
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("rpmdeploy: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def target_options(func: F) -> F:
    func = click.option(
        "--python",
        "python",
        metavar="PATH",
        help="Interpreter of the host target (default /usr/bin/python3), or the "
        "interpreter to run pip-compile under for `pin`.",
    )(func)
    func = click.option(
        "--target",
        "-t",
        default="host",
        show_default=True,
        metavar="NAME",
        help="What to build for: 'host' (this machine's python3) or a distribution release "
        "such as fedora-43-x86_64, rocky-9, almalinux-10 (see `rpmdeploy targets`).",
    )(func)
    return func


def index_options(func: F) -> F:
    for decl, helptext in reversed(
        [
            ("--index-url", "Base URL of the package index (default: PyPI)."),
            ("--extra-index-url", "Extra index URL (repeatable)."),
            ("--find-links", "Directory or URL with archives to use (repeatable)."),
        ]
    ):
        multiple = decl != "--index-url"
        func = click.option(decl, multiple=multiple, help=helptext)(func)
    func = click.option("--no-index", is_flag=True, help="Ignore package indexes.")(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rpmdeploy")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Turn a Python WSGI app directory into RPMs and a yum repository.

    An app directory holds dependencies.in (top-level deps), dependencies.txt (pinned,
    hashed), external-dependencies.txt (system dependency hints) and bin/wsgiapp.

    \b
    Typical use:
      rpmdeploy pin APP_DIR            compile dependencies.in -> dependencies.txt
      rpmdeploy rpms APP_DIR --out DIR one RPM per pinned package
    """


@cli.command()
@APP_DIR
@index_options
@click.option("--upgrade", "-U", is_flag=True, help="Upgrade every pin to its newest version.")
@click.option("--upgrade-package", "-P", multiple=True, metavar="NAME", help="Upgrade one package.")
@target_options
@reports_errors
def pin(
    app_dir: Path,
    index_url: str | None,
    extra_index_url: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    upgrade: bool,
    upgrade_package: tuple[str, ...],
    target: str,
    python: str | None,
) -> None:
    """Compile APP_DIR/dependencies.in into a pinned, hashed APP_DIR/dependencies.txt.

    Runs pip-compile (pip-tools) with --generate-hashes and --allow-unsafe under the target's
    Python, so environment markers are decided for the target. Your pip configuration is
    ignored; the index options given here are written into the file. Without --upgrade an
    existing pin is kept, so running pin twice changes nothing.
    """
    resolved = resolve_target(target, python if target == "host" else None)
    index = IndexOptions(index_url, extra_index_url, find_links, no_index)
    options = PinOptions(index, upgrade, upgrade_package, python if target != "host" else None)
    cache = Cache(default_cache_dir())
    log = cache.dir("logs") / f"pin-{os.getpid()}.log"
    click.echo(f"pinning {app_dir / 'dependencies.in'} for {resolved.name} "
               f"(Python {resolved.python_version})...", err=True)  # fmt: skip
    path = compile_pins(app_dir, resolved, options, log)
    click.echo(f"wrote {path}", err=True)


@cli.command()
@APP_DIR
@click.option(
    "--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Directory receiving RPMS/<arch>/, SRPMS/ and logs/.",
)  # fmt: skip
@target_options
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Packages built in parallel.")  # fmt: skip
@click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Cache of artifacts and builds [default: $XDG_CACHE_HOME/rpmdeploy].",
)  # fmt: skip
@click.option(
    "--no-binary", multiple=True, metavar="NAME",
    help="Build NAME from its sdist instead of a wheel (repeatable; ':all:' for every "
    "package). Adds to [rpms] no-binary in APP_DIR/rpmdeploy.toml.",
)  # fmt: skip
@click.option("--sdist", "all_sdists", is_flag=True, help="Same as --no-binary :all:.")
@click.option("--name-prefix", metavar="PREFIX",
              help="Package name prefix instead of 'python3-' (private namespace, e.g. "
              "'myapp-python3-').")  # fmt: skip
@click.option("--install-prefix", metavar="DIR",
              help="Install under DIR/lib/pythonX.Y/site-packages instead of /usr "
              "(private namespace, e.g. /opt/myapp).")  # fmt: skip
@click.option("--template-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Use spec templates from this directory.")  # fmt: skip
@reports_errors
def rpms(
    app_dir: Path,
    out: Path,
    target: str,
    python: str | None,
    jobs: int,
    cache_dir: Path | None,
    no_binary: tuple[str, ...],
    all_sdists: bool,
    name_prefix: str | None,
    install_prefix: str | None,
    template_dir: Path | None,
) -> None:
    """Build one SRPM and binary RPM per pin of APP_DIR/dependencies.txt.

    Every artifact is fetched with its hash checked (a wheel when one fits the target, else
    the sdist), its spec rendered from spec_templates/python-package.spec.j2 and built with
    rpmbuild. Unchanged packages are taken from the cache. If any package fails, all others
    are still attempted, the failures are listed with their logs, and OUT is left as it was.
    """
    resolved = resolve_target(target, python).with_namespace(name_prefix, install_prefix)
    forced = frozenset(ALL if n == ALL else canonicalize_name(n) for n in no_binary)
    forced |= read_app_config(app_dir).no_binary
    options = RpmsOptions(
        target=resolved,
        cache=Cache(cache_dir or default_cache_dir()),
        jobs=jobs,
        fetch=FetchOptions(forced | ({ALL} if all_sdists else set())),
        template_dir=template_dir,
        source_date_epoch=int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")),
    )
    click.echo(f"building RPMs for {app_dir} (target {_describe(resolved)})", err=True)
    report = build_rpms(app_dir, out, options, progress=_print_progress)
    _print_summary(report)
    if report.failed:
        sys.exit(1)


@cli.command()
def targets() -> None:
    """List the targets RPMs can be built for."""
    for name in known_targets():
        click.echo(name)


def _describe(target: Target) -> str:
    return f"{target.name}, Python {target.python_version}, {target.arch}"


def _print_progress(outcome: PackageOutcome, done: int, total: int) -> None:
    width = len(str(total))
    label = f"{outcome.name} {outcome.pin.version}"
    timing = f" ({outcome.seconds:.1f}s)" if outcome.status == "built" else ""
    status = click.style(
        f"{outcome.status:<6}",
        fg={"built": "green", "cached": "cyan", "failed": "red"}[outcome.status],
    )
    click.echo(f"[{done:>{width}}/{total}] {status} {label}{timing}", err=True)


def _print_summary(report: RpmsReport) -> None:
    counts = ", ".join(f"{report.count(s)} {s}" for s in ("built", "cached", "failed"))
    click.echo(f"{len(report.outcomes)} packages: {counts} in {report.seconds:.1f}s", err=True)
    for outcome in report.failed:
        click.echo(f"FAILED {outcome.name} {outcome.pin.version}: {outcome.error}", err=True)
        click.echo(f"       log: {outcome.log}", err=True)
    if report.out is not None:
        click.echo(f"RPMs in {report.out}", err=True)
    else:
        click.echo("nothing written to the output directory: fix the failures and rerun "
                   "(finished packages are cached)", err=True)  # fmt: skip


def main() -> None:
    cli(prog_name="rpmdeploy")

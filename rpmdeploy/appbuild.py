"""Stage 5b: the app's own RPM, built in the run's session like any package.

``render_app`` writes the app's spec (``templates/app/``), its source tarball and the files
it ships (launcher, unit, sysconfig, sysusers); ``build_app`` plans its release from the
history, then prepares and builds it through the session's builder and the build cache,
exactly as the pinned packages are (``rpmdeploy.pipeline``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rpmdeploy import __version__, buildcache
from rpmdeploy.app import (
    APP_SOURCES,
    APP_TEMPLATE,
    AppSpecContext,
    app_content_digest,
    app_facts,
    app_spec_context,
    app_version,
    describe_app,
    write_source_tarball,
)
from rpmdeploy.appmodel import App
from rpmdeploy.builders import (
    BuildRequest,
)
from rpmdeploy.cache import sha256_file, stable_key
from rpmdeploy.outdir import publish
from rpmdeploy.pipeline import (
    SILENT,
    BuildSession,
    PackageOutcome,
    Reporter,
    RpmsOptions,
    _build,
    _outcome,
    _prepare,
    build_session,
)
from rpmdeploy.releases import HISTORY_FILE, History, Planned
from rpmdeploy.render import render


def render_app(
    app: App,
    dest: Path,
    options: RpmsOptions,
    exclude: Path | None = None,
    planned: Planned | None = None,
    *,
    tarball: bool = True,
) -> tuple[AppSpecContext, Path, tuple[Path, ...]]:
    """Write the app's spec, source tarball (unless not ``tarball``) and generated files
    into ``dest``; ``planned``: its release and changelog (default: a first release)."""
    ctx = app_spec_context(app, options.target, planned, options.metadata.packager)
    spec = dest / f"{ctx.name}.spec"
    spec.write_text(render(APP_TEMPLATE, ctx, options.template_dir))
    date = planned.date if planned is not None else options.source_date_epoch
    sources = []
    if tarball:
        sources.append(
            write_source_tarball(app.path, dest / ctx.tarball, ctx.top_dir, date, exclude)
        )
    for suffix, template in APP_SOURCES:
        path = dest / f"{ctx.name}{suffix}"
        path.write_text(render(template, ctx, options.template_dir))
        sources.append(path)
    return ctx, spec, tuple(sources)


def build_app_rpm(
    app: App, out: Path, options: RpmsOptions, progress: Reporter = SILENT
) -> PackageOutcome:
    """Build the app's own RPM and publish it into ``out`` (RPMS/noarch/, SRPMS/, logs/)."""
    history = History.load(out / HISTORY_FILE)
    with build_session(app, options, progress, fetch=False, history=history) as session:
        outcome = build_app(session, exclude=out)
    if outcome.status != "failed":
        publish([outcome], out, history)
    return outcome


def plan_app(session: BuildSession, scratch: Path, exclude: Path | None) -> Planned:
    """The app's release in this run: a new one when its files, its spec (its pins), its
    generated sources, the target, the builder or rpmdeploy changed (``rpmdeploy.releases``)."""
    options, app = session.options, session.app
    scratch.mkdir()
    _ctx, spec, sources = render_app(app, scratch, options, tarball=False)
    inputs = {
        "content": app_content_digest(app.path, exclude),
        "spec": sha256_file(spec),
        "sources": stable_key([sha256_file(p) for p in sources]),
        "target": options.target.cache_identity(),
        "builder": options.builder,
        "rpmdeploy": __version__,
    }
    version = app_version(app)
    return session.history.plan(
        app.settings.name,
        version,
        inputs,
        date=options.source_date_epoch,
        packager=options.metadata.packager,
        describe=lambda previous: describe_app(app, previous, version, inputs),
        facts=app_facts(app),
    )


def build_app(session: BuildSession, exclude: Path | None = None) -> PackageOutcome:
    """Build the app's own RPM (cached on the content of everything that goes into it)."""
    options = session.options
    with tempfile.TemporaryDirectory(prefix="rpmdeploy-app-") as tmp:
        planned = plan_app(session, Path(tmp) / "plan", exclude)
        ctx, spec, sources = render_app(session.app, Path(tmp), options, exclude, planned)
        key = stable_key(
            "app",
            [sha256_file(p) for p in (spec, *sources)],
            options.target.cache_identity(),
            options.builder,
            planned.date,
        )
        found = buildcache.lookup(options.cache, key, ctx.name)
        if found.build is not None:
            return _outcome(found.build, ctx.version, "cached", 0.0)

        def prepare(workdir: Path, log: Path) -> BuildRequest:
            copies = [Path(shutil.copy(p, workdir / p.name)) for p in (spec, *sources)]
            return BuildRequest(
                label=f"{ctx.name} {ctx.version}",
                spec=copies[0],
                sources=tuple(copies[1:]),
                source_date_epoch=planned.date,
                build_requires=ctx.build_requires,
            )

        job = _prepare(session, ctx.name, ctx.version, key, prepare, note=found.problem)
        if isinstance(job, PackageOutcome):
            return job
        return _build(session, job)[0]

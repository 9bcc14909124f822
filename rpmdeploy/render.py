"""Templates: every file rpmdeploy generates is data plus a Jinja2 template.

The shipped templates are package data under ``rpmdeploy/templates/``, one folder per use:

- ``package/``: the spec of one PyPI package (and the blocks it includes);
- ``app/``: the app's spec and the files it ships (launcher, unit, sysconfig, sysusers);
- ``publish/``: the ``.repo`` file and the Puppet manifest;
- ``verify/``: the stand-in base package and the dnf configuration of ``verify``;
- ``report/``: ``report.html`` (its values arrive escaped: see ``rpmdeploy.htmlreport``).

A template is named by folder and file (``package/python-package.spec.j2``).  An override
directory (``--template-dir``) laid out the same way replaces the shipped templates it holds
and falls back to the shipped ones for the rest.  The Python side computes every value; the
``rpm_line``/``rpm_text`` filters (``rpmdeploy.escaping``) are how untrusted text gets in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2

from rpmdeploy.errors import SpecError
from rpmdeploy.escaping import rpm_line, rpm_text

FOLDERS = ("package", "app", "publish", "verify", "mock", "init", "report")


def shipped_templates() -> Path:
    """The directory of the templates installed with rpmdeploy."""
    return Path(str(resources.files("rpmdeploy").joinpath("templates")))


def template_dirs(override: Path | None = None) -> tuple[Path, ...]:
    """Where templates are looked up, first match wins."""
    return (shipped_templates(),) if override is None else (override, shipped_templates())


@cache
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - output is an rpm spec, escaped by rpm_line/rpm_text
    )
    env.filters["rpm_line"] = rpm_line
    env.filters["rpm_text"] = rpm_text
    env.filters["pyrepr"] = repr  # Python literals in generated scripts (validated values)
    return env


def render(template: str, context: object, override: Path | None = None) -> str:
    """Render ``template`` (``folder/file.j2``) with ``ctx`` bound to ``context``."""
    try:
        tmpl = _environment(template_dirs(override)).get_template(template)
        return tmpl.render(ctx=context)
    except jinja2.TemplateError as exc:
        raise SpecError(f"rendering {template} failed: {exc}") from None


def fingerprint(folder: str, override: Path | None = None, extra: Iterable[Path] = ()) -> str:
    """Hash of the templates in effect for one folder (and ``extra`` files), for cache keys.

    Only that folder counts: editing the app's or the repository's templates must not
    rebuild every Python package.
    """
    if folder not in FOLDERS:
        raise ValueError(f"unknown template folder {folder!r}")
    effective: dict[str, Path] = {}
    for directory in reversed(template_dirs(override)):  # overrides replace shipped files
        for path in sorted((directory / folder).glob("*.j2")):
            effective[path.name] = path
    digest = hashlib.sha256()
    for name, path in [*sorted(effective.items()), *((p.name, p) for p in extra)]:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()

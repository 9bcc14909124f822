"""The files that point servers at a published repository: a yum ``.repo`` file and a Puppet
manifest.

The manifest declares, with plain top-level resources (for ``puppet apply``, or to paste into
a class of one's own):

- a ``yumrepo`` for the repository (on Puppet 7+ that type comes from the
  ``puppetlabs-yumrepo_core`` module, which Puppet's own agent packages bundle);
- the GPG key as the yumrepo's ``gpgkey`` URL, with ``gpgcheck`` and ``repo_gpgcheck``: yum/dnf
  import the key from that URL the first time it installs from the repository (Puppet runs
  yum with ``-y``).  The trust is therefore anchored in ``key_url``: serve it over https, or
  from a host the servers trust more than the package mirror;
- a ``package`` pinned at exactly the released version, requiring the yumrepo.  Puppet's yum
  and dnf providers compare ``ensure`` with the installed ``[EPOCH:]VERSION-RELEASE``, and
  leave the epoch out when it is 0 (``rpm.rb``), so the epoch is written only when non-zero;
  they also downgrade when the pin is older than what is installed;
- a ``service`` running and enabled, restarted when the package changes, when asked.

Every value comes from the user, so each is validated (no newline or control character
reaches either file) and quoted for Puppet single-quoted strings (``\\`` and ``'`` escaped;
``$`` is literal there, so ``$basearch`` in a URL stays for yum to expand).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rpmdeploy.errors import UsageError
from rpmdeploy.render import render
from rpmdeploy.rpmnames import EVR, PACKAGE_NAME

REPO_TEMPLATE = "publish/yum.repo.j2"
MANIFEST_TEMPLATE = "publish/puppet-manifest.pp.j2"
MULTI_TEMPLATE = "publish/puppet-multi.pp.j2"
# How long servers trust cached metadata: a release must become installable soon after it is
# published (dnf's default is 48 hours, and a missing version is not refetched).
METADATA_EXPIRE = 300

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # yum repo ids: no ':' '[' ']' or space
_SERVICE = re.compile(r"^[A-Za-z0-9_.@:-]+$")
_URL = re.compile(r"^(?:https?|ftp|file)://[^\s\x00-\x1f\x7f]+$")


@dataclass(frozen=True)
class RepoFileContext:
    repo_id: str
    name: str
    base_url: str
    signed: bool
    key_url: str
    metadata_expire: int


@dataclass(frozen=True)
class ManifestContext:
    """Every value already quoted as a Puppet single-quoted string (quotes included)."""

    repo_id: str
    descr: str
    base_url: str
    signed: bool
    key_url: str
    metadata_expire: str
    package: str
    ensure: str
    service: str | None
    comment: str  # one line for a '#' comment, validated like the values


def render_repo_file(
    app: str, base_url: str, signed: bool, key_url: str | None, *, template_dir: Path | None = None
) -> str:
    """A yum/dnf ``.repo`` file with one section, ``[app]``."""
    context = RepoFileContext(
        repo_id=_check(app, _REPO_ID, "repository name"),
        name=f"{app} (published by rpmdeploy)",
        base_url=_check(base_url, _URL, "base URL"),
        signed=signed,
        key_url=_key_url(signed, key_url),
        metadata_expire=METADATA_EXPIRE,
    )
    return render(REPO_TEMPLATE, context, template_dir)


def render_puppet_manifest(
    app: str,
    package: str,
    evr: str,
    base_url: str,
    signed: bool,
    key_url: str | None,
    service: str | None,
    *,
    template_dir: Path | None = None,
) -> str:
    """A Puppet manifest: yumrepo + package pinned at ``evr`` (+ service when given)."""
    repo_id = _check(app, _REPO_ID, "repository name")
    name = _check(package, PACKAGE_NAME, "package name")
    ensure = puppet_ensure(evr)
    url = _check(base_url, _URL, "base URL")
    context = ManifestContext(
        repo_id=puppet_string(repo_id),
        descr=puppet_string(f"{repo_id} (published by rpmdeploy)"),
        base_url=puppet_string(url),
        signed=signed,
        key_url=puppet_string(_key_url(signed, key_url)),
        metadata_expire=puppet_string(str(METADATA_EXPIRE)),
        package=puppet_string(name),
        ensure=puppet_string(ensure),
        service=puppet_string(_check(service, _SERVICE, "service name")) if service else None,
        comment=f"{name} {ensure} from {repo_id}",
    )
    return render(MANIFEST_TEMPLATE, context, template_dir)


@dataclass(frozen=True)
class HostRepository:
    """One repository of a several-target release and the hosts it is for, as their facts
    say: ``$facts['os']['name']`` one of ``os_names``, ``['release']['major']`` and
    ``['os']['architecture']`` (on EL and Fedora the RPM arch: x86_64, aarch64)."""

    target: str  # the target's name in the release (its directory: rocky-9-x86_64)
    os_names: tuple[str, ...]
    major: str
    arch: str
    base_url: str
    evr: str  # the app package's [EPOCH:]VERSION-RELEASE in this repository
    key_url: str | None  # the public key's URL when signed


@dataclass(frozen=True)
class _HostChoice:
    """A HostRepository with every value quoted for Puppet (quotes included)."""

    target: str
    os_names: str  # a Puppet array of strings
    major: str
    arch: str
    base_url: str
    ensure: str
    key_url: str


@dataclass(frozen=True)
class MultiManifestContext:
    repo_id: str
    descr: str
    signed: bool
    metadata_expire: str
    package: str
    service: str | None
    choices: tuple[_HostChoice, ...]
    published: str  # what the release is for, for the failure message
    plain_id: str  # repo_id unquoted (a repository name: safe in a double-quoted string)
    comment: str


def render_puppet_multi(
    app: str,
    package: str,
    repositories: Sequence[HostRepository],
    signed: bool,
    service: str | None,
    *,
    template_dir: Path | None = None,
) -> str:
    """One Puppet manifest for several repositories: the host's ``os`` facts pick the one
    for it (the first of ``repositories`` that matches), and a host none matches fails
    with a message naming its facts and what was published."""
    repo_id = _check(app, _REPO_ID, "repository name")
    name = _check(package, PACKAGE_NAME, "package name")
    choices = tuple(
        _HostChoice(
            target=puppet_string(r.target),
            os_names="[" + ", ".join(puppet_string(n) for n in r.os_names) + "]",
            major=puppet_string(r.major),
            arch=puppet_string(r.arch),
            base_url=puppet_string(_check(r.base_url, _URL, "base URL")),
            ensure=puppet_string(puppet_ensure(r.evr)),
            key_url=puppet_string(_key_url(signed, r.key_url)),
        )
        for r in repositories
    )
    targets = ", ".join(dict.fromkeys(_check(r.target, _REPO_ID, "target") for r in repositories))
    return render(
        MULTI_TEMPLATE,
        MultiManifestContext(
            repo_id=puppet_string(repo_id),
            descr=puppet_string(f"{repo_id} (published by rpmdeploy)"),
            signed=signed,
            metadata_expire=puppet_string(str(METADATA_EXPIRE)),
            package=puppet_string(name),
            service=puppet_string(_check(service, _SERVICE, "service name")) if service else None,
            choices=choices,
            published=puppet_string(targets),
            plain_id=repo_id,
            comment=f"{name} from {repo_id}, one repository per target: {targets}",
        ),
        template_dir,
    )


def puppet_ensure(evr: str) -> str:
    """``[EPOCH:]VERSION-RELEASE`` as Puppet's yum/dnf providers report it (no ``0:``)."""
    match = EVR.fullmatch(evr)
    if match is None:
        raise UsageError(
            f"invalid package version {evr!r}: need [EPOCH:]VERSION-RELEASE, e.g. 1.2-1.el9"
        )
    epoch, version, release = match.groups()
    if epoch is not None and int(epoch) != 0:
        return f"{int(epoch)}:{version}-{release}"
    return f"{version}-{release}"


def puppet_string(value: str) -> str:
    r"""``value`` as a Puppet single-quoted string: only ``\`` and ``'`` are special there."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UsageError(f"refusing control characters in {value!r}")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or value != value.strip():
        raise UsageError(f"invalid {what} {value!r}")
    return value


def _key_url(signed: bool, key_url: str | None) -> str:
    if not signed:
        return ""
    if not key_url:
        raise UsageError("a signed repository needs the URL of its public key (key_url)")
    return _check(key_url, _URL, "key URL")

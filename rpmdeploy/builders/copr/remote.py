"""Talking to a Copr frontend through Copr's own Python client (PyPI ``copr``, ``copr.v3``).

Credentials come from Copr's usual configuration file (``~/.config/copr``, or the path the
operator gives as ``RPMDEPLOY_COPR_CONFIG``): never from the command line, and never into a
message, a log or an exception.  Everything the client raises becomes a one-line BuildError
with the configuration's secrets replaced by ``***``.

What the frontend answers is untrusted: every id is checked to be an int, every name and URL
is checked before it is used (``rpmdeploy.builders.copr.results`` checks what becomes a path).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from rpmdeploy.errors import BuildError, UsageError

T = TypeVar("T")
_PROJECT = re.compile(r"^(@?[A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._+-]*)$")
#: Build states Copr reports that will not change any more.
FINISHED = frozenset({"succeeded", "failed", "canceled", "skipped", "forked"})
PAGE = 100


@dataclass(frozen=True)
class ProjectName:
    owner: str  # a user, or "@group"
    name: str

    @classmethod
    def parse(cls, text: str | None) -> ProjectName:
        match = _PROJECT.match(text or "")
        if match is None:
            raise UsageError(
                "the copr builder needs its project as OWNER/PROJECT (--copr-project, "
                f"RPMDEPLOY_COPR_PROJECT or [builder] copr-project); got {text!r}"
            )
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Build:
    """What rpmdeploy uses of a Copr build (checked on the way in)."""

    id: int
    state: str
    chroots: tuple[str, ...]
    source_name: str | None
    source_version: str | None
    source_file: str  # the uploaded SRPM's file name, as the frontend reports it

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Build:
        build_id = data.get("id")
        if not isinstance(build_id, int) or isinstance(build_id, bool) or build_id <= 0:
            raise BuildError(f"the Copr frontend sent a build without a valid id: {build_id!r}")
        source = data.get("source_package") or {}
        url = source.get("url") if isinstance(source, Mapping) else None
        return cls(
            id=build_id,
            state=str(data.get("state") or "unknown"),
            chroots=tuple(str(c) for c in data.get("chroots") or ()),
            source_name=_text_or_none(source, "name"),
            source_version=_text_or_none(source, "version"),
            source_file=str(url).rstrip("/").rsplit("/", 1)[-1] if url else "",
        )


def _text_or_none(source: object, key: str) -> str | None:
    if not isinstance(source, Mapping):
        return None
    value = source.get(key)
    return str(value) if value else None


class Remote:
    """One Copr project, through the copr client, with secrets kept out of every message."""

    def __init__(self, config_path: str | None, project: ProjectName) -> None:
        try:
            from copr.v3 import Client
            from copr.v3.exceptions import CoprException, CoprNoResultException
        except ImportError as exc:
            raise UsageError(
                "the copr builder needs Copr's Python client: pip install copr"
            ) from exc
        self._copr_error: type[Exception] = CoprException
        self._not_found: type[Exception] = CoprNoResultException
        self.project = project
        self.changed = ""  # what ensure_project changed in the project, for the user
        self._secrets: tuple[str, ...] = ()
        path = str(Path(config_path).expanduser()) if config_path else None
        if path is not None and not Path(path).is_file():
            raise UsageError(f"Copr configuration {path} not found (RPMDEPLOY_COPR_CONFIG)")
        self.client = _read_config(Client, path, CoprException)
        config = self.client.config
        self._secrets = tuple(
            s for s in (config.get("token"), config.get("login")) if isinstance(s, str) and s
        )
        self.url = str(config.get("copr_url") or "").rstrip("/")

    # --- secrets stay out ----------------------------------------------------------------------

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _call(
        self, function: Callable[..., T], *args: Any, what: str, raw: bool = False, **kwargs: Any
    ) -> T:
        """Call the client; whatever it raises becomes one redacted line (``raw``: a 'no such
        object' answer is raised as the client's own exception, for the caller to decide)."""
        import requests

        try:
            return function(*args, **kwargs)
        except self._not_found:
            if raw:
                raise
            raise BuildError(f"Copr: {what}: no such object") from None
        except (self._copr_error, requests.RequestException, ValueError, KeyError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise BuildError(f"Copr: {what}: {self.redact(detail)}") from None

    # --- the project ---------------------------------------------------------------------------

    def ensure_project(self, chroot: str) -> str:
        """The chroot's repository URL, making the project (or adding the chroot) if needed.

        Returns the URL and leaves a note of what was changed in ``self.changed``.
        """
        owner, name = self.project.owner, self.project.name
        proxy = self.client.project_proxy
        try:
            project = self._call(proxy.get, owner, name, what=f"reading {self.project}", raw=True)
        except self._not_found:
            project = self._call(
                proxy.add,
                owner,
                name,
                chroots=[chroot],
                description="Built by rpmdeploy",
                unlisted_on_hp=True,
                what=f"creating the project {self.project}",
            )
            self.changed = f"created the Copr project {self.project} with chroot {chroot}"
        repos = project.get("chroot_repos") or {}
        if chroot not in repos:
            project = self._call(
                proxy.edit,
                owner,
                name,
                chroots=[*repos, chroot],
                what=f"adding the chroot {chroot} to {self.project}",
            )
            repos = project.get("chroot_repos") or {}
            self.changed = self.changed or f"added the chroot {chroot} to {self.project}"
        url = repos.get(chroot)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise BuildError(f"Copr: project {self.project} reports no repository for {chroot}")
        return url if url.endswith("/") else url + "/"

    # --- builds --------------------------------------------------------------------------------

    def builds(self, down_to: int = 0) -> Iterator[Build]:
        """The project's builds, newest first, down to the build id ``down_to``."""
        offset = 0
        while True:
            pagination = {"limit": PAGE, "offset": offset, "order": "id", "order_type": "DESC"}
            page = self._call(
                self.client.build_proxy.get_list,
                self.project.owner,
                self.project.name,
                pagination=pagination,
                what=f"listing the builds of {self.project}",
            )
            for item in page:
                build = Build.from_json(item)
                if build.id < down_to:
                    return
                yield build
            if len(page) < PAGE:
                return
            offset += PAGE

    def submit(self, srpm: Path, upload_name: str, options: Mapping[str, object]) -> Build:
        """Upload ``srpm`` as ``upload_name`` and create its build with ``options``."""
        upload = srpm.parent / "upload" / upload_name
        upload.parent.mkdir(exist_ok=True)
        shutil.copyfile(srpm, upload)
        try:
            data = self._call(
                self.client.build_proxy.create_from_file,
                self.project.owner,
                self.project.name,
                str(upload),
                buildopts=dict(options),
                what=f"submitting {srpm.name}",
            )
        finally:
            upload.unlink(missing_ok=True)
        return Build.from_json(data)

    def build_chroot(self, build_id: int, chroot: str) -> Mapping[str, Any]:
        return self._call(
            self.client.build_chroot_proxy.get,
            build_id,
            chroot,
            what=f"reading build {build_id} in {chroot}",
        )

    def built_packages(self, build_id: int, chroot: str) -> list[Mapping[str, Any]]:
        data = self._call(
            self.client.build_chroot_proxy.get_built_packages,
            build_id,
            chroot,
            what=f"reading the packages of build {build_id}",
        )
        packages = data.get("packages") if isinstance(data, Mapping) else None
        return [p for p in packages or () if isinstance(p, Mapping)]

    def build_url(self, build_id: int) -> str:
        """The build's page on the frontend (``/coprs/g/GROUP/...`` for a group's project)."""
        owner = self.project.owner
        path = f"g/{owner[1:]}" if owner.startswith("@") else owner
        return f"{self.url}/coprs/{quote(path)}/{quote(self.project.name)}/build/{build_id}/"


def _read_config(client: Any, path: str | None, copr_error: type[Exception]) -> Any:
    """The client made from Copr's configuration file.  A parse error is not echoed: its text
    may quote the file's lines, token included."""
    where = path or "~/.config/copr"
    try:
        return client.create_from_config_file(path)
    except copr_error as exc:
        text = str(exc)
        missing = re.fullmatch(r"File .* is missing\.", text) is not None
        safe = text if missing or text.startswith("The `copr_url`") else "malformed"
        raise UsageError(f"Copr configuration {where}: {safe}") from None
    except (KeyError, ValueError, AttributeError) as exc:
        raise UsageError(f"Copr configuration {where}: malformed ({type(exc).__name__})") from None

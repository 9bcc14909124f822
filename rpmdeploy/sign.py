"""GPG signing of RPMs and of repository metadata.

Packages are signed with ``rpmsign --addsign`` (a header signature inside the RPM); the
repository's ``repomd.xml`` gets a detached, armored ``repomd.xml.asc`` that dnf checks with
``repo_gpgcheck=1``.  The key is named by anything gpg accepts (fingerprint, long key id,
e-mail) and lives in ``gnupghome`` (default: gpg's own, ``~/.gnupg``).

The key must be usable without a prompt (no passphrase, or one cached by gpg-agent): every
gpg call runs with ``--batch --pinentry-mode error``, so a locked key fails at once instead
of waiting for a pinentry that a release job cannot answer.

Nothing here imports the ``rpm`` bindings: ``rpm_signer`` is handed a header someone else
read (``rpmdeploy.repo.rpmfile``), so this module, and the CLI that imports it, load on a
machine without them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rpmdeploy._run import capture, run
from rpmdeploy.errors import RepoError

if TYPE_CHECKING:  # only for the annotation: see the module doc
    import rpm

GPG = "/usr/bin/gpg"
_GPG_BATCH = ("--batch", "--no-tty", "--pinentry-mode", "error")
# rpm's header query for "who signed this": the DSA tag holds DSA and EdDSA signatures, the
# RSA tag RSA ones (rpm 4.x); pgpsig renders "ALGO, DATE, Key ID <16 hex>".
_SIGNER_QUERY = "%|DSAHEADER?{%{DSAHEADER:pgpsig}}:{%|RSAHEADER?{%{RSAHEADER:pgpsig}}:{}|}|"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    gnupghome: Path | None = None

    def describe(self) -> str:
        home = self.gnupghome if self.gnupghome is not None else "gpg's default home"
        return f"{self.key_id!r} (in {home})"


def gpg_env(key: SigningKey) -> dict[str, str]:
    env = dict(os.environ)
    if key.gnupghome is not None:
        env["GNUPGHOME"] = str(key.gnupghome)
    return env


def key_fingerprints(key: SigningKey) -> tuple[str, ...]:
    """Fingerprints (primary key and subkeys, upper-case hex) of the secret key ``key`` names.

    Raises a one-line RepoError when gpg has no such secret key: rpmsign would otherwise fail
    with a generic "gpg exec failed" buried in its log.
    """
    if not key.key_id.strip() or key.key_id.startswith("-") or "\n" in key.key_id:
        raise RepoError(f"invalid signing key id {key.key_id!r}")
    try:
        out = capture(
            [GPG, *_GPG_BATCH, "--with-colons", "--list-secret-keys", "--", key.key_id],
            what=f"looking up signing key {key.key_id}",
            env=gpg_env(key),
            error=RepoError,
        )
    except RepoError:
        raise RepoError(
            f"signing key {key.describe()} not found: gpg has no secret key for it"
        ) from None
    fingerprints = tuple(
        line.split(":")[9].upper() for line in out.splitlines() if line.startswith("fpr:")
    )
    if not fingerprints:
        raise RepoError(f"signing key {key.describe()} not found: gpg has no secret key for it")
    return fingerprints


def sign_rpms(paths: Sequence[Path], key: SigningKey, log: Path) -> None:
    """Add ``key``'s signature to each RPM, in place.

    rpmsign rewrites the file in place (same inode), so a file with another hard link would
    change in every directory that links it: such files are refused.
    """
    if not paths:
        return
    key_fingerprints(key)
    for path in paths:
        if path.stat().st_nlink > 1:
            raise RepoError(f"refusing to sign {path}: it is hard-linked elsewhere")
    run(
        [
            "rpmsign",
            "--addsign",
            "--define",
            f"_gpg_name {key.key_id}",
            "--define",
            f"__gpg {GPG}",
            "--define",
            "_gpg_sign_cmd_extra_args " + " ".join(_GPG_BATCH),
            *paths,
        ],
        log=log,
        what=f"signing {len(paths)} package(s) with key {key.key_id}",
        env=gpg_env(key),
        error=RepoError,
    )


def sign_repomd(repodata_dir: Path, key: SigningKey, log: Path) -> Path:
    """Write ``repomd.xml.asc``, the detached armored signature dnf's repo_gpgcheck reads."""
    repomd = repodata_dir / "repomd.xml"
    asc = repodata_dir / "repomd.xml.asc"
    key_fingerprints(key)
    run(
        [GPG, *_GPG_BATCH, "--yes", "--local-user", key.key_id, "--armor", "--detach-sign"]
        + ["--output", asc, repomd],
        log=log,
        what=f"signing {repomd} with key {key.key_id}",
        env=gpg_env(key),
        error=RepoError,
    )
    return asc


def export_public_key(key: SigningKey, dest: Path, log: Path) -> Path:
    """Write the armored public key (what ``gpgkey=`` and ``rpm --import`` read) to ``dest``."""
    key_fingerprints(key)
    dest.parent.mkdir(parents=True, exist_ok=True)
    run(
        [GPG, *_GPG_BATCH, "--yes", "--armor", "--output", dest, "--export", "--", key.key_id],
        log=log,
        what=f"exporting public key {key.key_id}",
        env=gpg_env(key),
        error=RepoError,
    )
    if not dest.is_file() or dest.stat().st_size == 0:
        raise RepoError(f"exporting public key {key.key_id} produced no key", log=str(log))
    return dest


def rpm_signer(header: rpm.hdr) -> str | None:
    """Long key id (16 lower-case hex) of the key that signed this package, or None."""
    text = header.format(_SIGNER_QUERY).strip()
    marker = "Key ID "
    if marker not in text:
        return None
    return text.rsplit(marker, 1)[1].strip().lower()


def signed_by(signer: str | None, fingerprints: Sequence[str]) -> bool:
    """Whether a key id from an RPM signature belongs to one of ``fingerprints``."""
    return signer is not None and any(fpr.lower().endswith(signer) for fpr in fingerprints)


def detached_signature_valid(signature: Path, data: Path, key: SigningKey) -> bool:
    """Whether ``signature`` is a good signature of ``data`` made by ``key``."""
    try:
        fingerprints = key_fingerprints(key)
        out = capture(
            [GPG, *_GPG_BATCH, "--status-fd", "1", "--verify", signature, data],
            what=f"checking {signature}",
            env=gpg_env(key),
            error=RepoError,
        )
    except RepoError:
        return False
    for line in out.splitlines():
        fields = line.split()
        # [GNUPG:] VALIDSIG <signing key fpr> ... <primary key fpr>
        if len(fields) > 2 and fields[1] == "VALIDSIG":
            return fields[2].upper() in fingerprints or fields[-1].upper() in fingerprints
    return False

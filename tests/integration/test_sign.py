"""GPG signing: packages (rpmsign), repomd.xml (detached), public key export, signed publish.

Keys are throwaway ones made in a temporary GNUPGHOME with ``gpg --batch --gen-key``
(no passphrase); their gpg-agent is stopped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Built, build_rpm, throwaway_key, tree

from rpmdeploy.errors import RepoError
from rpmdeploy.repo import public_key_name, publish_repo
from rpmdeploy.sign import SigningKey, export_public_key, sign_repomd, sign_rpms


@pytest.fixture(scope="module")
def key() -> Iterator[SigningKey]:
    with throwaway_key() as made:
        yield made


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_rpm(tmp_path_factory.mktemp("rpmbuild"), "lib", "1.0")


def rpmkeys_check(
    paths: list[Path], public_key: Path, tmp: Path
) -> subprocess.CompletedProcess[str]:
    """``rpmkeys --checksig`` against a keyring holding only ``public_key`` (not the host's)."""
    db = tmp / "keyring"
    db.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rpmkeys", "--dbpath", str(db), "--import", str(public_key)], check=True)
    return subprocess.run(
        ["rpmkeys", "--dbpath", str(db), "--define", "_pkgverify_level all", "--checksig"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        check=False,
    )


def test_signed_rpm_verifies_and_tampering_shows(
    key: SigningKey, lib: Built, tmp_path: Path
) -> None:
    signed = tmp_path / lib.rpm.name
    shutil.copy(lib.rpm, signed)
    sign_rpms([signed], key, tmp_path / "sign.log")
    public = export_public_key(key, tmp_path / "RPM-GPG-KEY-test", tmp_path / "sign.log")
    assert public.read_text().startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")

    result = rpmkeys_check([signed], public, tmp_path)
    assert result.returncode == 0 and "signatures OK" in result.stdout, result.stdout

    unsigned = rpmkeys_check([lib.rpm], public, tmp_path)  # _pkgverify_level all: must fail
    assert unsigned.returncode != 0

    tampered = tmp_path / "tampered.rpm"
    data = bytearray(signed.read_bytes())
    data[-200] ^= 0xFF  # inside the payload
    tampered.write_bytes(bytes(data))
    bad = rpmkeys_check([tampered], public, tmp_path)
    assert bad.returncode != 0 and "NOT OK" in bad.stdout


def test_unknown_key_is_one_clear_line(key: SigningKey, lib: Built, tmp_path: Path) -> None:
    copy = tmp_path / lib.rpm.name
    shutil.copy(lib.rpm, copy)
    unknown = SigningKey("nobody@example.invalid", key.gnupghome)
    with pytest.raises(RepoError) as caught:
        sign_rpms([copy], unknown, tmp_path / "sign.log")
    message = str(caught.value)
    assert "'nobody@example.invalid'" in message and "not found" in message
    assert "\n" not in message
    with pytest.raises(RepoError, match="not found"):
        export_public_key(unknown, tmp_path / "k", tmp_path / "sign.log")


def test_refuses_to_sign_a_hard_linked_file(key: SigningKey, lib: Built, tmp_path: Path) -> None:
    copy = tmp_path / "a.rpm"
    shutil.copy(lib.rpm, copy)
    os.link(copy, tmp_path / "b.rpm")
    before = copy.read_bytes()
    with pytest.raises(RepoError, match="hard-linked"):
        sign_rpms([copy], key, tmp_path / "sign.log")
    assert (tmp_path / "b.rpm").read_bytes() == before


def test_repomd_detached_signature(key: SigningKey, tmp_path: Path) -> None:
    repodata = tmp_path / "repodata"
    repodata.mkdir()
    (repodata / "repomd.xml").write_text("<repomd/>\n")
    asc = sign_repomd(repodata, key, tmp_path / "sign.log")
    assert asc.read_text().startswith("-----BEGIN PGP SIGNATURE-----")
    env = {**os.environ, "GNUPGHOME": str(key.gnupghome)}
    subprocess.run(
        ["gpg", "--batch", "--verify", str(asc), str(repodata / "repomd.xml")],
        env=env,
        check=True,
        capture_output=True,
    )


def test_signed_publish_signs_copies_and_republishes_identically(
    key: SigningKey, lib: Built, tmp_path: Path
) -> None:
    input_bytes = lib.rpm.read_bytes()
    repo = tmp_path / "srv" / "myapp"
    log = tmp_path / "publish.log"
    first = publish_repo(repo, [lib.rpm], [lib.srpm], signing=key, log=log)
    assert first.signed
    assert lib.rpm.read_bytes() == input_bytes  # the build output is never signed in place
    public = repo / public_key_name(repo)
    assert public.name == "RPM-GPG-KEY-myapp"
    packages = [repo / "Packages/lib-1.0-1.noarch.rpm", repo / "SRPMS/lib-1.0-1.src.rpm"]
    result = rpmkeys_check(packages, public, tmp_path)
    assert result.returncode == 0, result.stdout
    assert (repo / "repodata/repomd.xml.asc").is_file()
    assert (repo / "SRPMS/repodata/repomd.xml.asc").is_file()

    before = tree(repo)
    second = publish_repo(repo, [lib.rpm], [lib.srpm], signing=key, log=log)
    # Same header digest, signed by the same key: reused, not signed again; same signature
    # of the same repomd.xml carried over.
    assert second.unchanged and second.added == ()
    assert tree(repo) == before

    # Another key: every package is signed again with it.
    with throwaway_key("other@example.invalid") as other:
        third = publish_repo(repo, [lib.rpm], [lib.srpm], signing=other, log=log)
        assert set(third.added) == {"Packages/lib-1.0-1.noarch.rpm", "SRPMS/lib-1.0-1.src.rpm"}
        assert rpmkeys_check(packages, repo / public_key_name(repo), tmp_path / "o").returncode == 0

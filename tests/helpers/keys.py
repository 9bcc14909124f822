"""Throwaway GPG keys for signing tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rpmdeploy.sign import SigningKey

KEY_PARAMS = """\
%no-protection
Key-Type: RSA
Key-Length: 2048
Key-Usage: sign
Name-Real: rpmdeploy test key
Name-Email: {email}
Expire-Date: 0
%commit
"""


@contextmanager
def throwaway_key(email: str = "release@example.invalid") -> Iterator[SigningKey]:
    """A new key in a new GNUPGHOME (short path: gpg-agent's socket lives there)."""
    home = Path(tempfile.mkdtemp(prefix="rpmdeploy-gpg-"))
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--quiet", "--gen-key"],
        input=KEY_PARAMS.format(email=email),
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        yield SigningKey(email, home)
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

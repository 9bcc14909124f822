"""Stage 8, verify: prove a published repository installs, before any server sees it.

Steps, each timed (``repository.verify_repo``):

1. *stand-in* (``standin``): build ``rpmdeploy-target-base``, an RPM with no files that only
   ``Provides:`` what the target system is declared to have (``base``, from
   ``data/base-provides.toml``: python(abi), /usr/bin/python3, /bin/sh, glibc and GCC
   runtime sonames...) plus the distribution packages the app needs (``assumed_packages``),
   in a file:// repository of its own.  This is a declaration, not proof: the report lists
   every capability it assumed.
2. *signatures* (``signatures``, when asked): every package checked with ``rpmkeys
   --checksig`` against a keyring holding only the given key.
3. *repoclosure* (``dnf``): ``dnf repoclosure`` of the repository against itself and the
   stand-in, with a private dnf configuration that leaves the host alone.
4. *install* (``dnf``): ``dnf install PACKAGE`` into an empty temporary installroot with
   only those two repositories (``gpgcheck``/``repo_gpgcheck`` on when checking signatures).
5. *import check* (``installroot``, optional): a static script, such as the WSGI check
   (``wsgi_check.py``), run by an interpreter of the target's Python against the installed
   files.

What this module names is the public API; the submodules' other names are internal.
"""

from __future__ import annotations

from rpmdeploy.verify.base import base_provides_for
from rpmdeploy.verify.installroot import (
    ImportCheck,
    TargetPythonUnavailable,
    run_in_installroot_python,
    wsgi_check,
)
from rpmdeploy.verify.repository import VerifyReport, verify_repo
from rpmdeploy.verify.signatures import check_package_signatures
from rpmdeploy.verify.standin import STAND_IN, build_stand_in

__all__ = [
    "STAND_IN",
    "ImportCheck",
    "TargetPythonUnavailable",
    "VerifyReport",
    "base_provides_for",
    "build_stand_in",
    "check_package_signatures",
    "run_in_installroot_python",
    "verify_repo",
    "wsgi_check",
]

"""Stage 8, verify: prove a published repository installs, before any server sees it.

Steps, each timed (``repository.verify_repo``):

1. *stand-in* (``standin``): build ``rpmdeploy-target-base``, an RPM with no files that only
   ``Provides:`` what the target system is declared to have (``base``, from
   ``data/base-provides.toml``: python(abi), /usr/bin/python3, /bin/sh, glibc and GCC
   runtime sonames...) grown (``declared``) by the distribution packages the app and its
   compiled packages need and the sonames they ship (``data/sonames.toml``), and by the
   app's ``[verify] assume``, in a file:// repository of its own.  This is a declaration,
   not proof: the report lists every capability it assumed, where each came from and which
   of them the packages relied on.
2. *signatures* (``signatures``, when asked): every package checked with ``rpmkeys
   --checksig`` against a keyring holding only the given key.
3. *repoclosure* (``dnf``): ``dnf repoclosure`` of the repository against itself and the
   stand-in, with a private dnf configuration that leaves the host alone.
4. *install* (``dnf``): ``dnf install PACKAGE`` into an empty temporary installroot with
   only those two repositories (``gpgcheck``/``repo_gpgcheck`` on when checking signatures).
5. *module imports* (``installroot``, ``module_imports.py``): every installed package's
   top-level modules imported by an interpreter of the target's Python (not run, and said
   so, when this machine has none).
6. *import check* (``installroot``, optional): a static script, such as the WSGI check
   (``wsgi_check.py``: loading ``bin/wsgiapp`` must yield a callable ``application``), run
   the same way against the installed files.

What this module names is the public API; the submodules' other names are internal.
"""

from __future__ import annotations

from rpmdeploy.verify.base import base_provides_for
from rpmdeploy.verify.declared import Declared, DeclaredBase, declare_base
from rpmdeploy.verify.installroot import (
    ImportCheck,
    ModuleImports,
    TargetPythonUnavailable,
    module_imports,
    run_in_installroot_python,
    wsgi_check,
)
from rpmdeploy.verify.packages import RepoPackage, read_repo_packages
from rpmdeploy.verify.repository import VerifyReport, verify_repo
from rpmdeploy.verify.signatures import check_package_signatures
from rpmdeploy.verify.standin import STAND_IN, build_stand_in

__all__ = [
    "STAND_IN",
    "Declared",
    "DeclaredBase",
    "ImportCheck",
    "ModuleImports",
    "RepoPackage",
    "TargetPythonUnavailable",
    "VerifyReport",
    "base_provides_for",
    "build_stand_in",
    "check_package_signatures",
    "declare_base",
    "module_imports",
    "read_repo_packages",
    "run_in_installroot_python",
    "verify_repo",
    "wsgi_check",
]

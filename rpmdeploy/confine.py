"""Package code runs confined: unprivileged, no network, no writes outside its own build.

Every pinned package is code written by strangers, and a release job runs rpmdeploy as root.
Whatever runs a package's code on the build host (rpmbuild's %build/%install, a PEP 517
backend, the import checks of ``verify``) goes through :func:`confined`, which wraps the
command in bubblewrap (``bwrap``, Debian/Fedora package ``bubblewrap``):

- a new user namespace in which the command is ``nobody`` (65534), with no capabilities on
  the host: files it did not get a writable binding for cannot be changed, and no file it
  writes can be setuid root on the host;
- no network (a new, empty network namespace), its own PID, IPC and UTS namespaces, and it
  dies with rpmdeploy;
- only what a build needs is there, read-only: ``/usr`` (and the merged-/usr links),
  ``/etc`` without ``shadow``/``gshadow``, and the directories the caller names (the cache,
  interpreters); its own build directories writable; private, empty ``/tmp``, ``/var/tmp``
  and ``$HOME``.  Homes (``/root``, ``/home``: keys, credentials, ``~/.rpmmacros``), ``/var``,
  ``/srv``, ``/mnt``, ``/sys`` are simply not there.  (In the user namespace the command's
  files map to the caller's uid, so hiding is what keeps root-only files out of reach.)

The mock builder needs none of this: mock builds in its chroot as its own unprivileged user
with the network off.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from rpmdeploy.errors import UsageError

BWRAP = "bwrap"
NOBODY = 65534
#: Where the confined command's $HOME is (an empty tmpfs).
HOME = "/tmp/home"
#: Files of /etc that only root may read: replaced by empty ones inside.
SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
#: Top-level directories a program may need besides /usr (links into /usr on merged-/usr).
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def bwrap() -> str:
    """The bubblewrap executable, or a one-line error saying how to get it."""
    found = shutil.which(BWRAP)
    if found is None:
        raise UsageError(
            "bubblewrap (bwrap) is needed to run package code confined: install it "
            "(Debian/Ubuntu: apt-get install bubblewrap; Fedora/EL: dnf install bubblewrap)"
        )
    return found


def confined(
    argv: Sequence[str | os.PathLike[str]],
    *,
    writable: Sequence[Path] = (),
    readable: Sequence[Path] = (),
    cwd: Path | None = None,
    network: bool = False,
) -> list[str]:
    """``argv`` wrapped so that it runs confined; ``writable`` directories stay writable.

    ``readable`` paths hidden by the private /tmp (a build under /tmp, say) are bound back
    read-only.  Paths are used as given (absolute, checked by the callers).  ``network``
    keeps the network for a resolver that must reach the indexes (uv, pip-compile) while it
    may run an sdist's code for its metadata: that code still writes nothing outside.
    """
    wrapped = [
        bwrap(),
        "--ro-bind",
        "/usr",
        "/usr",
        "--ro-bind",
        "/etc",
        "/etc",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/var",
        "--tmpfs",
        "/var/tmp",
        "--dir",
        HOME,
        "--setenv",
        "HOME",
        HOME,
        "--unshare-all",  # network, PID, IPC, UTS, cgroup: and a user namespace below
        "--unshare-user",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--die-with-parent",
        "--new-session",
    ]  # fmt: skip - an option and its values on one line, as bwrap reads them
    wrapped += _system_links()
    for secret in SECRETS:
        if os.path.exists(secret):
            wrapped += ["--ro-bind", os.devnull, secret]
    if network:
        wrapped.append("--share-net")
    for path in readable:
        wrapped += ["--ro-bind", str(path), str(path)]
    for path in writable:
        wrapped += ["--bind", str(path), str(path)]
    if cwd is not None:
        wrapped += ["--chdir", str(cwd)]
    return [*wrapped, "--", *(os.fspath(a) for a in argv)]


def _system_links() -> list[str]:
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def interpreter_dirs(python: str | None = None) -> list[Path]:
    """The installation of an interpreter a confined build runs (default: rpmdeploy's own,
    its venv and the Python that venv was made from); /usr is always there."""
    if python is None:
        found = {Path(sys.prefix), Path(sys.base_prefix)}
        python = sys.executable
    else:
        found = {Path(python).parent.parent}
    found.add(Path(os.path.realpath(python)).parent.parent)
    return sorted(p for p in found if not str(p).startswith("/usr"))

"""What counts as an RPM package name, version and file name: one set of rules for every module.

Pure (no ``rpm`` import): the Puppet manifest, the repository publisher, the release record
and ``verify`` all check names they are handed with these, so a name accepted in one place is
accepted in all of them.  The rules are deliberately narrower than what rpm itself tolerates:
nothing that a shell, a yum ``.repo`` file, a Puppet string or a spec tag would treat
specially gets through.
"""

from __future__ import annotations

import re

#: A package name (``Name:``): letters, digits and ``._+-``, not starting with ``.`` or ``-``.
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]*$")

#: ``[EPOCH:]VERSION-RELEASE``; groups: epoch (or None), version, release.
EVR = re.compile(r"^(?:(\d+):)?([A-Za-z0-9._+~^]+)-([A-Za-z0-9._+~^]+)$")

#: A package file name as rpmdeploy publishes it: ``NAME-VERSION-RELEASE.ARCH.rpm``.
FILE_NAME = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+~^-]*\.rpm$")

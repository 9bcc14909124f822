"""rpmdeploy: turn a Python WSGI app directory into real RPMs and a yum repository.

The public API is what this module names; everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

from rpmdeploy.errors import RpmdeployError

__all__ = ["RpmdeployError", "__version__"]

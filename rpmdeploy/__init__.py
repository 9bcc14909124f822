"""rpmdeploy: turn a Python WSGI app directory into real RPMs and a yum repository.

The public API is what this module names (``__all__``); everything else is internal and may
change.  Names are imported from their modules on first use (PEP 562), so ``import rpmdeploy``
stays cheap and needs neither the rpm bindings nor any build tool.

A release, as the command line does it::

    from pathlib import Path
    import rpmdeploy

    resolved = rpmdeploy.settings.resolve(Path("app"), {"target": "rocky-9"})
    options = rpmdeploy.settings.release_options(resolved, None)
    report = rpmdeploy.release(Path("app"), Path("/srv/repo"), options)
"""

from __future__ import annotations

import importlib

# Not `from typing import ...`: importing typing costs more than everything the early start
# of `rpmdeploy pin` (rpmdeploy.prestart) imports; type checkers read this name as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_API = {
    # settings and the app directory
    "settings": "rpmdeploy.settings",
    "App": "rpmdeploy.appmodel",
    "AppOptions": "rpmdeploy.appmodel",
    "load_app": "rpmdeploy.appmodel",
    "Target": "rpmdeploy.targets",
    "resolve_target": "rpmdeploy.targets",
    # the stages
    "compile_pins": "rpmdeploy.pin",
    "read_pins": "rpmdeploy.pin",
    "read_build_pins": "rpmdeploy.pin",
    "PinOptions": "rpmdeploy.pin",
    "IndexOptions": "rpmdeploy.pin",
    "RpmsOptions": "rpmdeploy.pipeline",
    "RpmsReport": "rpmdeploy.pipeline",
    "PackageOutcome": "rpmdeploy.pipeline",
    "build_rpms": "rpmdeploy.pipeline",
    "build_app_rpm": "rpmdeploy.appbuild",
    "ReleaseOptions": "rpmdeploy.release",
    "ReleaseReport": "rpmdeploy.release",
    "release": "rpmdeploy.release",
    "verify_published": "rpmdeploy.release",
    "map_hints": "rpmdeploy.externals",
    "resolve_distro": "rpmdeploy.externals",
    # builders: the seam
    "Builder": "rpmdeploy.builders",
    "BuilderContext": "rpmdeploy.builders",
    "BuildRequest": "rpmdeploy.builders",
    "BuildResult": "rpmdeploy.builders",
    "Capabilities": "rpmdeploy.builders",
    "open_builder": "rpmdeploy.builders",
    # errors
    "RpmdeployError": "rpmdeploy.errors",
    "UsageError": "rpmdeploy.errors",
    "BuildError": "rpmdeploy.errors",
    "FetchError": "rpmdeploy.errors",
    "PinError": "rpmdeploy.errors",
    "RepoError": "rpmdeploy.errors",
    "VerifyError": "rpmdeploy.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'rpmdeploy' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    return loaded if module.endswith("." + name) else getattr(loaded, name)

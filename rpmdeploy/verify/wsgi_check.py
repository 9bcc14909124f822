"""The WSGI check of ``verify``: load an installed app's ``bin/wsgiapp``, make one request.

Static, and run by ``bootstrap.py`` with the *target's* Python (3.6 on EL8), so it uses
nothing newer and imports nothing of rpmdeploy.  Its one argument is a JSON object::

    {"install_dir": "/opt/shop", "site_dirs": ["/opt/acme/lib/python3.9/site-packages"]}

paths on the target, found under the verify root ``$RPMDEPLOY_INSTALLROOT``.

``bin/wsgiapp`` is valid when *loading* it yields a callable ``application``: it is loaded
as importlib loads a module (named ``wsgiapp``, not ``__main__``, and registered in
``sys.modules`` before its code runs), so a script that looks itself up there works, as
Django's ``ROOT_URLCONF = __name__`` does, and so does any way of binding the name (``with``,
``try:``, ``globals()``).  Prints ``STATUS LENGTH bytes`` (say ``200 OK 16 bytes``).  A
missing or non-callable ``application`` is one line on stderr and exit status 1; an
exception while loading or calling it is its traceback (the last line names it).
"""

import importlib.machinery
import importlib.util
import json
import os
import sys
import wsgiref.util
from types import ModuleType
from typing import NoReturn

MODULE_NAME = "wsgiapp"


def load_module(path: str, name: str = MODULE_NAME) -> ModuleType:
    """Load the file at ``path`` as module ``name``, as ``import`` would, and return it."""
    # The script has no .py suffix, so the loader is named rather than guessed from it.
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        fail(f"{path}: cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    # Like importlib: what sys.modules holds afterwards is the module (it may replace itself).
    return sys.modules[name]


def fail(message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    sys.exit(1)


def main() -> None:
    arguments = json.loads(sys.argv[1])
    root = os.environ["RPMDEPLOY_INSTALLROOT"]
    app_dir = root + arguments["install_dir"]
    for site_dir in arguments["site_dirs"]:
        sys.path.insert(0, root + site_dir)
    sys.path.insert(0, app_dir)  # bin/wsgiapp imports the app's own modules
    script = app_dir + "/bin/wsgiapp"
    shown = arguments["install_dir"] + "/bin/wsgiapp"
    if not os.path.isfile(script):
        fail(f"{shown} is not installed")
    module = load_module(script)
    if not hasattr(module, "application"):
        fail(f"{shown} defines no WSGI 'application' once loaded")
    application = module.application
    if not callable(application):
        kind = type(application).__name__
        fail(f"{shown}: 'application' is a {kind}, not a WSGI callable")
    environ = {}  # type: dict
    wsgiref.util.setup_testing_defaults(environ)
    status = []  # type: list
    body = b"".join(application(environ, lambda s, h, exc_info=None: status.append(s)))
    if not status:
        fail(f"{shown}: 'application' returned without calling start_response")
    print(status[0], len(body), "bytes")


if __name__ == "__main__":
    main()

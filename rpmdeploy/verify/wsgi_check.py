"""The WSGI check of ``verify``: load an installed app's ``bin/wsgiapp``, make one request.

Static, and run by ``bootstrap.py`` with the *target's* Python (3.6 on EL8), so it uses
nothing newer and imports nothing of rpmdeploy.  Its one argument is a JSON object::

    {"install_dir": "/opt/shop", "site_dirs": ["/opt/acme/lib/python3.9/site-packages"]}

paths on the target, found under the verify root ``$RPMDEPLOY_INSTALLROOT``.  Prints
``STATUS LENGTH bytes`` (say ``200 OK 16 bytes``); any failure is an exception on stderr.
"""

import json
import os
import runpy
import sys
import wsgiref.util


def main() -> None:
    arguments = json.loads(sys.argv[1])
    root = os.environ["RPMDEPLOY_INSTALLROOT"]
    app_dir = root + arguments["install_dir"]
    for site_dir in arguments["site_dirs"]:
        sys.path.insert(0, root + site_dir)
    sys.path.insert(0, app_dir)  # bin/wsgiapp imports the app's own modules
    application = runpy.run_path(app_dir + "/bin/wsgiapp", run_name="wsgiapp")["application"]
    environ = {}  # type: dict
    wsgiref.util.setup_testing_defaults(environ)
    status = []  # type: list
    body = b"".join(application(environ, lambda s, h, exc_info=None: status.append(s)))
    print(status[0], len(body), "bytes")


if __name__ == "__main__":
    main()

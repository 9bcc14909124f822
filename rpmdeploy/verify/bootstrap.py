"""Runs first in the interpreter that checks a verify root (see installroot.py).

Static, and run with the *target's* Python (3.6 on EL8), so it uses nothing newer and
imports nothing of rpmdeploy.  Invoked as ``python -S -c <this file's text> CODE [ARG...]``:
it drops the current directory from ``sys.path``, lets the installed site-packages named in
``$PYTHONPATH`` process their .pth files as they would on the target, then runs CODE as
``__main__`` with ``sys.argv[1:]`` = ARGs.
"""

import os
import site
import sys


def main() -> None:
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry:
            site.addsitedir(entry)
    code = sys.argv.pop(1)
    exec(compile(code, "<import check>", "exec"), {"__name__": "__main__"})


if __name__ == "__main__":
    main()

"""The module-import check of ``verify``: import every installed package's top-level modules.

Static, and run by ``bootstrap.py`` with the *target's* Python (3.6 on EL8), so it uses
nothing newer and imports nothing of rpmdeploy.  The packages are the ``*.dist-info``
directories of the ``sys.path`` entries under the verify root ``$RPMDEPLOY_INSTALLROOT``
(the target's site-packages, the private namespace's included).  Its one argument is a JSON
object: ``{"installed": {"/usr/lib/python3.9/site-packages/x-1.0.dist-info": ["x"]}}``,
the top-level modules each package's RPM installs beside its dist-info (target paths).

A distribution's top-level modules are the lines of its ``top_level.txt`` (setuptools
writes it), else the first path component of each file its ``RECORD`` lists (a package
directory, a ``.py`` module or an extension module), as installers see them, else (RPMs
drop RECORD, as Fedora's do) what its RPM installs beside it, from the argument.  Names
sdists ship at the top level by mistake (``tests``, ``docs``, ``examples``...: not what
an app imports, and often needing test tools) are left out.  Each is imported in turn
with stdout sent to stderr (a module that prints must not garble the answer); an
exception is recorded, not raised.

Prints one JSON object on its last line of stdout::

    {"packages": 3, "imported": [["psycopg2", "psycopg2"], ...],
     "failed": [["lxml", "lxml", "ImportError: libxslt.so.1: cannot open shared ..."]]}
"""

import contextlib
import csv
import importlib
import json
import os
import sys

# Stray top-level directories of sdists, not run-time modules (see the module doc).
NOT_RUNTIME = frozenset(
    ["test", "tests", "testing", "doc", "docs", "example", "examples", "bench", "benchmarks"]
)
# Annotations are strings: list[str] is evaluated, and fails, on 3.6-3.8.
# An extension module's file name: NAME.cpython-39-x86_64-linux-gnu.so, NAME.abi3.so, NAME.so
_EXTENSION = ".so"


def distributions(root: str) -> "list[str]":
    """The dist-info directories of the sys.path entries under ``root``, sorted."""
    found = []
    for entry in sys.path:
        if not entry.startswith(root.rstrip("/") + "/") or not os.path.isdir(entry):
            continue
        for name in sorted(os.listdir(entry)):
            if name.endswith(".dist-info"):
                found.append(os.path.join(entry, name))
    return found


def top_level_modules(dist_info: str, installed: "list[str] | None" = None) -> "list[str]":
    """The importable top-level names the distribution installs (see the module doc);
    ``installed`` is what its RPM installs, used when neither file is there."""
    top_level = os.path.join(dist_info, "top_level.txt")
    if os.path.isfile(top_level):
        with open(top_level, encoding="utf-8") as handle:
            lines = [line.strip().replace("/", ".") for line in handle]
        return sorted({n.split(".")[0] for n in lines if n and n.split(".")[0].isidentifier()})
    record = os.path.join(dist_info, "RECORD")
    if not os.path.isfile(record):
        return sorted(n for n in installed or () if n.isidentifier())
    names = set()  # type: set[str]
    with open(record, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if not row:
                continue
            parts = row[0].split("/")
            first, last = parts[0], parts[-1]
            if len(parts) == 1 and first.endswith(".py"):
                names.add(first[: -len(".py")])
            elif len(parts) == 1 and first.endswith(_EXTENSION):
                names.add(first.split(".")[0])
            elif len(parts) > 1 and last.endswith((".py", _EXTENSION)):
                # A package directory, or a namespace package (PEP 420) without __init__.py;
                # NAME-1.0.dist-info, NAME.data and ../../bin are no identifiers.
                names.add(first)
    return sorted(n for n in names if n.isidentifier())


def distribution_name(dist_info: str) -> str:
    return os.path.basename(dist_info)[: -len(".dist-info")].rsplit("-", 1)[0]


def import_all(
    root: str, installed: "dict[str, list[str]]"
) -> "tuple[int, list[list[str]], list[list[str]]]":
    """(packages, [[dist, module], ...] imported, [[dist, module, error], ...] failed)."""
    found = distributions(root)
    imported, failed = [], []
    for dist_info in found:
        dist = distribution_name(dist_info)
        on_target = dist_info[len(root.rstrip("/")) :]
        for module in top_level_modules(dist_info, installed.get(on_target)):
            if module in NOT_RUNTIME:
                continue
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    importlib.import_module(module)
            except (Exception, SystemExit) as exc:  # any failure is the answer
                text = " ".join(str(exc).split())
                failed.append([dist, module, type(exc).__name__ + (": " + text if text else "")])
            else:
                imported.append([dist, module])
    return len(found), imported, failed


def main() -> None:
    arguments = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    installed = arguments.get("installed", {})
    packages, imported, failed = import_all(os.environ["RPMDEPLOY_INSTALLROOT"], installed)
    print(json.dumps({"packages": packages, "imported": imported, "failed": failed}))


if __name__ == "__main__":
    main()

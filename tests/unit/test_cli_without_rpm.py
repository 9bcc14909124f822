"""The command line works on a machine without the rpm Python bindings, where it can.

`--help` and `map-externals` read no RPM header: they must not need `import rpm`.  The
bindings are hidden from a fresh interpreter (``sys.modules['rpm'] = None`` makes every
``import rpm`` fail), so this is what a machine without python3-rpm sees.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCKED = (
    "import sys; sys.modules['rpm'] = None; "
    "from rpmdeploy.cli import main; sys.argv = ['rpmdeploy', *sys.argv[1:]]; main()"
)


def rpmdeploy_without_rpm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, check=False
    )


def test_the_bindings_really_are_hidden() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['rpm'] = None; import rpm"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode != 0 and "import of rpm halted" in probe.stderr


def test_help_without_rpm_bindings() -> None:
    for args in (["--help"], ["release", "--help"], ["targets"]):
        result = rpmdeploy_without_rpm(*args)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


def test_map_externals_without_rpm_bindings(tmp_path: Path) -> None:
    (tmp_path / "external-dependencies.txt").write_text("libpq (>=9)\nlibxml2-dev\n")
    result = rpmdeploy_without_rpm("map-externals", str(tmp_path), "--distro", "rocky-9")
    assert result.returncode == 0, result.stderr
    assert "libpq-devel" in result.stdout and "libxml2-devel" in result.stdout


def test_the_public_api_resolves_without_rpm_bindings() -> None:
    code = (
        "import sys; sys.modules['rpm'] = None\n"
        "import rpmdeploy\n"
        "missing = [n for n in rpmdeploy.__all__ if getattr(rpmdeploy, n, None) is None]\n"
        "print(len(rpmdeploy.__all__), missing)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    count, missing = result.stdout.split(" ", 1)
    assert int(count) > 30 and missing.strip() == "[]"


def test_map_externals_formats_are_the_libraries() -> None:
    from rpmdeploy import cli
    from rpmdeploy.externals import FORMATS

    assert cli.MAP_FORMATS == FORMATS


def test_the_command_line_starts_without_the_build_machinery() -> None:
    """`rpmdeploy pin` and `--help` start quickly: the pipeline, the release and the
    templates are imported only by the commands that run them."""
    code = (
        "import sys, rpmdeploy.cli\n"
        "heavy = [m for m in ('rpmdeploy.pipeline', 'rpmdeploy.release', 'rpmdeploy.specs',\n"
        "         'rpmdeploy.wheels', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

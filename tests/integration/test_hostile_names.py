"""File names inside wheels are never spec syntax.

rpm expands a ``%files`` manifest line twice and finds ``%attr``/``%caps``/``%config``
anywhere on it: a wheel member named ``%(id >/tmp/x)`` would run a shell command during
rpmbuild, one named ``%attr(4755,root,root)`` would publish a setuid-root file.  Such
wheels are refused before any build, naming the package and the file, and nothing runs.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from helpers import AppDir, make_wheel, run_cli

from rpmdeploy import _wheel_tool

HOSTILE = [
    "evil-1.0.data/data/share/evil/%(touch {marker})",
    "evil-1.0.data/data/share/evil/%attr(4755,root,root) tool",
    "evil/%caps(cap_setuid=ep)",
    "evil/%{{lua:os.execute('touch {marker}')}}",
    "evil/%config(noreplace) settings",
    "evil/%%(touch {marker})",
    "evil/../../etc/cron.d/evil",
]


def app_with_wheel(app_factory, tmp_path: Path, member: str) -> AppDir:  # type: ignore[no-untyped-def]
    links = tmp_path / "links"
    links.mkdir()
    meta = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nSummary: evil\n"
    files = {"evil/__init__.py": "x = 1\n", member: "#!/bin/sh\nid\n"}
    wheel = make_wheel(links, "evil", "1.0", meta, files)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    app: AppDir = app_factory("evil\n")
    app.pinned.write_text(f"--no-index\n--find-links {links}\nevil==1.0 --hash=sha256:{digest}\n")
    return app


@pytest.mark.parametrize("pattern", HOSTILE)
def test_hostile_member_names_are_refused_before_anything_runs(
    app_factory, tmp_path: Path, pattern: str
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "pwned"
    member = pattern.format(marker=marker)
    app = app_with_wheel(app_factory, tmp_path, member)
    out = tmp_path / "out"
    result = run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "c", expect=1)
    failure = next(ln for ln in result.output.splitlines() if ln.startswith("FAILED"))
    assert "python3-evil" in failure and "refusing file name" in failure
    assert repr(member) in failure
    assert not marker.exists() and not out.exists()


def test_the_wheel_tool_refuses_them_too(tmp_path: Path) -> None:
    """Inside rpmbuild (the SRPM rebuilt elsewhere), the tool applies the same rule."""
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("evil/%attr(4755,root,root)", "x")
    with pytest.raises(SystemExit, match="unsafe path in wheel"):
        _wheel_tool.check_wheel_paths(wheel)


def test_plain_names_with_spaces_still_package(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_with_wheel(app_factory, tmp_path, "evil-1.0.data/data/share/evil/read me.txt")
    out = tmp_path / "out"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "c")
    from helpers import file_names, read_header

    [rpm] = out.glob("RPMS/noarch/python3-evil-*.rpm")
    assert "/usr/share/evil/read me.txt" in file_names(read_header(rpm))

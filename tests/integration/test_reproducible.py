"""The same pinned set built twice, in different directories with different caches, gives
byte-identical RPMs and SRPMs (SOURCE_DATE_EPOCH, clamped mtimes, fixed build host, a build
path that depends only on the inputs, no machine paths expanded into the stored spec)."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import BuiltApp, read_header, run_cli


def test_rebuild_elsewhere_is_byte_identical(built_app: BuiltApp, tmp_path: Path) -> None:
    app = tmp_path / "elsewhere" / "app"
    shutil.copytree(built_app.app.path, app)
    out = tmp_path / "out"
    result = run_cli(
        "rpms", app, "--out", out, "--cache-dir", tmp_path / "other-cache", "--jobs", "1"
    )
    assert "5 built, 0 cached" in result.output
    first = sorted(p.relative_to(built_app.out) for p in built_app.out.glob("*RPMS/**/*.rpm"))
    second = sorted(p.relative_to(out) for p in out.glob("*RPMS/**/*.rpm"))
    assert first == second and len(first) == 11
    for rel in first:
        assert (built_app.out / rel).read_bytes() == (out / rel).read_bytes(), rel
    # and the header says when and where: the declared epoch and the fixed build host
    header = read_header(built_app.rpm("python3-cext"))
    assert header["buildtime"] == 315532800
    assert header["buildhost"] == "rpmdeploy.invalid"

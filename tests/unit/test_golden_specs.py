"""Rendered specs compared with files under tests/golden/, so a template change is a diff.

Refresh deliberately: RPMDEPLOY_UPDATE_GOLDEN=1 pytest tests/test_golden_specs.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import make_wheel

from rpmdeploy.fetch import Artifact
from rpmdeploy.metadata import read_wheel_metadata
from rpmdeploy.pin import Pin
from rpmdeploy.releases import History
from rpmdeploy.render import render
from rpmdeploy.specs import PACKAGE_TEMPLATE, MetadataOptions, spec_context
from rpmdeploy.targets import resolve_target
from rpmdeploy.wheels import BuiltWheel

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
METADATA = """\
Metadata-Version: 2.4
Name: Golden_Pkg
Version: 1!2.0.0.post3
Summary: A golden package, 100% tested
Project-URL: Homepage, https://example.invalid/golden
License-Expression: Apache-2.0 OR MIT
Requires-Python: >=3.8
Requires-Dist: requests[socks]>=2.8.1,<3
Requires-Dist: idna!=3.0; python_version >= "3.8"
Requires-Dist: legacy; python_version < "3"
Requires-Dist: ujson~=5.1; extra == "fast"
Provides-Extra: fast
Provides-Extra: docs

%prep is how the description starts
# and this looks like a comment
"""


@pytest.mark.parametrize(
    ("case", "target", "extras", "prefix"),
    [
        ("golden-host", "host", ("fast",), None),
        ("golden-fedora-43", "fedora-43-x86_64", (), None),
        ("golden-namespace", "rocky-9", (), ("acme-python3-", "/opt/acme")),
        ("golden-host-binary", "host", (), None),  # a platform wheel: no strip, private .so
        # python-golden-pkg: named python3-golden-pkg as Fedora would, obsoleting the old name
        ("golden-renamed", "fedora-43-x86_64", ("fast",), None),
    ],
)
def test_rendered_spec_matches_golden(
    tmp_path: Path, case: str, target: str, extras: tuple[str, ...], prefix: tuple[str, str] | None
) -> None:
    binary = {"tag": "cp311-cp311-manylinux_2_17_x86_64", "purelib": False}
    project = "python-golden-pkg" if case == "golden-renamed" else "golden-pkg"
    wheel = make_wheel(
        tmp_path,
        project.replace("-", "_"),
        "1!2.0.0.post3",
        METADATA.replace("Name: Golden_Pkg", f"Name: {project}"),
        {"golden_pkg/__init__.py": ""},
        **(binary if case.endswith("-binary") else {}),  # type: ignore[arg-type]
    )
    resolved = resolve_target(target)
    if prefix:
        resolved = resolved.with_namespace(*prefix)
    pin = Pin(name=project, version="1!2.0.0.post3", hashes=("sha256:" + "0" * 64,), extras=extras)  # type: ignore[arg-type]
    artifact = Artifact(pin, wheel, "0" * 64)
    # Two releases of the same version: the second rebuilt for a template change.
    history = History()
    for templates in ("old", "new"):
        planned = history.plan(
            "python3-golden-pkg",
            "1:2.0.0^post3",
            {"artifact": "0" * 64, "templates": templates},
            date=1700000000,
            packager="Release Bot <bot@example.invalid>",
            describe=lambda previous: ["Packaged" if previous is None else "Rebuilt: %prep"],
        )
    options = MetadataOptions(packager="Release Bot <bot@example.invalid>")
    meta = read_wheel_metadata(wheel)
    ctx = spec_context(meta, artifact, BuiltWheel(wheel), resolved, planned, options)
    text = render(PACKAGE_TEMPLATE, ctx)
    golden = GOLDEN / f"{case}.spec"
    if os.environ.get("RPMDEPLOY_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert golden.is_file(), f"missing {golden}: run with RPMDEPLOY_UPDATE_GOLDEN=1"
    assert text == golden.read_text()

"""Hostile package metadata must reach the RPM as text and never run during rpmbuild.

rpm expands macros in spec text before it decides whether a line opens a section, so a
description line ``%%prep`` becomes ``%prep`` and what follows would run as shell in rpmbuild;
``%(...)`` runs shell and ``%{lua:...}`` runs Lua at parse time.  The fixture wheel below is
written by hand, since no build backend would emit such metadata.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import rpm
from helpers import AppDir, deps, file_names, make_wheel, read_header, run_cli

from rpmdeploy import descriptions


def hostile_metadata(marker_dir: Path) -> tuple[str, str, str]:
    m = marker_dir
    summary = f"Summary %(touch {m}/summary)\n  %{{lua:os.execute('touch {m}/lua-summary')}} 100%"
    description = "\n".join(
        [
            f"First line %define pwned 1 %(touch {m}/desc-shell)",
            "%prep",
            "%%build",
            f"touch {m}/section-build",
            "%files",
            "/etc/shadow",
            f"%{{lua: os.execute('touch {m}/desc-lua')}}",
            "%changelog",
            "# a comment-looking line",
            "   # another, indented",
            "  %install",
            f"rm -rf {m}",
            "%global x %(touch /tmp/should-not-exist)",
            "\\",
            "last line",
        ]
    )
    metadata = (
        "Metadata-Version: 2.1\n"
        "Name: evil\n"
        "Version: 1.0\n"
        # A folded header: the value carries a newline into what becomes a one-line tag.
        f"Summary: {summary}\n"
        f"Home-page: https://example.invalid/%{{lua:os.execute('touch\\x20{m}/url')}}%(id)\n"
        f"License: %(touch {m}/license)\n"
        f"Author: Mallory\n  %prep\n"
        "\n"
        f"{description}\n"
    )
    return metadata, summary, description


def test_hostile_metadata_is_inert(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "keep").write_text("the section-build payload would delete this directory")
    links = tmp_path / "links"
    links.mkdir()
    metadata, summary, description = hostile_metadata(markers)
    make_wheel(links, "evil", "1.0", metadata, {"evil.py": "X = 1\n"})
    app: AppDir = app_factory("evil\n")
    app.pin("--find-links", links)
    out = tmp_path / "out"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache")

    assert sorted(p.name for p in markers.iterdir()) == ["keep"], "something in the metadata ran"
    assert not Path("/tmp/should-not-exist").exists()

    header = read_header(next(out.glob("RPMS/noarch/python3-evil-1.0-1.noarch.rpm")))
    assert header[rpm.RPMTAG_SUMMARY] == descriptions.summary(summary, "-")
    assert header[rpm.RPMTAG_SUMMARY] == "Summary %(touch"  # cut at a word, under 80
    assert header[rpm.RPMTAG_URL] == (
        f"https://example.invalid/%{{lua:os.execute('touch\\x20{markers}/url')}}%(id)"
    )
    assert header[rpm.RPMTAG_LICENSE] == "LicenseRef-Unknown"  # not an SPDX expression
    text = header[rpm.RPMTAG_DESCRIPTION]
    # The description is the README's prose as plain text (rpmdeploy.descriptions): every
    # word of it survives as text; lines that rpm could read as a section, a directive or a
    # comment gain one no-break space, which rpm does not skip.
    plain = descriptions.description(description, "", "-", "")
    expected = [
        "\u00a0" + ln if ln.lstrip().startswith(("%", "#")) else ln for ln in plain.splitlines()
    ]
    assert text.splitlines() == expected
    assert "%prep %%build" in text and "%{lua: os.execute" in text
    assert file_names(header) == sorted(file_names(header))
    assert not any("shadow" in f for f in file_names(header))
    assert [d for d in deps(header, "requires")] == ["python(abi) = 3.11"]


def test_hostile_changelog_text_is_inert(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Commit subjects reach the app's %changelog as text: no macro, section or entry."""
    markers = tmp_path / "markers"
    markers.mkdir()
    app: AppDir = app_factory("delta\n", name="shop")
    app.pin()
    (app.path / "external-dependencies.txt").write_text("")
    subjects = [
        f"%(touch {markers}/shell)",
        f"%{{lua: os.execute('touch {markers}/lua')}}",
        "%prep",
        "* Mon Jan 01 2024 Mallory - 9.9-9",
        "%changelog",
        "# not a comment",
    ]
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
    }
    subprocess.run(["git", "-C", str(app.path), "init", "-q"], env=env, check=True)
    for subject in subjects:
        (app.path / "notes.txt").write_text(subject)
        subprocess.run(["git", "-C", str(app.path), "add", "-A"], env=env, check=True)
        subprocess.run(
            ["git", "-C", str(app.path), "commit", "-q", "-m", subject], env=env, check=True
        )
    out = tmp_path / "out"
    run_cli("app", app.path, "--out", out, "--cache-dir", tmp_path / "cache")
    assert list(markers.iterdir()) == [], "something in a commit subject ran"
    header = read_header(next(out.glob("RPMS/noarch/shop-0^*.noarch.rpm")))
    assert len(header[rpm.RPMTAG_CHANGELOGNAME]) == 1  # no entry was forged
    items: list[str] = []  # the items, their wrapped continuation lines joined again
    for line in header[rpm.RPMTAG_CHANGELOGTEXT][0].splitlines():
        assert line.startswith(("- ", "  ")), line
        if line.startswith("- "):
            items.append(line[2:])
        else:
            items[-1] += " " + line.strip()
    assert items[0].startswith("Release 0^")
    assert items[1:] == list(reversed(subjects))  # newest first, every one as text


DIRECTIVES = [
    "%include /etc/shadow",
    "   %include /etc/passwd",
    "%if 0",
    "  %else",
    "%endif",
    "\t%if 1",
    "%define x 1",
    "%undefine x",
    "%dnl comment",
]


@pytest.mark.parametrize("directive", DIRECTIVES)
def test_directives_in_summaries_and_descriptions_stay_text(
    app_factory, tmp_path: Path, directive: str
) -> None:  # type: ignore[no-untyped-def]
    """rpm 4.18 reads %include and %if/%else/%endif behind leading whitespace even after
    %% became %: as the app's summary (its RPM's Summary and %description) and a package's
    Summary, each stays text, includes no file and breaks no build."""
    links = tmp_path / "links"
    links.mkdir()
    metadata = f"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nSummary: {directive}\n"
    make_wheel(links, "evil", "1.0", metadata, {"evil.py": "X = 1\n"})
    app: AppDir = app_factory("evil\n")
    app.pin("--find-links", links)
    # An app setting refuses control characters (a tab too); its spaces still test the rule.
    toml_value = directive.replace("\t", "    ")
    (app.path / "rpmdeploy.toml").write_text(
        f'[app]\nname = "shop"\nversion = "1.0"\nsummary = "{toml_value}"\n'
    )
    (app.path / "external-dependencies.txt").write_text("")
    out = tmp_path / "out"
    run_cli("rpms", app.path, "--out", out, "--cache-dir", tmp_path / "cache")
    run_cli("app", app.path, "--out", out, "--cache-dir", tmp_path / "cache")
    secret = Path("/etc/shadow").read_text().split(":", 1)[0] + ":"  # "root:", its first entry
    shop = read_header(next(out.glob("RPMS/noarch/shop-*.rpm")))
    assert directive.strip().replace("\t", "    ") in shop[rpm.RPMTAG_DESCRIPTION]
    for path in (*out.glob("RPMS/noarch/*.rpm"), *out.glob("SRPMS/*.rpm")):
        header = read_header(path)
        text = header[rpm.RPMTAG_DESCRIPTION] + header[rpm.RPMTAG_SUMMARY]
        assert secret not in text and "nologin" not in text, path.name

"""Untrusted text made inert for an rpm spec file.

Everything a package or an app's settings say (summary, description, URL, license) reaches a
spec only through these two functions, used as the ``rpm_line``/``rpm_text`` Jinja filters:
``%`` doubled so no macro, ``%(...)`` shell or ``%{lua:...}`` expands; no raw newline in a tag;
and no description line that could turn into a section header (rpm expands ``%%prep`` to
``%prep`` *before* it looks for section headers, so doubling alone is not enough).
"""

from __future__ import annotations

import re
import unicodedata

MAX_DESCRIPTION = 16 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def rpm_line(value: object) -> str:
    """One line of inert text for a spec tag: whitespace folded, ``%`` doubled."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", str(value)))
    return " ".join(text.split()).replace("%", "%%")


def rpm_text(value: object) -> str:
    """Several lines of inert text for a %description body."""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = text[:MAX_DESCRIPTION]
    lines = []
    for raw in text.split("\n"):
        line = _CONTROL.sub(" ", raw.replace("\t", "    ")).rstrip().replace("%", "%%")
        # rpm expands %% to % before it checks whether a line starts a section (%prep,
        # %build, %files...), and rpm 4.18 still recognises %include and %if/%else/%endif
        # behind leading ASCII whitespace.  A line whose first non-space is '#' is a spec
        # comment and would vanish.  A no-break space first, which rpm does not skip as
        # whitespace, keeps every such line text: no directive, no comment.
        if line.lstrip().startswith(("%", "#")):
            line = "\u00a0" + line
        lines.append(line)
    return "\n".join(lines).strip("\n") or "."

"""A package's Summary and %description from its PyPI metadata, as plain text.

PyPI's long description is a project's whole README (reST or Markdown, often with HTML,
badges and images).  An RPM's description is a few lines of plain text, wrapped at 79
columns, so the Summary and the description are made here:

* Summary: one line, without a trailing dot, under 80 characters (cut at a word);
* description: the first one or two paragraphs of prose of the README, with HTML tags,
  comments, images, badges, link and inline markup, headings, code blocks, tables and reST
  directives removed, wrapped at 79 columns, then a pointer to the project's URL.

Everything stays untrusted text: the spec template still passes it through ``rpm_line`` /
``rpm_text`` (``rpmdeploy.escaping``), which make it inert.
"""

from __future__ import annotations

import html
import re
import textwrap

WIDTH = 79  # rpmlint's description-line-too-long fires above 80 (Fedora's MaxLineLength)
MAX_PARAGRAPHS = 2
ENOUGH = 400  # characters of prose after which a second paragraph is not added

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_MD_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S")
_RST_LINK = re.compile(r"`([^`<]*?)\s*<[^>`]*>`__?")
_RST_REF = re.compile(r"`([^`]+)`__?")
_RST_ROLE = re.compile(r":[A-Za-z][\w:+-]*:`([^`]*)`")
_RST_SUBST = re.compile(r"\|[^|\s][^|]*\|_{0,2}")
_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__")
_EMPHASIS = re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_URL = re.compile(r"https?://\S+")
_HTML_HEADING = re.compile(r"<h[1-6][\s>]", re.IGNORECASE)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])(?=\s|$)")
_LIST_ITEM = re.compile(r"^([-*+]|\d+[.)])\s")


def summary(text: str, fallback: str) -> str:
    """One line of plain text: inline markup removed, no trailing dot, at most 79 characters."""
    line = " ".join(_inline(text).split()) or fallback
    if len(line) > WIDTH:
        cut = line[: WIDTH + 1].rsplit(" ", 1)[0] if " " in line[:WIDTH] else line[:WIDTH]
        line = cut.rstrip(",;:-–— ")
    return line.rstrip(". ") or fallback


def description(text: str, content_type: str, fallback: str, url: str = "") -> str:
    """The first paragraph or two of ``text`` as plain text wrapped at 79 columns, then a
    pointer to ``url``; ``fallback`` (a sentence) when the text has no prose."""
    paragraphs = prose_paragraphs(text, markdown="markdown" in content_type.lower())
    chosen: list[str] = []
    for paragraph in paragraphs:
        chosen.append(paragraph)
        if len(chosen) >= MAX_PARAGRAPHS or sum(map(len, chosen)) >= ENOUGH:
            break
    if not chosen:
        chosen = [fallback]
    blocks = [_wrap(p) for p in chosen]
    pointer = _pointer(url)
    if pointer:
        blocks.append(pointer)
    return "\n\n".join(blocks)


def prose_paragraphs(text: str, *, markdown: bool = False) -> list[str]:
    """The README's paragraphs of prose, in order, each as one line of plain text."""
    text = _HTML_COMMENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = []
    for block in _blocks(text.split("\n"), markdown):
        if _LIST_ITEM.match(block[0]):  # a list is not a paragraph
            continue
        line = " ".join(_inline(" ".join(block)).split())
        if _is_prose(line):
            paragraphs.append(line.removesuffix("::") + (":" if line.endswith("::") else ""))
    return paragraphs


def _blocks(lines: list[str], markdown: bool) -> list[list[str]]:
    """Runs of lines separated by blank lines, without code, directives, headings, tables."""
    blocks: list[list[str]] = []
    current: list[str] = []
    skipping = ""  # "fence", "directive" or "indent": inside a block that is not prose
    for index, raw in enumerate(lines):
        line = raw.rstrip()
        following = lines[index + 1].rstrip() if index + 1 < len(lines) else ""
        skipping = _skip_state(skipping, line, markdown)
        if skipping or _not_prose_line(line, following, markdown):
            if current:
                blocks.append(current)
                current = []
            continue
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(line.strip())
    if current:
        blocks.append(current)
    return blocks


def _skip_state(state: str, line: str, markdown: bool) -> str:
    """Whether ``line`` is inside a code fence, a reST directive or an indented block."""
    if state == "fence":
        return "" if _FENCE.match(line) else "fence"
    if _FENCE.match(line):
        return "fence"
    indented = line.startswith(("    ", "\t")) or (not markdown and line.startswith(" "))
    if state in ("directive", "indent") and (indented or not line.strip()):
        return state
    if line.startswith(".."):  # reST directive, comment, target, substitution definition
        return "directive"
    if indented and line.strip():
        return "indent"
    return ""


def _not_prose_line(line: str, following: str, markdown: bool) -> bool:
    stripped = line.strip()
    if stripped.startswith("<"):  # HTML: a heading, or only tags (images, badges, <p>)
        return bool(_HTML_HEADING.match(stripped)) or not _HTML_TAG.sub("", stripped).strip()
    return bool(
        (markdown and stripped.startswith("#"))  # an ATX heading
        or stripped.startswith(("|", ">", "+-"))  # tables, quotes
        or _UNDERLINE.match(stripped)
        or (stripped and _UNDERLINE.match(following.strip()))  # a setext/reST heading
        or _MD_REF_DEF.match(line)
    )


def _inline(text: str) -> str:
    """Inline markup of HTML, Markdown and reST removed, keeping the words."""
    text = _RST_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _RST_LINK.sub(r"\1", text)
    text = _RST_ROLE.sub(r"\1", text)
    text = _RST_SUBST.sub("", text)
    text = _RST_REF.sub(r"\1", text)
    text = _LITERAL.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _STRONG.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _EMPHASIS.sub(r"\1", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", html.unescape(text))


def _is_prose(line: str) -> bool:
    """A paragraph with words in it (not a leftover of badges, links or a list of URLs)."""
    words = _URL.sub("", line).split()
    return len(words) >= 3 and sum(c.isalpha() for c in line) >= 12


def _wrap(paragraph: str) -> str:
    return "\n".join(textwrap.wrap(paragraph, WIDTH, break_long_words=True, break_on_hyphens=False))


def _pointer(url: str) -> str:
    if not url:
        return ""
    one_line = f"More information: {url}"
    if len(one_line) <= WIDTH:
        return one_line
    return f"More information:\n{url}" if len(url) <= WIDTH else ""

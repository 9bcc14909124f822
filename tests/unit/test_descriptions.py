"""Summaries and descriptions made from PyPI metadata: plain text, short, wrapped."""

from __future__ import annotations

import pytest

from rpmdeploy.descriptions import WIDTH, description, prose_paragraphs, summary

MARKDOWN_README = """\
<p align="center">
  <img src="https://example.com/logo.png" alt="logo">
</p>
<!-- a comment with %prep in it
     over two lines -->
# Blinker

[![Build](https://github.com/x/y/badge.svg)](https://github.com/x/y/actions) \
[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/x)

Blinker provides a **fast** dispatching system that allows any number of
interested parties to subscribe to events, or "signals". See the
[docs](https://blinker.readthedocs.io) and `Signal` for *details* &amp; more.

## Example

```python
from blinker import signal  # a code block is not prose
```

- a list item
- another

| a | table |
|---|-------|

Second paragraph with <b>bold</b> words.

Third paragraph, never reached.
"""

RST_README = """\
.. image:: https://img.shields.io/pypi/v/setuptools.svg
   :target: https://pypi.org/project/setuptools

.. |ruff-badge| image:: https://img.shields.io/badge/ruff-yes.svg
   :target: https://github.com/astral-sh/ruff

|pypi-version| |ruff-badge|

Setuptools
==========

See the `Quickstart <https://setuptools.pypa.io/quickstart.html>`_ and the
:doc:`User's Guide <userguide>` for ``setup.py`` instructions.  Questions go to
`GitHub Discussions`_.

.. _GitHub Discussions: https://github.com/pypa/setuptools/discussions

Example::

    python -m build
"""


def test_markdown_readme_becomes_two_plain_paragraphs() -> None:
    text = description(MARKDOWN_README, "text/markdown", "Fallback.", "https://blinker.example")
    assert text == (
        "Blinker provides a fast dispatching system that allows any number of interested\n"
        'parties to subscribe to events, or "signals". See the docs and Signal for\n'
        "details & more.\n"
        "\n"
        "Second paragraph with bold words.\n"
        "\n"
        "More information: https://blinker.example"
    )


def test_rst_readme_loses_badges_directives_and_link_markup() -> None:
    text = description(RST_README, "text/x-rst", "Fallback.", "")
    # "Example::" and its literal block are no prose paragraph.
    assert text == (
        "See the Quickstart and the User's Guide for setup.py instructions. Questions go\n"
        "to GitHub Discussions."
    )


@pytest.mark.parametrize("readme", [MARKDOWN_README, RST_README, "x " * 500, "a" * 300])
def test_no_line_longer_than_79_and_no_markup(readme: str) -> None:
    text = description(readme, "text/markdown", "Fallback.", "https://example.com/" + "p" * 90)
    for line in text.splitlines():
        assert len(line) <= WIDTH
        assert not any(mark in line for mark in ("<img", "![", "](", ".. ", "`_", "|ruff"))


def test_no_prose_falls_back_and_long_urls_are_left_out() -> None:
    assert description("[![b](x)](y)\n\n.. image:: z\n", "", "The foo package.", "") == (
        "The foo package."
    )
    assert prose_paragraphs("") == []
    url = "https://example.com/" + "x" * 80
    assert description("Some words in here.", "", "F.", url) == "Some words in here."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A fast thing.", "A fast thing"),
        ("  A   `fast`\n thing...  ", "A fast thing"),
        ("", "The foo Python package"),
        ("...", "The foo Python package"),
        ("word " * 30, ("word " * 16).strip()),
        ("x" * 100, "x" * 79),
        ("Uses [links](https://x.example) and **bold**.", "Uses links and bold"),
    ],
)
def test_summary(text: str, expected: str) -> None:
    result = summary(text, "The foo Python package")
    assert result == expected
    assert len(result) < 80 and not result.endswith(".")

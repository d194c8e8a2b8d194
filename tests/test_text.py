"""Untrusted text: control sequences removed, other controls visible."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from peerprep.render import safe
from peerprep.text import clean, normalise


def test_escape_sequences_are_removed() -> None:
    assert clean("a\x1b[31mred\x1b[0m b") == "a red b".replace(" red", "red")
    assert clean("x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\y") == "xlinky"
    assert clean("title\x1b]0;pwned\x07!") == "title!"
    assert clean("c1\x9b31m") == "c1"


def test_other_controls_become_visible() -> None:
    assert clean("a\rb") == "a\u240db"
    assert clean("bell\x07") == "bell\u2407"
    assert clean("tab\tand\nnewline") == "tab\tand\nnewline"


def test_rich_markup_is_shown_literally() -> None:
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(safe("[bold]x[/bold] [link=http://e]y[/link] [mitochondria]"))
    assert buf.getvalue().strip() == "[bold]x[/bold] [link=http://e]y[/link] [mitochondria]"


@given(st.text())
def test_clean_output_has_no_escape_or_c1(text: str) -> None:
    out = clean(text)
    assert "\x1b" not in out
    assert not any(0x80 <= ord(c) <= 0x9F for c in out)
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in out)


def test_normalise() -> None:
    assert normalise("  Hello,  WORLD! ") == "hello world"

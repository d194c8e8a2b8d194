"""Untrusted text made safe to show: terminal control sequences removed, other controls made visible."""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other ESC-introduced sequences, and the
# 8-bit C1 forms of CSI/OSC. Removed whole so that no hyperlink, title or colour can take effect.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC up to BEL / ST
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture" for C0
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}"


def clean(text: str) -> str:
    """Return `text` with escape sequences removed and other control characters made visible.

    Newline and tab are kept; carriage return becomes visible so it cannot overwrite a line.
    """
    if text.isprintable():
        return text
    return _CONTROL.sub(_visible, _SEQUENCE.sub("", text))


_ASCII_PUNCT = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~"})
_NOT_WORD = re.compile(r"[^\w\s]")


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive form of a text, for duplicate detection and grading."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_PUNCT).split())
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())

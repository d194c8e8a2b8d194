"""Reading answers: single keypresses on a terminal, one line per response from a pipe (shell side)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Protocol, TextIO

Tick = Callable[[], str]


class EndOfInput(Exception):
    """stdin is exhausted (pipe) or the user pressed Ctrl-D."""


class Input(Protocol):
    """Where responses come from."""

    interactive: bool

    def key(self, prompt: str, tick: Tick | None = None) -> str:
        """One keypress on a terminal; one whole line from a pipe. On a terminal, `tick` is called
        every second while waiting: its text is redrawn before the prompt (a live countdown), and
        it may raise to stop waiting."""

    def line(self, prompt: str) -> str:
        """A line of text (typed answers)."""


class LineInput:
    """Piped stdin: one line per response."""

    interactive = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream: TextIO = stream or sys.stdin

    def _read(self) -> str:
        line = self.stream.readline()
        if not line:
            raise EndOfInput
        return str(line).rstrip("\r\n")

    def key(self, prompt: str, tick: Tick | None = None) -> str:
        return self._read().strip()

    def line(self, prompt: str) -> str:
        return self._read()


class KeyInput:
    """A real terminal: raw single keypresses (Ctrl-C ends the session, Ctrl-D too)."""

    interactive = True

    def __init__(self, write: object | None = None) -> None:
        self.fd = sys.stdin.fileno()
        self.write = write

    def key(self, prompt: str, tick: Tick | None = None) -> str:
        import select
        import termios
        import tty

        if prompt or tick:
            sys.stdout.write((tick() if tick else "") + prompt)
            sys.stdout.flush()
        old = termios.tcgetattr(self.fd)
        try:
            tty.setcbreak(self.fd)
            while tick is not None and not select.select([self.fd], [], [], 1.0)[0]:
                sys.stdout.write("\r\x1b[2K" + tick() + prompt)
                sys.stdout.flush()
            ch = os.read(self.fd, 1).decode("utf-8", "replace")
            if ch == "\x1b":  # swallow the rest of an escape sequence (arrow keys and the like)
                while select.select([self.fd], [], [], 0.01)[0]:
                    os.read(self.fd, 16)
                ch = ""
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        if prompt or tick:
            shown = {" ": "space", "\r": "enter", "\n": "enter"}.get(ch, ch if ch.isprintable() else "")
            sys.stdout.write(f"{shown}\n")
            sys.stdout.flush()
        if ch == "\x03":
            raise KeyboardInterrupt
        if ch == "\x04":
            raise EndOfInput
        return ch

    def line(self, prompt: str) -> str:
        try:
            return input(prompt)
        except EOFError:
            raise EndOfInput from None


def make_input() -> Input:
    """Single keys on a terminal, lines otherwise."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return KeyInput()
    return LineInput()

"""The real single-key terminal mode, driven through a pseudo-terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect

DECK = """peerprep: 1
id: tty
title: Terminal deck
cards:
  - {id: basic-one, front: What colour is the sky?, back: Blue on a clear day}
  - id: choice-one
    type: mcq
    question: Which letter is the key?
    choices:
      - {text: Not this one, why: It is not marked.}
      - {text: This one, correct: true, why: It is marked correct.}
  - {id: basic-two, front: Second front, back: Second back}
"""


def _spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "PEERPREP_NOW": "2026-03-02T15:00:00+00:00", "TERM": "xterm", "COLUMNS": "100", "LINES": "40"}
    return pexpect.spawn(sys.executable, ["-m", "peerprep", *args], env=env, encoding="utf-8", timeout=20, dimensions=(40, 100))


def test_single_keys_reveal_rate_answer_undo_and_quit(tmp_path: Path) -> None:
    deck = tmp_path / "tty.yaml"
    deck.write_text(DECK)
    child = _spawn(tmp_path, "study", str(deck))
    child.expect("What colour is the sky")
    child.expect("Space or Enter to show the answer")
    child.send(" ")  # a single key, no Enter
    child.expect("Blue on a clear day")
    child.expect(r"3 good \(10m\)")
    child.send("3")
    child.expect("Which letter is the key")
    child.send("x")  # not a choice: a hint, same item
    child.expect("Type one letter")
    child.send("b")
    child.expect("Correct")
    child.expect("Enter = good")
    child.send("\r")
    child.expect("Second front")
    child.send("z")  # undo the mcq answer
    child.expect("Undone")
    child.expect("Which letter is the key")
    child.send("a")
    child.expect("Not quite")
    child.expect("It is not marked")  # why the pick was wrong
    child.send("\r")
    child.expect("Second front")
    child.send("q")
    child.expect("Session summary")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    stats = json.loads(subprocess.run([sys.executable, "-m", "peerprep", "stats", "--json"], capture_output=True, text=True, env={**os.environ, "PEERPREP_NOW": "2026-03-02T15:00:00+00:00"}).stdout)
    assert stats["reviews_total"] == 2


def test_ctrl_c_ends_with_summary_and_keeps_answers(tmp_path: Path) -> None:
    deck = tmp_path / "tty.yaml"
    deck.write_text(DECK)
    child = _spawn(tmp_path, "study", str(deck))
    child.expect("Space or Enter")
    child.send("\r")
    child.expect("1 again")
    child.send("4")
    child.expect("Which letter")
    child.sendintr()
    child.expect("Session summary")
    child.expect("Answered 1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

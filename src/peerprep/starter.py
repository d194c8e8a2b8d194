"""The commented starter deck written by `peerprep new deck`."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import PeerprepError

STARTER = """\
# A peerprep deck (format 1). Check it with:  peerprep check --strict {path}
# Format reference: docs/deck-format.md; JSON Schema: peerprep schema deck
peerprep: 1
id: {deck_id}                 # lowercase slug, unique among your decks
title: "{title}"
description: What this deck covers, in a sentence or two.
source: Where the content comes from (a book, an article, a guideline).
blueprint: icrc-pr            # optional: lets cards name an exam domain below
cards:
  # basic: front and back. The id is the progress key: keep it when you edit the text.
  # domain: one of the blueprint's domains (advocacy, mentoring-education, recovery-wellness,
  # ethical-responsibility); the checker reports coverage per domain.
  - id: what-is-empathy
    domain: mentoring-education
    front: In peer support, what is empathy?
    back: Understanding a person's feelings from their point of view and letting them know it.
    explanation: Empathy is feeling with someone, where sympathy is feeling sorry for them.
    source: Your source, section or page

  # mcq: exactly one choice has correct: true; every choice says why.
  - id: best-first-reply
    type: mcq
    domain: mentoring-education
    question: A person says they feel judged by everyone. What is the best first reply?
    choices:
      - text: "You should not let other people bother you."
        why: Advice dismisses the feeling before it is understood.
      - text: "It sounds lonely to feel judged wherever you go."
        correct: true
        why: It reflects the feeling back, which shows understanding.
      - text: "I am sure they do not mean it that way."
        why: Defending others tells the person their feeling is wrong.
      - text: "Let me tell you how I handled that myself."
        why: It moves the focus from the person to the peer.
    explanation: Reflecting the feeling is the first step of an empathic reply.
    source: Your source, section or page

  # truefalse: a statement and answer true or false.
  - id: validation-not-agreement
    type: truefalse
    domain: ethical-responsibility
    statement: Validating a person's feelings means agreeing with everything they decide.
    answer: false
    explanation: Validation says a feeling makes sense; it does not endorse every choice.
    source: Your source, section or page

  # cloze: each {{...}} is hidden in turn ({{answer::hint}} shows a hint).
  - id: four-dimensions
    type: cloze
    domain: recovery-wellness
    text: "SAMHSA names four dimensions that support recovery: health, {{home}}, {{purpose}} and {{community}}."
    explanation: Health, home, purpose and community are the four dimensions in SAMHSA's working definition.
    source: Your source, section or page

  # reverse: studied both ways (front to back and back to front).
  - id: term-self-advocacy
    type: reverse
    domain: advocacy
    front: Self-advocacy
    back: A person speaking up for their own needs, rights and choices.
    explanation: Building self-advocacy is part of recovery; the peer supports it rather than speaking for the person.
    source: Your source, section or page
"""


def write(path: Path, force: bool = False) -> None:
    """Write the starter deck to `path` (refusing to overwrite unless `force`)."""
    if path.exists() and not force:
        raise PeerprepError(f"{path}: already exists (use --force to overwrite)")
    if path.suffix not in (".yaml", ".yml"):
        raise PeerprepError(f"{path}: a deck file name must end in .yaml")
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "my-deck"
    title = slug.replace("-", " ").capitalize()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STARTER.replace("{path}", str(path)).replace("{deck_id}", slug).replace("{title}", title), encoding="utf-8")
    except OSError as exc:
        raise PeerprepError(f"{path}: cannot write ({exc.strerror})") from None

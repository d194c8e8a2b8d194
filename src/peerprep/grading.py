"""Grading answers to objective items: choices, true/false and leniently checked typed answers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .model import Card

_ARTICLES = {"a", "an", "the"}


@dataclass(frozen=True, slots=True)
class Grade:
    """The verdict on one answer."""

    correct: bool
    given: str  # the answer as recorded (letters, t/f, or the typed text)
    note: str = ""  # e.g. "accepted with a small typo"


def letters(n: int) -> str:
    """The option letters for n choices: ABCD..."""
    return "".join(chr(65 + i) for i in range(n))


def parse_letters(text: str, n: int) -> list[int] | None:
    """Indexes of chosen options from text like "b", "A C", "a,c"; None when not valid letters."""
    raw = re.sub(r"[\s,;/+]", "", text.strip().upper())
    if not raw or any(ch not in letters(n) for ch in raw):
        return None
    return sorted({ord(ch) - 65 for ch in raw})


def grade_choices(card: Card, chosen: list[int]) -> Grade:
    """An mcq is right when the key is picked; a multi when exactly the keys are picked."""
    keys = set(card.key_indexes)
    given = "".join(chr(65 + i) for i in sorted(chosen))
    return Grade(set(chosen) == keys, given)


def parse_truth(text: str) -> bool | None:
    """t/f/true/false/yes/no/y/n as a boolean, or None."""
    value = text.strip().lower()
    if value in ("t", "true", "y", "yes"):
        return True
    if value in ("f", "false", "n", "no"):
        return False
    return None


def grade_truth(card: Card, given: bool) -> Grade:
    """True/false items."""
    return Grade(given == card.truth, "t" if given else "f")


def normalise_answer(text: str) -> str:
    """Case, accents, punctuation, extra spaces and leading articles do not matter."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.casefold()).replace("_", " ")
    words = text.split()
    while words and words[0] in _ARTICLES and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, stopping early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            best = min(best, cur[j])
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[len(b)]


def typo_allowance(expected: str) -> int:
    """How many typos an answer of this length may have: none for short or numeric answers."""
    if any(ch.isdigit() for ch in expected):
        return 0
    length = len(expected.replace(" ", ""))
    if length <= 4:
        return 0
    if length <= 8:
        return 1
    return 2


def grade_typed(card: Card, text: str) -> Grade:
    """Right when the answer matches the key or an accepted alternative, leniently."""
    given = normalise_answer(text)
    if not given:
        return Grade(False, text.strip())
    targets = [card.answer or ""] + list(card.accept)
    for target in targets:
        want = normalise_answer(target)
        if given == want:
            return Grade(True, text.strip())
    for target in targets:
        want = normalise_answer(target)
        if want and distance(given, want, typo_allowance(want)) <= typo_allowance(want):
            return Grade(True, text.strip(), f'accepted as "{target}" (small typo)')
    return Grade(False, text.strip())

"""Grading: letters, true/false and lenient typed answers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from peerprep import grading
from peerprep.model import Card, Choice

MCQ = Card(id="q", type="mcq", question="?", choices=(Choice("a"), Choice("b", True), Choice("c"), Choice("d")))
MULTI = Card(id="m", type="multi", question="?", choices=(Choice("a", True), Choice("b"), Choice("c", True)))
TYPED = Card(id="t", type="typed", prompt="?", answer="Reflective listening", accept=("reflections",))
NUM = Card(id="n", type="typed", prompt="?", answer="988")


def test_letters() -> None:
    assert grading.parse_letters("b", 4) == [1]
    assert grading.parse_letters(" A, c ", 3) == [0, 2]
    assert grading.parse_letters("e", 4) is None
    assert grading.parse_letters("", 4) is None


def test_choices() -> None:
    assert grading.grade_choices(MCQ, [1]).correct
    assert not grading.grade_choices(MCQ, [0]).correct
    assert grading.grade_choices(MULTI, [0, 2]).correct
    assert not grading.grade_choices(MULTI, [0]).correct
    assert grading.grade_choices(MULTI, [2, 0]).given == "AC"


def test_truth() -> None:
    card = Card(id="tf", type="truefalse", statement="s", truth=False)
    assert grading.parse_truth("F") is False and grading.parse_truth("yes") is True and grading.parse_truth("x") is None
    assert grading.grade_truth(card, False).correct


def test_typed_is_lenient() -> None:
    for answer in ("reflective listening", "Reflective Listening.", "  the reflective   listening", "reflective listenign", "REFLECTIONS"):
        assert grading.grade_typed(TYPED, answer).correct, answer
    assert grading.grade_typed(TYPED, "reflective listenign").note
    for answer in ("open questions", "", "listening"):
        assert not grading.grade_typed(TYPED, answer).correct, answer


def test_numbers_must_be_exact() -> None:
    assert grading.grade_typed(NUM, "988").correct
    assert not grading.grade_typed(NUM, "989").correct


def test_distance() -> None:
    assert grading.distance("kitten", "sitting", 5) == 3
    assert grading.distance("ab", "ba", 2) == 1


@given(st.text(max_size=60))
def test_typed_never_raises_and_exact_answer_always_passes(text: str) -> None:
    grading.grade_typed(TYPED, text)
    card = Card(id="x", type="typed", prompt="?", answer=text or "x")
    if grading.normalise_answer(text):
        assert grading.grade_typed(card, text).correct

"""Exams: weighted draw with exact counts, timing out, navigation, scoring, review, item statistics."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console

from peerprep import catalog, decks, exam
from peerprep.errors import PeerprepError
from peerprep.examview import review_screen, take
from peerprep.model import Blueprint, Domain
from peerprep.terminal import LineInput

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


def _bank() -> tuple[list, Blueprint]:  # type: ignore[type-arg]
    cat = catalog.load()
    return cat.items(), cat.blueprints["icrc-pr"]


def test_largest_remainder() -> None:
    assert exam.largest_remainder(75, {"a": 1, "b": 1, "c": 1, "d": 1}) == {"a": 19, "b": 19, "c": 19, "d": 18}
    assert exam.largest_remainder(10, {"a": 10, "b": 10, "c": 10, "d": 16}) == {"a": 2, "b": 2, "c": 2, "d": 4}
    assert exam.largest_remainder(0, {"a": 1}) == {"a": 0}


def test_full_exam_draws_75_distinct_items_by_weight_reproducibly() -> None:
    items, bp = _bank()
    d1 = exam.draw(items, bp, 75, random.Random(42))
    d2 = exam.draw(items, bp, 75, random.Random(42))
    assert [(q.item.uid, q.order) for q in d1.questions] == [(q.item.uid, q.order) for q in d2.questions]
    assert len({q.item.uid for q in d1.questions}) == 75
    assert d1.quotas == {"advocacy": 19, "mentoring-education": 19, "recovery-wellness": 19, "ethical-responsibility": 18}
    assert d1.notes == []
    assert all(q.item.kind in ("mcq", "multi", "truefalse") for q in d1.questions)
    assert exam.draw(items, bp, 75, random.Random(7)).questions != d1.questions


def test_scenario_sub_items_stay_together() -> None:
    items, bp = _bank()
    d = exam.draw(items, bp, 75, random.Random(3))
    groups = [q.group for q in d.questions]
    for g in set(groups):
        positions = [i for i, x in enumerate(groups) if x == g]
        assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_short_domain_is_reported_and_filled_from_others() -> None:
    items, _ = _bank()
    small = [i for i in items if i.domain != "advocacy"] + [i for i in items if i.domain == "advocacy" and i.vignette is None][:3]
    bp = catalog.load().blueprints["icrc-pr"]
    d = exam.draw(small, bp, 40, random.Random(1))
    assert len(d.questions) == 40
    assert d.quotas["advocacy"] == 3
    assert any("Advocacy: 3 of 10" in n for n in d.notes)


def test_weights_drive_counts() -> None:
    items, bp = _bank()
    heavy = Blueprint("w", "W", "w.yaml", tuple(Domain(d.id, d.title, 3.0 if d.id == "ethical-responsibility" else 1.0) for d in bp.domains), 60, 60, 70)
    d = exam.draw(items, heavy, 60, random.Random(5))
    assert d.quotas == {"advocacy": 10, "mentoring-education": 10, "recovery-wellness": 10, "ethical-responsibility": 30}


def test_no_eligible_items_is_an_error() -> None:
    parsed = decks.parse_text("b.yaml", "peerprep: 1\nid: b\ntitle: B\ncards: [{id: a, front: x, back: y}]\n")
    assert parsed.deck
    with pytest.raises(PeerprepError, match="no exam-ready items"):
        exam.draw(list(decks.items_of(parsed.deck)), None, 5, random.Random(0))


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> datetime:
        return self.t


class TickingInput(LineInput):
    """Piped input whose every line takes `step` of exam time."""

    def __init__(self, text: str, clock: Clock, step: timedelta) -> None:
        super().__init__(io.StringIO(text))
        self.clock, self.step = clock, step

    def line(self, prompt: str) -> str:
        self.clock.t += self.step
        return super().line(prompt)


def _exam(n: int = 4, minutes: int | None = 10, seed: int = 0) -> exam.Exam:
    items, bp = _bank()
    d = exam.draw([i for i in items if i.kind == "mcq" and i.vignette is None], bp, n, random.Random(seed))
    return exam.Exam(d.questions, NOW, minutes)


def _letter_of_key(q: exam.Question) -> str:
    return chr(65 + q.order.index(q.item.card.key_indexes[0]))


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, color_system=None), buf


def test_time_runs_out_and_the_exam_submits_itself() -> None:
    e = _exam(4, minutes=10)
    clock = Clock()
    console, buf = _console()
    answers = "\n".join(_letter_of_key(q) for q in e.questions)
    timed_out = take(console, TickingInput(answers, clock, timedelta(minutes=4)), e, clock)
    assert timed_out
    assert len(e.answers) == 2  # the third line arrives after the deadline and is not counted
    result = exam.score(e, None, e.deadline or NOW, timed_out)
    assert result.correct == 2 and result.timed_out and result.seconds == 600
    assert "Time is up" in buf.getvalue()


def test_navigation_skip_flag_back_goto_and_review_screen() -> None:
    e = _exam(4, minutes=None)
    clock = Clock()
    console, buf = _console()
    keys = [_letter_of_key(q) for q in e.questions]
    script = [":skip", ":flag", keys[1], ":back", ":back", keys[0], keys[1], ":goto 4", keys[3], ":review", ":goto 3", keys[2], ":submit"]
    take(console, LineInput(io.StringIO("\n".join(script) + "\n")), e, clock)
    out = buf.getvalue()
    assert "Question 2 flagged" in out
    assert "Review before submitting" in out
    assert e.flagged == {1}
    result = exam.score(e, catalog.load().blueprints["icrc-pr"], clock(), False)
    assert result.correct == 4 and result.percent == 100.0 and result.passed


def test_review_screen_lists_unanswered_and_flagged() -> None:
    e = _exam(3, minutes=None)
    e.answers[0] = exam.Answer(choices=[0])
    e.flagged.add(0)
    console, buf = _console()
    review_screen(console, e)
    out = buf.getvalue()
    assert "unanswered 2; flagged 1" in out
    assert "1. [answered, flagged]" in out and "2. [unanswered]" in out


def test_scoring_by_domain_and_json() -> None:
    e = _exam(8, minutes=30, seed=2)
    for i, q in enumerate(e.questions):
        if i % 2 == 0:
            e.respond(i, exam.Answer(choices=list(q.item.card.key_indexes)))
    bp = catalog.load().blueprints["icrc-pr"]
    result = exam.score(e, bp, NOW + timedelta(minutes=12), False)
    assert (result.total, result.correct, result.percent) == (8, 4, 50.0)
    assert result.passed is False and result.pass_percent == 70
    assert sum(d.total for d in result.domains) == 8 and sum(d.correct for d in result.domains) == 4
    data = json.loads(json.dumps(result.to_json()))
    assert data["items"][0]["key"] and data["items"][1]["answer"] is None


def test_answers_are_recorded_in_original_letter_order() -> None:
    e = _exam(1, minutes=None, seed=9)
    q = e.questions[0]
    shown = _letter_of_key(q)
    answer = exam.parse_response(q, shown)
    assert answer is not None and answer.letters() == exam.key_letters(q)


def test_item_stats_and_results_files() -> None:
    rows = [
        ("d", "q1", "B", False, "A"), ("d", "q1", "A", True, "A"), ("d", "q1", "B", False, "A"),
        ("d", "q2", "C", True, "C"), ("d", "q2", None, None, "C"),
    ]
    stats = exam.item_stats(rows)
    assert [(s.item, s.answered, round(s.percent), dict(s.picks)) for s in stats] == [("q1", 3, 33, {"B": 2}), ("q2", 1, 100, {})]
    text = exam.write_csv([{"attempt": "1", "deck": "d", "item": "q1", "domain": "", "type": "mcq", "answer": "B", "key": "A", "correct": "0", "flagged": "0"}])
    assert text.splitlines()[0] == ",".join(exam.EXPORT_COLUMNS)
    assert exam.read_results("f.csv", text)[0]["answer"] == "B"
    with pytest.raises(PeerprepError, match="f.csv:1:1"):
        exam.read_results("f.csv", "a,b\n1,2\n")


def _run(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PEERPREP_NOW": "2026-03-02T15:00:00+00:00", "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "peerprep", *args], input=input, capture_output=True, text=True, env=env, timeout=60)


def test_exam_cli_end_to_end(tmp_path: Path) -> None:
    first = _run("exam", "--questions", "6", "--seed", "11", "--json", input="a\nb\nc\nd\na\nb\n:submit\n")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["total"] == 6 and result["seed"] == 11 and len(result["items"]) == 6
    assert {"total", "correct", "domains", "items"} <= set(result)
    again = json.loads(_run("exam", "--questions", "6", "--seed", "11", "--json", input=":submit\n").stdout)
    assert [i["item"] for i in again["items"]] == [i["item"] for i in result["items"]]
    history = json.loads(_run("exam", "history", "--json").stdout)
    assert [h["id"] for h in history] == [2, 1]
    review = _run("exam", "review", "1")
    assert review.returncode == 0 and "Score:" in review.stdout and "practice target" in review.stdout
    out = tmp_path / "r.csv"
    assert _run("exam", "export", "1", "-o", str(out)).returncode == 0
    assert len(out.read_text().splitlines()) == 7
    items = json.loads(_run("items", "--results", str(out), "--json").stdout)
    assert sum(i["answered"] for i in items) >= 1
    own = json.loads(_run("items", "--json").stdout)
    assert own and all("wrong_picks" in i for i in own)
    missed = result["total"] - result["correct"]
    if missed:
        retake = _run("exam", "retake", "1", "--missed", input=":submit\n")
        assert retake.returncode == 0 and "Mock exam #3" in retake.stdout
    assert _run("exam", "review", "99").returncode == 1


def test_exam_answers_feed_the_scheduler_unless_told_not_to() -> None:
    _run("exam", "--questions", "3", "--seed", "5", "--no-schedule", input=":submit\n")
    due = json.loads(_run("due", "--json").stdout)
    assert due["learning_today"] == 0
    _run("exam", "--questions", "3", "--seed", "5", input=":submit\n")  # three misses (unanswered)
    due = json.loads(_run("due", "--json").stdout)
    assert due["learning_today"] == 3


def test_quiz_is_tutor_mode() -> None:
    result = _run("quiz", "-n", "2", "--type", "truefalse", "--seed", "1", input="t\nt\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("The statement is") >= 2 and "Quiz #1: 2 questions, untimed" in result.stdout
    assert json.loads(_run("stats", "--json").stdout)["reviews_total"] == 2
    assert json.loads(_run("due", "--json").stdout)["learning_today"] == 0  # a quiz leaves the schedule alone
    bad = _run("quiz", "--type", "essay")
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ")

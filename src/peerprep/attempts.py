"""Saved mock-exam attempts: start, finish (feeding the scheduler), history, and result files."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, cast

from . import planner
from .errors import PeerprepError
from .exam import Exam, Question, Result, is_correct
from .model import Item
from .planner import Plan
from .scheduler import CardState, Settings, review, study_day
from .session import rng_for
from .store import Store


@dataclass(frozen=True, slots=True)
class Attempt:
    """A saved attempt as listed by `exam history`."""

    id: int
    started: datetime
    finished: datetime | None
    blueprint: str | None
    tutor: bool
    spec: dict[str, object]
    result: dict[str, object] | None


def _attempt(row: object) -> Attempt:
    r = row  # sqlite3.Row, kept opaque here
    return Attempt(
        id=r["id"],  # type: ignore[index]
        started=datetime.fromisoformat(r["started"]),  # type: ignore[index]
        finished=datetime.fromisoformat(r["finished"]) if r["finished"] else None,  # type: ignore[index]
        blueprint=r["blueprint"],  # type: ignore[index]
        tutor=bool(r["tutor"]),  # type: ignore[index]
        spec=json.loads(r["spec"]),  # type: ignore[index]
        result=json.loads(r["result"]) if r["result"] else None,  # type: ignore[index]
    )


def start(store: Store, exam: Exam, spec: str, blueprint: str | None, seed: int | None) -> int:
    """Save a new attempt before the first question is shown."""
    return store.save_exam(exam.started, blueprint, seed, exam.tutor, spec)


def record_answer(
    store: Store, question: Question, exam: Exam, index: int, now: datetime, settings: Settings, tz: tzinfo | None, schedule: bool, mode: str = "exam",
    plan: Plan | None = None, load: Callable[[date], int] | None = None,
) -> CardState | None:
    """Log one answered question (committed at once); with `schedule`, a miss is an Again and a
    right answer a Good for the item's FSRS state."""
    item = question.item
    answer = exam.answers.get(index)
    correct = is_correct(question, answer)
    rating = 3 if correct else 1
    before = store.state(item.deck_id, item.key)
    after = None
    if schedule:
        start_state = before or CardState()
        after = review(start_state, rating, now, planner.settings_for(settings, plan, now, tz), tz, rng_for(item, start_state.reps))
        after = planner.adjust(after, now, plan, settings, tz, load or (lambda _d: 0))
    store.record(
        item.deck_id, item.key, now, mode, rating, before, after,
        day=study_day(now, tz, settings.rollover_hour).isoformat(),
        answer=answer.letters() if answer else None, correct=correct,
    )
    return after


def finish(store: Store, attempt_id: int, result: Result, now: datetime) -> None:
    """Store the scored result."""
    store.finish_exam(attempt_id, now, json.dumps(result.to_json()))


def history(store: Store) -> list[Attempt]:
    """All attempts, newest first."""
    return [_attempt(r) for r in store.exams()]


def get(store: Store, attempt_id: int) -> Attempt:
    """One attempt, or a clear error."""
    row = store.exam(attempt_id)
    if row is None:
        raise PeerprepError(f"no exam attempt {attempt_id}; see `peerprep exam history`")
    return _attempt(row)


def missed_items(attempt: Attempt, items: list[Item]) -> list[Item]:
    """The items an attempt got wrong (or left unanswered), as they are in the decks now."""
    if attempt.result is None:
        raise PeerprepError(f"exam attempt {attempt.id} was never submitted")
    index = {(i.deck_id, i.key): i for i in items}
    out = []
    for it in cast(list[dict[str, Any]], attempt.result["items"]):
        if not it["correct"] and (it["deck"], it["item"]) in index:
            out.append(index[(it["deck"], it["item"])])
    if not out:
        raise PeerprepError(f"exam attempt {attempt.id} has no missed items to retake")
    return out


def seed_for(seed: int | None, rng: random.Random) -> int:
    """The seed to record: the one given, or a fresh one drawn from `rng` so the attempt can be replayed."""
    return seed if seed is not None else rng.randrange(1, 2**31)

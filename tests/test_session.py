"""Sessions: queue order and limits, siblings, failed items return, undo, suspend, leeches, cram."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from peerprep import decks
from peerprep.model import Item
from peerprep.scheduler import REVIEW, CardState, Settings
from peerprep.session import Session
from peerprep.store import Store

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
DECK = """peerprep: 1
id: s
title: Session deck
cards:
  - {id: b1, front: F1, back: B1}
  - {id: r1, type: reverse, front: F2, back: B2}
  - {id: c1, type: cloze, text: "{{one}} and {{two}}"}
  - id: m1
    type: mcq
    question: Q?
    choices: [{text: a, correct: true}, {text: b}]
  - {id: b2, front: F3, back: B3}
"""


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def _items() -> list[Item]:
    parsed = decks.parse_text("s.yaml", DECK)
    assert parsed.deck is not None
    return list(decks.items_of(parsed.deck))


def _session(store: Store, clock: Clock, **kw: object) -> Session:
    return Session(store, _items(), clock, Settings(fuzz=False), timezone.utc, **kw)  # type: ignore[arg-type]


def test_new_items_one_sibling_per_day_and_limit() -> None:
    s = _session(Store(":memory:"), Clock(NOW))
    assert [i.key for i in s.new] == ["b1", "r1", "c1@c1", "m1", "b2"]
    s2 = _session(Store(":memory:"), Clock(NOW), new_limit=2)
    assert [i.key for i in s2.new] == ["b1", "r1"]


def test_failed_item_returns_in_the_same_session_and_good_graduates() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    s = _session(store, clock, new_limit=1)
    seen = []
    ratings = iter([1, 3, 3])
    while (item := s.next()) is not None:
        seen.append(item.key)
        s.answer(item, next(ratings))
    assert seen == ["b1", "b1", "b1"]
    assert store.state("s", "b1").state == REVIEW  # type: ignore[union-attr]
    assert [r.rating for r in store.reviews()] == [1, 3, 3]
    summary = s.finish()
    assert summary.answered == 3 and summary.again == 1


def test_daily_new_limit_counts_what_was_done_today() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    s = Session(store, _items(), clock, Settings(fuzz=False, new_per_day=3), timezone.utc)
    item = s.next()
    assert item is not None
    s.answer(item, 4)
    again = Session(store, _items(), clock, Settings(fuzz=False, new_per_day=3), timezone.utc)
    assert len(again.new) == 2


def test_undo_restores_state_and_removes_log_entry() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    s = _session(store, clock)
    first = s.next()
    assert first is not None
    s.answer(first, 3)
    assert s.undo() == first
    assert store.reviews() == [] and store.state("s", first.key) is None
    assert s.next() == first
    s.answer(first, 4)
    assert [r.rating for r in store.reviews()] == [4]


def test_siblings_wait_for_another_day() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    s = _session(store, clock)
    keys = []
    while (item := s.next()) is not None:
        keys.append(item.key)
        s.answer(item, 4)
    assert "r1@reverse" not in keys and "c1@c2" not in keys
    clock.t = NOW + timedelta(days=1)
    tomorrow = _session(store, clock)
    assert {"r1@reverse", "c1@c2"} <= {i.key for i in tomorrow.new}


def test_suspend_and_bury() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    s = _session(store, clock)
    item = s.next()
    assert item is not None
    s.suspend(item)
    assert item not in s.new
    assert store.state("s", item.key).suspended  # type: ignore[union-attr]
    again = _session(store, clock)
    assert item not in again.new


def test_reviews_due_today_are_shown_and_leech_is_suspended() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    lapsed = CardState(state=REVIEW, stability=2.0, difficulty=9.0, due=NOW - timedelta(hours=1), last_review=NOW - timedelta(days=3), reps=20, lapses=7)
    store.record("s", "b2", NOW - timedelta(days=3), "study", 3, None, lapsed, day="2026-02-27")
    s = _session(store, clock)
    assert [i.key for i in s.reviews] == ["b2"]
    item = s.next()
    assert item is not None and item.key == "b2"
    result = s.answer(item, 1)
    assert result.became_leech and store.state("s", "b2").suspended  # type: ignore[union-attr]
    assert s.finish().leeches == ["s:b2"]


def test_cram_leaves_the_schedule_alone() -> None:
    store, clock = Store(":memory:"), Clock(NOW)
    s = _session(store, clock, mode="cram")
    item = s.next()
    assert item is not None
    s.answer(item, 1)
    assert store.state("s", item.key) is None
    assert [r.mode for r in store.reviews()] == ["cram"]


def test_bad_mode() -> None:
    with pytest.raises(ValueError):
        _session(Store(":memory:"), Clock(NOW), mode="exam")


def test_new_items_of_several_decks_are_interleaved() -> None:
    other = decks.parse_text("o.yaml", DECK.replace("id: s\n", "id: o\n", 1))
    assert other.deck is not None
    items = _items() + list(decks.items_of(other.deck))
    s = Session(Store(":memory:"), items, Clock(NOW), Settings(fuzz=False, new_per_day=4), timezone.utc)
    assert [(i.deck_id, i.key) for i in s.new] == [("s", "b1"), ("o", "b1"), ("s", "r1"), ("o", "r1")]


def test_a_plan_paces_new_items_and_moves_at_risk_reviews_into_the_stretch() -> None:
    from datetime import date

    from peerprep.planner import Plan

    store, clock = Store(":memory:"), Clock(NOW)
    plan = Plan(date(2026, 3, 12), 30, 0.9).with_stretch(date(2026, 3, 2))  # 10 days: stretch of 2
    s = Session(store, _items(), clock, Settings(fuzz=False, new_per_day=1), timezone.utc, plan=plan)
    assert len(s.new) == 1  # 7 items over the 8 days before the 2-day stretch: one a day
    # A review whose next FSRS date is after the exam and whose exam-day recall would be low
    # is brought forward into the final stretch.
    weak = CardState(state=REVIEW, stability=1.5, difficulty=8.0, due=NOW - timedelta(hours=1), last_review=NOW - timedelta(days=2), reps=3)
    store.record("s", "b2", NOW - timedelta(days=2), "study", 3, None, weak, day="2026-02-28")
    s = Session(store, _items(), clock, Settings(fuzz=False), timezone.utc, plan=plan)
    item = next(i for i in s.reviews if i.key == "b2")
    after = s.answer(item, 4).after
    assert after is not None and after.due is not None
    assert datetime(2026, 3, 10, tzinfo=timezone.utc) <= after.due < datetime(2026, 3, 12, 4, tzinfo=timezone.utc)

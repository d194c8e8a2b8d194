"""Scheduler: exact FSRS-6 sequences in local study days, fuzz, leeches, invariants."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from peerprep.scheduler import (
    LEARNING, RELEARNING, REVIEW, CardState, Settings, day_start, format_interval, preview, retrievability, review, study_day,
)

CHICAGO = ZoneInfo("America/Chicago")
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
PLAIN = Settings(fuzz=False)


def test_exact_interval_sequence() -> None:
    # (rating, when) -> (state, due): Good x4, a lapse, relearn, recover. Review dues land at 4 am
    # Chicago time (10:00 UTC before the DST change on 8 March, 09:00 after).
    steps = [
        (3, T0, LEARNING, "2026-03-02T15:10:00+00:00"),
        (3, T0 + timedelta(minutes=10), REVIEW, "2026-03-04T10:00:00+00:00"),
        (3, datetime(2026, 3, 4, 13, tzinfo=timezone.utc), REVIEW, "2026-03-15T09:00:00+00:00"),
        (3, datetime(2026, 3, 15, 12, tzinfo=timezone.utc), REVIEW, "2026-04-30T09:00:00+00:00"),
        (1, datetime(2026, 4, 30, 12, tzinfo=timezone.utc), RELEARNING, "2026-04-30T12:10:00+00:00"),
        (3, datetime(2026, 4, 30, 12, 10, tzinfo=timezone.utc), REVIEW, "2026-05-03T09:00:00+00:00"),
        (3, datetime(2026, 5, 3, 12, tzinfo=timezone.utc), REVIEW, "2026-05-11T09:00:00+00:00"),
    ]
    state = CardState()
    for rating, when, want_state, want_due in steps:
        state = review(state, rating, when, PLAIN, CHICAGO, random.Random(0))
        assert (state.state, state.due.isoformat() if state.due else None) == (want_state, want_due)
    assert state.reps == 7 and state.lapses == 1
    assert round(state.stability or 0, 4) == 7.7991


def test_elapsed_time_counts_study_days_not_24_hour_spans() -> None:
    # 22:30 on 3 March and 05:00 on 4 March (Chicago) are different study days (rollover 4 am).
    last = datetime(2026, 3, 4, 4, 30, tzinfo=timezone.utc)
    now = datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)
    state = CardState(state=REVIEW, stability=5.0, difficulty=5.0, due=now, last_review=last, reps=3)
    assert study_day(last, CHICAGO, 4).isoformat() == "2026-03-03"
    assert study_day(now, CHICAGO, 4).isoformat() == "2026-03-04"
    assert retrievability(state, now, PLAIN, CHICAGO) < 1.0
    same_day = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)  # 03:00 on the 4th: still the 3rd's study day
    assert retrievability(state, same_day, PLAIN, CHICAGO) == 1.0


def test_day_start_follows_rollover_and_zone() -> None:
    assert day_start(study_day(T0, CHICAGO, 4), CHICAGO, 4).isoformat() == "2026-03-02T10:00:00+00:00"
    assert day_start(study_day(T0, timezone.utc, 0), timezone.utc, 0).isoformat() == "2026-03-02T00:00:00+00:00"


def test_fuzz_is_seeded_and_within_range() -> None:
    state = CardState(state=REVIEW, stability=30.0, difficulty=5.0, due=T0, last_review=T0 - timedelta(days=30), reps=5)
    days = [(review(state, 3, T0, Settings(), timezone.utc, random.Random(i)).due - T0).days for i in range(8)]  # type: ignore[operator]
    assert days == [(review(state, 3, T0, Settings(), timezone.utc, random.Random(i)).due - T0).days for i in range(8)]  # type: ignore[operator]
    plain = (review(state, 3, T0, PLAIN, timezone.utc, random.Random(0)).due - T0).days  # type: ignore[operator]
    assert len(set(days)) > 1
    assert all(abs(d - plain) <= max(3, plain * 0.1) for d in days)


def test_leech_after_eight_lapses_is_suspended() -> None:
    state = CardState(state=REVIEW, stability=3.0, difficulty=8.0, due=T0, last_review=T0 - timedelta(days=3), reps=10, lapses=7)
    after = review(state, 1, T0, PLAIN, timezone.utc, random.Random(0))
    assert after.lapses == 8 and after.leech and after.suspended


def test_preview_and_labels() -> None:
    p = preview(CardState(), T0, PLAIN, timezone.utc)
    assert [format_interval(p[r]) for r in (1, 2, 3, 4)] == ["1m", "6m", "10m", "8d"]


@settings(max_examples=150, deadline=None)
@given(
    ratings=st.lists(st.integers(1, 4), min_size=1, max_size=25),
    gaps=st.lists(st.integers(0, 60 * 24 * 90), min_size=25, max_size=25),
    retention=st.floats(0.7, 0.99),
    max_ivl=st.integers(1, 36500),
)
def test_invariants(ratings: list[int], gaps: list[int], retention: float, max_ivl: int) -> None:
    sett = Settings(desired_retention=retention, maximum_interval=max_ivl)
    state = CardState()
    now = T0
    for rating, gap in zip(ratings, gaps):
        state = review(state, rating, now, sett, CHICAGO, random.Random(gap))
        assert state.due is not None and state.due > now  # never due before the review
        assert state.last_review == now
        if state.state == REVIEW:
            assert (study_day(state.due, CHICAGO, 4) - study_day(now, CHICAGO, 4)).days <= max_ivl + 1
        assert state.stability and state.stability > 0
        assert state.difficulty and 1 <= state.difficulty <= 10
        now = now + timedelta(minutes=gap)


def test_copied_default_parameters_match_py_fsrs() -> None:
    from fsrs.scheduler import DEFAULT_PARAMETERS as upstream

    from peerprep.scheduler import DEFAULT_PARAMETERS

    assert tuple(upstream) == DEFAULT_PARAMETERS

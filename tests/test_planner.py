"""The exam-date planner: pacing, final-stretch rescheduling, new-item order, forecast, readiness."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone

from peerprep import catalog, planner
from peerprep.model import Blueprint, Card, Choice, Domain, Item
from peerprep.scheduler import REVIEW, CardState, Settings, retrievability, study_day

NOW = datetime(2026, 11, 25, 15, tzinfo=timezone.utc)
UTC = timezone.utc
S = Settings(fuzz=False)
PLAN = planner.Plan(date(2026, 12, 25), 20, 0.9)


def test_pacing_and_stretch() -> None:
    assert planner.stretch(30) == 6 and planner.stretch(100) == 14 and planner.stretch(5) == 2
    assert planner.new_per_day(240, 30) == 10  # 24 days before a 6-day stretch
    assert planner.new_per_day(0, 30) == 0
    assert planner.days_left(PLAN, NOW, UTC, S) == 30


def test_item_at_risk_is_moved_into_the_stretch_least_loaded_day() -> None:
    # Reviewed today, FSRS wants it back in ~40 days: after the exam, and too weak on exam day.
    state = CardState(state=REVIEW, stability=12.0, difficulty=5.0, due=NOW + timedelta(days=40), last_review=NOW, reps=3)
    exam = planner.exam_start(PLAN, UTC, S)
    assert retrievability(state, exam, S, UTC) < 0.9
    load = Counter({date(2026, 12, 24): 5, date(2026, 12, 23): 5})
    moved = planner.adjust(state, NOW, PLAN, S, UTC, load.__getitem__)
    day = study_day(moved.due, UTC, S.rollover_hour)  # type: ignore[arg-type]
    assert date(2026, 12, 19) <= day <= date(2026, 12, 24)
    assert day == date(2026, 12, 22)  # the latest day with the least load
    assert moved.due < state.due  # type: ignore[operator]


def test_days_at_the_cap_are_avoided_and_strong_items_untouched() -> None:
    state = CardState(state=REVIEW, stability=12.0, difficulty=5.0, due=NOW + timedelta(days=40), last_review=NOW, reps=3)
    cap = planner.daily_capacity(PLAN)
    full = {date(2026, 12, d): cap for d in range(19, 24)}
    moved = planner.adjust(state, NOW, PLAN, S, UTC, lambda d: full.get(d, 0))
    assert study_day(moved.due, UTC, S.rollover_hour) == date(2026, 12, 24)  # type: ignore[arg-type]
    strong = CardState(state=REVIEW, stability=900.0, difficulty=3.0, due=NOW + timedelta(days=200), last_review=NOW, reps=9)
    assert planner.adjust(strong, NOW, PLAN, S, UTC, lambda d: 0) == strong


def test_after_the_exam_plain_fsrs_returns() -> None:
    later = datetime(2026, 12, 26, 12, tzinfo=UTC)
    state = CardState(state=REVIEW, stability=12.0, difficulty=5.0, due=later + timedelta(days=40), last_review=later, reps=3)
    assert not planner.active(PLAN, later, UTC, S)
    assert planner.adjust(state, later, PLAN, S, UTC, lambda d: 0) == state


def _item(i: int, domain: str) -> Item:
    card = Card(id=f"c{i}", type="mcq", question="?", choices=(Choice("a", True), Choice("b"), Choice("c"), Choice("d")), domain=domain)
    return Item("d", f"c{i}", card, "mcq", f"c{i}", domain=domain)


def test_new_items_ordered_by_weight_and_weakness() -> None:
    bp = Blueprint("b", "B", "b.yaml", (Domain("x", "X", 3.0), Domain("y", "Y", 1.0)), 10, 10, 70)
    items = [_item(i, "x" if i < 10 else "y") for i in range(20)]
    ordered = planner.order_new(items, bp, {"x": 0.0, "y": 0.0})
    first = Counter(i.domain for i in ordered[:8])
    assert first == {"x": 6, "y": 2}
    weak_y = planner.order_new(items, bp, {"x": 0.9, "y": 0.0})
    assert weak_y[0].domain == "y"


def test_forecast_is_deterministic_and_warns_when_out_of_reach() -> None:
    items = catalog.load().items()
    fc = planner.forecast(items, {}, PLAN, NOW, Settings(), UTC, random.Random(0))
    again = planner.forecast(items, {}, PLAN, NOW, Settings(), UTC, random.Random(0))
    assert fc.days == again.days and len(fc.days) == 30
    assert fc.new_per_day == planner.new_per_day(len(items), 30)
    assert sum(n for _, _, n in fc.days) == len(items)  # every item introduced before the exam
    assert all(n == 0 for _, _, n in fc.days[-planner.stretch(30):])
    tight = planner.forecast(items, {}, planner.Plan(date(2026, 12, 1), 5, 0.95), NOW, Settings(), UTC, random.Random(0))
    assert tight.warnings and "options" in tight.warnings[0]


def test_readiness_uses_recall_guessing_and_weights() -> None:
    bp = Blueprint("b", "B", "b.yaml", (Domain("x", "X", 1.0), Domain("y", "Y", 1.0)), 75, 120, 70)
    items = [_item(0, "x"), _item(1, "y")]
    guess = lambda item: 0.25  # noqa: E731
    r0 = planner.readiness(items, {}, bp, NOW, S, UTC, guess)
    assert r0.predicted == 0.25 and r0.low < 0.25 < r0.high
    fresh = {("d", "c0"): CardState(state=REVIEW, stability=10.0, difficulty=5.0, due=NOW, last_review=NOW, reps=2)}
    r1 = planner.readiness(items, fresh, bp, NOW, S, UTC, guess)
    assert r1.domains["x"]["predicted"] == 1.0 and abs(r1.predicted - 0.625) < 1e-9


def test_plan_cli_and_stats_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PEERPREP_NOW": NOW.isoformat()}
    run = lambda *a: subprocess.run([sys.executable, "-m", "peerprep", *a], capture_output=True, text=True, env=env, input="")  # noqa: E731
    shown = run("plan", "--exam-date", "2027-01-20", "--minutes-per-day", "20", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["days_left"] == 56 and data["new_per_day"] > 0 and len(data["workload"]) == 56
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["plan"]["exam_date"] == "2027-01-20"
    assert 0 <= stats["readiness"]["predicted_score"] <= 1 and set(stats["readiness"]["domains"]) == {"advocacy", "mentoring-education", "recovery-wellness", "ethical-responsibility"}
    assert stats["readiness"]["studied"] == 0  # from what is known now: nothing studied yet
    assert stats["readiness"]["if_plan_followed"]["predicted_score"] > stats["readiness"]["predicted_score"]
    session = run("study", "--limit", "1")
    assert "Readiness:" in session.stdout
    assert run("plan", "--clear").returncode == 0
    assert json.loads(run("stats", "--json").stdout)["plan"] is None
    assert run("plan", "--exam-date", "2020-01-01").returncode == 1
    assert run("plan", "--exam-date", "soon").returncode == 2


def test_stretch_is_fixed_when_the_plan_is_made() -> None:
    plan = PLAN.with_stretch(date(2026, 11, 25))
    assert plan.stretch_days == 6
    assert planner.stretch_of(plan, 3) == 6  # three days before the exam the stretch is still six days
    assert planner.Plan.from_json(plan.to_json()) == plan


def test_early_reviews_aim_lower_until_the_stretch() -> None:
    plan = PLAN.with_stretch(date(2026, 11, 25))
    assert planner.settings_for(Settings(), plan, NOW, UTC).desired_retention == planner.EARLY_RETENTION
    in_stretch = datetime(2026, 12, 21, 12, tzinfo=UTC)
    assert planner.settings_for(Settings(), plan, in_stretch, UTC).desired_retention == 0.9
    assert planner.settings_for(Settings(), None, NOW, UTC).desired_retention == 0.9


def test_in_the_stretch_a_strong_item_waits_for_the_exam() -> None:
    plan = PLAN.with_stretch(date(2026, 11, 25))
    when = datetime(2026, 12, 21, 12, tzinfo=UTC)
    state = CardState(state=REVIEW, stability=40.0, difficulty=5.0, due=when + timedelta(days=2), last_review=when, reps=4)
    moved = planner.adjust(state, when, plan, S, UTC, lambda d: 0)
    assert moved.due == planner.exam_start(plan, UTC, S)


def test_exam_sim_smoke() -> None:
    from pathlib import Path

    bench = Path(__file__).parents[1] / "benchmarks" / "exam_sim.py"
    result = subprocess.run([sys.executable, str(bench), "--learners", "1", "--sizes", "30", "--horizons", "14"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("| 30 | 14 |") == 3

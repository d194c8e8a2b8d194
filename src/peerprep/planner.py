"""The exam-date planner and the readiness forecast.

Readiness: the predicted exam score from the memory model and the blueprint.

Predicted score = sum over domains of weight x mean probability of answering that domain's exam
items right on the day. For an item that was studied, the probability is R + (1 - R) x g, where R
is FSRS's predicted recall and g the chance of guessing right (1/n for n choices, 1/2 true/false);
an item never seen counts at g. The uncertainty is the spread of a score over an exam of the
blueprint's length drawn from these items (binomial), reported as a 95% interval.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from .model import EXAM_TYPES, Blueprint, Item
from .scheduler import NEW, REVIEW, CardState, Settings, day_start, retrievability, study_day


@dataclass
class Readiness:
    """A forecast of the exam score at a moment."""

    predicted: float
    low: float
    high: float
    domains: dict[str, dict[str, float]] = field(default_factory=dict)
    items: int = 0
    studied: int = 0


def item_probability(item: Item, state: CardState | None, at: datetime, settings: Settings, tz: tzinfo | None, guess: float) -> float:
    """Chance of answering this item right at `at`."""
    if state is None or state.state == NEW or state.stability is None:
        return guess
    r = retrievability(state, at, settings, tz)
    return r + (1 - r) * guess


def readiness(
    items: list[Item],
    states: dict[tuple[str, str], CardState],
    blueprint: Blueprint,
    at: datetime,
    settings: Settings,
    tz: tzinfo | None,
    guess: Callable[[Item], float],
) -> Readiness:
    """Forecast the exam score at `at` over the blueprint's domains."""
    per_domain: dict[str, list[float]] = {d.id: [] for d in blueprint.domains}
    studied = 0
    for item in items:
        if item.kind not in EXAM_TYPES or item.domain not in per_domain:
            continue
        state = states.get((item.deck_id, item.key))
        if state is not None and state.state != NEW:
            studied += 1
        per_domain[item.domain].append(item_probability(item, state, at, settings, tz, guess(item)))
    weights = {d.id: d.weight for d in blueprint.domains if per_domain[d.id]}
    wsum = sum(weights.values()) or 1.0
    domains = {}
    predicted = 0.0
    for d in blueprint.domains:
        values = per_domain[d.id]
        mean = sum(values) / len(values) if values else 0.0
        domains[d.id] = {"predicted": mean, "items": float(len(values))}
        predicted += weights.get(d.id, 0.0) / wsum * mean
    n = max(1, blueprint.questions)
    half = 1.96 * math.sqrt(max(predicted * (1 - predicted), 0.0) / n)
    total = sum(len(v) for v in per_domain.values())
    return Readiness(predicted, max(0.0, predicted - half), min(1.0, predicted + half), domains, total, studied)


# ------------------------------------------------------------------------------------------------
# The exam-date plan


@dataclass(frozen=True, slots=True)
class Plan:
    """An exam date and what the learner wants by then."""

    exam_date: date
    minutes_per_day: int = 30
    target: float = 0.9
    blueprint: str | None = "icrc-pr"
    stretch_days: int | None = None  # fixed when the plan is made, so the stretch does not shrink

    def to_json(self) -> str:
        """Stored form."""
        return json.dumps(
            {"exam_date": self.exam_date.isoformat(), "minutes_per_day": self.minutes_per_day, "target": self.target, "blueprint": self.blueprint, "stretch_days": self.stretch_days}
        )

    @staticmethod
    def from_json(text: str) -> Plan:
        """Inverse of to_json."""
        d = json.loads(text)
        return Plan(date.fromisoformat(d["exam_date"]), int(d["minutes_per_day"]), float(d["target"]), d.get("blueprint"), d.get("stretch_days"))

    def with_stretch(self, today: date) -> Plan:
        """The plan with its final stretch fixed from the days left today."""
        return replace(self, stretch_days=stretch((self.exam_date - today).days))


def stretch_of(plan: Plan, left: int) -> int:
    """The plan's final stretch in days (computed from `left` for a plan made without one)."""
    return plan.stretch_days if plan.stretch_days is not None else stretch(left)


def exam_start(plan: Plan, tz: tzinfo | None, settings: Settings) -> datetime:
    """When the exam's study day begins (UTC)."""
    return day_start(plan.exam_date, tz, settings.rollover_hour)


def days_left(plan: Plan, now: datetime, tz: tzinfo | None, settings: Settings) -> int:
    """Whole study days from today until the exam day (0 on the exam day, negative after)."""
    return (plan.exam_date - study_day(now, tz, settings.rollover_hour)).days


def stretch(days: int) -> int:
    """Length of the final stretch (in days) in which at-risk items get their last review: about a
    fifth of the time left, between 2 and 14 days."""
    return max(2, min(14, days // 5)) if days > 2 else max(0, days - 1)


def new_per_day(new_items: int, days: int) -> int:
    """New items a day so that every item is introduced before the final stretch begins."""
    room = max(1, days - stretch(days))
    return math.ceil(new_items / room) if new_items else 0


def active(plan: Plan | None, now: datetime, tz: tzinfo | None, settings: Settings) -> bool:
    """A plan steers scheduling only before its exam day; afterwards plain FSRS resumes."""
    return plan is not None and days_left(plan, now, tz, settings) > 0


EARLY_RETENTION = 0.85
CAP_MARGIN = 0.7


def bar(plan: Plan) -> float:
    """Recall on exam day below which an item gets a final-stretch review: halfway from the target
    to certainty (0.95 for a 0.9 target), a margin for the model's error about this learner."""
    return plan.target + (1.0 - plan.target) / 2


def settings_for(settings: Settings, plan: Plan | None, now: datetime, tz: tzinfo | None) -> Settings:
    """With an active plan, reviews before the final stretch aim at a lower retention (0.85, or
    the learner's own if lower): what counts is recall on exam day, which the final stretch lifts,
    and the reviews saved early pay for it. In the stretch and without a plan: the settings as
    they are."""
    if plan is None or not active(plan, now, tz, settings):
        return settings
    left = days_left(plan, now, tz, settings)
    if left <= stretch_of(plan, left) or settings.desired_retention <= EARLY_RETENTION:
        return settings
    return replace(settings, desired_retention=EARLY_RETENTION)


def adjust(
    state: CardState,
    now: datetime,
    plan: Plan | None,
    settings: Settings,
    tz: tzinfo | None,
    load: Callable[[date], int],
) -> CardState:
    """With an active plan, an item whose next review would come after the exam and whose recall
    on exam day would fall below `bar(plan)` is reviewed in the final stretch instead: on the
    least-loaded day of the stretch (later days win ties). When every stretch day is at the daily
    cap, the latest earlier day under the cap is used, so no day is pushed over it. Never later
    than FSRS wanted; other items keep their FSRS date."""
    if plan is None or state.state != REVIEW or state.due is None or not active(plan, now, tz, settings):
        return state
    start = exam_start(plan, tz, settings)
    today = study_day(now, tz, settings.rollover_hour)
    left = (plan.exam_date - today).days
    span = stretch_of(plan, left)
    strong = retrievability(state, start, settings, tz) >= bar(plan)
    if state.due < start:
        if strong and left <= span:  # in the stretch, a review the exam does not need waits
            return replace(state, due=start)
        return state
    if strong:
        return state
    first = max(1, left - span)
    window = [today + timedelta(days=d) for d in range(first, left)]
    if not window:
        return state
    # Items due count against a margin below the cap: failed items come back the same day and
    # natural FSRS dues keep arriving, so a day "full" of due items is fuller in reviews.
    cap = int(daily_capacity(plan) * CAP_MARGIN)
    best = min(window, key=lambda day: (load(day) >= cap, load(day), -day.toordinal()))
    if load(best) >= cap:
        earlier = [today + timedelta(days=d) for d in range(first - 1, 0, -1)]
        best = next((day for day in earlier if load(day) < cap), best)
    return replace(state, due=day_start(best, tz, settings.rollover_hour))


SECONDS_PER_REVIEW = 20.0


def daily_capacity(plan: Plan, seconds_per_review: float = SECONDS_PER_REVIEW) -> int:
    """Reviews that fit in the daily minutes."""
    return max(1, int(plan.minutes_per_day * 60 / seconds_per_review))


def order_new(items: list[Item], blueprint: Blueprint | None, mastery: dict[str, float]) -> list[Item]:
    """New items ordered by blueprint weight and weakness: domains with a high weight and low
    mastery come first, interleaved in proportion so no domain waits until the end."""
    if blueprint is None:
        return list(items)
    weight = {d.id: d.weight for d in blueprint.domains}
    by_domain: dict[str, list[Item]] = {}
    for item in items:
        by_domain.setdefault(item.domain or "", []).append(item)
    priority = {d: weight.get(d, 0.5) * (1.0 - mastery.get(d, 0.0)) + 1e-9 for d in by_domain}
    # Deal items out like a weighted round robin: the domain with the lowest "served / priority" next.
    served = {d: 0 for d in by_domain}
    out: list[Item] = []
    queues = {d: list(v) for d, v in by_domain.items()}
    while any(queues.values()):
        d = min((d for d in queues if queues[d]), key=lambda d: ((served[d] + 1) / priority[d], d))
        out.append(queues[d].pop(0))
        served[d] += 1
    return out


# ------------------------------------------------------------------------------------------------
# Forecasting the plan: a day-by-day simulation with the learner's FSRS parameters


@dataclass
class Forecast:
    """What following the plan is expected to look like."""

    days: list[tuple[date, int, int]]  # (day, reviews, new)
    new_per_day: int
    capacity: int
    exam_recall: float  # mean predicted recall of all items on exam day
    busiest: int
    over_cap_days: int
    warnings: list[str] = field(default_factory=list)
    final_states: dict[tuple[str, str], CardState] = field(default_factory=dict)  # simulated, on exam day


def forecast(
    items: list[Item],
    states: dict[tuple[str, str], CardState],
    plan: Plan,
    now: datetime,
    settings: Settings,
    tz: tzinfo | None,
    rng: random.Random,
    seconds_per_review: float = SECONDS_PER_REVIEW,
) -> Forecast:
    """Simulate studying to the plan until the exam: each due review is answered correctly with the
    model's own recall probability (drawn with `rng`), new items enter at the plan's pace."""
    from .scheduler import review

    left = days_left(plan, now, tz, settings)
    capacity = daily_capacity(plan, seconds_per_review)
    sim: dict[tuple[str, str], CardState] = {k: v for k, v in states.items() if not v.suspended}
    new_queue = [i for i in items if (i.deck_id, i.key) not in sim or sim[(i.deck_id, i.key)].state == NEW]
    pace = new_per_day(len(new_queue), left) if left > 0 else 0
    today = study_day(now, tz, settings.rollover_hour)
    days: list[tuple[date, int, int]] = []
    load: dict[date, int] = {}
    for offset in range(max(0, left)):
        day = today + timedelta(days=offset)
        moment = day_start(day, tz, settings.rollover_hour) + timedelta(hours=8)
        end = day_start(day + timedelta(days=1), tz, settings.rollover_hour)
        due = [k for k, s in sim.items() if s.state != NEW and s.due is not None and s.due < end]
        introduced = new_queue[:pace]
        new_queue = new_queue[pace:]
        for item in introduced:
            due.append((item.deck_id, item.key))
            sim[(item.deck_id, item.key)] = CardState()
        reviews = 0
        for key in due:
            state = sim[key]
            for _step in range(4):  # a learning card can come back a few times the same day
                p = 1.0 if state.state == NEW else retrievability(state, moment, settings, tz)
                rating = 3 if state.state == NEW or rng.random() < p else 1
                state = review(state, rating, moment, replace(settings_for(settings, plan, moment, tz), fuzz=False), tz, rng)
                state = adjust(state, moment, plan, settings, tz, lambda d: load.get(d, 0))
                reviews += 1
                if state.due is None or state.due >= end:
                    break
                moment = max(moment, state.due)
            sim[key] = state
            if state.due is not None:
                d = study_day(state.due, tz, settings.rollover_hour)
                load[d] = load.get(d, 0) + 1
        days.append((day, reviews, len(introduced)))
    start = exam_start(plan, tz, settings)
    recalls = [retrievability(s, start, settings, tz) if s.state != NEW else 0.0 for s in sim.values()]
    recalls += [0.0] * len(new_queue)
    exam_recall = sum(recalls) / len(recalls) if recalls else 0.0
    busiest = max((r for _, r, _ in days), default=0)
    over = sum(1 for _, r, _ in days if r > capacity)
    fc = Forecast(days, pace, capacity, exam_recall, busiest, over, final_states=sim)
    if left <= 0:
        fc.warnings.append("the exam date is today or past: the plan has no effect")
    if over:
        need = math.ceil(busiest * seconds_per_review / 60)
        fc.warnings.append(f"{over} day(s) need more than {plan.minutes_per_day} minutes (busiest: {busiest} reviews, about {need} minutes); options: raise --minutes-per-day to {need}, study fewer decks, or move the exam date")
    if exam_recall < plan.target:
        fc.warnings.append(
            f"predicted recall on exam day is {exam_recall:.0%}, below the {plan.target:.0%} target; options: more minutes per day, a later exam date, fewer items, or a lower --target"
        )
    return fc

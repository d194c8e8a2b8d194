"""FSRS-6 scheduling (py-fsrs) counted in local study days, with seeded fuzz and leech handling.

py-fsrs counts elapsed time in whole 24-hour spans; a learner's day, like Anki's, ends at a
rollover hour in local time. `review()` converts: the elapsed study days are handed to py-fsrs,
review intervals land on the start of a study day, and fuzz comes from the caller's seeded RNG.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # py-fsrs is imported when first needed: `due` and `stats` never need it
    from fsrs import Card as FsrsCard
    from fsrs import Scheduler

# py-fsrs 6.3.2's DEFAULT_PARAMETERS (FSRS-6), copied so that reading state needs no import;
# tests/test_scheduler.py checks that they still match the installed package.
DEFAULT_PARAMETERS: tuple[float, ...] = (0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796, 1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542)

NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
STATE_NAMES = {NEW: "new", LEARNING: "learning", REVIEW: "review", RELEARNING: "relearning"}
RATINGS = {1: "again", 2: "hard", 3: "good", 4: "easy"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Scheduling settings (Anki's defaults where Anki has one)."""

    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    fuzz: bool = True
    rollover_hour: int = 4
    new_per_day: int = 20
    reviews_per_day: int = 200
    leech_lapses: int = 8
    learn_ahead: timedelta = timedelta(minutes=20)
    parameters: tuple[float, ...] = field(default=DEFAULT_PARAMETERS)


@dataclass(frozen=True, slots=True)
class CardState:
    """The memory and scheduling state of one study item."""

    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    leech: bool = False
    buried_until: datetime | None = None

    def to_json(self) -> dict[str, object]:
        """Compact JSON-ready form (for the review log's before/after columns)."""
        return {
            "state": self.state,
            "step": self.step,
            "s": None if self.stability is None else round(self.stability, 6),
            "d": None if self.difficulty is None else round(self.difficulty, 6),
            "due": iso(self.due),
            "last": iso(self.last_review),
            "reps": self.reps,
            "lapses": self.lapses,
        }


def iso(dt: datetime | None) -> str | None:
    """UTC ISO-8601 text with milliseconds (sorts correctly as text)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> datetime | None:
    """Inverse of `iso`."""
    if text is None:
        return None
    return datetime.fromisoformat(text)


@lru_cache(maxsize=1 << 16)
def study_day(moment: datetime, tz: tzinfo | None, rollover_hour: int) -> date:
    """The local study day a moment belongs to (days start at the rollover hour). Cached: figures
    over many items ask about the same moments (now, day starts) again and again."""
    return (moment.astimezone(tz) - timedelta(hours=rollover_hour)).date()


def day_start(day: date, tz: tzinfo | None, rollover_hour: int) -> datetime:
    """When a study day begins, in UTC."""
    naive = datetime.combine(day, time(rollover_hour))
    local = naive.astimezone() if tz is None else naive.replace(tzinfo=tz)
    return local.astimezone(UTC)


def _fsrs(settings: Settings) -> Scheduler:
    from fsrs import Scheduler

    return Scheduler(
        parameters=settings.parameters,
        desired_retention=settings.desired_retention,
        learning_steps=settings.learning_steps,
        relearning_steps=settings.relearning_steps,
        maximum_interval=settings.maximum_interval,
        enable_fuzzing=False,
    )


_CACHE: dict[Settings, Scheduler] = {}


def scheduler_for(settings: Settings) -> Scheduler:
    """A py-fsrs scheduler for these settings (cached)."""
    sched = _CACHE.get(settings)
    if sched is None:
        sched = _CACHE[settings] = _fsrs(settings)
    return sched


def fuzz_range(interval: int, maximum: int) -> tuple[int, int]:
    """Anki's / py-fsrs's fuzz range for an interval in days."""
    if interval < 3:
        return interval, interval
    from fsrs.scheduler import FUZZ_RANGES

    delta = 1.0
    for r in FUZZ_RANGES:
        delta += r["factor"] * max(min(float(interval), r["end"]) - r["start"], 0.0)
    lo = max(2, round(interval - delta))
    hi = min(round(interval + delta), maximum)
    return min(lo, hi), hi


def _elapsed_days(state: CardState, now: datetime, tz: tzinfo | None, rollover: int) -> int:
    if state.last_review is None:
        return 0
    return max(0, (study_day(now, tz, rollover) - study_day(state.last_review, tz, rollover)).days)


def _to_fsrs(state: CardState, now: datetime, tz: tzinfo | None, rollover: int) -> FsrsCard:
    from fsrs import Card as FsrsCard
    from fsrs import State

    card = FsrsCard(card_id=1)
    if state.state == NEW:
        return card
    card.state = State(state.state)
    card.step = state.step
    card.stability = state.stability
    card.difficulty = state.difficulty
    card.due = state.due or now
    elapsed = _elapsed_days(state, now, tz, rollover)
    if elapsed >= 1:
        card.last_review = now - timedelta(days=elapsed)  # py-fsrs then sees exactly `elapsed` days
    else:
        assert state.last_review is not None
        gap = min(now - state.last_review, timedelta(hours=23))
        card.last_review = now - max(gap, timedelta(0))
    return card


def review(
    state: CardState,
    rating: int,
    now: datetime,
    settings: Settings,
    tz: tzinfo | None,
    rng: random.Random,
) -> CardState:
    """The state after answering with `rating` (1-4) at `now` (UTC)."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be 1-4, not {rating}")
    from fsrs import Rating

    now = now.astimezone(UTC)
    sched = scheduler_for(settings)
    before = _to_fsrs(state, now, tz, settings.rollover_hour)
    after, _log = sched.review_card(before, Rating(rating), review_datetime=now)
    new_state = int(after.state)
    due = after.due
    if new_state == REVIEW:
        days = max(1, round((after.due - now).total_seconds() / 86400))
        if settings.fuzz:
            lo, hi = fuzz_range(days, settings.maximum_interval)
            days = rng.randint(lo, hi)
        days = min(days, settings.maximum_interval)
        due = day_start(study_day(now, tz, settings.rollover_hour) + timedelta(days=days), tz, settings.rollover_hour)
    lapses = state.lapses + (1 if state.state == REVIEW and rating == 1 else 0)
    leech = state.leech or (lapses >= settings.leech_lapses and lapses > state.lapses)
    return CardState(
        state=new_state,
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=due,
        last_review=now,
        reps=state.reps + 1,
        lapses=lapses,
        suspended=state.suspended or (leech and not state.leech),
        leech=leech,
        buried_until=None,
    )


def preview(state: CardState, now: datetime, settings: Settings, tz: tzinfo | None) -> dict[int, timedelta]:
    """Time until due for each rating (no fuzz): the label on each answer button."""
    out: dict[int, timedelta] = {}
    plain = replace(settings, fuzz=False)
    for rating in RATINGS:
        nxt = review(state, rating, now, plain, tz, random.Random(0))
        assert nxt.due is not None
        out[rating] = nxt.due - now
    return out


def retrievability(state: CardState, at: datetime, settings: Settings, tz: tzinfo | None) -> float:
    """Predicted probability of recall at `at` (0 for an item never studied)."""
    if state.state == NEW or state.stability is None or state.last_review is None:
        return 0.0
    elapsed = max(0, (study_day(at, tz, settings.rollover_hour) - study_day(state.last_review, tz, settings.rollover_hour)).days)
    decay = -settings.parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    return float((1 + factor * elapsed / state.stability) ** decay)


def format_interval(span: timedelta) -> str:
    """Short human form: 1m, 10m, 3h, 4d, 2.5mo, 1.2y."""
    seconds = max(0.0, span.total_seconds())
    if seconds < 3600:
        return f"{max(1, math.ceil(seconds / 60))}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo"
    return f"{days / 365:.1f}y"

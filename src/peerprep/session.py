"""A study session: the queue of due items, answering, undo, suspend, and the end summary.

The session knows nothing of terminals: the shell shows `next()` and calls `answer()`. Time comes
from an injected clock and fuzz from RNGs seeded by item and repetition, so a session driven with
fixed times is exactly reproducible.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from . import planner
from .model import Blueprint, Item
from .planner import Plan
from .scheduler import LEARNING, NEW, RELEARNING, REVIEW, CardState, Settings, day_start, preview, review, study_day
from .store import Store

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Answered:
    """What one answer did."""

    item: Item
    rating: int | None
    correct: bool | None
    review_id: int
    before: CardState | None  # None: the item had never been studied
    after: CardState | None  # None: cram (schedule untouched)
    became_leech: bool = False


@dataclass
class Summary:
    """The end-of-session figures."""

    answered: int = 0
    graded: int = 0
    correct: int = 0
    again: int = 0
    seconds: float = 0.0
    leeches: list[str] = field(default_factory=list)
    next_due: datetime | None = None
    due_tomorrow: int = 0

    @property
    def accuracy(self) -> float | None:
        """Share of graded answers that were right."""
        return self.correct / self.graded if self.graded else None


def rng_for(item: Item, reps: int) -> random.Random:
    """Anki-style seeded fuzz: the same item at the same repetition always fuzzes the same way."""
    return random.Random(f"{item.uid}#{reps}")


class Session:
    """One sitting of study (or cram) over a set of items."""

    def __init__(
        self,
        store: Store,
        items: list[Item],
        clock: Clock,
        settings: Settings,
        tz: tzinfo | None,
        *,
        mode: str = "study",
        new_limit: int | None = None,
        limit: int | None = None,
        rng: random.Random | None = None,
        plan: Plan | None = None,
        blueprint: Blueprint | None = None,
    ) -> None:
        if mode not in ("study", "cram"):
            raise ValueError(mode)
        self.store = store
        self.clock = clock
        self.settings = settings
        self.tz = tz
        self.mode = mode
        self.id = uuid.UUID(int=(rng or random.Random(0)).getrandbits(128)).hex[:12] if rng else uuid.uuid4().hex[:12]
        self.started = clock()
        self.history: list[Answered] = []
        self.summary = Summary()
        self.items = {item.uid: item for item in items}
        self.plan = plan if plan is not None and planner.active(plan, self.started, tz, settings) else None
        self.blueprint = blueprint
        deck_ids = sorted({i.deck_id for i in items})
        self.states: dict[str, CardState] = {f"{d}:{k}": s for (d, k), s in store.states(deck_ids).items()}
        # Items due per study day, so a plan can spread final-stretch reviews under the daily cap.
        self.load: Counter[date] = Counter(
            study_day(s.due, tz, settings.rollover_hour) for s in self.states.values() if s.due is not None and s.state != NEW and not s.suspended
        )
        self.learning: list[Item] = []
        self.reviews: list[Item] = []
        self.new: list[Item] = []
        self.front: Item | None = None  # an item put back by undo: shown next
        if mode == "cram":
            self._build_cram(items, limit, rng or random.Random(0))
        else:
            self._build(items, new_limit, limit)
        self._new_total = len(self.new)
        self._rev_total = len(self.reviews)

    # -- building the queue -------------------------------------------------------------------

    def _day(self, moment: datetime | None = None) -> str:
        return study_day(moment or self.clock(), self.tz, self.settings.rollover_hour).isoformat()

    def _build(self, items: list[Item], new_limit: int | None, limit: int | None) -> None:
        now = self.started
        today = study_day(now, self.tz, self.settings.rollover_hour)
        day_end = day_start(today + timedelta(days=1), self.tz, self.settings.rollover_hour)
        new_done, reviews_done = self.store.today_counts(today.isoformat())
        daily_new = self.settings.new_per_day
        if self.plan is not None:  # the plan paces new items so all are introduced before the final stretch
            unseen = sum(1 for i in items if self.states.get(i.uid) is None or self.states[i.uid].state == NEW)
            daily_new = planner.new_per_day(unseen + new_done, planner.days_left(self.plan, now, self.tz, self.settings))
        new_quota = new_limit if new_limit is not None else max(0, daily_new - new_done)
        review_quota = max(0, self.settings.reviews_per_day - reviews_done)
        touched_today: set[str] = set()  # parents with an item already studied today: siblings wait
        for item in items:
            s = self.states.get(item.uid)
            if s and s.last_review and study_day(s.last_review, self.tz, self.settings.rollover_hour) == today:
                touched_today.add(self._parent(item))
        taken: set[str] = set()
        reviews: list[tuple[datetime, int, Item]] = []
        for n, item in enumerate(items):
            s = self.states.get(item.uid)
            if s is None or s.state == NEW:
                continue
            if s.suspended or (s.buried_until and s.buried_until > now):
                continue
            if s.state in (LEARNING, RELEARNING):
                self.learning.append(item)
            elif s.state == REVIEW and s.due is not None and s.due < day_end:
                reviews.append((s.due, n, item))
        for _, _, item in sorted(reviews, key=lambda r: (r[0], r[1])):
            parent = self._parent(item)
            if parent in touched_today or parent in taken or len(self.reviews) >= review_quota:
                continue
            taken.add(parent)
            self.reviews.append(item)
        candidates = _round_robin(items)  # several decks: take new items from each in turn
        if self.plan is not None:
            mastery = {d: v["mastery"] for d, v in _domain_mastery(items, self.states, now, self.settings, self.tz).items()}
            candidates = planner.order_new(items, self.blueprint, mastery)
        for item in candidates:
            if len(self.new) >= new_quota:
                break
            s = self.states.get(item.uid)
            if s is not None and (s.state != NEW or s.suspended or (s.buried_until and s.buried_until > now)):
                continue
            parent = self._parent(item)
            if parent in touched_today or parent in taken:
                continue
            taken.add(parent)
            self.new.append(item)
        if limit is not None:
            room = max(0, limit - len(self.learning))
            self.reviews = self.reviews[:room]
            self.new = self.new[: max(0, room - len(self.reviews))]
        self.learning.sort(key=lambda i: self.states[i.uid].due or now)

    def _build_cram(self, items: list[Item], limit: int | None, rng: random.Random) -> None:
        pool = [i for i in items if not (self.states.get(i.uid) and self.states[i.uid].suspended)]
        rng.shuffle(pool)
        self.reviews = pool[:limit] if limit is not None else pool

    @staticmethod
    def _parent(item: Item) -> str:
        return f"{item.deck_id}:{item.parent}"

    # -- the loop -----------------------------------------------------------------------------

    def counts(self) -> tuple[int, int, int]:
        """Remaining (new, learning, review) in this session."""
        return len(self.new), len(self.learning), len(self.reviews)

    def state_of(self, item: Item) -> CardState:
        """The item's current state (new if never studied)."""
        return self.states.get(item.uid) or CardState()

    def next(self) -> Item | None:
        """The item to show now, or None when the session is done."""
        now = self.clock()
        if self.front is not None:
            return self.front
        if self.learning:
            first = self.learning[0]
            due = self.states[first.uid].due or now
            if due <= now:
                return first
        if self.reviews and self.new:
            # Spread new items evenly among the reviews (reviews first, like Anki's default mix).
            done_rev = self._rev_total - len(self.reviews)
            done_new = self._new_total - len(self.new)
            return self.new[0] if done_new * self._rev_total < done_rev * self._new_total else self.reviews[0]
        if self.reviews or self.new:
            return (self.reviews or self.new)[0]
        if self.learning:
            first = self.learning[0]
            due = self.states[first.uid].due or now
            if due - now <= self.settings.learn_ahead:
                return first
        return None

    def intervals(self, item: Item) -> dict[int, timedelta]:
        """Next interval per rating, for the answer buttons (empty when cramming)."""
        if self.mode == "cram":
            return {}
        return preview(self.state_of(item), self.clock(), self.settings, self.tz)

    def _remove(self, item: Item) -> None:
        if self.front == item:
            self.front = None
        for queue in (self.learning, self.reviews, self.new):
            if item in queue:
                queue.remove(item)

    def answer(self, item: Item, rating: int, *, correct: bool | None = None, given: str | None = None, duration_ms: int | None = None) -> Answered:
        """Record an answer (committed at once) and move the item on."""
        now = self.clock()
        before = self.states.get(item.uid)
        was_new = item in self.new
        self._remove(item)
        if self.mode == "cram":
            review_id = self.store.record(item.deck_id, item.key, now, "cram", rating, before, None, day=self._day(now), duration_ms=duration_ms, answer=given, correct=correct, session=self.id)
            result = Answered(item, rating, correct, review_id, before, None)
            if rating == 1:
                self.reviews.append(item)  # a miss comes back once more before the cram ends
        else:
            start = before or CardState()
            after = review(start, rating, now, planner.settings_for(self.settings, self.plan, now, self.tz), self.tz, rng_for(item, start.reps))
            after = planner.adjust(after, now, self.plan, self.settings, self.tz, lambda d: self.load[d])
            if before is not None and before.due is not None and before.state != NEW:
                self.load[study_day(before.due, self.tz, self.settings.rollover_hour)] -= 1
            if after.due is not None:
                self.load[study_day(after.due, self.tz, self.settings.rollover_hour)] += 1
            review_id = self.store.record(item.deck_id, item.key, now, "study", rating, before, after, day=self._day(now), duration_ms=duration_ms, answer=given, correct=correct, session=self.id)
            self.states[item.uid] = after
            became_leech = after.leech and not start.leech
            result = Answered(item, rating, correct, review_id, before, after, became_leech)
            if became_leech:
                self.summary.leeches.append(item.uid)
            elif after.state in (LEARNING, RELEARNING):
                self.learning.append(item)
                self.learning.sort(key=lambda i: self.states[i.uid].due or now)
            if was_new or (before and before.state == REVIEW):
                self._bury_siblings(item)
        self.history.append(result)
        self.summary.answered += 1
        if rating == 1:
            self.summary.again += 1
        if correct is not None:
            self.summary.graded += 1
            self.summary.correct += int(correct)
        return result

    def _bury_siblings(self, item: Item) -> None:
        parent = self._parent(item)
        self.new = [i for i in self.new if self._parent(i) != parent]
        self.reviews = [i for i in self.reviews if self._parent(i) != parent]

    def undo(self) -> Item | None:
        """Take back the last answer: the log entry goes, the item's state is restored, and it is
        shown again next. Returns the item, or None when there is nothing to undo."""
        if not self.history:
            return None
        last = self.history.pop()
        item = last.item
        self.store.undo(last.review_id, last.before if self.mode == "study" else None, self._day())
        if self.mode == "study":
            if last.before is None:
                self.states.pop(item.uid, None)
            else:
                self.states[item.uid] = last.before
        self._remove(item)
        self.summary.answered -= 1
        if last.rating == 1:
            self.summary.again -= 1
        if last.correct is not None:
            self.summary.graded -= 1
            self.summary.correct -= int(last.correct)
        if last.became_leech and item.uid in self.summary.leeches:
            self.summary.leeches.remove(item.uid)
        if last.before is None and self.mode == "study":
            self.new.insert(0, item)
            self._new_total = max(self._new_total, len(self.new))
        self.front = item
        return item

    def suspend(self, item: Item) -> None:
        """Suspend an item: it leaves the session and future ones until unsuspended."""
        self.store.set_flags(item.deck_id, item.key, suspended=True)
        self.states[item.uid] = self.store.state(item.deck_id, item.key) or CardState(suspended=True)
        self._remove(item)

    def bury(self, item: Item) -> None:
        """Hide an item until tomorrow's study day."""
        now = self.clock()
        tomorrow = day_start(study_day(now, self.tz, self.settings.rollover_hour) + timedelta(days=1), self.tz, self.settings.rollover_hour)
        self.store.set_flags(item.deck_id, item.key, buried_until=tomorrow)
        self._remove(item)

    def finish(self) -> Summary:
        """Close the session: time spent and what is due next."""
        now = self.clock()
        self.summary.seconds = max(0.0, (now - self.started).total_seconds())
        upcoming = [s.due for uid, s in self.states.items() if uid in self.items and s.due and s.state != NEW and not s.suspended]
        later = [d for d in upcoming if d > now]
        self.summary.next_due = min(later) if later else None
        tomorrow_end = day_start(study_day(now, self.tz, self.settings.rollover_hour) + timedelta(days=2), self.tz, self.settings.rollover_hour)
        self.summary.due_tomorrow = sum(1 for d in upcoming if d < tomorrow_end)
        return self.summary


def _domain_mastery(items: list[Item], states: dict[str, CardState], now: datetime, settings: Settings, tz: tzinfo | None) -> dict[str, dict[str, float]]:
    """Mean predicted recall now per domain (0 for unseen items)."""
    from .scheduler import retrievability

    sums: dict[str, list[float]] = {}
    for item in items:
        s = states.get(item.uid)
        r = retrievability(s, now, settings, tz) if s is not None else 0.0
        sums.setdefault(item.domain or "", []).append(r)
    return {d: {"mastery": sum(v) / len(v)} for d, v in sums.items()}


def _round_robin(items: list[Item]) -> list[Item]:
    """Items of several decks interleaved deck by deck (each deck keeps its own order)."""
    by_deck: dict[str, list[Item]] = {}
    for item in items:
        by_deck.setdefault(item.deck_id, []).append(item)
    if len(by_deck) < 2:
        return items
    out: list[Item] = []
    queues = [list(reversed(v)) for v in by_deck.values()]
    while queues:
        for q in queues:
            out.append(q.pop())
        queues = [q for q in queues if q]
    return out

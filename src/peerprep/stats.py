"""What is due, progress figures, and orphaned progress: pure functions over items and states."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from .model import Item
from .scheduler import LEARNING, NEW, RELEARNING, REVIEW, CardState, Settings, day_start, retrievability, study_day


@dataclass
class DeckDue:
    """Due counts of one deck."""

    new: int = 0
    learning: int = 0
    review: int = 0
    review_today: int = 0
    learning_today: int = 0
    total: int = 0
    suspended: int = 0


def due_summary(
    items: list[Item],
    states: dict[tuple[str, str], CardState],
    now: datetime,
    settings: Settings,
    tz: tzinfo | None,
    new_done_today: int,
) -> dict[str, DeckDue]:
    """Per deck: new items available today (within the daily limit), learning and review due now
    and by the end of the study day."""
    today = study_day(now, tz, settings.rollover_hour)
    day_end = day_start(today + timedelta(days=1), tz, settings.rollover_hour)
    new_quota = max(0, settings.new_per_day - new_done_today)  # each deck shows what today's limit allows from it
    out: dict[str, DeckDue] = defaultdict(DeckDue)
    new_parents: set[str] = set()
    for item in items:
        d = out[item.deck_id]
        d.total += 1
        s = states.get((item.deck_id, item.key))
        if s is not None and s.suspended:
            d.suspended += 1
            continue
        if s is None or s.state == NEW:
            parent = f"{item.deck_id}:{item.parent}"
            if d.new < new_quota and parent not in new_parents:
                new_parents.add(parent)
                d.new += 1
            continue
        if s.buried_until and s.buried_until > now:
            continue
        due = s.due or now
        if s.state in (LEARNING, RELEARNING):
            d.learning += int(due <= now)
            d.learning_today += int(due < day_end)
        elif s.state == REVIEW:
            d.review += int(due <= now)
            d.review_today += int(due < day_end)
    return dict(out)


def orphans(items: list[Item], studied: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Progress rows whose item is in no loaded deck."""
    known = {(i.deck_id, i.key) for i in items}
    return sorted(k for k in studied if k not in known)


@dataclass
class Stats:
    """Figures for `peerprep stats`."""

    reviews_total: int = 0
    reviews_today: int = 0
    items_total: int = 0
    items_studied: int = 0
    items_new: int = 0
    items_learning: int = 0
    items_review: int = 0
    suspended: int = 0
    leeches: list[str] = field(default_factory=list)
    heatmap: list[tuple[str, int]] = field(default_factory=list)  # (day, reviews) for the last weeks
    forecast: list[tuple[str, int]] = field(default_factory=list)  # (day, items due) for 30 days
    true_retention: float | None = None
    retention_reviews: int = 0
    streak: int = 0
    domains: dict[str, dict[str, float]] = field(default_factory=dict)
    most_missed: list[tuple[str, int, int]] = field(default_factory=list)  # (uid, misses, answers)
    plan: dict[str, object] | None = None
    readiness: dict[str, object] | None = None


def compute(
    items: list[Item],
    states: dict[tuple[str, str], CardState],
    daily: list[tuple[str, str, int, int, int, int]],
    misses: list[tuple[str, str, int, int]],
    retention_rows: tuple[int, int],
    now: datetime,
    settings: Settings,
    tz: tzinfo | None,
    weeks: int = 12,
) -> Stats:
    """All the stats figures from pre-aggregated inputs (so no query scans the whole log)."""
    st = Stats()
    today = study_day(now, tz, settings.rollover_hour)
    per_day: Counter[str] = Counter()
    for day, _mode, reviews, _c, _g, _n in daily:
        per_day[day] += reviews
        st.reviews_total += reviews
    st.reviews_today = per_day.get(today.isoformat(), 0)
    start = today - timedelta(days=weeks * 7 - 1)
    st.heatmap = [((start + timedelta(days=i)).isoformat(), per_day.get((start + timedelta(days=i)).isoformat(), 0)) for i in range(weeks * 7)]
    streak_day: date = today if per_day.get(today.isoformat()) else today - timedelta(days=1)
    while per_day.get(streak_day.isoformat()):
        st.streak += 1
        streak_day -= timedelta(days=1)
    forecast: Counter[int] = Counter()
    domain_r: dict[str, list[float]] = defaultdict(list)
    for item in items:
        st.items_total += 1
        s = states.get((item.deck_id, item.key))
        r = 0.0
        if s is None or s.state == NEW:
            st.items_new += 1
        else:
            st.items_studied += 1
            if s.state == REVIEW:
                st.items_review += 1
            else:
                st.items_learning += 1
            if s.suspended:
                st.suspended += 1
            if s.leech:
                st.leeches.append(item.uid)
            r = retrievability(s, now, settings, tz)
            if not s.suspended and s.due is not None:
                offset = (study_day(s.due, tz, settings.rollover_hour) - today).days
                if offset < 30:
                    forecast[max(0, offset)] += 1
        if item.domain:
            domain_r[item.domain].append(r)
    st.forecast = [((today + timedelta(days=i)).isoformat(), forecast.get(i, 0)) for i in range(30)]
    correct, total = retention_rows
    st.retention_reviews = total
    st.true_retention = correct / total if total else None
    st.domains = {d: {"items": len(v), "mastery": sum(v) / len(v) if v else 0.0} for d, v in sorted(domain_r.items())}
    st.most_missed = [(f"{d}:{k}", m, n) for d, k, m, n in misses]
    return st


def due_from_index(
    decks: list[tuple[str, tuple[tuple[str, str, str | None, str, int], ...]]],
    aggregates: list[tuple[str, int, int, int]],
    flags: list[tuple[str, str, int, int, str | None]],
    now_iso: str,
    new_quota: int,
) -> dict[str, DeckDue]:
    """The same figures as `due_summary`, from the deck index and SQL aggregates (no item states
    are built): new items each deck can offer within today's limit, one per sibling group."""
    out: dict[str, DeckDue] = {}
    seen: dict[tuple[str, str], tuple[int, int, str | None]] = {(d, k): (st, sus, bur) for d, k, st, sus, bur in flags}
    parents: set[tuple[str, str]] = set()
    for deck_id, items in decks:
        d = out.setdefault(deck_id, DeckDue())
        d.total = len(items)
        for key, parent, _domain, _kind, _n in items:
            flag = seen.get((deck_id, key))
            if flag is not None:
                state, suspended, buried = flag
                if suspended:
                    d.suspended += 1
                    continue
                if state != NEW or (buried is not None and buried > now_iso):
                    continue
            if d.new < new_quota and (deck_id, parent) not in parents:
                parents.add((deck_id, parent))
                d.new += 1
    for deck_id, state, due_now, due_today in aggregates:
        if deck_id not in out:
            continue
        d = out[deck_id]
        if state in (LEARNING, RELEARNING):
            d.learning += due_now
            d.learning_today += due_today
        elif state == REVIEW:
            d.review += due_now
            d.review_today += due_today
    return out

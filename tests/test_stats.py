"""Stats: due counts (both ways agree), orphans, and the stats figures."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from peerprep import catalog, stats
from peerprep.scheduler import LEARNING, NEW, REVIEW, CardState, Settings, day_start, iso, study_day

NOW = datetime(2026, 11, 25, 15, tzinfo=timezone.utc)
UTC = timezone.utc


def _states(items: list, rng: random.Random) -> dict:  # type: ignore[type-arg]
    out = {}
    for item in items:
        roll = rng.random()
        if roll < 0.4:
            continue
        state = rng.choice([NEW, LEARNING, REVIEW, REVIEW])
        due = NOW + timedelta(hours=rng.randint(-48, 72))
        out[(item.deck_id, item.key)] = CardState(
            state=state, stability=5.0, difficulty=5.0, due=due, last_review=NOW - timedelta(days=2),
            suspended=rng.random() < 0.1, buried_until=NOW + timedelta(hours=5) if rng.random() < 0.05 else None,
        )
    return out


def test_due_from_index_agrees_with_due_summary() -> None:
    cat = catalog.load()
    items = cat.items()
    s = Settings()
    for seed in range(5):
        states = _states(items, random.Random(seed))
        full = stats.due_summary(items, states, NOW, s, UTC, new_done_today=3)
        day_end = day_start(study_day(NOW, UTC, 4) + timedelta(days=1), UTC, 4)
        aggregates: dict[tuple[str, int], list[int]] = {}
        for (deck_id, _key), st in states.items():
            if st.suspended or st.state == NEW or (st.buried_until and st.buried_until > NOW):
                continue
            agg = aggregates.setdefault((deck_id, st.state), [0, 0])
            agg[0] += int(st.due <= NOW)  # type: ignore[operator]
            agg[1] += int(st.due < day_end)  # type: ignore[operator]
        flags = [(d, k, st.state, int(st.suspended), iso(st.buried_until)) for (d, k), st in states.items()]
        decks = [(d.id, tuple((i.key, i.parent, i.domain, i.kind, len(i.card.choices)) for i in cat.items([d.id]))) for d in cat.decks]
        quick = stats.due_from_index(decks, [(d, st, a, b) for (d, st), (a, b) in aggregates.items()], flags, iso(NOW) or "", s.new_per_day - 3)
        assert {k: vars(v) for k, v in quick.items()} == {k: vars(v) for k, v in full.items()}


def test_orphans() -> None:
    items = catalog.load().items()
    studied = [(items[0].deck_id, items[0].key), ("gone", "x")]
    assert stats.orphans(items, studied) == [("gone", "x")]


def test_compute_figures() -> None:
    items = catalog.load().items()[:10]
    states = {(i.deck_id, i.key): CardState(state=REVIEW, stability=10.0, difficulty=5.0, due=NOW + timedelta(days=n), last_review=NOW - timedelta(days=1), leech=n == 0) for n, i in enumerate(items)}
    daily = [((NOW - timedelta(days=d)).date().isoformat(), "study", 5, 4, 5, 1) for d in range(3)]
    st = stats.compute(items, states, daily, [("d", "k", 2, 3)], (9, 10), NOW, Settings(), UTC)
    assert st.reviews_total == 15 and st.streak == 3 and st.items_review == 10
    assert st.true_retention == 0.9 and st.leeches == [items[0].uid]
    assert len(st.heatmap) == 84 and len(st.forecast) == 30 and sum(n for _, n in st.forecast) == 10
    assert st.most_missed == [("d:k", 2, 3)]

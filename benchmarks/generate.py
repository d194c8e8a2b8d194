"""Deterministic large decks and review histories for the benchmarks.

    python benchmarks/generate.py deck 10000 out/deck-10000.yaml
    python benchmarks/generate.py history out/deck-10000.yaml 1000000 out/home-10000-1m
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

DOMAINS = ["advocacy", "mentoring-education", "recovery-wellness", "ethical-responsibility"]
WORDS = "peer support recovery empathy trust boundary advocate plan person choice wellness stage change ethics harm reduction crisis referral culture humility".split()


def sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def deck_text(cards: int, seed: int = 1, deck_id: str | None = None, words: int = 12) -> str:
    """A valid deck of `cards` cards: 60% four-option mcq, the rest basic, cloze and true/false.

    `words` sets the length of stems and explanations (options and rationales are half as long):
    12 gives about 640 bytes a card, 4 about 330 bytes, near the 10,000-card deck that issue 7's
    reference figures were measured on."""
    rng = random.Random(seed)

    def sentence_(rng: random.Random, n: int = 12) -> str:
        return sentence(rng, max(2, n * words // 12))

    out = [f"peerprep: 1\nid: {deck_id or f'bench-{cards}'}\ntitle: Benchmark deck\nsource: generated\nblueprint: icrc-pr\ncards:\n"]
    for i in range(cards):
        dom = DOMAINS[i % 4]
        kind = rng.random()
        if kind < 0.6:
            key = i % 4
            choices = "".join(
                f"      - text: \"{sentence_(rng, 6)} {i} {c}\"\n" + ("        correct: true\n" if c == key else "") + f"        why: \"{sentence_(rng, 8)}\"\n"
                for c in range(4)
            )
            out.append(f"  - id: q{i}\n    type: mcq\n    domain: {dom}\n    question: \"{sentence_(rng)} {i}?\"\n    choices:\n{choices}    explanation: \"{sentence_(rng)}\"\n")
        elif kind < 0.8:
            out.append(f"  - id: b{i}\n    domain: {dom}\n    front: \"{sentence_(rng)} {i}\"\n    back: \"{sentence_(rng, 6)}\"\n    explanation: \"{sentence_(rng)}\"\n")
        elif kind < 0.9:
            out.append(f"  - id: c{i}\n    type: cloze\n    domain: {dom}\n    text: \"{sentence_(rng, 5)} {{{{{rng.choice(WORDS)}}}}} {i}\"\n    explanation: \"{sentence_(rng)}\"\n")
        else:
            out.append(f"  - id: t{i}\n    type: truefalse\n    domain: {dom}\n    statement: \"{sentence_(rng)} {i}\"\n    answer: {'true' if rng.random() < 0.5 else 'false'}\n    explanation: \"{sentence_(rng)}\"\n")
    return "".join(out)


def history(deck_path: Path, reviews: int, home: Path, seed: int = 2, now: datetime | None = None) -> None:
    """A progress database with `reviews` reviews spread over the deck's items and the last two years."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
    from peerprep import decks
    from peerprep.scheduler import CardState, Settings, iso, study_day
    from peerprep.store import Store

    rng = random.Random(seed)
    now = now or datetime(2026, 11, 25, 15, tzinfo=timezone.utc)
    parsed = decks.read_file(deck_path)
    assert parsed.deck is not None, parsed.problems[:3]
    items = list(decks.items_of(parsed.deck))
    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "progress.sqlite3")
    per_item = max(1, reviews // len(items))
    rows = []
    states = {}
    start = now - timedelta(days=730)
    settings = Settings()
    for n in range(reviews):
        item = items[n // per_item % len(items)]
        ts = start + timedelta(seconds=rng.randrange(0, 730 * 86400))
        rating = rng.choice((1, 3, 3, 3, 4))
        state = CardState(state=2, stability=rng.uniform(1, 200), difficulty=rng.uniform(1, 10), due=now + timedelta(days=rng.randrange(-20, 60)), last_review=ts, reps=per_item)
        states[(item.deck_id, item.key)] = state
        rows.append((item.deck_id, item.key, iso(ts), rating, 3000, "study", None, None, None, json.dumps(state.to_json()), None, study_day(ts, timezone.utc, settings.rollover_hour).isoformat()))
    store.bulk_load(rows, states)
    store.close()


def main() -> None:
    what = sys.argv[1]
    if what == "deck":
        Path(sys.argv[3]).parent.mkdir(parents=True, exist_ok=True)
        Path(sys.argv[3]).write_text(deck_text(int(sys.argv[2]), words=int(sys.argv[4]) if len(sys.argv) > 4 else 12))
    elif what == "history":
        history(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

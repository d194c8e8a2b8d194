"""Time peerprep commands as whole processes against `python -c pass` (F), interleaved.

    python benchmarks/run.py [--cards 10000] [--reviews 1000000] [--runs 7] [--out benchmarks/out]

Prints the median wall time of each command and its ratio to F measured in the same run, plus the
p90 time to record one answer in a session (in-process). Data is generated deterministically
(benchmarks/generate.py) and reused between runs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import generate  # noqa: E402


PEAK_KB: dict[str, int] = {}


def _timed(cmd: list[str], env: dict[str, str], stdin: str = "", name: str = "") -> float:
    """Wall time of one run of a command; its peak memory (max RSS) is kept in PEAK_KB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = 0
    PEAK_KB[name] = max(PEAK_KB.get(name, 0), usage.ru_maxrss)
    return elapsed


def prepare(out: Path, cards: int, reviews: int) -> tuple[Path, Path]:
    deck = out / f"deck-{cards}.yaml"
    if not deck.exists():
        deck.parent.mkdir(parents=True, exist_ok=True)
        deck.write_text(generate.deck_text(cards))
    home = out / f"home-{cards}-{reviews}"
    if not (home / "progress.sqlite3").exists():
        generate.history(deck, reviews, home)
    (home / "decks").mkdir(exist_ok=True)
    link = home / "decks" / deck.name
    if not link.exists():
        link.write_bytes(deck.read_bytes())
    return deck, home


def answer_p90(home: Path, deck: Path, answers: int = 200) -> float:
    """p90 seconds to record one answer (Session.answer: schedule + committed write)."""
    from peerprep import decks
    from peerprep.scheduler import Settings
    from peerprep.session import Session
    from peerprep.store import Store

    parsed = decks.read_file(deck)
    assert parsed.deck is not None
    items = list(decks.items_of(parsed.deck))
    store = Store(home / "progress.sqlite3")
    t = [datetime(2026, 11, 25, 15, tzinfo=timezone.utc)]
    session = Session(store, items, lambda: t[0], Settings(), timezone.utc, mode="study", new_limit=answers)
    rng = random.Random(0)
    times = []
    for _ in range(answers):
        item = session.next()
        if item is None:
            break
        start = time.perf_counter()
        session.answer(item, rng.choice((1, 3, 3, 4)))
        times.append(time.perf_counter() - start)
        t[0] += timedelta(seconds=5)
    # take the answers back out so the benchmark database stays as generated
    while session.undo():
        pass
    store.close()
    return statistics.quantiles(times, n=10)[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=10_000)
    ap.add_argument("--reviews", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--scale", action="store_true", help="also measure growth from 1,000 to 100,000 items and 10,000 to 2,000,000 reviews")
    args = ap.parse_args()
    deck, home = prepare(args.out, args.cards, args.reviews)
    fresh_deck = args.out / "fresh.yaml"
    exe = [sys.executable, "-m", "peerprep"]
    env = {**os.environ, "PEERPREP_HOME": str(home), "PEERPREP_NOW": "2026-11-25T15:00:00+00:00", "COLUMNS": "100"}
    commands = {
        "python -c pass (F)": ([sys.executable, "-c", "pass"], ""),
        "peerprep --version": ([*exe, "--version"], ""),
        "peerprep --help": ([*exe, "--help"], ""),
        "peerprep due": ([*exe, "due"], ""),
        "peerprep stats": ([*exe, "stats"], ""),
        "peerprep study (to first item)": ([*exe, "study", "--new", "1"], ""),
        "peerprep check (cached)": ([*exe, "check", str(deck)], ""),
        "peerprep check (new deck)": ([*exe, "check", str(fresh_deck)], ""),
    }
    subprocess.run([*exe, "check", str(deck)], env=env, capture_output=True)  # warm the deck cache
    times: dict[str, list[float]] = {k: [] for k in commands}
    for run in range(args.runs):
        # A deck no cache has seen: a new seed every round of every invocation.
        fresh_deck.write_text(generate.deck_text(args.cards, seed=random.SystemRandom().randrange(1 << 30), deck_id="fresh"))
        for name, (cmd, stdin) in commands.items():  # interleaved: every command once per round
            times[name].append(_timed(cmd, env, stdin, name))
    f = statistics.median(times["python -c pass (F)"])
    print(f"{args.cards:,} cards, {args.reviews:,} reviews, {args.runs} runs, median seconds and ratio to F")
    print(f"| command | median | ratio to F | peak memory |\n|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med * 1000:.0f} ms | {med / f:.1f} F | {PEAK_KB.get(name, 0) / 1024:.0f} MB |")
    print(f"| one answer recorded (p90, in-process) | {answer_p90(home, deck) * 1000:.2f} ms | | |")
    if args.scale:
        scale(args.out, exe, args.runs)


def scale(out: Path, exe: list[str], runs: int) -> None:
    """How cost grows with items (1,000 to 100,000; 100,000 reviews) and reviews (10,000 to
    2,000,000; 10,000 items). 100,000 items are ten deck files of 10,000 (a file may hold 20 MB)."""
    print("\n| items | reviews | due | stats | check (new) |\n|---|---|---|---|---|")
    cases = [(1_000, 100_000), (10_000, 100_000), (100_000, 100_000), (10_000, 10_000), (10_000, 1_000_000), (10_000, 2_000_000)]
    for items, reviews in cases:
        home = out / f"scale-{items}-{reviews}"
        files = max(1, items // 10_000)
        per = items // files
        if not (home / "progress.sqlite3").exists():
            (home / "decks").mkdir(parents=True, exist_ok=True)
            for n in range(files):
                (home / "decks" / f"d{n}.yaml").write_text(generate.deck_text(per, seed=n + 1, deck_id=f"scale-{n}"))
            generate.history(home / "decks" / "d0.yaml", reviews, home)
        env = {**os.environ, "PEERPREP_HOME": str(home), "PEERPREP_NOW": "2026-11-25T15:00:00+00:00"}
        subprocess.run([*exe, "due"], env=env, capture_output=True)  # warm the caches
        f = statistics.median(_timed([sys.executable, "-c", "pass"], env) for _ in range(runs))
        row = []
        for cmd in (["due"], ["stats"]):
            row.append(statistics.median(_timed([*exe, *cmd], env) for _ in range(runs)) / f)
        checks = []
        for r in range(runs):
            env2 = {**env, "PEERPREP_NO_CACHE": "1"}
            checks.append(_timed([*exe, "check", str(home / "decks")], env2))
        row.append(statistics.median(checks) / f)
        print(f"| {items:,} | {reviews:,} | {row[0]:.1f} F | {row[1]:.1f} F | {row[2]:.1f} F |")


if __name__ == "__main__":
    main()

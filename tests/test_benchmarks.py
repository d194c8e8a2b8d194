"""A small smoke run of the benchmark generators and runner (no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[1] / "benchmarks"


def test_generated_deck_is_valid_and_history_loads(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    import generate

    from peerprep import decks
    from peerprep.store import Store

    deck = tmp_path / "d.yaml"
    deck.write_text(generate.deck_text(50))
    parsed = decks.read_file(deck)
    assert parsed.problems == [] and parsed.deck and len(parsed.deck.cards) == 50
    generate.history(deck, 500, tmp_path / "home")
    store = Store(tmp_path / "home" / "progress.sqlite3")
    assert store.count_reviews() == 500


def test_runner_smoke(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--cards", "30", "--reviews", "200", "--runs", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "| peerprep due |" in result.stdout and "ratio to F" in result.stdout

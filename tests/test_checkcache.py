"""The whole-report cache of `peerprep check`: same output and status, invalidated by any change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from peerprep import checkcache, decks


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "peerprep", "check", *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})


def test_cached_report_is_identical_and_invalidated_by_edits(home: Path, tmp_path: Path) -> None:
    deck = tmp_path / "d.yaml"
    deck.write_text("peerprep: 1\nid: d\ntitle: T\ncards:\n  - {id: a, front: F, back: B}\n")
    first = _check("--strict", str(deck))
    entries = list((home / "cache" / "check").iterdir())
    assert len(entries) == 1
    second = _check("--strict", str(deck))
    assert (second.stdout, second.returncode) == (first.stdout, first.returncode) == (first.stdout, 1)
    deck.write_text("peerprep: 1\nid: d\ntitle: T\nsource: S\ncards:\n  - {id: a, front: F, back: B, explanation: E}\n")
    third = _check("--strict", str(deck))
    assert third.returncode == 0 and "0 errors, 0 warnings" in third.stdout
    json_run = _check("--format", "json", str(deck))
    assert json_run.stdout.strip() == "[]"


def test_cache_does_not_apply_to_unknown_options_or_missing_paths(tmp_path: Path) -> None:
    assert checkcache.entry_for(["--bogus"]) is None
    assert checkcache.entry_for([str(tmp_path / "missing.yaml")]) is None
    assert checkcache._bundled("blueprints") + checkcache._bundled("decks") == decks.bundled_paths()

"""`peerprep import`, and the full round trip through a real Anki collection:
deck -> apkg -> Anki -> Anki's own export -> peerprep import -> deck, every card kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "anki"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "peerprep", *args], capture_output=True, text=True, env={**os.environ, "PEERPREP_NOW": "2026-11-25T15:00:00+00:00"}, input="")


@pytest.mark.parametrize("deck_id", ["empathy-foundations", "icrc-ethical-responsibility"])
def test_round_trip_through_real_anki_keeps_every_card(tmp_path: Path, deck_id: str) -> None:
    from anki.collection import Collection, ExportAnkiPackageOptions
    from anki.generic_pb2 import Empty
    from anki.import_export_pb2 import ExportLimit

    from .ankihelp import import_apkg

    ours = tmp_path / "ours.apkg"
    assert _run("export", deck_id, "--to", "apkg", "-o", str(ours)).returncode == 0
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        import_apkg(col, ours)
        notes_in_anki = col.note_count()
        cards_in_anki = col.card_count()
        theirs = tmp_path / "theirs.apkg"
        col.export_anki_package(out_path=str(theirs), options=ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False, with_media=True, legacy=False), limit=ExportLimit(whole_collection=Empty()))
    finally:
        col.close()
    back = tmp_path / "back.yaml"
    result = _run("import", str(theirs), "-o", str(back), "--deck-id", "round-trip")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Wrote {notes_in_anki} cards ({cards_in_anki} study items)")
    check = _run("check", str(back))
    assert check.returncode == 0, check.stdout[-500:]


def test_import_with_progress_and_refusals(home: Path, tmp_path: Path) -> None:
    first = _run("import", str(FIXTURES / "sample_with_reviews.apkg"), "--with-progress")
    assert first.returncode == 0, first.stderr
    assert "115 reviews brought in" in first.stdout
    assert (home / "decks" / "sample-with-reviews.yaml").exists()
    again = _run("import", str(FIXTURES / "sample_with_reviews.apkg"), "--with-progress", "--force")
    assert again.returncode == 1 and "already has progress" in again.stderr
    notes = _run("import", str(FIXTURES / "sample_with_reviews_notes.txt"), "--with-progress", "-o", str(tmp_path / "n.yaml"))
    assert notes.returncode == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a zip at all", "not a zip"), (b"", "not a zip")],
)
def test_hostile_packages_write_nothing(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.apkg"
    bad.write_bytes(content)
    out = tmp_path / "out.yaml"
    result = _run("import", str(bad), "-o", str(out))
    assert result.returncode == 1 and message in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.apkg"]

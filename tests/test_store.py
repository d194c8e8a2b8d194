"""Store: migrations (blank, twice, old data, failure), newer databases refused, log and undo."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from peerprep import store as store_mod
from peerprep.errors import StoreError
from peerprep.scheduler import CardState
from peerprep.store import MIGRATIONS, SCHEMA_VERSION, Store, restore_file

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
EXPECTED_TABLES = {"cards", "daily", "exams", "reviews", "settings"}


def test_blank_database_reaches_latest_schema() -> None:
    s = Store(":memory:")
    assert s.version == SCHEMA_VERSION == len(MIGRATIONS)
    tables = {n for n, sql in s.schema() if sql.startswith("CREATE TABLE")}
    assert tables == EXPECTED_TABLES
    assert all("STRICT" in sql for n, sql in s.schema() if n in EXPECTED_TABLES)


def test_migrating_twice_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    first = Store(path)
    schema = first.schema()
    first.close()
    again = Store(path)
    assert again.schema() == schema and again.version == SCHEMA_VERSION


def test_old_database_with_data_upgrades_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = Store(path, migrate=False)
    old.migrate(MIGRATIONS[:1])
    old.db.execute(
        "INSERT INTO reviews (deck_id, item_key, ts, rating, mode, state_after) VALUES ('d', 'k', '2026-01-01T00:00:00.000+00:00', 3, 'study', '{}')"
    )
    old.db.execute("INSERT INTO cards (deck_id, item_key, state, due) VALUES ('d', 'k', 2, '2026-01-05T00:00:00.000+00:00')")
    old.close()
    new = Store(path)
    assert new.version == SCHEMA_VERSION
    assert [(r.deck_id, r.item_key, r.rating) for r in new.reviews()] == [("d", "k", 3)]
    assert new.state("d", "k") is not None


def test_failing_migration_rolls_back(tmp_path: Path) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x INTEGER) STRICT")
        raise RuntimeError("boom")

    s = Store(tmp_path / "f.sqlite3")
    with pytest.raises(RuntimeError):
        s.migrate([*MIGRATIONS, broken])
    assert s.version == SCHEMA_VERSION
    assert "half" not in {n for n, _ in s.schema()}


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    s = Store(path)
    s.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    s.close()
    with pytest.raises(StoreError, match="newer peerprep"):
        Store(path)


def test_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    path.write_text("hello, I am not a database")
    with pytest.raises(StoreError, match="not a peerprep database"):
        Store(path)


def test_record_and_undo() -> None:
    s = Store(":memory:")
    after = CardState(state=1, step=1, stability=2.3, difficulty=2.1, due=NOW + timedelta(minutes=10), last_review=NOW, reps=1)
    rid = s.record("d", "k", NOW, "study", 3, None, after, day="2026-03-02", answer="B", correct=True, duration_ms=1200)
    assert s.state("d", "k") == after
    [row] = s.reviews()
    assert (row.rating, row.answer, row.correct, row.mode, row.duration_ms) == (3, "B", True, "study", 1200)
    assert row.state_before is None and row.state_after and row.state_after["state"] == 1
    assert s.count_reviews() == 1 and s.today_counts("2026-03-02") == (1, 0)
    s.undo(rid, None, "2026-03-02")
    assert s.reviews() == [] and s.state("d", "k") is None
    assert s.count_reviews() == 0 and s.today_counts("2026-03-02") == (0, 0)


def test_backup_and_restore(tmp_path: Path) -> None:
    s = Store(tmp_path / "p.sqlite3")
    s.record("d", "k", NOW, "study", 3, None, CardState(state=2, due=NOW, last_review=NOW), day="2026-03-02")
    s.backup_to(tmp_path / "b.sqlite3")
    s.record("d", "k2", NOW, "study", 3, None, CardState(state=2, due=NOW, last_review=NOW), day="2026-03-02")
    s.close()
    restore_file(tmp_path / "b.sqlite3", tmp_path / "p.sqlite3")
    assert [r.item_key for r in Store(tmp_path / "p.sqlite3").reviews()] == ["k"]
    (tmp_path / "junk.sqlite3").write_bytes(b"junk" * 10)
    with pytest.raises(StoreError):
        restore_file(tmp_path / "junk.sqlite3", tmp_path / "p.sqlite3")


def test_sql_lives_only_in_the_store() -> None:
    assert store_mod.__name__ == "peerprep.store"


def test_summaries_are_backfilled_and_kept_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    old = Store(path, migrate=False)
    old.migrate(MIGRATIONS[:3])
    review = '{"state": 2, "step": null, "s": 5.0, "d": 5.0, "due": null, "last": null, "reps": 3, "lapses": 0}'
    for n, rating in enumerate((3, 1, 4)):
        old.db.execute(
            "INSERT INTO reviews (deck_id, item_key, ts, rating, mode, correct, state_before) VALUES ('d', 'k', ?, ?, 'study', ?, ?)",
            (f"2026-03-0{n + 1}T10:00:00.000+00:00", rating, int(rating > 1), review),
        )
    old.db.execute("INSERT INTO cards (deck_id, item_key, state, due) VALUES ('d', 'k', 2, '2026-03-09T00:00:00.000+00:00')")
    old.close()
    s = Store(path)
    assert s.retention("2026-03-01") == (2, 3)
    assert s.most_missed() == [("d", "k", 1, 3)]
    before = CardState(state=2, stability=5.0, difficulty=5.0, due=NOW, last_review=NOW - timedelta(days=5), reps=3)
    rid = s.record("d", "k", NOW, "study", 1, before, before, day="2026-03-02", correct=False)
    assert s.retention("2026-03-01") == (2, 4) and s.most_missed() == [("d", "k", 2, 4)]
    s.undo(rid, before, "2026-03-02")
    assert s.retention("2026-03-01") == (2, 3) and s.most_missed() == [("d", "k", 1, 3)]

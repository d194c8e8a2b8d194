"""The progress database: the only module that speaks SQL.

SQLite in WAL mode with a busy timeout; versioned, append-only migrations tracked by
`PRAGMA user_version`, each in its own transaction; every answer committed as it happens.
The review log is append-only (undo removes the newest entry of the session) and is the source
of truth; the `cards` table is a cache of each item's current state.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from .errors import StoreError
from .scheduler import CardState, iso, parse_iso

BUSY_TIMEOUT_MS = 30_000


def m001_initial(db: sqlite3.Connection) -> None:
    """Review log, item states, settings."""
    db.execute(
        """CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            deck_id TEXT NOT NULL,
            item_key TEXT NOT NULL,
            ts TEXT NOT NULL,
            rating INTEGER CHECK (rating BETWEEN 1 AND 4),
            duration_ms INTEGER,
            mode TEXT NOT NULL CHECK (mode IN ('study', 'cram', 'quiz', 'exam', 'import')),
            answer TEXT,
            correct INTEGER CHECK (correct IN (0, 1)),
            state_before TEXT,
            state_after TEXT,
            session TEXT
        ) STRICT"""
    )
    db.execute("CREATE INDEX reviews_item ON reviews (deck_id, item_key, ts)")
    db.execute("CREATE INDEX reviews_ts ON reviews (ts)")
    db.execute(
        """CREATE TABLE cards (
            deck_id TEXT NOT NULL,
            item_key TEXT NOT NULL,
            state INTEGER NOT NULL,
            step INTEGER,
            stability REAL,
            difficulty REAL,
            due TEXT,
            last_review TEXT,
            reps INTEGER NOT NULL DEFAULT 0,
            lapses INTEGER NOT NULL DEFAULT 0,
            suspended INTEGER NOT NULL DEFAULT 0,
            leech INTEGER NOT NULL DEFAULT 0,
            buried_until TEXT,
            PRIMARY KEY (deck_id, item_key)
        ) STRICT"""
    )
    db.execute("CREATE INDEX cards_due ON cards (due)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")


def m002_daily(db: sqlite3.Connection) -> None:
    """Per-study-day summary of reviews, so history questions never scan the whole log."""
    db.execute(
        """CREATE TABLE daily (
            day TEXT NOT NULL,
            mode TEXT NOT NULL,
            reviews INTEGER NOT NULL DEFAULT 0,
            correct INTEGER NOT NULL DEFAULT 0,
            graded INTEGER NOT NULL DEFAULT 0,
            new_items INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, mode)
        ) STRICT"""
    )


def m003_exams(db: sqlite3.Connection) -> None:
    """Saved mock-exam attempts."""
    db.execute(
        """CREATE TABLE exams (
            id INTEGER PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,
            blueprint TEXT,
            seed INTEGER,
            tutor INTEGER NOT NULL DEFAULT 0,
            spec TEXT NOT NULL,
            result TEXT
        ) STRICT"""
    )


def m004_summaries(db: sqlite3.Connection) -> None:
    """Retention counts per day and miss counts per item, so stats never scan recent history.

    Existing history is summarised once here (retention by UTC date for rows logged before)."""
    db.execute("ALTER TABLE daily ADD COLUMN review_pass INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE daily ADD COLUMN review_total INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE cards ADD COLUMN misses INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE cards ADD COLUMN answers INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """CREATE TEMP TABLE _ret AS SELECT substr(ts, 1, 10) AS day, SUM(rating > 1) AS pass, COUNT(*) AS total
           FROM reviews WHERE mode = 'study' AND rating IS NOT NULL AND json_extract(state_before, '$.state') = 2
           GROUP BY substr(ts, 1, 10)"""
    )
    db.execute(
        """INSERT INTO daily (day, mode, review_pass, review_total) SELECT day, 'study', pass, total FROM _ret WHERE true
           ON CONFLICT (day, mode) DO UPDATE SET review_pass = excluded.review_pass, review_total = excluded.review_total"""
    )
    db.execute("DROP TABLE _ret")
    db.execute(
        """UPDATE cards SET (misses, answers) = (
             SELECT COALESCE(SUM(r.correct = 0 OR r.rating = 1), 0), COUNT(*) FROM reviews r
             WHERE r.deck_id = cards.deck_id AND r.item_key = cards.item_key)"""
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_initial, m002_daily, m003_exams, m004_summaries]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class Review:
    """One row of the review log."""

    id: int
    deck_id: str
    item_key: str
    ts: datetime
    rating: int | None
    duration_ms: int | None
    mode: str
    answer: str | None
    correct: bool | None
    state_before: dict[str, object] | None
    state_after: dict[str, object] | None
    session: str | None = None


def _state_from_row(row: sqlite3.Row) -> CardState:
    return CardState(
        state=row["state"],
        step=row["step"],
        stability=row["stability"],
        difficulty=row["difficulty"],
        due=parse_iso(row["due"]),
        last_review=parse_iso(row["last_review"]),
        reps=row["reps"],
        lapses=row["lapses"],
        suspended=bool(row["suspended"]),
        leech=bool(row["leech"]),
        buried_until=parse_iso(row["buried_until"]),
    )


class LeanState(NamedTuple):
    """The parts of an item's state that figures need, cheap to build for many items."""

    state: int
    stability: float | None
    due: datetime | None
    last_review: datetime | None
    suspended: bool
    leech: bool


def state_from_json(data: dict[str, object] | None) -> CardState | None:
    """Inverse of CardState.to_json (flags are not part of the log)."""
    if data is None:
        return None
    return CardState(
        state=int(data["state"]),  # type: ignore[call-overload]
        step=data.get("step"),  # type: ignore[arg-type]
        stability=data.get("s"),  # type: ignore[arg-type]
        difficulty=data.get("d"),  # type: ignore[arg-type]
        due=parse_iso(data.get("due")),  # type: ignore[arg-type]
        last_review=parse_iso(data.get("last")),  # type: ignore[arg-type]
        reps=int(data.get("reps", 0)),  # type: ignore[call-overload]
        lapses=int(data.get("lapses", 0)),  # type: ignore[call-overload]
    )


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _while_locked(step: Callable[[], object]) -> None:
    """Run `step`, retrying while another process holds the lock. SQLite's busy handler does not
    cover every case: switching a new database to WAL while another connection creates it
    returns "database is locked" at once, so several peerprep processes starting together on a
    new database would fail without this."""
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class Store:
    """A connection to the progress database."""

    def __init__(self, path: str | Path, migrate: bool = True) -> None:
        self.path = str(path)
        memory = self.path == ":memory:"
        if not memory:
            p = Path(self.path)
            if p.exists() and p.is_dir():
                raise StoreError(f"{p}: is a directory, not a progress database")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{p.parent}: cannot create the data directory ({exc.strerror}); set PEERPREP_HOME to a writable folder") from None
            if p.exists() and p.stat().st_size > 0:
                with open(p, "rb") as fh:
                    head = fh.read(16)
                if head != b"SQLite format 3\x00":
                    raise StoreError(f"{p}: not a peerprep database (not SQLite); move it away or run `peerprep restore BACKUP`")
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not memory:
                _while_locked(lambda: self.db.execute("PRAGMA journal_mode = WAL"))
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            if migrate:
                _while_locked(self.migrate)
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StoreError(f"{self.path}: the progress database stayed locked by another peerprep for {BUSY_TIMEOUT_MS // 1000} s; try again") from None
            raise StoreError(f"{self.path}: the progress database cannot be used ({exc}); run `peerprep restore BACKUP` or move the file away") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the progress database is damaged or not a database ({exc}); run `peerprep restore BACKUP` or move the file away") from None

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- migrations ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The schema version of the database file."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def pending_migrations(self) -> int:
        """How many migrations this database still needs."""
        return max(0, SCHEMA_VERSION - self.version)

    def migrate(self, migrations: list[Callable[[sqlite3.Connection], None]] | None = None, before: Callable[[], None] | None = None) -> None:
        """Apply pending migrations, each in its own transaction; refuse a newer database."""
        steps = MIGRATIONS if migrations is None else migrations
        current = self.version
        if current > len(steps):
            raise StoreError(
                f"{self.path}: this database was written by a newer peerprep (schema {current}, this one knows {len(steps)}); upgrade peerprep"
            )
        if current < len(steps) and before is not None and current > 0:
            before()
        for number in range(current, len(steps)):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self.version != number:  # another process migrated meanwhile
                    self.db.execute("ROLLBACK")
                    continue
                steps[number](self.db)
                self.db.execute(f"PRAGMA user_version = {number + 1}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def schema(self) -> list[tuple[str, str]]:
        """(name, sql) of every table and index, for tests."""
        rows = self.db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
        return [(r[0], r[1]) for r in rows]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- item states --------------------------------------------------------------------------

    def states(self, deck_ids: Iterable[str] | None = None) -> dict[tuple[str, str], CardState]:
        """Current state of every studied item (of the given decks)."""
        if deck_ids is None:
            rows = self.db.execute("SELECT * FROM cards").fetchall()
        else:
            ids = list(deck_ids)
            marks = ",".join("?" * len(ids))
            rows = self.db.execute(f"SELECT * FROM cards WHERE deck_id IN ({marks})", ids).fetchall()
        return {(r["deck_id"], r["item_key"]): _state_from_row(r) for r in rows}

    def lean_states(self) -> dict[tuple[str, str], LeanState]:
        """Every studied item's state in lean form (for stats over many items)."""
        parse = datetime.fromisoformat
        return {
            (d, k): LeanState(st, s, parse(due) if due else None, parse(last) if last else None, bool(sus), bool(lee))
            for d, k, st, s, due, last, sus, lee in self.db.execute(
                "SELECT deck_id, item_key, state, stability, due, last_review, suspended, leech FROM cards"
            )
        }

    def state(self, deck_id: str, item_key: str) -> CardState | None:
        """Current state of one item, or None if never studied."""
        row = self.db.execute("SELECT * FROM cards WHERE deck_id = ? AND item_key = ?", (deck_id, item_key)).fetchone()
        return _state_from_row(row) if row else None

    def _put_state(self, deck_id: str, item_key: str, s: CardState) -> None:
        self.db.execute(
            """INSERT INTO cards (deck_id, item_key, state, step, stability, difficulty, due, last_review,
                                  reps, lapses, suspended, leech, buried_until)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (deck_id, item_key) DO UPDATE SET
                 state = excluded.state, step = excluded.step, stability = excluded.stability,
                 difficulty = excluded.difficulty, due = excluded.due, last_review = excluded.last_review,
                 reps = excluded.reps, lapses = excluded.lapses, suspended = excluded.suspended,
                 leech = excluded.leech, buried_until = excluded.buried_until""",
            (
                deck_id, item_key, s.state, s.step, s.stability, s.difficulty, iso(s.due), iso(s.last_review),
                s.reps, s.lapses, int(s.suspended), int(s.leech), iso(s.buried_until),
            ),
        )

    def set_flags(self, deck_id: str, item_key: str, suspended: bool | None = None, buried_until: datetime | None | bool = False) -> None:
        """Suspend/unsuspend or bury an item (creating a new-state row if it was never studied)."""
        with self.transaction():
            current = self.state(deck_id, item_key) or CardState()
            changes: dict[str, object] = {}
            if suspended is not None:
                changes["suspended"] = suspended
                if not suspended:
                    changes["leech"] = current.leech  # unsuspending keeps the leech tag
            if buried_until is not False:
                changes["buried_until"] = buried_until
            from dataclasses import replace

            self._put_state(deck_id, item_key, replace(current, **changes))  # type: ignore[arg-type]

    # -- the review log -----------------------------------------------------------------------

    def record(
        self,
        deck_id: str,
        item_key: str,
        ts: datetime,
        mode: str,
        rating: int | None,
        before: CardState | None,
        after: CardState | None,
        *,
        day: str,
        duration_ms: int | None = None,
        answer: str | None = None,
        correct: bool | None = None,
        session: str | None = None,
    ) -> int:
        """Append one answer to the log and (unless `after` is None) store the item's new state, in
        one committed transaction. Returns the log row id."""
        with self.transaction():
            cur = self.db.execute(
                """INSERT INTO reviews (deck_id, item_key, ts, rating, duration_ms, mode, answer, correct,
                                        state_before, state_after, session)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    deck_id, item_key, iso(ts), rating, duration_ms, mode, answer,
                    None if correct is None else int(correct),
                    None if before is None else json.dumps(before.to_json()),
                    None if after is None else json.dumps(after.to_json()),
                    session,
                ),
            )
            if after is not None:
                self._put_state(deck_id, item_key, after)
            missed = int(correct is False or rating == 1)
            self.db.execute("UPDATE cards SET misses = misses + ?, answers = answers + 1 WHERE deck_id = ? AND item_key = ?", (missed, deck_id, item_key))
            was_review = int(mode == "study" and rating is not None and before is not None and before.state == 2)
            self.db.execute(
                """INSERT INTO daily (day, mode, reviews, correct, graded, new_items, review_pass, review_total) VALUES (?, ?, 1, ?, ?, ?, ?, ?)
                   ON CONFLICT (day, mode) DO UPDATE SET reviews = reviews + 1, correct = correct + excluded.correct,
                     graded = graded + excluded.graded, new_items = new_items + excluded.new_items,
                     review_pass = review_pass + excluded.review_pass, review_total = review_total + excluded.review_total""",
                (day, mode, int(bool(correct)), int(correct is not None), int(before is None or before.state == 0), was_review * int((rating or 0) > 1), was_review),
            )
            return int(cur.lastrowid or 0)

    def bulk_load(self, rows: Iterable[tuple[object, ...]], states: dict[tuple[str, str], CardState]) -> int:
        """Append many log rows (deck, key, ts, rating, duration, mode, answer, correct, before,
        after, session, study day) and set item states, in one transaction; the per-day summary
        is updated to match. Used by imports and the benchmarks."""
        count = 0
        per_day: dict[tuple[str, str], list[int]] = {}
        per_item: dict[tuple[str, str], list[int]] = {}
        with self.transaction():
            for row in rows:
                *log, day = row
                self.db.execute(
                    """INSERT INTO reviews (deck_id, item_key, ts, rating, duration_ms, mode, answer, correct,
                                            state_before, state_after, session) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    log,
                )
                agg = per_day.setdefault((str(day), str(log[5])), [0, 0, 0, 0, 0, 0])
                agg[0] += 1
                if log[7] is not None:
                    agg[1] += int(bool(log[7]))
                    agg[2] += 1
                agg[3] += int(log[8] is None)
                if log[5] == "study" and log[3] is not None and log[8] is not None and json.loads(str(log[8])).get("state") == 2:
                    agg[4] += int(int(log[3]) > 1)  # type: ignore[call-overload]
                    agg[5] += 1
                item = per_item.setdefault((str(log[0]), str(log[1])), [0, 0])
                item[0] += int(log[7] == 0 or log[3] == 1)
                item[1] += 1
                count += 1
            for (day, mode), (n, c, g, new, rp, rt) in per_day.items():
                self.db.execute(
                    """INSERT INTO daily (day, mode, reviews, correct, graded, new_items, review_pass, review_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (day, mode) DO UPDATE SET reviews = reviews + excluded.reviews, correct = correct + excluded.correct,
                         graded = graded + excluded.graded, new_items = new_items + excluded.new_items,
                         review_pass = review_pass + excluded.review_pass, review_total = review_total + excluded.review_total""",
                    (day, mode, n, c, g, new, rp, rt),
                )
            for (deck_id, key), state in states.items():
                self._put_state(deck_id, key, state)
            for (deck_id, key), (misses, answers) in per_item.items():
                self.db.execute("UPDATE cards SET misses = misses + ?, answers = answers + ? WHERE deck_id = ? AND item_key = ?", (misses, answers, deck_id, key))
        return count

    def undo(self, review_id: int, restore: CardState | None, day: str) -> None:
        """Remove one log entry and put the item back as it was (None: never studied)."""
        with self.transaction():
            row = self.db.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None:
                return
            self.db.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
            if row["mode"] in ("study", "quiz", "exam") and row["state_after"] is not None:
                if restore is None:
                    self.db.execute("DELETE FROM cards WHERE deck_id = ? AND item_key = ?", (row["deck_id"], row["item_key"]))
                else:
                    self._put_state(row["deck_id"], row["item_key"], restore)
            before = row["state_before"]
            before_state = None if before is None else json.loads(before).get("state")
            was_new = before is None or before_state == 0
            was_review = int(row["mode"] == "study" and row["rating"] is not None and before_state == 2)
            self.db.execute(
                """UPDATE daily SET reviews = reviews - 1, correct = correct - ?, graded = graded - ?,
                   new_items = new_items - ?, review_pass = review_pass - ?, review_total = review_total - ?
                   WHERE day = ? AND mode = ?""",
                (int(row["correct"] == 1), int(row["correct"] is not None), int(was_new), was_review * int((row["rating"] or 0) > 1), was_review, day, row["mode"]),
            )
            self.db.execute(
                "UPDATE cards SET misses = MAX(0, misses - ?), answers = MAX(0, answers - 1) WHERE deck_id = ? AND item_key = ?",
                (int(row["correct"] == 0 or row["rating"] == 1), row["deck_id"], row["item_key"]),
            )

    def reviews(self, deck_id: str | None = None, item_key: str | None = None, since: datetime | None = None) -> list[Review]:
        """Log rows, oldest first, optionally for one deck/item or since a time."""
        sql = "SELECT * FROM reviews WHERE 1 = 1"
        args: list[object] = []
        if deck_id is not None:
            sql += " AND deck_id = ?"
            args.append(deck_id)
        if item_key is not None:
            sql += " AND item_key = ?"
            args.append(item_key)
        if since is not None:
            sql += " AND ts >= ?"
            args.append(iso(since))
        sql += " ORDER BY ts, id"
        return [self._review(r) for r in self.db.execute(sql, args)]

    @staticmethod
    def _review(r: sqlite3.Row) -> Review:
        return Review(
            id=r["id"], deck_id=r["deck_id"], item_key=r["item_key"], ts=datetime.fromisoformat(r["ts"]),
            rating=r["rating"], duration_ms=r["duration_ms"], mode=r["mode"], answer=r["answer"],
            correct=None if r["correct"] is None else bool(r["correct"]),
            state_before=json.loads(r["state_before"]) if r["state_before"] else None,
            state_after=json.loads(r["state_after"]) if r["state_after"] else None,
            session=r["session"],
        )

    def count_reviews(self) -> int:
        """Total reviews in the log (from the per-day summary: no scan)."""
        row = self.db.execute("SELECT COALESCE(SUM(reviews), 0) FROM daily").fetchone()
        return int(row[0])

    def daily(self, since_day: str | None = None) -> list[tuple[str, str, int, int, int, int]]:
        """(day, mode, reviews, correct, graded, new_items) rows of the per-day summary."""
        sql = "SELECT day, mode, reviews, correct, graded, new_items FROM daily"
        args: list[object] = []
        if since_day is not None:
            sql += " WHERE day >= ?"
            args.append(since_day)
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in self.db.execute(sql + " ORDER BY day, mode", args)]

    def today_counts(self, day: str) -> tuple[int, int]:
        """(new items introduced, reviews done) in study mode on a study day."""
        row = self.db.execute("SELECT COALESCE(SUM(new_items), 0), COALESCE(SUM(reviews - new_items), 0) FROM daily WHERE day = ? AND mode = 'study'", (day,)).fetchone()
        return int(row[0]), int(row[1])

    def due_counts(self, until: datetime) -> list[tuple[str, int, int]]:
        """(deck_id, state, count) of unsuspended items due by `until` (indexed on due)."""
        rows = self.db.execute(
            """SELECT deck_id, state, COUNT(*) FROM cards
               WHERE due <= ? AND suspended = 0 AND state > 0 AND (buried_until IS NULL OR buried_until <= ?)
               GROUP BY deck_id, state""",
            (iso(until), iso(until)),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def retention(self, since_day: str) -> tuple[int, int]:
        """(passed, total) study reviews of items that were in the review state, from a study day
        on (from the per-day summary: no scan of the log)."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(review_pass), 0), COALESCE(SUM(review_total), 0) FROM daily WHERE day >= ?", (since_day,)
        ).fetchone()
        return int(row[0]), int(row[1])

    def most_missed(self, limit: int = 10) -> list[tuple[str, str, int, int]]:
        """(deck_id, item_key, misses, answers) of the items missed most often (all time)."""
        rows = self.db.execute(
            "SELECT deck_id, item_key, misses, answers FROM cards WHERE misses > 0 ORDER BY misses DESC, deck_id, item_key LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]

    def next_due(self) -> datetime | None:
        """The earliest due time of any unsuspended studied item."""
        row = self.db.execute("SELECT MIN(due) FROM cards WHERE suspended = 0 AND state > 0").fetchone()
        return parse_iso(row[0]) if row and row[0] else None

    def due_aggregates(self, now: datetime, day_end: datetime) -> list[tuple[str, int, int, int]]:
        """(deck_id, state, due now, due before day_end) for unsuspended, unburied studied items."""
        rows = self.db.execute(
            """SELECT deck_id, state, SUM(due <= ?), SUM(due < ?) FROM cards
               WHERE suspended = 0 AND state > 0 AND (buried_until IS NULL OR buried_until <= ?)
               GROUP BY deck_id, state""",
            (iso(now), iso(day_end), iso(now)),
        ).fetchall()
        return [(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows]

    def key_flags(self) -> list[tuple[str, str, int, int, str | None]]:
        """(deck_id, item_key, state, suspended, buried_until) of every item with a row."""
        return list(self.db.execute("SELECT deck_id, item_key, state, suspended, buried_until FROM cards"))

    def studied_keys(self) -> list[tuple[str, str]]:
        """(deck_id, item_key) of every item with progress."""
        return [(r[0], r[1]) for r in self.db.execute("SELECT deck_id, item_key FROM cards")]

    def delete_progress(self, keys: Iterable[tuple[str, str]]) -> int:
        """Delete state and log rows of these items; returns how many items."""
        keys = list(keys)
        with self.transaction():
            for deck_id, key in keys:
                self.db.execute("DELETE FROM cards WHERE deck_id = ? AND item_key = ?", (deck_id, key))
                self.db.execute("DELETE FROM reviews WHERE deck_id = ? AND item_key = ?", (deck_id, key))
        return len(keys)

    # -- settings -----------------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        """A stored setting (JSON text) or None."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str | None) -> None:
        """Store (or with None, delete) a setting."""
        with self.transaction():
            if value is None:
                self.db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                self.db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- exams --------------------------------------------------------------------------------

    def save_exam(self, started: datetime, blueprint: str | None, seed: int | None, tutor: bool, spec: str) -> int:
        """Create an exam attempt; returns its id."""
        with self.transaction():
            cur = self.db.execute("INSERT INTO exams (started, blueprint, seed, tutor, spec) VALUES (?, ?, ?, ?, ?)", (iso(started), blueprint, seed, int(tutor), spec))
            return int(cur.lastrowid or 0)

    def finish_exam(self, exam_id: int, finished: datetime, result: str) -> None:
        """Store an attempt's result."""
        with self.transaction():
            self.db.execute("UPDATE exams SET finished = ?, result = ? WHERE id = ?", (iso(finished), result, exam_id))

    def exams(self) -> list[sqlite3.Row]:
        """All attempts, newest first."""
        return list(self.db.execute("SELECT * FROM exams ORDER BY id DESC"))

    def exam(self, exam_id: int) -> sqlite3.Row | None:
        """One attempt."""
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM exams WHERE id = ?", (exam_id,)).fetchone()
        return row

    # -- integrity and backups ----------------------------------------------------------------

    def integrity(self) -> str:
        """`PRAGMA integrity_check` result ("ok" when healthy)."""
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the database (SQLite's online backup)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")  # one per process: no clash
        dest = sqlite3.connect(str(tmp))
        try:
            self.db.backup(dest)
        except sqlite3.Error as exc:
            dest.close()
            tmp.unlink(missing_ok=True)
            raise StoreError(f"{target}: the backup failed ({exc})") from None
        dest.close()
        tmp.replace(target)


def restore_file(source: Path, target: Path) -> None:
    """Replace the database with a backup after checking that it is a healthy peerprep database."""
    try:
        probe = Store(source, migrate=False)
    except StoreError as exc:
        raise StoreError(f"{source}: not a usable backup ({exc})") from None
    try:
        if probe.integrity() != "ok":
            raise StoreError(f"{source}: the backup fails its integrity check")
        if probe.version > SCHEMA_VERSION:
            raise StoreError(f"{source}: the backup comes from a newer peerprep")
        names = {n for n, _ in probe.schema()}
        if probe.version > 0 and "reviews" not in names:
            raise StoreError(f"{source}: not a peerprep database")
    finally:
        probe.close()
    for suffix in ("-wal", "-shm"):
        extra = Path(str(target) + suffix)
        if extra.exists():
            extra.unlink()
    shutil.copyfile(source, target)


def utcnow_iso(dt: datetime) -> str:
    """UTC ISO text of an aware time."""
    return dt.astimezone(UTC).isoformat()

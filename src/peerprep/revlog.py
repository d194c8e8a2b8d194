"""Review history in the FSRS community CSV format: export, validated parsing, import into the log.

The format is the one the open-spaced-repetition tools (srs-benchmark, the FSRS optimizers) read:

    card_id,review_time,review_rating,review_state,review_duration

`review_time` is epoch milliseconds (UTC), `review_rating` 1-4, `review_state` Anki's revlog type
(0 learn, 1 review, 2 relearn, 3 filtered, 4 manual, -1 unknown) and `review_duration` milliseconds.
Columns are found by name and extra columns are allowed, so peerprep adds `deck_id,item_key` after
the five standard ones: other tools ignore them and an import gets each review back to its item.
An optional `factor` column (Anki's ease in permille, present in Anki-derived files) tells a
rescheduling filtered-deck review (kept) from a cram review (not a review for the memory model),
the rule fsrs-rs and Anki use.

Importing replays each item's reviews through `scheduler.review`, so the imported log has the
same before/after states as if the reviews had been done in peerprep.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from .decks import CARD_ID, DECK_SLUG
from .errors import PeerprepError
from .scheduler import LEARNING, NEW, RELEARNING, REVIEW, CardState, Settings, iso, review, study_day
from .store import Review
from .text import clean

COLUMNS = ("card_id", "review_time", "review_rating", "review_state", "review_duration")
MAPPING_COLUMNS = ("deck_id", "item_key")
REQUIRED = ("card_id", "review_time", "review_rating")  # state and duration may be absent (unknown)

# Anki revlog types, as `review_state` carries them.
LEARN, ANKI_REVIEW, RELEARN, FILTERED, MANUAL, UNKNOWN = 0, 1, 2, 3, 4, -1

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime can hold
MAX_INT = 2**63 - 1
CARD_ID_BITS = 53  # exact in a double, so JavaScript- and pandas-based tools keep it intact

# A progress key: a card id, optionally with the sibling suffix `decks.items_of` gives it.
_ID = CARD_ID.pattern.strip("^$")
ITEM_KEY = re.compile(rf"^{_ID}(?:@reverse|@c[0-9]{{1,4}}|/{_ID})?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_NUMBER = re.compile(r"^[+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")

MAX_KEPT_PROBLEMS = 1000


class RevlogError(PeerprepError):
    """Problems in a review-log file; the message names the first, `problems` holds them all."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        more = (total if total is not None else len(problems)) - 1
        suffix = f" (and {more} more error{'s' if more != 1 else ''})" if more > 0 else ""
        super().__init__(problems[0] + suffix)


@dataclass(frozen=True, slots=True)
class Row:
    """One parsed review of a community-format CSV file."""

    line: int  # 1-based line of the file the row starts on
    card_id: int
    review_time: int  # epoch milliseconds, UTC
    rating: int  # 1-4; 0 only on a manual (state 4) entry, which is not a review
    state: int  # Anki revlog type, -1 unknown
    duration_ms: int | None
    deck_id: str | None = None
    item_key: str | None = None
    factor: int | None = None  # Anki ease in permille, when the file has a `factor` column

    @property
    def time(self) -> datetime:
        """The review time as an aware UTC datetime."""
        return EPOCH + timedelta(milliseconds=self.review_time)

    @property
    def counts(self) -> bool:
        """True when the row is a review for the memory model (Anki/fsrs-rs: not manual, not cram)."""
        if self.rating not in (1, 2, 3, 4) or self.state == MANUAL:
            return False
        return not (self.state == FILTERED and not self.factor)


# -- export -----------------------------------------------------------------------------------


def card_id_for(deck_id: str, item_key: str) -> int:
    """A stable non-negative 53-bit integer id for an item (first 8 bytes of BLAKE2b)."""
    digest = hashlib.blake2b(f"{deck_id}\x1f{item_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << CARD_ID_BITS) - 1)


def review_state(r: Review) -> int:
    """The Anki revlog type of a logged review: 0 new/learning, 1 review, 2 relearning, 3 filtered.

    Reviews that did not schedule the item (cram, or an imported manual/cram entry: no state
    after) and quiz/exam answers count as filtered, like Anki's filtered decks.
    """
    if r.mode in ("cram", "quiz", "exam") or r.state_after is None:
        return FILTERED
    before = r.state_before
    if before is None:
        return LEARN
    state = before.get("state")
    if state in (NEW, LEARNING):
        return LEARN
    if state == REVIEW:
        return ANKI_REVIEW
    if state == RELEARNING:
        return RELEARN
    return UNKNOWN


def _ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def export_csv(reviews: Iterable[Review]) -> str:
    """The reviews that have a rating as community-format CSV, plus `deck_id,item_key` columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + MAPPING_COLUMNS)
    for r in reviews:
        if r.rating is None:
            continue
        writer.writerow(
            (
                card_id_for(r.deck_id, r.item_key),
                _ms(r.ts),
                r.rating,
                review_state(r),
                "" if r.duration_ms is None else r.duration_ms,
                r.deck_id,
                r.item_key,
            )
        )
    return out.getvalue()


# -- parsing ----------------------------------------------------------------------------------


def _shown(value: str) -> str:
    text = value if len(value) <= 40 else value[:37] + "..."
    return repr(clean(text))


class _Problems:
    def __init__(self, name: str) -> None:
        self.name = clean(name).replace("\n", "\\n").replace("\t", "\\t")  # one line, whatever the path
        self.kept: list[str] = []
        self.total = 0

    def add(self, line: int, column: int | None, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_KEPT_PROBLEMS:
            where = f"{self.name}:{line}:{column}" if column is not None else f"{self.name}:{line}"
            self.kept.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.total:
            raise RevlogError(self.kept, self.total)


def _int(value: str, low: int, high: int) -> int | None:
    text = value.strip()
    if not _INTEGER.match(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def parse_csv(name: str, text: str) -> list[Row]:
    """Parse and validate a community-format review log; every problem is reported as NAME:LINE:COL."""
    problems = _Problems(name)
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RevlogError([f"{problems.name}:1:1: unreadable CSV header ({exc})"]) from None
    if header is None or not any(h.strip() for h in header):
        raise RevlogError([f"{problems.name}:1:1: empty file; expected the header " + ",".join(COLUMNS)])
    names = [h.strip() for h in header]
    index: dict[str, int] = {}
    for col, column_name in enumerate(names, 1):
        if column_name in index:
            problems.add(1, col, f"column {_shown(column_name)} appears twice")
        else:
            index[column_name] = col - 1
    for needed in REQUIRED:
        if needed not in index:
            problems.add(1, len(names) + 1, f"missing column {needed!r}; the header must name " + ",".join(COLUMNS))
    mapped = [c for c in MAPPING_COLUMNS if c in index]
    if len(mapped) == 1:
        other = MAPPING_COLUMNS[1] if mapped[0] == MAPPING_COLUMNS[0] else MAPPING_COLUMNS[0]
        problems.add(1, index[mapped[0]] + 1, f"column {mapped[0]!r} needs a {other!r} column too")
    problems.raise_if_any()

    rows: list[Row] = []
    width = len(names)
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(line, None, f"unreadable CSV ({exc}) in the record starting here")
            break  # the reader cannot resynchronise after a broken quote
        start, line = line, reader.line_num + 1
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != width:
            if len(fields) < width:
                problems.add(start, len(fields) + 1, f"missing field {names[len(fields)]!r} ({len(fields)} fields, the header has {width})")
            else:
                problems.add(start, width + 1, f"extra field {_shown(fields[width])} ({len(fields)} fields, the header has {width})")
            continue
        row = _row(start, fields, index, problems)
        if row is not None:
            rows.append(row)
    problems.raise_if_any()
    return rows


def _row(line: int, fields: list[str], index: dict[str, int], problems: _Problems) -> Row | None:
    before = problems.total

    def get(column: str) -> tuple[str, int] | None:
        at = index.get(column)
        return None if at is None else (fields[at], at + 1)

    def integer(column: str, low: int, high: int, what: str, optional: bool = False) -> int | None:
        found = get(column)
        if found is None:
            return None
        value, col = found
        if optional and not value.strip():
            return None
        number = _int(value, low, high)
        if number is None:
            problems.add(line, col, f"{column} must be {what}, not {_shown(value)}")
        return number

    card_id = integer("card_id", 0, MAX_INT, "a non-negative integer")
    review_time = integer("review_time", 0, MAX_TIME_MS, "epoch milliseconds (UTC) between 1970 and 9999")
    state = integer("review_state", -1, 4, "-1 to 4 (0 learn, 1 review, 2 relearn, 3 filtered, 4 manual, -1 unknown)", optional=True)
    state = UNKNOWN if state is None else state
    rating_field = get("review_rating")
    assert rating_field is not None
    rating = _int(rating_field[0], 0, 4)
    if rating is None or (rating == 0 and state != MANUAL):
        problems.add(line, rating_field[1], f"review_rating must be 1-4 (1 again, 2 hard, 3 good, 4 easy), not {_shown(rating_field[0])}")
    duration: int | None = None
    found = get("review_duration")
    if found is not None and found[0].strip():
        value = found[0].strip()
        if _NUMBER.match(value) and float(value) <= MAX_INT:
            duration = round(float(value))
        else:
            problems.add(line, found[1], f"review_duration must be milliseconds (a non-negative number), not {_shown(found[0])}")
    factor = integer("factor", 0, MAX_INT, "an integer (Anki ease in permille)", optional=True)
    deck_id = item_key = None
    if "deck_id" in index:
        deck_field, key_field = get("deck_id"), get("item_key")
        assert deck_field is not None and key_field is not None
        deck_id, item_key = deck_field[0].strip() or None, key_field[0].strip() or None
        if deck_id is not None and not DECK_SLUG.match(deck_id):
            problems.add(line, deck_field[1], f"deck_id must be a deck id (lowercase letters, digits, single hyphens), not {_shown(deck_field[0])}")
        if item_key is not None and not ITEM_KEY.match(item_key):
            problems.add(line, key_field[1], f"item_key must be a card id (letters, digits, '.', '_', '-') with an optional @reverse, @cN or /sub suffix, not {_shown(key_field[0])}")
        if (deck_id is None) != (item_key is None):
            blank = deck_field if deck_id is None else key_field
            problems.add(line, blank[1], "deck_id and item_key must both be given or both be empty")
    if problems.total != before:
        return None
    assert card_id is not None and review_time is not None and rating is not None
    return Row(line, card_id, review_time, rating, state, duration, deck_id, item_key, factor)


# -- import -----------------------------------------------------------------------------------


def _json(state: CardState | None) -> str | None:
    return None if state is None else json.dumps(state.to_json())


def to_store_rows(
    rows: Sequence[Row],
    deck_id: str | None,
    settings: Settings,
    tz: tzinfo | None,
    *,
    current: Mapping[tuple[str, str], CardState] | None = None,
    name: str = "reviews",
) -> tuple[list[tuple[object, ...]], dict[tuple[str, str], CardState]]:
    """Rows for `Store.bulk_load` (mode "import") and the items' final states, by replaying each
    item's reviews in time order through the scheduler.

    Rows without `deck_id,item_key` belong to `deck_id` with item key `str(card_id)`. Items in
    `current` (their state in the progress database) continue from it; their imported reviews
    must all be later than their last review, so importing a file twice is refused.
    Manual entries and cram reviews are logged but leave the state alone (no state after), and a
    learning entry after review entries is a reset in Anki, so the item starts again as new.
    """
    problems = _Problems(name)
    if deck_id is not None and not DECK_SLUG.match(deck_id):
        raise PeerprepError(f"{_shown(deck_id)} is not a deck id (lowercase letters, digits, single hyphens)")
    current = current or {}
    by_item: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if row.deck_id is not None and row.item_key is not None:
            key = (row.deck_id, row.item_key)
        elif deck_id is not None:
            key = (deck_id, str(row.card_id))
        else:
            problems.add(row.line, None, "no deck_id,item_key for this review; pass --deck DECK_ID to import the file's cards into one deck")
            continue
        by_item.setdefault(key, []).append(row)
    problems.raise_if_any()

    out: list[tuple[str, tuple[object, ...]]] = []
    states: dict[tuple[str, str], CardState] = {}
    for (deck, item_key), item_rows in by_item.items():
        item_rows.sort(key=lambda r: (r.review_time, r.line))
        state = current.get((deck, item_key))
        if state is not None and state.last_review is not None and item_rows[0].time <= state.last_review:
            problems.add(
                item_rows[0].line, None,
                f"review of {deck}/{clean(item_key)} at {iso(item_rows[0].time)} is not after its last review in the progress database "
                f"({iso(state.last_review)}); reviews can only be added after the existing ones (was the file imported already?)",
            )
            continue
        rng = random.Random(f"{deck}\x1f{item_key}")  # str seeds are hashed with SHA-512: stable across runs
        previous: int | None = None  # Anki type of the previous review that counted
        for row in item_rows:
            moment = row.time
            before = state
            after: CardState | None = None
            if row.counts:
                if row.state == LEARN and previous not in (None, LEARN, UNKNOWN):
                    before = None  # Anki "reset"/"forget": a new block of learning entries starts afresh
                after = review(before or CardState(), row.rating, moment, settings, tz, rng)
                state = after
                previous = row.state
            stamp = iso(moment)
            assert stamp is not None
            out.append(
                (
                    stamp,
                    (
                        deck, item_key, stamp, row.rating if row.rating in (1, 2, 3, 4) else None, row.duration_ms, "import",
                        None, None, _json(before), _json(after), None,
                        study_day(moment, tz, settings.rollover_hour).isoformat(),
                    ),
                )
            )
        if state is not None and state is not current.get((deck, item_key)):
            states[(deck, item_key)] = state
    problems.raise_if_any()
    out.sort(key=lambda pair: pair[0])
    return [row for _, row in out], states

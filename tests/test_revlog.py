"""revlog: community-format CSV export, validated parsing, import by replay; a real Anki revlog."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerprep import revlog
from peerprep.errors import PeerprepError
from peerprep.revlog import Row, card_id_for, export_csv, parse_csv, to_store_rows
from peerprep.scheduler import LEARNING, RELEARNING, REVIEW, CardState, Settings, review
from peerprep.store import Store, state_from_json

from .ankihelp import import_apkg

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures"
JOSH = FIXTURES / "revlogs" / "pyfsrs_josh_head.csv"
HEADER = "card_id,review_time,review_rating,review_state,review_duration\n"
DECK = "empathy-foundations"
T0 = 1_772_463_600_000  # 2026-03-02T15:00:00Z in epoch milliseconds


def ms(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)


def study(store: Store, deck: str, key: str, answers: list[tuple[datetime, int]], s: Settings) -> CardState:
    """Log study answers the way a session does (the state before is None for a new item)."""
    state: CardState | None = None
    for moment, rating in answers:
        after = review(state or CardState(), rating, moment, s, UTC, random.Random(0))
        store.record(deck, key, moment, "study", rating, state, after, day=moment.date().isoformat(), duration_ms=4000)
        state = after
    assert state is not None
    return state


# -- export -------------------------------------------------------------------------------------


def test_card_id_is_a_stable_53_bit_integer() -> None:
    # Pinned: files exported earlier must keep matching; changing the hash breaks users' tools.
    assert card_id_for(DECK, "empathy-definition") == 8863861626163494
    assert card_id_for(DECK, "term-validation@reverse") == 3850362706368093
    assert card_id_for("a", "bc") != card_id_for("ab", "c")
    assert all(0 <= card_id_for(DECK, f"k{n}") < 2**53 for n in range(200))


def test_export_writes_one_row_per_rated_review_with_its_anki_state() -> None:
    store = Store(":memory:")
    s = Settings(fuzz=False)
    key = "empathy-definition"
    last = study(store, DECK, key, [(NOW, 3), (NOW + timedelta(minutes=10), 3), (NOW + timedelta(days=3), 1), (NOW + timedelta(days=3, minutes=10), 3)], s)
    later = NOW + timedelta(days=5)
    store.record(DECK, key, later, "cram", 4, last, None, day="2026-03-07", duration_ms=None)
    store.record(DECK, key, later + timedelta(minutes=1), "exam", None, last, None, day="2026-03-07")  # unanswered: no rating
    quiz_after = review(last, 3, later + timedelta(minutes=2), s, UTC, random.Random(0))
    store.record(DECK, key, later + timedelta(minutes=2), "quiz", 3, last, quiz_after, day="2026-03-07", duration_ms=1200)
    states = [r.state_before["state"] if r.state_before else None for r in store.reviews()]
    assert states[:4] == [None, LEARNING, REVIEW, RELEARNING]  # the log really went through each state

    cid = card_id_for(DECK, key)
    assert export_csv(store.reviews()) == (
        "card_id,review_time,review_rating,review_state,review_duration,deck_id,item_key\n"
        f"{cid},{T0},3,0,4000,{DECK},{key}\n"
        f"{cid},{T0 + 600_000},3,0,4000,{DECK},{key}\n"
        f"{cid},{T0 + 3 * 86_400_000},1,1,4000,{DECK},{key}\n"
        f"{cid},{T0 + 3 * 86_400_000 + 600_000},3,2,4000,{DECK},{key}\n"
        f"{cid},{T0 + 5 * 86_400_000},4,3,,{DECK},{key}\n"
        f"{cid},{T0 + 5 * 86_400_000 + 120_000},3,3,1200,{DECK},{key}\n"
    )


def test_export_quotes_keys_and_keeps_milliseconds() -> None:
    store = Store(":memory:")
    moment = datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=UTC)
    after = review(CardState(), 3, moment, Settings(), UTC, random.Random(0))
    store.record(DECK, "q1", moment, "study", 3, None, after, day="2026-03-02")
    rows = list(csv.DictReader(io.StringIO(export_csv(store.reviews()))))
    assert rows == [
        {
            "card_id": str(card_id_for(DECK, "q1")), "review_time": str(T0 + 123), "review_rating": "3",
            "review_state": "0", "review_duration": "", "deck_id": DECK, "item_key": "q1",
        }
    ]


# -- parsing ------------------------------------------------------------------------------------


def test_parse_finds_columns_by_name_and_accepts_extra_columns() -> None:
    text = (
        "\ufeffreview_rating,card_id,review_time,review_state,review_duration,deck_id,item_key,note\n"
        f'3,1,{T0},0,1500.4,{DECK},term-validation@reverse,"a, quoted\nnote"\n'
        "\n"
        f"1,1,{T0 + 600_000},,,,,x\n"
        f"0,2,{T0},4,0,,,manual entry\n"
    )
    assert parse_csv("r.csv", text) == [
        Row(2, 1, T0, 3, 0, 1500, DECK, "term-validation@reverse"),
        Row(5, 1, T0 + 600_000, 1, -1, None),
        Row(6, 2, T0, 0, 4, 0),
    ]


def test_parse_reads_the_optional_factor_column() -> None:
    text = "card_id,review_time,review_rating,review_state,review_duration,ivl,last_ivl,factor\n"
    text += f"5,{T0},3,3,100,1,-600,2500\n5,{T0 + 1},3,3,100,1,-600,0\n5,{T0 + 2},3,3,100,,,\n"
    rows = parse_csv("anki.csv", text)
    assert [(r.factor, r.counts) for r in rows] == [(2500, True), (0, False), (None, False)]


def test_parse_the_real_fixture() -> None:
    rows = parse_csv(JOSH.name, JOSH.read_text())
    assert len(rows) == 1476
    assert len({r.card_id for r in rows}) == 98
    assert rows[0] == Row(2, 1711684180217, 1711744352250, 1, -1, 25060)
    assert {r.rating for r in rows} <= {1, 2, 3, 4}


def test_every_bad_row_is_reported_with_line_and_column() -> None:
    text = HEADER + "\n".join(
        [
            f"1,{T0},5,0,100",  # 2: rating
            f"x,{T0},3,0,100",  # 3: card id
            "1,-5,3,0,100",  # 4: time
            f"1,{T0},3,7,100",  # 5: state
            f"1,{T0},3,0,-1",  # 6: duration
            f"1,{T0},3,0",  # 7: too few fields
            f"1,{T0},3,0,1,9",  # 8: too many fields
            f"1,{T0},0,1,1",  # 9: rating 0 outside a manual entry
            f"1,{T0},0,4,1",  # 10: fine: a manual entry
        ]
    )
    with pytest.raises(revlog.RevlogError) as info:
        parse_csv("bad.csv", text)
    assert info.value.problems == [
        "bad.csv:2:3: review_rating must be 1-4 (1 again, 2 hard, 3 good, 4 easy), not '5'",
        "bad.csv:3:1: card_id must be a non-negative integer, not 'x'",
        "bad.csv:4:2: review_time must be epoch milliseconds (UTC) between 1970 and 9999, not '-5'",
        "bad.csv:5:4: review_state must be -1 to 4 (0 learn, 1 review, 2 relearn, 3 filtered, 4 manual, -1 unknown), not '7'",
        "bad.csv:6:5: review_duration must be milliseconds (a non-negative number), not '-1'",
        "bad.csv:7:5: missing field 'review_duration' (4 fields, the header has 5)",
        "bad.csv:8:6: extra field '9' (6 fields, the header has 5)",
        "bad.csv:9:3: review_rating must be 1-4 (1 again, 2 hard, 3 good, 4 easy), not '0'",
    ]
    assert str(info.value) == info.value.problems[0] + " (and 7 more errors)"
    assert isinstance(info.value, PeerprepError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "f.csv:1:1: empty file; expected the header card_id,review_time,review_rating,review_state,review_duration"),
        ("\n\n", "f.csv:1:1: empty file; expected the header card_id,review_time,review_rating,review_state,review_duration"),
        ("card_id,review_time,review_state\n", "f.csv:1:4: missing column 'review_rating'; the header must name card_id,review_time,review_rating,review_state,review_duration"),
        ("card_id,review_time,review_rating,card_id\n", "f.csv:1:4: column 'card_id' appears twice"),
        ("card_id,review_time,review_rating,deck_id\n", "f.csv:1:4: column 'deck_id' needs a 'item_key' column too"),
        (HEADER + f'1,{T0},3,0,"10\n', "f.csv:2: unreadable CSV (unexpected end of data) in the record starting here"),
        (HEADER + f"1,{T0},3,0,1\x00\n", "f.csv:2:5: review_duration must be milliseconds (a non-negative number), not '1\u2400'"),
    ],
)
def test_header_and_structure_errors(text: str, message: str) -> None:
    with pytest.raises(PeerprepError) as info:
        parse_csv("f.csv", text)
    assert str(info.value) == message


def test_deck_and_item_columns_are_validated() -> None:
    text = "card_id,review_time,review_rating,review_state,review_duration,deck_id,item_key\n"
    text += f"1,{T0},3,0,1,Bad Deck,k\n1,{T0},3,0,1,{DECK},=cmd()\n1,{T0},3,0,1,{DECK},\n"
    with pytest.raises(revlog.RevlogError) as info:
        parse_csv("m.csv", text)
    assert [p.split(": ")[0] for p in info.value.problems] == ["m.csv:2:6", "m.csv:3:7", "m.csv:4:7"]
    assert info.value.problems[2].endswith("deck_id and item_key must both be given or both be empty")


def test_untrusted_text_in_messages_is_cleaned() -> None:
    evil = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[2J"
    with pytest.raises(PeerprepError) as info:
        parse_csv("e\x1b[31m.csv", HEADER + f"{evil},{T0},3,0,1\n")
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message
    assert message.startswith("e.csv:2:1: card_id must be a non-negative integer, not 'click")


CSVISH = st.text(alphabet=st.sampled_from(list('0123456789,,,,-+."\n\r\x00\x1b x@/ab')), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), CSVISH))
def test_parser_never_raises_anything_but_a_peerprep_error(text: str) -> None:
    for candidate in (text, HEADER + text, "deck_id,item_key," + HEADER + text):
        try:
            rows = parse_csv("h.csv", candidate)
        except PeerprepError as exc:
            assert "\x1b" not in str(exc) and "\n" not in str(exc)
        else:
            for r in rows:
                assert r.rating in (1, 2, 3, 4) or (r.rating == 0 and r.state == 4)
                assert -1 <= r.state <= 4 and r.card_id >= 0 and 0 <= r.review_time
                assert (r.deck_id is None) == (r.item_key is None)


# -- import -------------------------------------------------------------------------------------


def _rows(*specs: tuple[int, int, int, int]) -> list[Row]:
    """(card_id, minutes after T0, rating, state) -> rows on consecutive lines."""
    return [Row(n + 2, cid, T0 + minutes * 60_000, rating, state, 1000) for n, (cid, minutes, rating, state) in enumerate(specs)]


def test_import_without_a_deck_is_refused_with_a_hint() -> None:
    with pytest.raises(PeerprepError) as info:
        to_store_rows(_rows((1, 0, 3, 0)), None, Settings(), UTC, name="r.csv")
    assert str(info.value) == "r.csv:2: no deck_id,item_key for this review; pass --deck DECK_ID to import the file's cards into one deck"
    with pytest.raises(PeerprepError, match="not a deck id"):
        to_store_rows(_rows((1, 0, 3, 0)), "Not A Slug", Settings(), UTC)


def test_import_replays_each_item_in_time_order() -> None:
    s = Settings(fuzz=False)
    day = 24 * 60
    # out of order on purpose, two items interleaved
    rows = _rows((7, 2 * day, 3, 1), (7, 0, 3, 0), (8, 5, 1, 0), (7, 10, 3, 0))
    out, states = to_store_rows(rows, DECK, s, UTC)

    expected: CardState | None = None
    chain = []
    for minutes, rating in [(0, 3), (10, 3), (2 * day, 3)]:
        before = expected
        expected = review(before or CardState(), rating, NOW + timedelta(minutes=minutes), s, UTC, random.Random(1))
        chain.append((before, expected))
    assert states[(DECK, "7")] == expected  # no fuzz: the RNG cannot matter
    assert set(states) == {(DECK, "7"), (DECK, "8")}

    item7 = [r for r in out if r[1] == "7"]
    assert [r[2] for r in out] == sorted(str(r[2]) for r in out)  # the whole batch in time order
    assert [(r[0], r[3], r[4], r[5], r[6], r[7], r[10], r[11]) for r in item7] == [
        (DECK, 3, 1000, "import", None, None, None, "2026-03-02"),
        (DECK, 3, 1000, "import", None, None, None, "2026-03-02"),
        (DECK, 3, 1000, "import", None, None, None, "2026-03-04"),
    ]
    assert [r[2] for r in item7] == ["2026-03-02T15:00:00.000+00:00", "2026-03-02T15:10:00.000+00:00", "2026-03-04T15:00:00.000+00:00"]
    for row, (before, after) in zip(item7, chain):
        assert row[8] == (None if before is None else json.dumps(before.to_json()))
        assert row[9] == json.dumps(after.to_json())


def test_imported_rows_load_into_the_store() -> None:
    store = Store(":memory:")
    out, states = to_store_rows(_rows((7, 0, 3, 0), (7, 10, 3, 0), (8, 5, 1, 0)), DECK, Settings(), UTC)
    assert store.bulk_load(out, states) == 3
    assert [(r.item_key, r.mode, r.rating) for r in store.reviews()] == [("7", "import", 3), ("8", "import", 1), ("7", "import", 3)]
    assert store.daily() == [("2026-03-02", "import", 3, 0, 0, 2)]  # two new items that day
    assert store.states() == states


def test_study_day_uses_the_zone_and_rollover() -> None:
    # 08:30 UTC is 02:30 in Chicago: before the 4 am rollover, so the study day before
    row = Row(2, 1, ms(datetime(2026, 3, 2, 8, 30, tzinfo=UTC)), 3, 0, None)
    out, _ = to_store_rows([row], DECK, Settings(), ZoneInfo("America/Chicago"))
    assert out[0][11] == "2026-03-01"
    out, _ = to_store_rows([row], DECK, Settings(rollover_hour=0), ZoneInfo("America/Chicago"))
    assert out[0][11] == "2026-03-02"


def test_manual_and_cram_entries_are_logged_but_leave_the_state_alone() -> None:
    rows = [
        Row(2, 1, T0, 3, 0, 100),
        Row(3, 1, T0 + 60_000, 0, 4, None),  # manual reschedule (no rating)
        Row(4, 1, T0 + 120_000, 4, 3, 100),  # cram: filtered, no ease factor
        Row(5, 1, T0 + 180_000, 3, 3, 100, factor=2500),  # filtered deck that reschedules: a review
    ]
    out, states = to_store_rows(rows, DECK, Settings(fuzz=False), UTC)
    first_after = out[0][9]
    assert [(r[3], r[8] is None, r[9] is None) for r in out] == [(3, True, False), (None, False, True), (4, False, True), (3, False, False)]
    assert out[1][8] == out[2][8] == out[3][8] == first_after  # unchanged by the manual and cram rows
    assert states[(DECK, "1")].reps == 2


def test_a_learning_entry_after_reviews_is_an_anki_reset() -> None:
    rows = _rows((1, 0, 3, 0), (1, 3 * 1440, 3, 1), (1, 4 * 1440, 3, 0), (1, 4 * 1440 + 10, 3, 0))
    out, states = to_store_rows(rows, DECK, Settings(fuzz=False), UTC)
    assert [r[8] is None for r in out] == [True, False, True, False]
    assert states[(DECK, "1")].reps == 2  # counted from the reset
    # unknown states (-1) never reset
    rows = _rows((1, 0, 3, -1), (1, 3 * 1440, 3, -1), (1, 4 * 1440, 3, -1))
    out, _ = to_store_rows(rows, DECK, Settings(fuzz=False), UTC)
    assert [r[8] is None for r in out] == [True, False, False]


def test_import_continues_from_the_current_state_and_refuses_older_reviews() -> None:
    s = Settings(fuzz=False)
    current = review(CardState(), 3, NOW - timedelta(days=1), s, UTC, random.Random(0))
    out, states = to_store_rows(_rows((1, 0, 3, 1)), DECK, s, UTC, current={(DECK, "1"): current})
    assert state_from_json(json.loads(str(out[0][8]))) == CardState(
        state=current.state, step=current.step, stability=round(current.stability or 0, 6), difficulty=round(current.difficulty or 0, 6),
        due=current.due, last_review=current.last_review, reps=1,
    )
    assert states[(DECK, "1")].reps == 2
    with pytest.raises(PeerprepError) as info:
        to_store_rows(_rows((1, 0, 3, 1)), DECK, s, UTC, current={(DECK, "1"): states[(DECK, "1")]}, name="again.csv")
    assert str(info.value).startswith("again.csv:2: review of empathy-foundations/1 at 2026-03-02T15:00:00.000+00:00 is not after its last review")
    assert "imported already" in str(info.value)


def test_import_export_import_round_trip_is_exact() -> None:
    rows = parse_csv(JOSH.name, JOSH.read_text())
    tz = ZoneInfo("America/Chicago")
    out, states = to_store_rows(rows, "josh", Settings(), tz)
    assert len(out) == 1476 and len(states) == 98
    store = Store(":memory:")
    store.bulk_load(out, states)
    text = export_csv(store.reviews())
    again = parse_csv("export.csv", text)
    assert {(r.deck_id, r.item_key) for r in again} == {("josh", str(r.card_id)) for r in rows}
    out2, states2 = to_store_rows(again, None, Settings(), tz)
    assert states2 == states
    assert sorted(out2, key=lambda r: (str(r[2]), str(r[1]))) == sorted(out, key=lambda r: (str(r[2]), str(r[1])))


def test_import_is_deterministic() -> None:
    rows = parse_csv(JOSH.name, JOSH.read_text())
    first = to_store_rows(rows[:300], "josh", Settings(), UTC)
    assert to_store_rows(rows[:300], "josh", Settings(), UTC) == first
    assert to_store_rows(list(reversed(rows[:300])), "josh", Settings(), UTC)[1] == first[1]


# -- a real Anki review log ------------------------------------------------------------------------


@pytest.fixture
def utc_process(monkeypatch: pytest.MonkeyPatch) -> object:
    """Anki's backend counts days in the process's local zone: pin it to UTC for the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield None
    monkeypatch.undo()
    time.tzset()


def test_anki_revlog_imports_and_replays_to_ankis_own_memory_states(tmp_path: Path, utc_process: object) -> None:
    pytest.importorskip("anki")
    os.environ.setdefault("RUST_LOG", "error")
    from anki.collection import Collection

    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        import_apkg(col, FIXTURES / "anki" / "sample_with_reviews.apkg")
        assert col.db is not None
        log = col.db.all("SELECT cid, id, ease, type, time, factor FROM revlog ORDER BY id")
        memory = {cid: json.loads(data) for cid, data in col.db.all("SELECT id, data FROM cards")}
    finally:
        col.close()

    # Anki's revlog as a community-format file, the way the FSRS tools convert it
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["card_id", "review_time", "review_rating", "review_state", "review_duration", "factor"])
    writer.writerows(log)
    rows = parse_csv("anki.csv", out.getvalue())
    assert len(rows) == len(log) > 100
    assert {r.state for r in rows} >= {0, 1, 2}

    _, states = to_store_rows(rows, "anki-sample", Settings(), UTC)
    assert len(states) == len(memory) == 10
    for cid, data in memory.items():
        state = states[("anki-sample", str(cid))]
        # Anki's FSRS memory state, computed by Anki from the same log with the default FSRS-6 parameters
        assert state.stability == pytest.approx(data["s"], rel=5e-3), cid
        assert state.difficulty == pytest.approx(data["d"], abs=0.01), cid

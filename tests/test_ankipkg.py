"""Imports from Anki packages and text exports: cards, decks that pass `check`, replayed progress,
and hostile archives refused with a clear error and nothing written."""

from __future__ import annotations

import html
import io
import json
import re
import sqlite3
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from datetime import timezone
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerprep import ankipkg, catalog, checker, deckwriter, importer
from peerprep.decks import CARD_ID, items_of, parse_text
from peerprep.errors import PeerprepError
from peerprep.model import Card
from peerprep.scheduler import LEARNING, RELEARNING, REVIEW, Settings
from peerprep.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "anki"
MODERN = FIXTURES / "sample_with_reviews.apkg"
LEGACY = FIXTURES / "sample_with_reviews_legacy.apkg"
NOTES_TXT = FIXTURES / "sample_with_reviews_notes.txt"

# GUIDs of the sample notes and the card ids they become.
EMPATHY = "anki-" + b"F`YQ]XbBM_".hex()
PARAPHRASE = "anki-" + b"DS*V}71}e@".hex()
CLOZE = "anki-" + b"IMQr67X,v>".hex()
MCQ_MEDIA = "anki-" + b"u_=xS&72fd".hex()

EXPECTED_CARDS = [  # (id, type, front or cloze text, back)
    (EMPATHY, "basic", "What is empathy?", "Understanding and sharing another person's feelings."),
    ("anki-" + b"@F-=0tpeG".hex(), "basic", "Empathy vs. sympathy?", "Empathy = feeling with; sympathy = feeling for."),
    ("anki-" + b"z-C-/qs1oq".hex(), "basic", "Name the 4 attributes of empathy (Wiseman)",
     "Perspective taking; staying out of judgement; recognising emotion; communicating it."),
    ("nYQAjxelk4", "basic", "Which response is most empathic?", "A) Cheer up!\nB) That sounds really hard.\nC) Others have it worse."),
    (MCQ_MEDIA, "basic", "Best first step when a peer is upset?", "A) Give advice\nB) Change topic\nC) Listen and reflect\n\nMedia: pp-icon.png"),
    ("anki-" + b"uUBi9O,&Z7".hex(), "basic", "Active listening includes…", "A) Interrupting\nB) Paraphrasing\nC) Checking phone"),
    (PARAPHRASE, "reverse", "Paraphrase", "Restating what someone said in your own words"),
    (CLOZE, "cloze", "{{Open}} questions invite longer answers; {{closed}} questions invite yes/no.", None),
]


def _shape(cards: list[Card]) -> list[tuple[str, str, str | None, str | None]]:
    return [(c.id, c.type, c.text if c.type == "cloze" else c.front, c.back) for c in cards]


def _collection_bytes(package: Path, member: str) -> bytes:
    with zipfile.ZipFile(package) as zf:
        data = zf.read(member)
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def _memory_db(data: bytes) -> sqlite3.Connection:
    buf = bytearray(data)
    buf[18] = buf[19] = 1  # WAL header: deserialize wants a rollback-journal database
    db = sqlite3.connect(":memory:")
    db.deserialize(bytes(buf))
    return db


# ---------------------------------------------------------------------------------------------
# Reading packages


def test_modern_package_prefers_anki21b_over_the_dummy_collection() -> None:
    col = ankipkg.read_package(MODERN)
    assert (col.member, col.schema) == ("collection.anki21b", 18)
    assert len(col.notes) == 8 and len(col.cards) == 10 and len(col.revlog) == 115
    assert col.media == ["pp-icon.png"]
    kinds = {nt.name: (nt.cloze, nt.fields, len(nt.templates)) for nt in col.notetypes.values()}
    assert kinds["Cloze"] == (True, ("Text", "Back Extra"), 1)
    assert kinds["Basic (and reversed card)"] == (False, ("Front", "Back"), 2)
    assert col.decks[1791277200172] == "PeerPrep::Empathy"


def test_legacy_package_reads_collection_anki21() -> None:
    col = ankipkg.read_package(LEGACY)
    assert (col.member, col.schema) == ("collection.anki21", 11)
    assert len(col.notes) == 8 and len(col.revlog) == 115
    assert col.media == ["pp-icon.png"]
    assert col.decks[1791277200180] == "PeerPrep::Listening"


def test_import_maps_note_types_to_card_types() -> None:
    result = importer.import_notes(ankipkg.read_package(MODERN), "sample")
    assert _shape(result.cards) == EXPECTED_CARDS
    assert result.title == "PeerPrep"
    assert result.skipped_empty == 0 and not result.warnings
    by_id = {c.id: c for c in result.cards}
    assert by_id[EMPATHY].tags == ("empathy-definition", "peerprep")
    assert by_id["nYQAjxelk4"].explanation == "Answer: B\nExplanation: Validating the feeling, without minimising."
    assert by_id[MCQ_MEDIA].explanation == "Answer: C\nExplanation: Reflect before solving."
    assert result.media == ["pp-icon.png"]
    assert result.suspended == [f"{CLOZE}@c1"]
    assert sorted(result.card_keys.values()) == sorted(
        [c[0] for c in EXPECTED_CARDS[:7]] + [f"{PARAPHRASE}@reverse", f"{CLOZE}@c1", f"{CLOZE}@c2"]
    )


def test_legacy_and_modern_packages_import_the_same_cards() -> None:
    modern = importer.import_notes(ankipkg.read_package(MODERN), "sample")
    legacy = importer.import_notes(ankipkg.read_package(LEGACY), "sample")
    assert legacy.cards == modern.cards
    assert legacy.card_keys == modern.card_keys


def test_import_one_anki_deck_and_its_subdecks() -> None:
    col = ankipkg.read_package(MODERN)
    result = importer.import_notes(col, "listening", anki_deck="peerprep::listening")
    assert [c.id for c in result.cards] == [EXPECTED_CARDS[5][0], PARAPHRASE, CLOZE]
    assert result.title == "PeerPrep / Listening"
    with pytest.raises(PeerprepError, match=r'sample_with_reviews\.apkg: no Anki deck named "Nope"; the package has: Default, PeerPrep'):
        importer.import_notes(col, "x", anki_deck="Nope")


def test_bad_deck_id_is_refused() -> None:
    with pytest.raises(PeerprepError, match='deck id "My Deck" must be a lowercase slug.*e.g. my-deck'):
        importer.import_notes(ankipkg.read_package(MODERN), "My Deck")


# ---------------------------------------------------------------------------------------------
# Pieces of the mapping


def test_cloze_conversion() -> None:
    assert importer.convert_cloze("{{c1::Open}} and {{c2::closed::kind}}") == ("{{Open}} and {{closed::kind}}", [1, 2])
    assert importer.convert_cloze("{{c2::Paris}} is in {{c1::France}}") == ("{{Paris}} is in {{France}}", [2, 1])
    assert importer.convert_cloze("{{c1::}} gone, {{literal}} braces") == (" gone, { {literal} } braces", [])


def test_html_reduced_to_text() -> None:
    raw = "<div>A &amp; B<br>C&nbsp;D</div><div><b>E</b> &lt;tag&gt;</div><script>alert(1)</script><!-- x -->[sound:a.mp3]"
    assert importer.html_to_text(raw) == "A & B\nC D\nE <tag>"
    assert importer.html_to_text("\x1b]8;;http://x\x07link\x1b]8;;\x07 \x07") == "link \u2407"
    assert importer.media_refs('<img src="a b.jpg"><img src=\'c.png\'> [sound:d.mp3] <img src="http://x/y.png">') == ["a b.jpg", "c.png", "d.mp3"]


def test_tags_become_simple_words() -> None:
    assert [importer.sanitize_tag(t) for t in ("Empathy::Definition", "a/b c", "::", "Ünïcode_ok")] == [
        "empathy-definition", "a-b-c", "", "ünïcode_ok",
    ]


def test_guid_ids_are_kept_or_encoded_reversibly() -> None:
    assert importer.card_id_for_guid("nYQAjxelk4") == "nYQAjxelk4"
    assert importer.card_id_for_guid("F`YQ]XbBM_") == EMPATHY
    assert importer.card_id_for_guid("anki-61") == "anki-" + b"anki-61".hex()  # would be ambiguous as is
    assert importer.guid_for_card_id(EMPATHY) == "F`YQ]XbBM_"
    long = "é" * 80
    assert importer.card_id_for_guid(long).startswith("anki-h-") and importer.guid_for_card_id(importer.card_id_for_guid(long)) is None


@given(st.text(min_size=1, max_size=40))
def test_guid_encoding_round_trips(guid: str) -> None:
    card_id = importer.card_id_for_guid(guid)
    assert CARD_ID.fullmatch(card_id)
    if card_id.startswith("anki-h-"):  # over 61 bytes of GUID: hashed, not reversible
        assert len(guid.encode()) > 61 and importer.guid_for_card_id(card_id) is None
    else:
        assert importer.guid_for_card_id(card_id) == guid


# ---------------------------------------------------------------------------------------------
# Text files


def test_anki_notes_export_imports_like_the_package() -> None:
    result = importer.import_text(NOTES_TXT, "sample")
    assert _shape(result.cards) == EXPECTED_CARDS
    assert result.title == "PeerPrep"
    assert [c.tags for c in result.cards] == [c.tags for c in importer.import_notes(ankipkg.read_package(MODERN), "s").cards]
    assert result.cards[3].explanation == "B\nValidating the feeling, without minimising."


def test_anki_export_headers_comments_and_global_values(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(
        "#separator:semicolon\n#html:false\n#notetype:Basic (and reversed card)\n#deck:Course::Week 1\n#tags:week1\n"
        "Front one;Back <b>one</b>\n# a comment row\n\"Front; two\";\"Back\ntwo\"\nFront three;\n",
        encoding="utf-8",
    )
    result = importer.import_text(path, "course")
    assert [(c.type, c.front, c.back, c.tags) for c in result.cards] == [
        ("reverse", "Front one", "Back <b>one</b>", ("week1",)),
        ("reverse", "Front; two", "Back\ntwo", ("week1",)),
    ]
    assert result.skipped_empty == 1
    assert result.title == "Course / Week 1"


def test_quizlet_pairs_tab_and_comma(tmp_path: Path) -> None:
    tab = tmp_path / "tab.txt"
    tab.write_text("Empathy\tFeeling with someone\nSympathy\tFeeling for someone\n\n", encoding="utf-8")
    result = importer.import_text(tab, "terms")
    assert [(c.type, c.front, c.back) for c in result.cards] == [
        ("basic", "Empathy", "Feeling with someone"), ("basic", "Sympathy", "Feeling for someone"),
    ]
    assert all(re.fullmatch(r"q-[0-9a-f]{12}", c.id) for c in result.cards)
    assert [c.id for c in importer.import_text(tab, "terms").cards] == [c.id for c in result.cards]  # stable
    comma = tmp_path / "comma.txt"
    comma.write_text("OARS, open questions, affirmations, reflections, summaries\r\n", encoding="utf-8")
    (card,) = importer.import_text(comma, "terms", reverse=True).cards
    assert (card.type, card.front, card.back) == ("reverse", "OARS", "open questions, affirmations, reflections, summaries")


def test_csv_and_tsv_with_header_rows(tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text(
        'Front,Back,Tags,Explanation\n"A, with comma","line1\nline2","mi skills",Because.\nonly front,,,\n,,,\nsame,x,,\nsame,y,,\n',
        encoding="utf-8",
    )
    result = importer.import_text(path, "cards")
    assert [(c.front, c.back, c.tags, c.explanation) for c in result.cards] == [
        ("A, with comma", "line1\nline2", ("mi", "skills"), "Because."), ("same", "x", (), None), ("same", "y", (), None),
    ]
    assert result.skipped_empty == 1
    assert result.cards[2].id == result.cards[1].id + "-2" and result.warnings
    tsv = tmp_path / "cards.tsv"
    tsv.write_text("id\tquestion\tanswer\nq1\tWhat is SAMHSA?\tAn agency\n", encoding="utf-8")
    (card,) = importer.import_text(tsv, "cards", reverse=True).cards
    assert (card.id, card.type, card.front, card.back) == ("q1", "reverse", "What is SAMHSA?", "An agency")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a\tb\nno separator\nc\td\nnone here\n", r"bad\.txt:2: no tab between term and definition \(and 1 more line\)$"),
        (b"front,back\nq1,a1\n", None),
        (b"id,front,back\nbad id!,a,b\n", r"bad\.txt:2: id 'bad id!' must be letters"),
        (b"ok\tfine\n\xff\xfe bad\n", r"bad\.txt:2: not UTF-8 text \(byte 0xff\)"),
        (b"PK\x03\x04\x00\x00binary", r"bad\.txt: a zip file, not a text export"),
        (b"\n\n", r"bad\.txt: no cards to import$"),
        (b"front,back\n,\nq,\n", r"bad\.txt: no cards to import \(1 empty notes skipped\)"),
        (b"#separator:tab\n#guid column:zero\nx\ty\n", r'bad\.txt:1: "#guid column:" must be a column number'),
        (b"#separator:tab\n#html:false\nq\ta\n# comment\nq2\ta\x00b\n", r"bad\.txt:5: binary data \(a NUL byte\)"),
    ],
)
def test_text_problems_name_the_file_and_line(tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    if message is None:
        assert len(importer.import_text(path, "ok").cards) == 1
        return
    with pytest.raises(PeerprepError, match=message) as info:
        importer.import_text(path, "ok")
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_text_import_only_raises_peerprep_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "any.txt"
    path.write_text(text, encoding="utf-8")
    try:
        result = importer.import_text(path, "any")
    except PeerprepError:
        return
    yaml_text = deckwriter.write_deck_yaml("any", result.title, result.cards, "fuzz")
    parsed = parse_text("any.yaml", yaml_text)
    assert [p for p in parsed.problems if p.severity == "error"] == []


# ---------------------------------------------------------------------------------------------
# Writing decks


def _check(tmp_path: Path, text: str, name: str = "deck.yaml") -> tuple[list[str], tuple[Card, ...]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    results = []
    for fast in (True, False):
        cat = catalog.load([str(path)], include_bundled_decks=False, fast=fast)
        report = checker.check(cat)
        results.append(([p.format() for p in report.problems if p.severity == "error"], cat.decks[0].cards if cat.decks else ()))
    assert results[0][0] == results[1][0]
    return results[1]


def _without_lines(cards: tuple[Card, ...] | list[Card]) -> list[Card]:
    from dataclasses import replace

    return [replace(c, line=0, questions=tuple(replace(q, line=0) for q in c.questions)) for c in cards]


@pytest.mark.parametrize("source", ["modern", "legacy", "text"])
def test_imported_deck_passes_check(tmp_path: Path, source: str) -> None:
    if source == "text":
        result = importer.import_text(NOTES_TXT, "sample")
    else:
        result = importer.import_notes(ankipkg.read_package(MODERN if source == "modern" else LEGACY), "sample")
    text = deckwriter.write_deck_yaml("sample", result.title, result.cards, "Anki: sample_with_reviews")
    errors, cards = _check(tmp_path, text)
    assert errors == []
    assert _without_lines(cards) == _without_lines(result.cards)
    assert text.startswith("peerprep: 1\nid: sample\ntitle: PeerPrep\nsource: 'Anki: sample_with_reviews'\ncards:\n")


def test_bundled_decks_round_trip_through_the_writer(tmp_path: Path) -> None:
    cat = catalog.load([], include_bundled_decks=True)
    assert cat.decks
    for deck in cat.decks:
        text = deckwriter.write_deck_yaml(deck.id, deck.title, list(deck.cards), deck.source or "")
        text = text.replace("cards:\n", f"blueprint: {deck.blueprint}\ncards:\n", 1) if deck.blueprint else text
        path = tmp_path / f"{deck.id}.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = catalog.load([str(path)], include_bundled_decks=False, fast=False)
        assert [p.format() for p in loaded.errors] == []
        assert _without_lines(loaded.decks[0].cards) == _without_lines(deck.cards)


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85\ufeff") | st.just("\n"), min_size=1, max_size=40).filter(str.strip)


@settings(max_examples=100, deadline=None)
@given(front=_TEXT, back=_TEXT, tag=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))
def test_writer_keeps_any_text(front: str, back: str, tag: str) -> None:
    card = Card(id="c1", type="reverse", front=front, back=back, tags=(tag,))
    text = deckwriter.write_deck_yaml("deck", "Title", [card], "")
    for fast in (True, False):
        parsed = parse_text("deck.yaml", text, fast=fast)
        assert [p for p in parsed.problems if p.severity == "error"] == []
        assert parsed.deck is not None
        assert _without_lines(list(parsed.deck.cards)) == [card]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "infinity", ".NaN", "null", "~", "no", "1e5", "0x10", "- a", "#x", "a: b"])
def test_writer_quotes_text_yaml_would_read_otherwise(value: str) -> None:
    text = deckwriter.write_deck_yaml("deck", "Title", [Card(id="c1", type="basic", front=value, back="b")], "")
    for fast in (True, False):  # rapidyaml's JSON would turn a plain `inf` into `.inf`
        parsed = parse_text("deck.yaml", text, fast=fast)
        assert parsed.deck is not None and parsed.deck.cards[0].front == value


def test_writer_refuses_what_check_would_reject() -> None:
    card = Card(id="a", type="basic", front="f", back="b")
    with pytest.raises(PeerprepError, match="must be a lowercase slug"):
        deckwriter.write_deck_yaml("Bad_Id", "t", [card], "")
    with pytest.raises(PeerprepError, match="no cards to write"):
        deckwriter.write_deck_yaml("ok", "t", [], "")
    with pytest.raises(PeerprepError, match='card id "a" is used twice'):
        deckwriter.write_deck_yaml("ok", "t", [card, card], "")


# ---------------------------------------------------------------------------------------------
# Round trips through real packages


def _genanki_package(path: Path, cards: list[Card]) -> None:
    import genanki

    def field(text: str) -> str:
        return html.escape(text, quote=False).replace("\n", "<br>")

    deck = genanki.Deck(2059400110, "Round::Trip")
    for card in cards:
        if card.type == "cloze":
            counter = iter(range(1, 100))

            def number(m: re.Match[str], counter: Iterator[int] = counter) -> str:
                return f"{{{{c{next(counter)}::{field(m.group(1))}}}}}"

            text = re.sub(r"\{\{(.+?)\}\}", number, card.text or "")
            note = genanki.Note(genanki.CLOZE_MODEL, [text, field(card.explanation or "")], guid=card.id, tags=list(card.tags))
        else:
            model = genanki.BASIC_AND_REVERSED_CARD_MODEL if card.type == "reverse" else genanki.BASIC_MODEL
            note = genanki.Note(model, [field(card.front or ""), field(card.back or "")], guid=card.id, tags=list(card.tags))
        deck.add_note(note)
    genanki.Package(deck).write_to_file(str(path), timestamp=1_700_000_000.0)


def test_deck_to_genanki_package_and_back(tmp_path: Path) -> None:
    cards = [
        Card(id="oars", type="basic", front="What does <OARS> stand for?", back="Open questions & affirmations,\nreflections, summaries", tags=("mi", "skills")),
        Card(id="term.validation", type="reverse", front="Validation", back="Accepting a feeling as understandable"),
        Card(id="dims_4", type="cloze", text="SAMHSA's dimensions: {{health}}, {{home::where}} and {{purpose}}.", explanation="Four in all"),
        Card(id="quotes", type="basic", front='He said "no" — ok?', back="Ünïcode ✓ & 'quotes'"),
    ]
    package = tmp_path / "round.apkg"
    _genanki_package(package, cards)
    col = ankipkg.read_package(package)
    assert col.member == "collection.anki2"
    result = importer.import_notes(col, "round-trip")
    assert result.cards == cards
    assert result.title == "Round / Trip"
    keys = sorted(result.card_keys.values())
    assert keys == sorted(i.key for i in items_of(_deck("round-trip", cards)))
    errors, _ = _check(tmp_path, deckwriter.write_deck_yaml("round-trip", result.title, result.cards, "round.apkg"))
    assert errors == []


def _deck(deck_id: str, cards: list[Card]):  # type: ignore[no-untyped-def]
    from peerprep.model import Deck

    return Deck(deck_id, "t", "p", tuple(cards))


def test_package_made_by_anki_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Optional reverse cards, cloze numbers out of order, a manual reschedule and a suspension,
    made by the real Anki backend (the technique of /work/shared/tools/anki)."""
    monkeypatch.setenv("RUST_LOG", "error")
    anki_collection = pytest.importorskip("anki.collection")
    from anki.scheduler.v3 import CardAnswer

    (tmp_path / "anki").mkdir()
    col = anki_collection.Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        deck = col.decks.id("Course::Part 1")
        optional = col.models.by_name("Basic (optional reversed card)")
        both = col.new_note(optional)
        both["Front"], both["Back"], both["Add Reverse"] = "A &lt; B", "yes<br>two", "y"
        col.add_note(both, deck)
        single = col.new_note(optional)
        single["Front"], single["Back"] = "Q2", "A2"
        col.add_note(single, deck)
        cloze = col.new_note(col.models.by_name("Cloze"))
        cloze["Text"] = "{{c2::Paris::city}} is in {{c1::France}}"
        col.add_note(cloze, deck)
        card_ids = list(col.find_cards(""))
        for cid in card_ids[:3]:
            card = col.get_card(cid)
            card.start_timer()
            states = col._backend.get_scheduling_states(card.id)
            col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))
        col.sched.set_due_date([card_ids[1]], "3")  # a manual entry (revlog type 4): not an answer
        col.sched.suspend_cards([card_ids[4]])
        assert col.db.scalar("select count() from revlog") == 4
        out = tmp_path / "anki.apkg"
        col.export_anki_package(
            out_path=str(out), options=anki_collection.ExportAnkiPackageOptions(with_scheduling=True, with_media=True, legacy=False), limit=None,
        )
        ords = {cid: col.get_card(cid).ord for cid in card_ids}
    finally:
        col.close()
    package = ankipkg.read_package(out)
    assert package.member == "collection.anki21b"
    result = importer.import_notes(package, "course")
    a, b, c = result.cards
    assert (a.type, a.front, a.back) == ("reverse", "A < B", "yes\ntwo")
    assert (b.type, b.front, b.back) == ("basic", "Q2", "A2")  # no reverse card in Anki: basic
    assert (c.type, c.text) == ("cloze", "{{Paris::city}} is in {{France}}")
    assert result.title == "Course / Part 1"
    cloze_cards = [cid for cid in card_ids[3:]]
    assert {result.card_keys[cid] for cid in cloze_cards} == {f"{c.id}@c1", f"{c.id}@c2"}
    for cid in cloze_cards:  # Anki's c2 (ord 1) is the first deletion in the text
        assert result.card_keys[cid] == f"{c.id}@c{1 if ords[cid] == 1 else 2}"
    assert result.suspended == [result.card_keys[card_ids[4]]]
    history = importer.review_history(package, [result])
    assert [h.item_key for h in history] == [a.id, f"{a.id}@reverse", b.id]
    assert all(h.rating == 3 for h in history)


# ---------------------------------------------------------------------------------------------
# Progress


def _usable_revlog_rows(package: Path, member: str) -> int:
    db = _memory_db(_collection_bytes(package, member))
    return int(db.execute(
        "SELECT count(*) FROM revlog WHERE type < 4 AND ease BETWEEN 1 AND 4 AND cid IN (SELECT id FROM cards)"
    ).fetchone()[0])


@pytest.mark.parametrize(("package", "member"), [(MODERN, "collection.anki21b"), (LEGACY, "collection.anki21")])
def test_progress_replays_into_the_store(package: Path, member: str) -> None:
    col = ankipkg.read_package(package)
    result = importer.import_notes(col, "sample")
    history = importer.review_history(col, [result])
    rows, states = importer.replay(history, Settings(), timezone.utc, importer.anki_suspended([result]))
    store = Store(":memory:")
    assert store.bulk_load(rows, states) == _usable_revlog_rows(package, member) == 115
    reviews = store.reviews("sample")
    assert len(reviews) == 115 and {r.mode for r in reviews} == {"import"}
    assert [r.ts for r in reviews] == sorted(r.ts for r in reviews)
    assert store.count_reviews() == 115
    saved = store.states(["sample"])
    assert set(saved) == {("sample", k) for k in result.card_keys.values()}
    for (_, key), state in saved.items():
        assert state.state in (LEARNING, REVIEW, RELEARNING), key
        assert state.due is not None and state.last_review is not None and state.due > state.last_review
        assert state.suspended == (key == f"{CLOZE}@c1")
    # The same FSRS-6 defaults as Anki: the replayed memory matches what Anki stored per card.
    db = _memory_db(_collection_bytes(MODERN, "collection.anki21b"))
    for cid, data in db.execute("SELECT id, data FROM cards"):
        anki_s = json.loads(data)["s"]
        ours = saved[("sample", result.card_keys[cid])].stability
        assert ours == pytest.approx(anki_s, rel=0.02)


def test_replay_is_deterministic_and_continues_each_item_in_order() -> None:
    col = ankipkg.read_package(MODERN)
    result = importer.import_notes(col, "sample")
    history = importer.review_history(col, [result])
    first = importer.replay(history, Settings(), timezone.utc)
    again = importer.replay(list(reversed(history)), Settings(), timezone.utc)
    assert first == again
    rows, states = first
    per_item: dict[str, list[tuple[object, ...]]] = {}
    for row in rows:
        per_item.setdefault(str(row[1]), []).append(row)
    for key, item_rows in per_item.items():
        assert item_rows[0][8] is None  # first answer: never studied before
        for prev, nxt in zip(item_rows, item_rows[1:]):
            assert nxt[8] == prev[9]  # each answer starts from the state the previous one left
        assert json.loads(str(item_rows[-1][9]))["reps"] == len(item_rows) == states[("sample", key)].reps


def test_history_skips_manual_unrated_and_impossible_entries(tmp_path: Path) -> None:
    db = _memory_db(_legacy())
    cid = db.execute("SELECT id FROM cards ORDER BY id LIMIT 1").fetchone()[0]
    rows = [(2**62, 3, 1), (-5, 3, 1), (1791279668001, 0, 1), (1791279668002, 3, 4), (1791279668003, 2, 5), (1791279668004, 4, 3)]
    db.executemany("INSERT INTO revlog VALUES (?, ?, 0, ?, 1, 0, 2500, 1000, ?)", [(i, cid, ease, kind) for i, ease, kind in rows])
    db.commit()
    package = tmp_path / "extra.apkg"
    package.write_bytes(_zip([("collection.anki21", db.serialize())]))
    col = ankipkg.read_package(package)
    result = importer.import_notes(col, "sample")
    history = importer.review_history(col, [result])
    assert len(col.revlog) == 115 + 6 and len(history) == 116  # only the filtered-deck answer (type 3) counts
    rows_, states = importer.replay(history, Settings(), timezone.utc)
    assert len(rows_) == 116 and all(s.due is not None for s in states.values())


def test_history_skips_cards_that_were_not_imported() -> None:
    col = ankipkg.read_package(MODERN)
    result = importer.import_notes(col, "listening", anki_deck="PeerPrep::Listening")
    history = importer.review_history(col, [result])
    assert {h.item_key for h in history} == set(result.card_keys.values())
    assert 0 < len(history) < 115


# ---------------------------------------------------------------------------------------------
# Hostile archives


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted in one case
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def _with_schema(data: bytes, version: int) -> bytes:
    db = _memory_db(data)
    db.execute("UPDATE col SET ver = ?", (version,))
    db.commit()
    return db.serialize()


def _declared_size(archive: bytes, size: int) -> bytes:
    """The archive with its first member's uncompressed size rewritten (local and central headers)."""
    out = bytearray(archive)
    local = out.find(b"PK\x03\x04")
    struct.pack_into("<I", out, local + 22, size)
    central = out.find(b"PK\x01\x02")
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def _flip_deflate_byte(archive: bytes) -> bytes:
    out = bytearray(archive)
    local = out.find(b"PK\x03\x04")
    name_len, extra_len = struct.unpack_from("<HH", out, local + 26)
    out[local + 30 + name_len + extra_len + 20] ^= 0xFF
    return bytes(out)


def _anki_tables_as_views() -> bytes:
    db = sqlite3.connect(":memory:")
    for table in ("col", "cards", "revlog"):
        db.execute(f"CREATE TABLE {table} (id INTEGER)")
    db.execute("CREATE VIEW notes AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r")
    db.commit()
    return db.serialize()


def _legacy() -> bytes:
    return _collection_bytes(LEGACY, "collection.anki21")


def _modern_raw() -> bytes:
    return _collection_bytes(MODERN, "collection.anki21b")


SMALL = ankipkg.Limits(max_total_bytes=1024 * 1024)
HOSTILE: list[tuple[str, Callable[[], bytes], str, ankipkg.Limits]] = [
    ("not-a-zip", lambda: b"just some text, not a zip archive", r"not an Anki package \(not a zip file\)", ankipkg.Limits()),
    ("no-collection", lambda: _zip([("media", b"{}"), ("0", b"x")]), r"no collection\.anki21b, collection\.anki21 or collection\.anki2 inside", ankipkg.Limits()),
    ("dot-dot", lambda: _zip([("../escape.txt", b"x"), ("collection.anki2", _legacy())]), r"unsafe member name '\.\./escape\.txt'", ankipkg.Limits()),
    ("absolute", lambda: _zip([("collection.anki2", _legacy()), ("/etc/cron.d/x", b"x")]), r"unsafe member name '/etc/cron\.d/x'", ankipkg.Limits()),
    ("backslash", lambda: _zip([("media\\..\\..\\x", b"x"), ("collection.anki2", _legacy())]), r"unsafe member name", ankipkg.Limits()),
    ("drive", lambda: _zip([("C:/x", b"x"), ("collection.anki2", _legacy())]), r"unsafe member name 'C:/x'", ankipkg.Limits()),
    ("duplicate", lambda: _zip([("collection.anki2", _legacy()), ("collection.anki2", b"x")]), r"appears twice", ankipkg.Limits()),
    ("deflate-bomb", lambda: _zip([("collection.anki2", b"\0" * (3 * 1024 * 1024))], zipfile.ZIP_DEFLATED), r"member 'collection\.anki2' is too large \(over 1 MB decompressed\)", SMALL),
    ("declared-size", lambda: _declared_size(_zip([("collection.anki2", _legacy())]), 0xFFFF_FFF0), r"member 'collection\.anki2' is too large \(over 200 MB", ankipkg.Limits()),
    ("lying-size", lambda: _declared_size(_zip([("collection.anki2", b"\0" * 200_000)], zipfile.ZIP_DEFLATED), 1000), r"member 'collection\.anki2' is damaged", ankipkg.Limits()),
    ("bad-crc", lambda: _flip_deflate_byte(_zip([("collection.anki2", _legacy())], zipfile.ZIP_DEFLATED)), r"member 'collection\.anki2' is damaged", ankipkg.Limits()),
    ("zstd-frame-size", lambda: _zip([("collection.anki21b", zstandard.ZstdCompressor(write_content_size=True).compress(b"\0" * (3 * 1024 * 1024)))]), r"collection\.anki21b is too large \(over 1 MB", SMALL),
    ("zstd-stream", lambda: _zip([("collection.anki21b", _zstd_unsized(b"\0" * (3 * 1024 * 1024)))]), r"collection\.anki21b is too large \(over 1 MB", SMALL),
    ("zstd-garbage", lambda: _zip([("collection.anki21b", b"\x28\xb5\x2f\xfd" + b"\xff" * 64)]), r"collection\.anki21b is (not valid zstd data|damaged)", ankipkg.Limits()),
    ("not-sqlite", lambda: _zip([("collection.anki2", b"hello " * 100)]), r"collection\.anki2 is not an SQLite database", ankipkg.Limits()),
    ("corrupt-sqlite", lambda: _zip([("collection.anki2", _legacy()[:100] + b"\xa5" * (len(_legacy()) - 100))]), r"collection\.anki2 is damaged", ankipkg.Limits()),
    ("truncated-sqlite", lambda: _zip([("collection.anki2", _legacy()[:5000])]), r"collection\.anki2 is damaged", ankipkg.Limits()),
    ("not-anki", lambda: _zip([("collection.anki2", _empty_sqlite())]), r"collection\.anki2 is not an Anki collection \(no col, notes, cards, revlog table\)", ankipkg.Limits()),
    ("views", lambda: _zip([("collection.anki2", _anki_tables_as_views())]), r"not an Anki collection \(no notes table\)", ankipkg.Limits()),
    ("newer-schema", lambda: _zip([("collection.anki21", _with_schema(_legacy(), 19))]), r"made by a newer Anki \(collection schema 19; this peerprep reads up to 18\)", ankipkg.Limits()),
    ("newer-schema-zstd", lambda: _zip([("collection.anki21b", zstandard.ZstdCompressor().compress(_with_schema(_modern_raw(), 42)))]), r"collection schema 42", ankipkg.Limits()),
    ("newer-package", lambda: _zip([("meta", b"\x08\x04"), ("collection.anki21b", zstandard.ZstdCompressor().compress(_modern_raw()))]), r"package format 4", ankipkg.Limits()),
    ("bad-media-map", lambda: _zip([("collection.anki2", _legacy()), ("media", b"[1, 2")]), r"the media map is damaged", ankipkg.Limits()),
    ("work-limit", lambda: _zip([("collection.anki2", _big_revlog())]), r"takes too long to read", ankipkg.Limits(max_sql_steps=0)),
    ("note-limit", lambda: _zip([("collection.anki2", _legacy())]), r"more than 3 notes", ankipkg.Limits(max_notes=3)),
]


def _big_revlog() -> bytes:
    """The legacy sample with 20,000 extra review-log rows: enough SQLite work to reach the cap."""
    db = _memory_db(_legacy())
    db.executemany("INSERT INTO revlog VALUES (?, 1, 0, 3, 1, 0, 2500, 1000, 1)", [(i,) for i in range(1, 20_001)])
    db.commit()
    return db.serialize()


def _zstd_unsized(data: bytes) -> bytes:
    out = io.BytesIO()
    with zstandard.ZstdCompressor(write_content_size=False).stream_writer(out, closefd=False) as writer:
        writer.write(data)
    return out.getvalue()


def _empty_sqlite() -> bytes:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE something (x)")
    db.commit()
    return db.serialize()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize(("name", "build", "message", "limits"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_archive_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, build: Callable[[], bytes], message: str, limits: ankipkg.Limits
) -> None:
    box = tmp_path / "box"
    scratch = tmp_path / "scratch"
    box.mkdir()
    scratch.mkdir()
    package = box / f"{name}.apkg"
    package.write_bytes(build())
    monkeypatch.chdir(box)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = _snapshot(tmp_path)
    with pytest.raises(PeerprepError, match=message) as info:
        ankipkg.read_package(package, limits)
    text = str(info.value)
    assert text.startswith(f"{package}: ") and "\n" not in text
    assert _snapshot(tmp_path) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=4))
def test_damaged_collections_only_raise_peerprep_errors(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    data = bytearray(_legacy())
    for position, value in flips:
        data[position % len(data)] = value
    package = tmp_path / "flipped.apkg"
    package.write_bytes(_zip([("collection.anki21", bytes(data))]))
    try:
        col = ankipkg.read_package(package)
        result = importer.import_notes(col, "flipped")
        importer.replay(importer.review_history(col, [result]), Settings(), timezone.utc, importer.anki_suspended([result]))
    except PeerprepError as exc:
        assert str(exc).startswith(str(package)) and "\n" not in str(exc)


def test_the_sample_passes_the_same_limits() -> None:
    assert len(ankipkg.read_package(MODERN, ankipkg.Limits(max_total_bytes=1024 * 1024)).notes) == 8


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(PeerprepError, match=r"nope\.apkg: cannot read the file"):
        ankipkg.read_package(tmp_path / "nope.apkg")
    with pytest.raises(PeerprepError, match="not a regular file"):
        ankipkg.read_package(tmp_path)

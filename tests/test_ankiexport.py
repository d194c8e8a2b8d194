"""Exports: packages and delimited text proved by importing them into a real Anki collection; the
Markdown study guide proved by rendering it with a CommonMark parser."""

from __future__ import annotations

import itertools
import re
import sqlite3
import warnings
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection, ImportCsvRequest
from anki.notes import Note
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from peerprep import ankiexport, catalog, decks
from peerprep.errors import PeerprepError
from peerprep.model import Blueprint, Deck, Domain
from peerprep.text import clean

from .ankihelp import import_apkg
from .conftest import NOW

SAMPLE = """\
peerprep: 1
id: sample-export
title: "Sample <b>export</b> & co"
source: The deck-level source
blueprint: icrc-pr
cards:
  - id: b1
    domain: advocacy
    tags: [core, first aid]
    front: "What is <script>alert(1)</script>?"
    back: "Line one\\nLine two"
    explanation: Because.
    source: Card source
  - id: r1
    type: reverse
    domain: ethical-responsibility
    front: Validation
    back: Acknowledging that feelings make sense
  - id: c1
    type: cloze
    text: "Recovery has {{health}}, {{home}}, {{purpose::a reason}} and {{community}}."
    explanation: SAMHSA's four dimensions.
  - id: m1
    type: mcq
    domain: advocacy
    question: Which reply shows empathy?
    choices:
      - {text: At least people care., why: Minimises the feeling.}
      - {text: That sounds exhausting., correct: true, why: Reflects the feeling.}
      - {text: Set firmer boundaries., why: Advice first.}
    explanation: Reflecting the feeling is the core of empathy.
    source: Empathy article
  - id: mu1
    type: multi
    question: Which are trauma-informed principles?
    choices:
      - {text: Safety, correct: true, why: A principle.}
      - {text: Compliance, why: Not a principle.}
      - {text: Trustworthiness, correct: true, why: A principle.}
  - id: tf1
    type: truefalse
    statement: Validating a feeling means agreeing with the choice.
    answer: false
    explanation: Validation is not agreement.
  - id: ty1
    type: typed
    prompt: In OARS, what does the R stand for?
    answer: Reflective listening
    accept: [reflections, reflecting]
  - id: s1
    type: scenario
    domain: mentoring-education
    tags: [maria]
    vignette: Maria says her case manager "talks down to her".
    explanation: Scenario-level explanation.
    questions:
      - id: best-reply
        type: mcq
        question: What is the best first reply?
        choices:
          - {text: "It sounds frustrating.", correct: true, why: Reflects.}
          - {text: "Report the case manager.", why: Jumps ahead.}
      - id: agree
        type: truefalse
        domain: advocacy
        statement: Agreeing the case manager is wrong validates Maria.
        answer: false
        explanation: Own explanation.
        source: Own source
"""
SAMPLE_NOTES = 9  # 7 cards + 2 scenario sub-items
SAMPLE_CARDS = 13  # basic 1, reverse 2, cloze 4, mcq/multi/truefalse/typed 4, scenario 2
DECK_NAME = "PeerPrep::Sample <b>export</b> & co"

HOSTILE = """\
peerprep: 1
id: hostile
title: "Hostile\\n# deck :: title"
cards:
  - id: h1
    front: "a \\e[31mred\\e[0m \\e]8;;http://evil\\e\\\\click\\e]8;;\\e\\\\ <img src=x onerror=alert(1)>"
    back: "# heading\\n[link](javascript:x)\\n    indented code\\n1. listed\\n- bullet\\n---"
    explanation: "<script>alert(1)</script> &amp; ![img](http://x/y.png) `code` | a | b |"
    source: "{{c1::not a deletion}} [sound:evil.mp3] <a href='javascript:x'>x</a>"
  - id: h2
    type: mcq
    question: "<b>bold</b> [x](javascript:alert(1))"
    choices:
      - {text: "# not a heading", correct: true, why: "<img src=x onerror=alert(2)>"}
      - {text: "[y]: javascript:z", why: "**strong** _em_"}
"""


def _deck(text: str, path: str = "deck.yaml") -> Deck:
    parsed = decks.parse_text(path, text)
    assert not [p for p in parsed.problems if p.severity == "error"], [p.format() for p in parsed.problems]
    assert parsed.deck is not None
    return parsed.deck


@pytest.fixture
def col(tmp_path: Path) -> Iterator[Collection]:
    (tmp_path / "anki").mkdir()
    collection = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        yield collection
    finally:
        collection.close()


def _import_apkg(col: Collection, path: Path) -> Any:
    return import_apkg(col, path)


def _import_csv(col: Collection, path: Path) -> Any:
    metadata = col.get_csv_metadata(str(path), None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


def _note(col: Collection, deck_id: str, key: str, flavour: str = "") -> Note:
    nid = col.db.scalar("select id from notes where guid = ?", ankiexport.note_guid(deck_id, key, flavour))
    assert nid, f"note {deck_id}:{key} not in the collection"
    return col.get_note(nid)


def _visible(html_text: str) -> str:
    """Rendered card HTML as the learner sees it (roughly): no style block, no tags."""
    html_text = re.sub(r"<style>.*?</style>", "", html_text, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", html_text)


# ---------------------------------------------------------------------------------------------
# .apkg


def test_apkg_imports_every_card_type_into_anki(tmp_path: Path, col: Collection) -> None:
    deck = _deck(SAMPLE)
    path = tmp_path / "sample.apkg"
    assert ankiexport.export_apkg(deck, path, now=NOW) == SAMPLE_NOTES
    log = _import_apkg(col, path)
    assert len(log.new) == SAMPLE_NOTES
    assert not log.conflicting and not log.duplicate and not log.missing_notetype
    assert col.note_count() == SAMPLE_NOTES
    assert col.card_count() == SAMPLE_CARDS
    assert len(list(decks.items_of(deck))) == SAMPLE_CARDS  # one Anki card per study item
    did = col.decks.id_for_name(DECK_NAME)
    assert did and col.db.scalar("select count() from cards where did = ?", did) == SAMPLE_CARDS
    assert not col.get_empty_cards().notes

    kinds = {
        key: _note(col, "sample-export", key)
        for key in ("b1", "r1", "c1", "m1", "mu1", "tf1", "ty1", "s1/best-reply", "s1/agree")
    }
    names = {key: note.note_type()["name"] for key, note in kinds.items()}
    assert names == {
        "b1": "PeerPrep Basic",
        "r1": "PeerPrep Basic (and reversed card)",
        "c1": "PeerPrep Cloze",
        **{k: "PeerPrep Objective" for k in ("m1", "mu1", "tf1", "ty1", "s1/best-reply", "s1/agree")},
    }
    cards_per_note = {key: len(note.cards()) for key, note in kinds.items()}
    assert cards_per_note == {
        "b1": 1,
        "r1": 2,
        "c1": 4,
        "m1": 1,
        "mu1": 1,
        "tf1": 1,
        "ty1": 1,
        "s1/best-reply": 1,
        "s1/agree": 1,
    }

    tags = {key: sorted(note.tags) for key, note in kinds.items()}
    assert tags["b1"] == ["advocacy", "basic", "core", "first_aid"]
    assert tags["r1"] == ["ethical-responsibility", "reverse"]
    assert tags["c1"] == ["cloze"]
    assert tags["mu1"] == ["multi"]
    assert tags["s1/best-reply"] == ["maria", "mcq", "mentoring-education", "scenario"]
    assert tags["s1/agree"] == ["advocacy", "maria", "scenario", "truefalse"]

    b1 = dict(kinds["b1"].items())
    assert b1 == {
        "Front": "What is &lt;script&gt;alert(1)&lt;/script&gt;?",
        "Back": "Line one<br>Line two",
        "Explanation": "Because.",
        "Source": "Card source",
    }
    assert dict(kinds["r1"].items())["Source"] == "The deck-level source"


def test_apkg_objective_fields_and_rendering(tmp_path: Path, col: Collection) -> None:
    path = tmp_path / "sample.apkg"
    ankiexport.export_apkg(_deck(SAMPLE), path, now=NOW)
    _import_apkg(col, path)
    m1 = _note(col, "sample-export", "m1")
    fields = dict(m1.items())
    assert fields["Question"] == "Which reply shows empathy?"
    assert fields["Choices"] == (
        '<div class="pp-choice"><b>A.</b> At least people care.</div>'
        '<div class="pp-choice"><b>B.</b> That sounds exhausting.</div>'
        '<div class="pp-choice"><b>C.</b> Set firmer boundaries.</div>'
    )
    assert fields["Answer"] == '<div class="pp-key"><b>B.</b> That sounds exhausting.</div>'
    assert fields["Explanation"] == "Reflecting the feeling is the core of empathy."
    assert fields["Rationales"] == (
        '<div class="pp-rationale"><b>A.</b> Minimises the feeling.</div>'
        '<div class="pp-rationale pp-correct"><b>B.</b> &#10003; Reflects the feeling.</div>'
        '<div class="pp-rationale"><b>C.</b> Advice first.</div>'
    )
    assert fields["Source"] == "Empathy article"
    card = m1.cards()[0]
    question, answer = _visible(card.question()), _visible(card.answer())
    assert "That sounds exhausting." in question and "Reflects the feeling" not in question
    assert "Why each option" in answer and "Advice first." in answer and "Source: Empathy article" in answer
    assert 'class="pp-key"' in card.answer()

    multi = dict(_note(col, "sample-export", "mu1").items())
    assert multi["Choices"].startswith('<div class="pp-hint">Select all that apply.</div>')
    assert (
        multi["Answer"]
        == '<div class="pp-key"><b>A.</b> Safety</div><div class="pp-key"><b>C.</b> Trustworthiness</div>'
    )
    tf = dict(_note(col, "sample-export", "tf1").items())
    assert tf["Answer"] == '<div class="pp-key"><b>B.</b> False</div>' and tf["Rationales"] == ""
    typed = dict(_note(col, "sample-export", "ty1").items())
    assert typed["Choices"] == ""
    assert (
        typed["Answer"]
        == '<div class="pp-key">Reflective listening</div><div class="pp-accept">Also accepted: reflections, reflecting</div>'
    )

    sub = dict(_note(col, "sample-export", "s1/best-reply").items())
    assert sub["Question"] == (
        '<div class="pp-vignette">Maria says her case manager "talks down to her".</div>'
        '<div class="pp-stem">What is the best first reply?</div>'
    )
    assert sub["Explanation"] == "Scenario-level explanation."  # falls back to the scenario's
    assert sub["Source"] == "The deck-level source"  # and then to the deck's
    own = dict(_note(col, "sample-export", "s1/agree").items())
    assert (own["Explanation"], own["Source"]) == ("Own explanation.", "Own source")


def test_apkg_cloze_deletions_become_numbered_in_order(tmp_path: Path, col: Collection) -> None:
    path = tmp_path / "sample.apkg"
    ankiexport.export_apkg(_deck(SAMPLE), path, now=NOW)
    _import_apkg(col, path)
    note = _note(col, "sample-export", "c1")
    assert note["Text"] == "Recovery has {{c1::health}}, {{c2::home}}, {{c3::purpose::a reason}} and {{c4::community}}."
    assert note["Back Extra"] == "SAMHSA's four dimensions."
    cards = sorted(note.cards(), key=lambda c: c.ord)
    assert [c.ord for c in cards] == [0, 1, 2, 3]
    third = _visible(cards[2].question())
    assert "a reason" in third and "purpose" not in third and "health" in third


def test_apkg_hostile_text_arrives_as_text(tmp_path: Path, col: Collection) -> None:
    path = tmp_path / "hostile.apkg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # genanki warns about unescaped HTML in fields
        assert ankiexport.export_apkg(_deck(HOSTILE), path, now=NOW) == 2
    _import_apkg(col, path)
    assert col.note_count() == 2 and col.card_count() == 2
    assert [d.name for d in col.decks.all_names_and_ids() if d.name.startswith("PeerPrep")] == [
        "PeerPrep",
        "PeerPrep::Hostile # deck : title",  # one line, and "::" cannot make a sub-deck
    ]
    h1 = dict(_note(col, "hostile", "h1").items())
    assert h1["Front"] == "a red click &lt;img src=x onerror=alert(1)&gt;"
    assert "\x1b" not in "".join(h1.values())
    assert (
        h1["Source"]
        == "&#123;&#123;c1::not a deletion&#125;&#125; &#91;sound:evil.mp3] &lt;a href='javascript:x'&gt;x&lt;/a&gt;"
    )
    for nid in col.db.list("select id from notes"):
        card = col.get_note(nid).cards()[0]
        rendered = card.question() + card.answer()
        assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
        assert "[anki:play" not in rendered  # no sound tag was recognised


def test_apkg_reexport_updates_notes_instead_of_duplicating(tmp_path: Path, col: Collection) -> None:
    first = tmp_path / "v1.apkg"
    ankiexport.export_apkg(_deck(SAMPLE), first, now=NOW)
    _import_apkg(col, first)
    second = tmp_path / "v2.apkg"
    edited = _deck(SAMPLE.replace("Line one", "Line ONE (edited)"))
    ankiexport.export_apkg(edited, second, now=NOW + timedelta(days=1))
    log = _import_apkg(col, second)
    assert col.note_count() == SAMPLE_NOTES and col.card_count() == SAMPLE_CARDS
    assert len(log.new) == 0 and len(log.updated) == SAMPLE_NOTES
    assert _note(col, "sample-export", "b1")["Back"] == "Line ONE (edited)<br>Line two"
    assert len([d for d in col.decks.all_names_and_ids() if d.name == DECK_NAME]) == 1


def test_apkg_output_is_deterministic_for_a_fixed_time(tmp_path: Path) -> None:
    deck = _deck(SAMPLE)
    dumps = []
    for name in ("a.apkg", "b.apkg"):
        ankiexport.export_apkg(deck, tmp_path / name, now=NOW)
        with zipfile.ZipFile(tmp_path / name) as zf:
            (tmp_path / f"{name}.db").write_bytes(zf.read("collection.anki2"))
        conn = sqlite3.connect(tmp_path / f"{name}.db")
        dumps.append(list(conn.iterdump()))
        conn.close()
    assert dumps[0] == dumps[1]
    assert ankiexport.anki_deck_id(deck) == ankiexport.stable_id("peerprep-deck:sample-export")
    assert 1 << 30 <= ankiexport.anki_deck_id(deck) < 1 << 31
    # Note-type ids are part of the learner's collection: they must never change.
    assert ankiexport.MODEL_IDS == {
        "basic": 1334652917,
        "reverse": 1727103508,
        "cloze": 1876245019,
        "objective": 1596027271,
    }
    assert ankiexport.note_guid("d", "a__b") != ankiexport.note_guid("d", "a/b")


def test_apkg_unwritable_path_is_a_user_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out.apkg"
    with pytest.raises(PeerprepError, match=re.escape(str(target))):
        ankiexport.export_apkg(_deck(SAMPLE), target, now=NOW)
    (tmp_path / "dir.apkg").mkdir()
    with pytest.raises(PeerprepError, match="dir.apkg: cannot write"):
        ankiexport.export_apkg(_deck(SAMPLE), tmp_path / "dir.apkg", now=NOW)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))  # no half-written package left


def test_bundled_decks_round_trip_through_anki(tmp_path: Path, col: Collection) -> None:
    cat = catalog.load()
    assert cat.decks and not cat.errors
    total_notes = total_cards = 0
    for deck in cat.decks:
        path = tmp_path / f"{deck.id}.apkg"
        notes = ankiexport.export_apkg(deck, path, now=NOW)
        log = _import_apkg(col, path)
        assert len(log.new) == notes, deck.id
        items = list(decks.items_of(deck))
        did = col.decks.id_for_name(ankiexport.anki_deck_name(deck))
        assert col.db.scalar("select count() from cards where did = ?", did) == len(items), deck.id
        assert notes == len({i.key.split("@")[0] for i in items}), deck.id
        total_notes += notes
        total_cards += len(items)
    assert col.note_count() == total_notes
    assert col.card_count() == total_cards
    assert not col.get_empty_cards().notes


# ---------------------------------------------------------------------------------------------
# Delimited text


def test_csv_header_and_rows() -> None:
    text = ankiexport.export_csv(_deck(SAMPLE))
    lines = text.splitlines()
    assert lines[:6] == [
        "#separator:tab",
        "#html:true",
        "#notetype column:1",
        f"#deck:{DECK_NAME}",
        "#tags column:4",
        "#guid column:5",
    ]
    rows = lines[6:]
    assert len(rows) == SAMPLE_NOTES
    assert not any(r.startswith("#") for r in rows)
    assert [r.split("\t")[0] for r in rows] == [
        "Basic", "Basic (and reversed card)", "Cloze", "Basic", "Basic", "Basic", "Basic", "Basic", "Basic",
    ]  # fmt: skip
    assert (
        rows[2].split("\t")[1]
        == "Recovery has {{c1::health}}, {{c2::home}}, {{c3::purpose::a reason}} and {{c4::community}}."
    )


def test_csv_imports_every_card_into_anki(tmp_path: Path, col: Collection) -> None:
    path = tmp_path / "sample.txt"
    path.write_text(ankiexport.export_csv(_deck(SAMPLE)), encoding="utf-8")
    log = _import_csv(col, path)
    assert len(log.new) == SAMPLE_NOTES
    assert not log.missing_notetype and not log.conflicting and not log.empty_first_field
    assert col.note_count() == SAMPLE_NOTES and col.card_count() == SAMPLE_CARDS
    did = col.decks.id_for_name(DECK_NAME)
    assert did and col.db.scalar("select count() from cards where did = ?", did) == SAMPLE_CARDS

    def note(key: str) -> Note:
        return _note(col, "sample-export", key, "text")

    assert note("r1").note_type()["name"] == "Basic (and reversed card)" and len(note("r1").cards()) == 2
    assert note("c1").note_type()["name"] == "Cloze" and len(note("c1").cards()) == 4
    b1 = note("b1")
    assert b1.note_type()["name"] == "Basic"
    assert b1["Front"] == "What is &lt;script&gt;alert(1)&lt;/script&gt;?"
    assert b1["Back"] == "Line one<br>Line two<br><br>Because.<br><br><b>Source:</b> Card source"
    assert sorted(b1.tags) == ["advocacy", "basic", "core", "first_aid"]
    m1 = note("m1")
    assert m1["Front"].startswith('Which reply shows empathy?<br><br><div class="pp-choice"><b>A.</b>')
    back = m1["Back"]
    assert back.startswith('<b>Answer:</b> <div class="pp-key"><b>B.</b> That sounds exhausting.</div>')
    assert "Reflecting the feeling" in back and "Advice first." in back and "<b>Source:</b> Empathy article" in back
    assert "Maria says" in note("s1/agree")["Front"]

    again = _import_csv(col, path)  # GUIDs: a second import matches, it does not duplicate
    assert len(again.new) == 0 and col.note_count() == SAMPLE_NOTES


def test_csv_quotes_awkward_fields_so_anki_keeps_them(tmp_path: Path, col: Collection) -> None:
    awkward = SAMPLE.replace('front: "What is <script>alert(1)</script>?"', 'front: "#1\\tis \\"quoted\\""')
    text = ankiexport.export_csv(_deck(awkward))
    assert '"#1\tis ""quoted"""' in text
    assert ankiexport._csv_field("#x", first=True) == '"#x"'
    assert ankiexport._csv_field("#x") == "#x"
    path = tmp_path / "awkward.txt"
    path.write_text(text, encoding="utf-8")
    _import_csv(col, path)
    assert col.note_count() == SAMPLE_NOTES
    assert _note(col, "sample-export", "b1", "text")["Front"] == '#1\tis "quoted"'


def test_bundled_decks_round_trip_through_anki_text_import(tmp_path: Path, col: Collection) -> None:
    total = 0
    for deck in catalog.load().decks:
        path = tmp_path / f"{deck.id}.txt"
        path.write_text(ankiexport.export_csv(deck), encoding="utf-8")
        log = _import_csv(col, path)
        assert not log.missing_notetype and not log.conflicting and not log.duplicate, deck.id
        total += len(list(decks.items_of(deck)))
    assert col.card_count() == total


# ---------------------------------------------------------------------------------------------
# Markdown

BLUEPRINT = Blueprint(
    id="icrc-pr",
    title="IC&RC Peer Recovery",
    path="bp.yaml",
    domains=(
        Domain("advocacy", "Advocacy", 1),
        Domain("mentoring-education", "Mentoring/Education", 1),
        Domain("ethical-responsibility", "Ethical Responsibility", 1),
        Domain("recovery-wellness", "Recovery/Wellness Support", 1),
    ),
    questions=75,
    minutes=120,
    pass_percent=70,
)


def _render(md: str) -> list[Any]:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(md)


def test_markdown_groups_items_by_blueprint_domain() -> None:
    deck = _deck(SAMPLE.replace("domain: ethical-responsibility", "domain: not-in-blueprint"))
    md = ankiexport.export_markdown([deck], BLUEPRINT)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == [
        "# Study guide: IC&RC Peer Recovery",
        "## Advocacy",
        "## Mentoring/Education",
        "## not-in-blueprint",
        "## Other items",
    ]
    sections = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", md, flags=re.DOTALL | re.MULTILINE))
    assert "What is" in sections["Advocacy"] and "Which reply shows empathy?" in sections["Advocacy"]
    # The scenario's sub-item with its own domain goes there, with the vignette repeated for context.
    assert "Agreeing the case manager" in sections["Advocacy"] and "Maria says" in sections["Advocacy"]
    assert "best first reply" in sections["Mentoring/Education"] and "Maria says" in sections["Mentoring/Education"]
    assert "Agreeing" not in sections["Mentoring/Education"]
    assert "Validation" in sections["not-in-blueprint"]
    for text in ("Recovery has", "trauma-informed", "Validating a feeling", "In OARS"):
        assert text in sections["Other items"], text
    assert [int(n) for n in re.findall(r"^\*\*(\d+)\.\*\*", md, flags=re.MULTILINE)] == list(range(1, SAMPLE_NOTES + 1))


def test_markdown_item_has_choices_key_explanation_rationales_and_source() -> None:
    md = ankiexport.export_markdown([_deck(SAMPLE)], BLUEPRINT)
    block = md[md.index("Which reply shows empathy?") :]
    block = block[: block.index("---")]
    assert block == (
        "Which reply shows empathy?\n"
        "\n"
        "- **A.** At least people care.\n"
        "- **B.** That sounds exhausting.\n"
        "- **C.** Set firmer boundaries.\n"
        "\n"
        "**Answer:** B. That sounds exhausting.\n"
        "\n"
        "**Explanation:** Reflecting the feeling is the core of empathy.\n"
        "\n"
        "**Why each option:**\n"
        "\n"
        "- **A.** Minimises the feeling.\n"
        "- **B.** (correct) Reflects the feeling.\n"
        "- **C.** Advice first.\n"
        "\n"
        "**Source:** Empathy article\n"
        "\n"
        "*Sample \\<b\\>export\\</b\\> & co · m1*\n"
        "\n"
    )
    assert (
        "Fill in the blanks: Recovery has \\_\\_\\_\\_\\_ (1), \\_\\_\\_\\_\\_ (2), \\_\\_\\_\\_\\_ (3, a reason)" in md
    )
    assert "**Answer:** (1) health; (2) home; (3) purpose; (4) community" in md
    assert "**Answer:** Reflective listening (also accepted: reflections, reflecting)" in md
    assert "True or false: Validating a feeling means agreeing with the choice." in md
    assert "**Answer:** A. Safety; C. Trustworthiness" in md
    assert "**Source:** The deck-level source" in md


def test_markdown_without_blueprint_keeps_domain_ids() -> None:
    md = ankiexport.export_markdown([_deck(SAMPLE)], None)
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == ["## advocacy", "## ethical-responsibility", "## mentoring-education", "## Other items"]


def _walk(tokens: list[Any]) -> Iterator[Any]:
    for tok in tokens:
        yield tok
        yield from _walk(getattr(tok, "children", None) or [])


def test_markdown_escapes_a_hostile_deck() -> None:
    md = ankiexport.export_markdown([_deck(HOSTILE)], None)
    assert "\x1b" not in md and "\x07" not in md
    tokens = list(_walk(_render(md)))
    kinds = {t.type for t in tokens}
    assert not kinds & {"link_open", "image", "html_block", "html_inline", "code_block", "fence", "code_inline",
                        "table_open", "ordered_list_open", "blockquote_open", "s_open"}  # fmt: skip
    # Bold and italics come only from the guide's own labels, never from deck text ("**strong** _em_").
    emphasised = [
        (tok.type, nxt.content) for tok, nxt in itertools.pairwise(tokens) if tok.type in ("strong_open", "em_open")
    ]
    assert {content for kind, content in emphasised if kind == "strong_open"} == {
        "1.", "2.", "A.", "B.", "Answer:", "Explanation:", "Source:", "Why each option:",
    }  # fmt: skip
    assert [content for kind, content in emphasised if kind == "em_open"] == [
        "Hostile # deck :: title · h1",
        "Hostile # deck :: title · h2",
    ]
    headings = [t for t in tokens if t.type == "heading_open"]
    assert len(headings) == 2  # the guide's title and "Items": deck text made none
    html_out = MarkdownIt("commonmark").render(md)
    assert "<img" not in html_out and "<script" not in html_out and 'href="javascript' not in html_out
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_out  # shown, as text
    assert "[link](javascript:x)" in html_out and "# heading" in html_out


# Pieces of Markdown syntax (and raw HTML, entities, escapes), strung together at random.
_PIECES = ["#", "# ", "## x", "1. ", "2) ", "- ", "+ ", "* ", "> ", "    ", "\t", "```", "~~~", "---", "===", "***",
           "[a](b)", "![i](x)", "[r]: /u", "<img src=x onerror=y>", "<b>", "</b>", "<!-- c -->", "&amp;", "&#65;",
           "`c`", "|a|b|", "\n", " ", "x", "\\", "_e_", "**s**", "~~d~~", "$m$", "\x1b[31m", "\x1b]8;;u\x07",
           "http://x.y", "<http://x.y>", "\r\n"]  # fmt: skip
_MARKDOWNISH = st.lists(st.sampled_from(_PIECES) | st.text(max_size=4), max_size=12).map("".join)


@pytest.mark.parametrize("inline", [True, False])
@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=_MARKDOWNISH)
def test_markdown_escape_renders_as_the_text_itself(inline: bool, text: str) -> None:
    md = ankiexport.md_escape(text, inline=inline)
    lines = [" ".join(line.split()) for line in clean(text).split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        assert md == ""
        return
    tokens = MarkdownIt("commonmark").parse(md)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], md
    children = tokens[1].children or []
    assert {c.type for c in children} <= {"text", "softbreak", "hardbreak"}, md
    rendered = "".join("\n" if c.type == "hardbreak" else c.content for c in children)
    assert rendered == (" " if inline else "\n").join(lines), md


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_html_fields_hold_no_markup_from_the_deck(text: str) -> None:
    out = ankiexport.to_html(text)
    assert not re.search(r"[<>{}]", out.replace("<br>", "")), out
    assert "\x1b" not in out

"""Decks out to other tools: an Anki package (.apkg), Anki's delimited text and a Markdown study guide.

Deck text is untrusted. Everything bound for Anki is cleaned and HTML-escaped (braces too, so deck
text can never form a cloze deletion or template marker); everything bound for Markdown is cleaned
and escaped so it cannot open a heading, list, link, image or raw HTML.

Note identity: every note's GUID comes from the deck id and the item's progress key (card id, or
`card/sub` for a scenario sub-item), so exporting again and re-importing updates the learner's notes
in Anki instead of duplicating them. genanki (slow to import) is loaded only when needed.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from .decks import CLOZE
from .errors import PeerprepError
from .model import Blueprint, Card, Deck
from .text import clean

DECK_PREFIX = "PeerPrep"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Fixed note-type ids: Anki matches an imported note type to the learner's copy by id, so these
# must never change (a change would give the learner a second set of note types).
MODEL_IDS = {
    "basic": 1334652917,
    "reverse": 1727103508,
    "cloze": 1876245019,
    "objective": 1596027271,
}
MODEL_NAMES = {
    "basic": "PeerPrep Basic",
    "reverse": "PeerPrep Basic (and reversed card)",
    "cloze": "PeerPrep Cloze",
    "objective": "PeerPrep Objective",
}
# Anki's built-in note types, named as a fresh (English) collection names them.
CSV_NOTETYPES = {"basic": "Basic", "reverse": "Basic (and reversed card)", "cloze": "Cloze"}


# ---------------------------------------------------------------------------------------------
# Identity and names


def stable_id(text: str) -> int:
    """A positive id in [2**30, 2**31) derived from `text` (genanki's recommended id range)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def anki_deck_name(deck: Deck) -> str:
    """`PeerPrep::<title>`, with the title on one line and unable to create extra sub-decks."""
    title = " ".join(clean(deck.title).split()).replace("::", ":") or deck.id
    return f"{DECK_PREFIX}::{title}"


def anki_deck_id(deck: Deck) -> int:
    """The Anki deck id for a deck: stable across exports, derived from the deck id."""
    return stable_id(f"peerprep-deck:{deck.id}")


def note_guid(deck_id: str, key: str, flavour: str = "") -> str:
    """The Anki GUID of the note for one item: deck id + progress key (+ export flavour)."""
    import genanki  # type: ignore[import-untyped]

    # The progress key is unique in its deck and deck ids hold no "_", so "deck__key" cannot collide
    # (passing card and sub-item ids separately could: card "a__b" vs scenario "a" sub-item "b").
    parts = (deck_id, key, flavour) if flavour else (deck_id, key)
    guid: str = genanki.guid_for(*parts)
    return guid


def anki_tags(tags: Iterable[str]) -> list[str]:
    """Tags made valid for Anki (no spaces), order kept, duplicates and empties dropped."""
    out: list[str] = []
    for tag in tags:
        t = "_".join(clean(tag).split())
        if t and t not in out:
            out.append(t)
    return out


# ---------------------------------------------------------------------------------------------
# HTML for Anki


def to_html(text: str | None) -> str:
    """Untrusted text as HTML: cleaned, escaped (braces too), newlines as <br>."""
    if not text:
        return ""
    escaped = html.escape(clean(text), quote=False)  # element content only: quotes need no escape
    # Braces as entities so deck text never forms `{{c1::...}}` or a template field reference.
    escaped = escaped.replace("{", "&#123;").replace("}", "&#125;")
    # "[sound:x]" in a field makes Anki play a media file; the entity keeps it plain text.
    escaped = escaped.replace("[sound:", "&#91;sound:")
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def cloze_html(text: str) -> str:
    """A deck cloze text as an Anki cloze field: `{{x}}` -> `{{c1::x}}`, `{{x::h}}` -> `{{c2::x::h}}`."""
    out: list[str] = []
    last = 0
    for n, m in enumerate(CLOZE.finditer(text), start=1):
        out.append(to_html(text[last : m.start()]))
        answer, _, hint = m.group(1).partition("::")
        deletion = f"{{{{c{n}::{to_html(answer)}"
        if hint:
            deletion += f"::{to_html(hint)}"
        out.append(deletion + "}}")
        last = m.end()
    out.append(to_html(text[last:]))
    return "".join(out)


def _lettered(entries: Iterable[tuple[int, str]], css: str) -> str:
    return "".join(f'<div class="{css}"><b>{LETTERS[i % 26]}.</b> {body}</div>' for i, body in entries)


@dataclass(frozen=True, slots=True)
class _Objective:
    """The parts of an objective item (mcq, multi, truefalse, typed), as HTML."""

    question: str
    choices: str
    answer: str
    explanation: str
    rationales: str
    source: str


def _objective(card: Card, deck: Deck, parent: Card | None = None) -> _Objective:
    """The HTML parts of an objective card or scenario sub-item (`parent` is its scenario)."""
    stem = to_html(card.stem)
    if parent is not None:
        stem = f'<div class="pp-vignette">{to_html(parent.vignette)}</div><div class="pp-stem">{stem}</div>'
    choices = answer = rationales = ""
    if card.type in ("mcq", "multi"):
        choices = _lettered(((i, to_html(c.text)) for i, c in enumerate(card.choices)), "pp-choice")
        if card.type == "multi":
            choices = '<div class="pp-hint">Select all that apply.</div>' + choices
        answer = _lettered(((i, to_html(card.choices[i].text)) for i in card.key_indexes), "pp-key")
        rationales = "".join(
            f'<div class="pp-rationale{" pp-correct" if c.correct else ""}"><b>{LETTERS[i % 26]}.</b> '
            f"{'&#10003; ' if c.correct else ''}{to_html(c.why)}</div>"
            for i, c in enumerate(card.choices)
            if c.why
        )
    elif card.type == "truefalse":
        choices = _lettered([(0, "True"), (1, "False")], "pp-choice")
        answer = _lettered([(0, "True")] if card.truth else [(1, "False")], "pp-key")
    elif card.type == "typed":
        answer = f'<div class="pp-key">{to_html(card.answer)}</div>'
        if card.accept:
            answer += '<div class="pp-accept">Also accepted: ' + ", ".join(to_html(a) for a in card.accept) + "</div>"
    explanation = card.explanation or (parent.explanation if parent else None)
    source = card.source or (parent.source if parent else None) or deck.source
    return _Objective(stem, choices, answer, to_html(explanation), rationales, to_html(source))


# ---------------------------------------------------------------------------------------------
# Note types

_CSS = """\
.card { font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 20px;
        text-align: left; color: #1a1a1a; background-color: #ffffff; line-height: 1.4; }
.nightMode .card, .card.nightMode { color: #e8e8e8; background-color: #1e1e1e; }
.pp-vignette { font-style: italic; margin-bottom: 0.8em; padding-left: 0.6em; border-left: 3px solid #999; }
.pp-stem { font-weight: 600; }
.pp-hint { font-size: 0.8em; color: #666; margin: 0.4em 0; }
.pp-choice { margin: 0.35em 0; }
.pp-label { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.05em; color: #666; }
.pp-answer { margin: 0.6em 0; }
.pp-key { margin: 0.3em 0; padding: 0.35em 0.6em; border-left: 4px solid #2e7d32;
          background-color: #e6f4ea; font-weight: 600; }
.nightMode .pp-key { background-color: #1f3a27; }
.pp-accept { font-size: 0.85em; color: #555; }
.pp-explanation { margin: 0.8em 0; }
.pp-rationales { margin: 0.8em 0; font-size: 0.9em; }
.pp-rationale { margin: 0.3em 0; }
.pp-correct { color: #2e7d32; font-weight: 600; }
.nightMode .pp-correct { color: #81c995; }
.pp-source { margin-top: 1em; font-size: 0.8em; color: #777; }
.cloze { font-weight: bold; color: #1565c0; }
.nightMode .cloze { color: #90caf9; }
"""

_EXTRAS = (
    '{{#Explanation}}<div class="pp-explanation">{{Explanation}}</div>{{/Explanation}}\n'
    '{{#Source}}<div class="pp-source">Source: {{Source}}</div>{{/Source}}'
)


@dataclass(frozen=True, slots=True)
class _Models:
    basic: Any
    reverse: Any
    cloze: Any
    objective: Any


@cache
def _models() -> _Models:
    """The four note types (built once; genanki is imported only when exporting a package)."""
    import genanki

    def fields(*names: str) -> list[dict[str, str]]:
        return [{"name": n} for n in names]

    basic = genanki.Model(
        MODEL_IDS["basic"],
        MODEL_NAMES["basic"],
        fields=fields("Front", "Back", "Explanation", "Source"),
        templates=[
            {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}\n<hr id=answer>\n{{Back}}\n" + _EXTRAS},
        ],
        css=_CSS,
    )
    reverse = genanki.Model(
        MODEL_IDS["reverse"],
        MODEL_NAMES["reverse"],
        fields=fields("Front", "Back", "Explanation", "Source"),
        templates=[
            {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}\n<hr id=answer>\n{{Back}}\n" + _EXTRAS},
            {"name": "Card 2", "qfmt": "{{Back}}", "afmt": "{{FrontSide}}\n<hr id=answer>\n{{Front}}\n" + _EXTRAS},
        ],
        css=_CSS,
    )
    cloze = genanki.Model(
        MODEL_IDS["cloze"],
        MODEL_NAMES["cloze"],
        model_type=genanki.Model.CLOZE,
        fields=fields("Text", "Back Extra", "Source"),
        templates=[
            {
                "name": "Cloze",
                "qfmt": "{{cloze:Text}}",
                "afmt": "{{cloze:Text}}\n"
                '{{#Back Extra}}<div class="pp-explanation">{{Back Extra}}</div>{{/Back Extra}}\n'
                '{{#Source}}<div class="pp-source">Source: {{Source}}</div>{{/Source}}',
            },
        ],
        css=_CSS,
    )
    objective = genanki.Model(
        MODEL_IDS["objective"],
        MODEL_NAMES["objective"],
        fields=fields("Question", "Choices", "Answer", "Explanation", "Rationales", "Source"),
        templates=[
            {
                "name": "Question",
                "qfmt": '<div class="pp-question">{{Question}}</div>\n'
                '{{#Choices}}<div class="pp-choices">{{Choices}}</div>{{/Choices}}',
                "afmt": "{{FrontSide}}\n<hr id=answer>\n"
                '<div class="pp-answer"><div class="pp-label">Answer</div>{{Answer}}</div>\n'
                '{{#Explanation}}<div class="pp-explanation">{{Explanation}}</div>{{/Explanation}}\n'
                '{{#Rationales}}<div class="pp-rationales"><div class="pp-label">Why each option</div>'
                "{{Rationales}}</div>{{/Rationales}}\n"
                '{{#Source}}<div class="pp-source">Source: {{Source}}</div>{{/Source}}',
            },
        ],
        css=_CSS,
    )
    return _Models(basic, reverse, cloze, objective)


# ---------------------------------------------------------------------------------------------
# Notes


@dataclass(frozen=True, slots=True)
class _Note:
    """One note to export: its kind (a MODEL_IDS key), fields, tags and progress key."""

    kind: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    key: str
    objective: _Objective | None = None


def _notes(deck: Deck) -> Iterator[_Note]:
    """One note per card, except a scenario: one note per sub-item. In deck order."""
    for card in deck.cards:
        source = to_html(card.source or deck.source)
        fields: tuple[str, ...]
        base_tags = (*card.tags, *([card.domain] if card.domain else []))
        if card.type in ("basic", "reverse"):
            fields = (to_html(card.front), to_html(card.back), to_html(card.explanation), source)
            yield _Note(card.type, fields, tuple(anki_tags((*base_tags, card.type))), card.id)
        elif card.type == "cloze":
            fields = (cloze_html(card.text or ""), to_html(card.explanation), source)
            yield _Note("cloze", fields, tuple(anki_tags((*base_tags, "cloze"))), card.id)
        elif card.type == "scenario":
            for sub in card.questions:
                domain = sub.domain or card.domain
                tags = (*card.tags, *sub.tags, *([domain] if domain else []), "scenario", sub.type)
                obj = _objective(sub, deck, parent=card)
                yield _Note("objective", _objective_fields(obj), tuple(anki_tags(tags)), f"{card.id}/{sub.id}", obj)
        else:
            obj = _objective(card, deck)
            yield _Note("objective", _objective_fields(obj), tuple(anki_tags((*base_tags, card.type))), card.id, obj)


def _objective_fields(obj: _Objective) -> tuple[str, ...]:
    return (obj.question, obj.choices, obj.answer, obj.explanation, obj.rationales, obj.source)


def export_apkg(deck: Deck, path: Path, *, now: datetime | None = None) -> int:
    """Write `deck` as an Anki package at `path`; return the number of notes written.

    `now` stamps the notes (Anki updates a note on re-import only when the package's is newer);
    without it genanki uses the current time."""
    import genanki

    models = _models()
    anki_deck = genanki.Deck(anki_deck_id(deck), anki_deck_name(deck), description=to_html(deck.description))
    count = 0
    for position, note in enumerate(_notes(deck)):
        model = getattr(models, note.kind)
        anki_deck.add_note(
            genanki.Note(
                model=model,
                fields=list(note.fields),
                tags=list(note.tags),
                guid=note_guid(deck.id, note.key),
                due=position,  # new cards come up in deck order
            )
        )
        count += 1
    package = genanki.Package(anki_deck)
    timestamp = now.timestamp() if now is not None else None
    tmp_name = ""
    try:
        # Write beside the target and rename, so a failed export never leaves half a package.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        package.write_to_file(tmp_name, timestamp=timestamp)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it owner-only; a package is meant to be shared
        os.replace(tmp_name, path)
    except OSError as exc:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        raise PeerprepError(f"{path}: cannot write the package: {exc.strerror or exc}") from exc
    return count


# ---------------------------------------------------------------------------------------------
# Anki's delimited text


def _csv_field(value: str, first: bool = False) -> str:
    """A field quoted the way Anki's reader expects: double quotes, `""` inside."""
    if any(ch in value for ch in '"\t\n\r') or (first and value.startswith("#")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _join_blocks(*blocks: str) -> str:
    return "<br><br>".join(b for b in blocks if b)


def _labelled(label: str, body: str) -> str:
    return f"<b>{label}:</b> {body}" if body else ""


def _csv_row(deck: Deck, note: _Note) -> list[str]:
    if note.kind == "objective":
        assert note.objective is not None
        obj = note.objective
        front = _join_blocks(obj.question, obj.choices)
        back = _join_blocks(
            _labelled("Answer", obj.answer),
            obj.explanation,
            _labelled("Why each option", obj.rationales),
            _labelled("Source", obj.source),
        )
        notetype, fields = CSV_NOTETYPES["basic"], [front, back]
    elif note.kind == "cloze":
        text, explanation, source = note.fields
        notetype, fields = CSV_NOTETYPES["cloze"], [text, _join_blocks(explanation, _labelled("Source", source))]
    elif note.kind == "reverse":
        # Card 2 shows Back as its question: extras there would crowd (or give away) the prompt.
        notetype, fields = CSV_NOTETYPES["reverse"], list(note.fields[:2])
    else:
        front, back, explanation, source = note.fields
        notetype, fields = CSV_NOTETYPES["basic"], [front, _join_blocks(back, explanation, _labelled("Source", source))]
    return [notetype, *fields, " ".join(note.tags), note_guid(deck.id, note.key, "text")]


def export_csv(deck: Deck) -> str:
    """`deck` as Anki-importable tab-separated text with `#` headers, on Anki's built-in note types.

    Columns: note type, two fields, tags, GUID. GUIDs differ from the package's so that a
    text import never collides with notes of the PeerPrep note types."""
    lines = [
        "#separator:tab",
        "#html:true",
        "#notetype column:1",
        f"#deck:{anki_deck_name(deck)}",
        "#tags column:4",
        "#guid column:5",
    ]
    for note in _notes(deck):
        row = _csv_row(deck, note)
        lines.append("\t".join(_csv_field(v, first=(i == 0)) for i, v in enumerate(row)))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Markdown study guide

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$#])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_MD_LINE_START = re.compile(r"^([+=-]|\d+(?=[.)]))")


def md_escape(text: str | None, inline: bool = False) -> str:
    """Untrusted text as Markdown that renders as that text: no headings, lists, links, images,
    code, tables or HTML. Line breaks become hard breaks (or spaces when `inline`)."""
    if not text:
        return ""
    out: list[str] = []
    for raw in clean(text).replace("\r\n", "\n").split("\n"):
        line = " ".join(raw.split())  # no leading indent (code block), no stray runs of spaces
        if not line:
            continue
        line = _MD_ENTITY.sub("\\&", _MD_SPECIAL.sub(r"\\\1", line))
        m = _MD_LINE_START.match(line)
        if m:  # a block marker at the start of a line: escape it ("1." -> "1\.")
            line = "\\" + line if not m.group(1)[0].isdigit() else m.group(1) + "\\" + line[m.end() :]
        out.append(line)
    return " ".join(out) if inline else "\\\n".join(out)


def _md_segment(text: str) -> str:
    """A piece of a line: escaped inline, keeping one space where it had whitespace at either end."""
    body = md_escape(text, inline=True)
    if not body:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + body + (" " if text[-1].isspace() else "")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One block of the guide: a card, or the sub-items of one scenario that share a domain."""

    deck: Deck
    card: Card
    domain: str | None
    subs: tuple[Card, ...] = ()


def _entries(decks: list[Deck]) -> Iterator[_Entry]:
    for deck in decks:
        for card in deck.cards:
            if card.type != "scenario":
                yield _Entry(deck, card, card.domain)
                continue
            groups: dict[str | None, list[Card]] = {}
            for sub in card.questions:
                groups.setdefault(sub.domain or card.domain, []).append(sub)
            for domain, subs in groups.items():
                yield _Entry(deck, card, domain, tuple(subs))


def _md_choice_lines(card: Card) -> list[str]:
    return [f"- **{LETTERS[i % 26]}.** {md_escape(c.text, inline=True)}" for i, c in enumerate(card.choices)]


def _md_item(number: int, card: Card, deck: Deck, parent: Card | None = None) -> list[str]:
    """The Markdown lines of one item (card or scenario sub-item)."""
    lines: list[str] = []
    if card.type in ("basic", "reverse"):
        lines += [f"**{number}.** {md_escape(card.front)}", "", f"**Answer:** {md_escape(card.back)}"]
        if card.type == "reverse":
            lines += ["", "*Studied in both directions.*"]
    elif card.type == "cloze":
        parts: list[str] = []
        answers: list[str] = []
        text = card.text or ""
        last = 0
        for n, m in enumerate(CLOZE.finditer(text), start=1):
            answer, _, hint = m.group(1).partition("::")
            parts.append(_md_segment(text[last : m.start()]))
            parts.append(f"\\_\\_\\_\\_\\_ ({n}{', ' + md_escape(hint, inline=True) if hint else ''})")
            answers.append(f"({n}) {md_escape(answer, inline=True)}")
            last = m.end()
        parts.append(_md_segment(text[last:]))
        body = "".join(parts).strip()
        lines += [f"**{number}.** Fill in the blanks: {body}", "", "**Answer:** " + "; ".join(answers)]
    else:
        stem = md_escape(card.stem)
        if card.type == "truefalse":
            stem = "True or false: " + stem
        elif card.type == "multi":
            stem += " *(select all that apply)*"
        lines += [f"**{number}.** {stem}"]
        if card.choices:
            lines += ["", *_md_choice_lines(card)]
        if card.type in ("mcq", "multi"):
            key = "; ".join(
                f"{LETTERS[i % 26]}. {md_escape(card.choices[i].text, inline=True)}" for i in card.key_indexes
            )
        elif card.type == "truefalse":
            key = "True" if card.truth else "False"
        else:
            key = md_escape(card.answer, inline=True)
            if card.accept:
                key += " (also accepted: " + ", ".join(md_escape(a, inline=True) for a in card.accept) + ")"
        lines += ["", f"**Answer:** {key}"]
    explanation = card.explanation or (parent.explanation if parent else None)
    if explanation:
        lines += ["", f"**Explanation:** {md_escape(explanation)}"]
    whys = [(i, c) for i, c in enumerate(card.choices) if c.why]
    if whys:
        lines += ["", "**Why each option:**", ""]
        lines += [
            f"- **{LETTERS[i % 26]}.**{' (correct)' if c.correct else ''} {md_escape(c.why, inline=True)}"
            for i, c in whys
        ]
    source = card.source or (parent.source if parent else None) or deck.source
    if source:
        lines += ["", f"**Source:** {md_escape(source)}"]
    return lines


def export_markdown(decks: list[Deck], blueprint: Blueprint | None) -> str:
    """A printable study guide of `decks`: a section per blueprint domain (in blueprint order),
    then domains the blueprint lacks, then items without a domain; each item with its prompt,
    choices, key, explanation, per-option rationale and source."""
    entries = list(_entries(decks))
    order: list[str | None] = [d.id for d in blueprint.domains] if blueprint else []
    for e in entries:
        if e.domain is not None and e.domain not in order:
            order.append(e.domain)
    order.append(None)

    title = f"Study guide: {md_escape(blueprint.title, inline=True)}" if blueprint else "Study guide"
    out: list[str] = [f"# {title}", ""]
    if decks:
        out += ["Decks: " + "; ".join(md_escape(d.title, inline=True) for d in decks), ""]
    number = 0
    for domain in order:
        group = [e for e in entries if e.domain == domain]
        if not group:
            continue
        if domain is None:
            heading = "Other items" if len(order) > 1 else "Items"
        else:
            found = blueprint.domain(domain) if blueprint else None
            heading = md_escape(found.title if found else domain, inline=True)
        out += [f"## {heading}", ""]
        for e in group:
            where = f"*{md_escape(e.deck.title, inline=True)} · {md_escape(e.card.id, inline=True)}*"
            if e.subs:
                out += [f"**Scenario:** {md_escape(e.card.vignette)}", ""]
                for sub in e.subs:
                    number += 1
                    out += _md_item(number, sub, e.deck, parent=e.card) + [""]
            else:
                number += 1
                out += _md_item(number, e.card, e.deck) + [""]
            out += [where, "", "---", ""]
    return "\n".join(out).rstrip("\n") + "\n"

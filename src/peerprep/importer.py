"""From Anki notes and flashcard text files to peerprep cards, with Anki's review history.

Anki packages (`.apkg`) are read entirely in memory: the zip is never extracted, every member read
is size-capped while it streams (declared sizes, zstd frame sizes and the bytes actually produced
all count against one budget), and the SQLite collection is opened with `sqlite3`'s `deserialize`
as a read-only in-memory database. Nothing is written to disk. The collection preferred is
`collection.anki21b` (zstd, schema 18), then `collection.anki21`, then `collection.anki2`.

How notes become cards:

- a cloze note type gives a `cloze` card: `{{c1::x}}` becomes `{{x}}`, `{{c1::x::hint}}` becomes
  `{{x::hint}}`; the other fields (Anki's "Back Extra") become the explanation. peerprep numbers
  deletions by position, so Anki's card cN maps to the first deletion numbered N (a number used
  twice gives peerprep a second, new item); image-occlusion notes are skipped;
- a note type with two or more templates whose second asks the second field (the sides swapped)
  gives a `reverse` card, unless the note has no second card in the package (Anki's "optional
  reversed card" left off), which gives `basic`;
- everything else gives a `basic` card: first field front, second field back; later fields with
  text become the explanation (one line per field, "Name: text" when there are several).

HTML is reduced to text (tags stripped, `<br>` and block ends become newlines, entities
unescaped) and every text passes through `text.clean`. Media that a note references
(`<img src>`, `[sound:]`) are listed on one line, `Media: a.jpg, b.mp3`, appended to the back of a
basic or reverse card and to the explanation of a cloze card. A note's GUID becomes the card id
(`card_id_for_guid`, reversible with `guid_for_card_id`); tags are kept as simple lowercase
words; suspended Anki cards are reported as item keys; empty notes are skipped and counted.

Text imports (`import_text`) read Anki's notes export (TSV with `#` headers), plain CSV/TSV with
a header row (front/back, question/answer or term/definition) and Quizlet-style pairs.

`review_history` maps Anki's review log onto the imported items (basic: the card id; reverse:
ord 0 the id, ord 1 `id@reverse`; cloze: `id@cK`) and `replay` runs it through the FSRS scheduler
in time order, with the same seeded fuzz as a study session, so progress continues where Anki left
it; its rows go to `Store.bulk_load`.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import random
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import NamedTuple

from .ankipkg import EPOCH, LATEST_REVIEW_MS, AnkiCard, AnkiCollection, ImportFileError, Limits, NoteType, _fail, _why
from .decks import CARD_ID, DECK_SLUG
from .errors import PeerprepError
from .model import Card
from .scheduler import CardState, Settings, iso, review, study_day
from .text import clean

# ---------------------------------------------------------------------------------------------
# Text of notes


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_DROP = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(?:div|p|li|tr|h[1-6]|blockquote|pre)\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SOUND = re.compile(r"\[sound:([^\]\n]+)\]")
_IMG = re.compile(r"<\s*(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(value: str) -> str:
    """Text of an HTML field: tags stripped, `<br>` and block ends as newlines, entities unescaped."""
    s = _COMMENT.sub("", value)
    s = _DROP.sub("", s)
    s = _BREAK.sub("\n", s)
    s = _TAG.sub("", s)
    return _plain_text(html.unescape(s))


def _plain_text(value: str) -> str:
    s = _SOUND.sub("", value).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    s = "\n".join(line.rstrip() for line in s.split("\n"))
    return clean(_BLANKS.sub("\n\n", s).strip())


def media_refs(value: str) -> list[str]:
    """File names of the media a field references (`<img src>`, `<audio src>`, `[sound:...]`)."""
    names = [next(g for g in m.groups() if g is not None) for m in _IMG.finditer(value)]
    names += _SOUND.findall(value)
    out: list[str] = []
    for n in names:
        name = clean(html.unescape(n).strip())
        if name and not name.startswith(("http:", "https:", "data:")) and name not in out:
            out.append(name)
    return out


_ANKI_CLOZE = re.compile(r"\{\{c(\d+)::((?:(?!\{\{|\}\}).)*?)\}\}", re.DOTALL)


def convert_cloze(text: str) -> tuple[str, list[int]]:
    """Anki cloze text as peerprep cloze text, and the Anki cloze number of each deletion in order.

    `{{c1::x}}` becomes `{{x}}` and `{{c1::x::hint}}` becomes `{{x::hint}}`; braces outside the
    deletions are spaced apart so they cannot make deletions of their own; an empty deletion
    becomes plain text."""
    out: list[str] = []
    numbers: list[int] = []
    last = 0

    def plain(segment: str) -> str:
        return segment.replace("{{", "{ {").replace("}}", "} }")

    for m in _ANKI_CLOZE.finditer(text):
        out.append(plain(text[last : m.start()]))
        answer, sep, hint = m.group(2).partition("::")
        answer, hint = answer.strip(), hint.strip()
        if answer:
            out.append("{{" + answer + ("::" + hint if sep and hint else "") + "}}")
            numbers.append(int(m.group(1)))
        last = m.end()
    out.append(plain(text[last:]))
    return "".join(out), numbers


def sanitize_tag(tag: str) -> str:
    """A tag as one simple lowercase word: `Empathy::Definition` becomes `empathy-definition`."""
    s = re.sub(r"[^\w-]+", "-", tag.lower().replace("::", "-"))
    return re.sub(r"-{2,}", "-", s).strip("-_")[:60]


def card_id_for_guid(guid: str) -> str:
    """The peerprep card id of an Anki GUID: the GUID itself when it is a valid card id, otherwise
    "anki-" and the hex of its UTF-8 bytes (a hash for very long GUIDs)."""
    if CARD_ID.fullmatch(guid) and not guid.startswith("anki-"):
        return guid
    encoded = "anki-" + guid.encode("utf-8").hex()
    if CARD_ID.fullmatch(encoded):
        return encoded
    return "anki-h-" + hashlib.blake2b(guid.encode("utf-8"), digest_size=16).hexdigest()


def guid_for_card_id(card_id: str) -> str | None:
    """Inverse of `card_id_for_guid` (None for a hashed id, whose GUID cannot be recovered)."""
    if not card_id.startswith("anki-"):
        return card_id
    rest = card_id[5:]
    try:
        return bytes.fromhex(rest).decode("utf-8") if re.fullmatch(r"(?:[0-9a-f]{2})*", rest) else None
    except UnicodeDecodeError:
        return None


def deck_slug(name: str) -> str:
    """A deck id from a name: `PeerPrep::Empathy` becomes `peerprep-empathy`."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:60].strip("-") or "imported"


# ---------------------------------------------------------------------------------------------
# Notes to cards


@dataclass
class ImportResult:
    """The cards of an import and what became of the notes."""

    deck_id: str
    title: str
    cards: list[Card] = field(default_factory=list)
    card_keys: dict[int, str] = field(default_factory=dict)  # Anki card id -> peerprep item key
    suspended: list[str] = field(default_factory=list)  # item keys suspended in Anki
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> notes skipped
    media: list[str] = field(default_factory=list)  # media referenced by the imported cards
    warnings: list[str] = field(default_factory=list)

    @property
    def skipped_empty(self) -> int:
        """Notes skipped because they had no usable text."""
        return self.skipped["empty"]


_SPECIAL_FIELDS = {"FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag", "CardID"}
_FIELD_REF = re.compile(r"\{\{\s*([#^/]?)\s*([^{}]+?)\s*\}\}")


def _template_refs(template: str) -> tuple[set[str], set[str]]:
    """(fields shown, fields only tested in {{#..}}/{{^..}} sections) of a template."""
    shown: set[str] = set()
    sections: set[str] = set()
    for mark, body in _FIELD_REF.findall(template):
        name = body.rsplit(":", 1)[-1].strip()
        if name in _SPECIAL_FIELDS:
            continue
        (sections if mark else shown).add(name)
    return shown, sections - shown


@dataclass(frozen=True, slots=True)
class _Kind:
    """How a note type maps: the card type, the field used as cloze text, fields never shown."""

    type: str  # basic | reverse | cloze | occlusion
    cloze_field: int = 0
    hidden: frozenset[int] = frozenset()


def _kind_of(nt: NoteType) -> _Kind:
    if "image occlusion" in nt.name.lower() or any("image-occlusion" in t.question for t in nt.templates):
        return _Kind("occlusion")
    shown: set[str] = set()
    sections: set[str] = set()
    refs = [_template_refs(t.question) for t in nt.templates]
    for t in nt.templates:
        for part in (t.question, t.answer):
            s, o = _template_refs(part)
            shown |= s
            sections |= o
    hidden = frozenset(i for i, f in enumerate(nt.fields) if f in sections and f not in shown) if nt.templates else frozenset()
    if nt.cloze:
        cloze_field = 0
        if nt.templates:
            for m in _FIELD_REF.finditer(nt.templates[0].question):
                if m.group(2).startswith("cloze:") and m.group(2)[6:].strip() in nt.fields:
                    cloze_field = nt.fields.index(m.group(2)[6:].strip())
                    break
        return _Kind("cloze", cloze_field, hidden)
    if len(nt.templates) >= 2 and len(nt.fields) >= 2:
        first, second = nt.fields[0], nt.fields[1]
        (q0, _), (q1, _) = refs[0], refs[1]
        if first in q0 and second not in q0 and second in q1 and first not in q1:
            return _Kind("reverse", 0, hidden)
    return _Kind("basic", 0, hidden)


def _kind_by_name(name: str, fields: Sequence[str], html_fields: bool) -> _Kind:
    """The mapping of a note type known only by name (Anki's notes text export)."""
    low = name.lower()
    if "image occlusion" in low:
        return _Kind("occlusion")
    if "cloze" in low or (fields and _ANKI_CLOZE.search(fields[0])):
        return _Kind("cloze")
    if "optional reverse" in low:
        flag = fields[2] if len(fields) > 2 else ""
        text = html_to_text(flag) if html_fields else flag.strip()
        return _Kind("reverse" if text else "basic", 0, frozenset({2}))
    if "reverse" in low:
        return _Kind("reverse")
    return _Kind("basic")


class _Builder:
    """Collects cards for one import: unique ids, skipped notes, media."""

    def __init__(self, result: ImportResult, source: str) -> None:
        self.result = result
        self.source = source
        self.ids: set[str] = set()

    def unique_id(self, wanted: str) -> str:
        card_id = wanted
        n = 2
        while card_id in self.ids:
            card_id = f"{wanted[:120]}-{n}"
            n += 1
        if card_id != wanted:
            self.result.warnings.append(f"{clean(self.source)}: card id {wanted!r} is used twice; the second copy is {card_id!r}")
        self.ids.add(card_id)
        return card_id

    def add(
        self,
        kind: _Kind,
        raw_fields: Sequence[str],
        names: Sequence[str],
        card_id: str,
        tags: Iterable[str],
        is_html: bool,
        where: str,
    ) -> tuple[Card, list[int]] | None:
        """Add the card for one note; returns it and the Anki cloze number of each deletion."""
        if kind.type == "occlusion":
            self.result.skipped["image occlusion"] += 1
            return None
        media: list[str] = []
        for value in raw_fields:
            media += [m for m in media_refs(value) if m not in media]
        texts = [html_to_text(v) if is_html else _plain_text(v) for v in raw_fields]
        main = kind.cloze_field if kind.type == "cloze" else 0
        used = {main} if kind.type == "cloze" else {0, 1}
        extras = [(names[i] if i < len(names) else "", t) for i, t in enumerate(texts) if i not in used and i not in kind.hidden and t]
        clean_tags: list[str] = []
        for t in tags:
            s = sanitize_tag(t)
            if s and s not in clean_tags:
                clean_tags.append(s)
        numbers: list[int] = []
        if kind.type == "cloze":
            text, numbers = convert_cloze(texts[main] if main < len(texts) else "")
            if not text:
                self.result.skipped["empty"] += 1
                return None
            if not numbers:
                self.result.skipped["cloze without deletions"] += 1
                self.result.warnings.append(f"{clean(self.source)}: {where} is a cloze note without any deletion; skipped")
                return None
            explanation = _join_extras(extras, media)
            card = Card(id=self.unique_id(card_id), type="cloze", text=text, tags=tuple(clean_tags), explanation=explanation)
        else:
            front = texts[0] if texts else ""
            back = texts[1] if len(texts) > 1 else ""
            if not back and extras:
                back = extras.pop(0)[1]  # e.g. a note whose answer sits in a later field
            if not front or not back:
                self.result.skipped["empty"] += 1
                return None
            if media:
                back += "\n\nMedia: " + ", ".join(media)
            card = Card(id=self.unique_id(card_id), type=kind.type, front=front, back=back, tags=tuple(clean_tags), explanation=_join_extras(extras, []))
        self.result.cards.append(card)
        self.result.media += [m for m in media if m not in self.result.media]
        return card, numbers


def _join_extras(extras: list[tuple[str, str]], media: list[str]) -> str | None:
    if len(extras) == 1:
        lines = [extras[0][1]]
    else:
        lines = [f"{clean(name)}: {text}" if name else text for name, text in extras]
    if media:
        lines.append("Media: " + ", ".join(media))
    return "\n".join(lines) or None


def _item_key(card: Card, kind: str, anki_ord: int, numbers: list[int]) -> str | None:
    if kind == "cloze":
        wanted = anki_ord + 1
        return f"{card.id}@c{numbers.index(wanted) + 1}" if wanted in numbers else None
    if kind == "reverse":
        return card.id if anki_ord == 0 else f"{card.id}@reverse" if anki_ord == 1 else None
    return card.id if anki_ord == 0 else None


def _in_deck(name: str, wanted: str) -> bool:
    return name.lower() == wanted.lower() or name.lower().startswith(wanted.lower() + "::")


def import_notes(collection: AnkiCollection, deck_id: str, *, anki_deck: str | None = None) -> ImportResult:
    """Map the notes of a package (or of one Anki deck and its subdecks) to the cards of one deck."""
    _check_deck_id(deck_id)
    cards_of: dict[int, list[AnkiCard]] = {}
    for c in collection.cards:
        cards_of.setdefault(c.note_id, []).append(c)
    deck_ids: set[int] | None = None
    if anki_deck is not None:
        deck_ids = {i for i, n in collection.decks.items() if _in_deck(n, anki_deck)}
        if not deck_ids:
            known = ", ".join(sorted(clean(n) for n in collection.decks.values())) or "none"
            raise _fail(collection.path, f'no Anki deck named "{clean(anki_deck)}"; the package has: {known}')
    result = ImportResult(deck_id, _title(collection, deck_ids))
    builder = _Builder(result, collection.path)
    kinds: dict[int, _Kind] = {}
    unknown_types: Counter[int] = Counter()
    unmapped = 0
    for note in collection.notes:
        own = cards_of.get(note.id, [])
        if deck_ids is not None and not any(c.deck_id in deck_ids for c in own):
            continue
        nt = collection.notetypes.get(note.notetype_id)
        if nt is None:
            unknown_types[note.notetype_id] += 1
            kind, names = _Kind("basic"), ()  # type: tuple[_Kind, tuple[str, ...]]
        else:
            kind = kinds.get(nt.id) or kinds.setdefault(nt.id, _kind_of(nt))
            names = nt.fields
        if kind.type == "reverse" and own and not any(c.ord == 1 for c in own):
            kind = _Kind("basic", 0, kind.hidden)  # an optional reverse card the note does not have
        added = builder.add(kind, note.fields, names, card_id_for_guid(note.guid), note.tags, True, f"note {note.id}")
        if added is None:
            continue
        card, numbers = added
        for c in own:
            key = _item_key(card, kind.type, c.ord, numbers)
            if key is None:
                unmapped += 1
                continue
            result.card_keys[c.id] = key
            if c.queue == -1:
                result.suspended.append(key)
    if unknown_types:
        result.warnings.append(f"{clean(collection.path)}: {sum(unknown_types.values())} notes use a note type missing from the package; imported as basic")
    if unmapped:
        result.warnings.append(f"{clean(collection.path)}: {unmapped} Anki cards have no matching peerprep item; their reviews are not imported")
    if not result.cards:
        raise _no_cards(collection.path, result)
    return result


def _title(collection: AnkiCollection, deck_ids: set[int] | None) -> str:
    used = {c.deck_id for c in collection.cards if deck_ids is None or c.deck_id in deck_ids}
    return _common_title([collection.decks[i] for i in sorted(used) if i in collection.decks], collection.path)


def _common_title(deck_names: Iterable[str], path: str) -> str:
    """The deepest Anki deck all the notes share ("A::B" as "A / B"), else the file's name."""
    paths = [n.split("::") for n in deck_names]
    common: list[str] = []
    for parts in zip(*paths):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    title = " / ".join(p.strip() for p in common if p.strip())
    if not title or title == "Default":
        title = Path(path).stem
    return clean(" ".join(title.split())) or "Imported deck"


def _check_deck_id(deck_id: str) -> None:
    if not DECK_SLUG.fullmatch(deck_id):
        raise PeerprepError(f'deck id "{clean(deck_id)}" must be a lowercase slug (letters, digits, single hyphens), e.g. {deck_slug(deck_id)}')


def _no_cards(path: str, result: ImportResult) -> ImportFileError:
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(result.skipped.items()))
    return _fail(path, f"no cards to import ({skipped} notes skipped)" if skipped else "no cards to import")


# ---------------------------------------------------------------------------------------------
# Text files


_SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "colon": ":", "space": " "}
_HEADER = re.compile(r"^#([a-z][a-z ]*):(.*)$", re.IGNORECASE)
_HEADER_KEYS = {
    "separator", "html", "tags", "columns", "notetype", "deck",
    "notetype column", "deck column", "tags column", "guid column", "match scope", "if matches",
}
_FRONT_NAMES = ("front", "question", "term", "prompt")
_BACK_NAMES = ("back", "answer", "definition")


def _read_text_file(path: Path, limits: Limits) -> str:
    name = str(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise _fail(name, "not a regular file")
        if size > limits.max_text_bytes:
            raise _fail(name, f"the file is {size:,} bytes; the limit is {limits.max_text_bytes:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(name, f"cannot read the file ({exc.strerror or exc})") from None
    if data.startswith(b"PK\x03\x04"):
        raise _fail(name, "a zip file, not a text export (for an .apkg use the package import)")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise _fail(f"{name}:{line}", "binary data (a NUL byte), not a text export")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(f"{name}:{line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the export as UTF-8") from None


def import_text(
    path: Path,
    deck_id: str,
    *,
    reverse: bool = False,
    title: str | None = None,
    limits: Limits = Limits(),
) -> ImportResult:
    """Cards from a text file: Anki's notes export, CSV/TSV with a header row, or Quizlet pairs.

    `reverse` makes the cards of CSV/TSV and pair files reverse cards (both directions); Anki's
    export says per note type."""
    _check_deck_id(deck_id)
    text = _read_text_file(path, limits)
    lines = text.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    result = ImportResult(deck_id, title or clean(" ".join(path.stem.split())) or "Imported deck")
    builder = _Builder(result, str(path))
    header = _HEADER.match(first)
    if header and header.group(1).strip().lower() in _HEADER_KEYS:
        decks = _anki_text(path, lines, builder, limits)
        if title is None and decks:
            result.title = _common_title(decks, str(path))
    elif _header_columns(first) is not None:
        _csv_with_header(path, text, builder, reverse, limits)
    else:
        _pairs(path, lines, builder, reverse, limits)
    if not result.cards:
        raise _no_cards(str(path), result)
    return result


def _header_columns(line: str) -> tuple[str, int, int] | None:
    delimiter = "\t" if "\t" in line else ";" if ";" in line and "," not in line else ","
    cells = [c.strip().strip('"').lower() for c in line.split(delimiter)]
    front = next((cells.index(n) for n in _FRONT_NAMES if n in cells), None)
    back = next((cells.index(n) for n in _BACK_NAMES if n in cells), None)
    if front is None or back is None:
        return None
    return delimiter, front, back


def _rows(path: Path, text: str, delimiter: str, skip_comments: bool, first_line: int = 1) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of CSV records; with `skip_comments`, records starting with # are
    skipped as Anki does."""
    state = {"start": True, "line": 0}
    parts = text.split("\n")  # not splitlines(): U+2028 and friends are text, not line ends
    physical = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    def feed() -> Iterator[str]:
        for number, line in enumerate(physical, 1):
            if state["start"]:
                if skip_comments and line.startswith("#"):
                    continue
                state["line"] = number
                state["start"] = False
            yield line

    reader = csv.reader(feed(), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _fail(f"{path}:{state['line'] + first_line - 1}", f"cannot read this row ({_why(exc)})") from None
        yield state["line"] + first_line - 1, row
        state["start"] = True


def _anki_text(path: Path, lines: list[str], builder: _Builder, limits: Limits) -> list[str]:
    """Read Anki's notes export; returns the deck names of its rows."""
    headers: dict[str, str] = {}
    body = 0
    while body < len(lines) and (m := _HEADER.match(lines[body])) and m.group(1).strip().lower() in _HEADER_KEYS:
        headers[m.group(1).strip().lower()] = m.group(2).strip()
        body += 1
    sep = headers.get("separator", "tab")
    delimiter = _SEPARATORS.get(sep.lower(), sep)
    if len(delimiter) != 1:
        raise _fail(f"{path}:1", f"unknown separator {clean(sep)!r}")
    is_html = headers.get("html", "false").lower() == "true"

    def column(key: str) -> int | None:
        value = headers.get(key)
        if value is None:
            return None
        if not value.isdigit() or int(value) < 1:
            raise _fail(f"{path}:1", f'"#{key}:" must be a column number, not {clean(value)!r}')
        return int(value) - 1

    guid_col, type_col, deck_col, tags_col = (column(k) for k in ("guid column", "notetype column", "deck column", "tags column"))
    special = {c for c in (guid_col, type_col, deck_col, tags_col) if c is not None}
    global_type = headers.get("notetype", "")
    global_tags = headers.get("tags", "").split()
    labels = [c.strip() for c in headers["columns"].split(delimiter)] if "columns" in headers else []
    decks: list[str] = []
    count = 0
    for line, row in _rows(path, "\n".join(lines[body:]), delimiter, skip_comments=True, first_line=body + 1):
        if not any(c.strip() for c in row):
            continue
        count += 1
        if count > limits.max_notes:
            raise _fail(str(path), f"more than {limits.max_notes:,} rows; the limit is {limits.max_notes:,}")
        fields = [c for i, c in enumerate(row) if i not in special]
        names = [labels[i] if i < len(labels) else "" for i in range(len(row)) if i not in special]
        while fields and not fields[-1].strip():
            fields.pop()
        notetype = row[type_col] if type_col is not None and type_col < len(row) else global_type
        kind = _kind_by_name(notetype, fields, is_html)
        guid = row[guid_col].strip() if guid_col is not None and guid_col < len(row) else ""
        card_id = card_id_for_guid(guid) if guid else _text_id(fields[0] if fields else "")
        tags = (row[tags_col].split() if tags_col is not None and tags_col < len(row) else []) + global_tags
        if builder.add(kind, fields, names, card_id, tags, is_html, f"line {line}") is not None:
            decks.append(row[deck_col] if deck_col is not None and deck_col < len(row) else headers.get("deck", ""))
    return decks


def _text_id(front: str) -> str:
    """A stable card id for a row without one: from the front text, so re-imports keep progress."""
    return "q-" + hashlib.blake2b(" ".join(front.split()).encode("utf-8"), digest_size=6).hexdigest()


def _csv_with_header(path: Path, text: str, builder: _Builder, reverse: bool, limits: Limits) -> None:
    found = _header_columns(next(ln for ln in text.split("\n") if ln.strip()))
    assert found is not None
    delimiter, front_col, back_col = found
    rows = _rows(path, text, delimiter, skip_comments=False)
    _, header = next(rows)
    cells = [c.strip().lower() for c in header]
    extra = {name: cells.index(name) for name in ("id", "tags", "explanation", "source", "notes", "extra") if name in cells}
    kind = _Kind("reverse" if reverse else "basic")
    count = 0
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        count += 1
        if count > limits.max_notes:
            raise _fail(str(path), f"more than {limits.max_notes:,} rows; the limit is {limits.max_notes:,}")

        def cell(i: int | None, row: list[str] = row) -> str:
            return row[i] if i is not None and i < len(row) else ""

        wanted = cell(extra.get("id")).strip()
        if wanted and not CARD_ID.fullmatch(wanted):
            raise _fail(f"{path}:{line}", f"id {clean(wanted)!r} must be letters, digits, \".\", \"_\" or \"-\"")
        fields = [cell(front_col), cell(back_col)] + [cell(extra[n]) for n in ("explanation", "notes", "extra", "source") if n in extra]
        names = ["", ""] + [n.capitalize() for n in ("explanation", "notes", "extra", "source") if n in extra]
        card_id = wanted or _text_id(fields[0])
        builder.add(kind, fields, names, card_id, cell(extra.get("tags")).replace(",", " ").split(), False, f"line {line}")


def _pairs(path: Path, lines: list[str], builder: _Builder, reverse: bool, limits: Limits) -> None:
    separator = "\t" if any("\t" in ln for ln in lines) else ","
    kind = _Kind("reverse" if reverse else "basic")
    bad: list[int] = []
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        count += 1
        if count > limits.max_notes:
            raise _fail(str(path), f"more than {limits.max_notes:,} lines; the limit is {limits.max_notes:,}")
        if separator not in line:
            bad.append(number)
            continue
        # Tab-separated: one cell per column, later cells become the explanation. Comma: only
        # the first comma separates, so definitions keep theirs.
        cells = line.split("\t") if separator == "\t" else line.split(",", 1)
        builder.add(kind, cells, (), _text_id(cells[0]), (), False, f"line {number}")
    if bad:
        what = "tab" if separator == "\t" else "comma"
        more = f" (and {len(bad) - 1} more line{'s' if len(bad) > 2 else ''})" if len(bad) > 1 else ""
        raise _fail(f"{path}:{bad[0]}", f"no {what} between term and definition{more}")




# ---------------------------------------------------------------------------------------------
# Progress


class HistoryEntry(NamedTuple):
    """One usable answer from Anki's review log, keyed to a peerprep item."""

    deck_id: str
    item_key: str
    ts: datetime
    rating: int
    duration_ms: int | None


def review_history(collection: AnkiCollection, imported: Iterable[ImportResult]) -> list[HistoryEntry]:
    """Anki's review log for the imported items, oldest first: manual and rescheduling entries
    (type 4 and 5), answers without a rating, reviews of cards not imported and impossible times
    (before 1970 or after 3000) are left out."""
    keys: dict[int, tuple[str, str]] = {}
    for result in imported:
        for card_id, key in result.card_keys.items():
            keys[card_id] = (result.deck_id, key)
    out: list[HistoryEntry] = []
    for r in collection.revlog:
        target = keys.get(r.card_id)
        if target is None or r.type >= 4 or not 1 <= r.ease <= 4 or not 0 < r.id < LATEST_REVIEW_MS:
            continue
        ts = EPOCH + timedelta(milliseconds=r.id)
        out.append(HistoryEntry(target[0], target[1], ts, r.ease, r.time_ms if r.time_ms >= 0 else None))
    out.sort(key=lambda h: h.ts)
    return out


def replay(
    history: Iterable[HistoryEntry],
    settings: Settings,
    tz: tzinfo | None,
    suspended: Collection[tuple[str, str]] | None = None,
) -> tuple[list[tuple[object, ...]], dict[tuple[str, str], CardState]]:
    """Run the history through the FSRS scheduler in time order: (log rows for `Store.bulk_load`
    with mode "import", final state per (deck id, item key)).

    With `suspended` (from `anki_suspended`), suspension follows Anki exactly: those items end
    suspended (a row is added for one never answered) and no other, even if peerprep's leech rule
    would have suspended it (its leech flag is kept)."""
    states: dict[tuple[str, str], CardState] = {}
    rows: list[tuple[object, ...]] = []
    for h in sorted(history, key=lambda h: (h.ts, h.deck_id, h.item_key)):
        key = (h.deck_id, h.item_key)
        before = states.get(key)
        start = before or CardState()
        rng = random.Random(f"{h.deck_id}:{h.item_key}#{start.reps}")  # as session.rng_for
        after = review(start, h.rating, h.ts, settings, tz, rng)
        states[key] = after
        rows.append((
            h.deck_id, h.item_key, iso(h.ts), h.rating, h.duration_ms, "import", None, None,
            None if before is None else json.dumps(before.to_json()), json.dumps(after.to_json()), None,
            study_day(h.ts, tz, settings.rollover_hour).isoformat(),
        ))
    if suspended is not None:
        for key, state in states.items():
            states[key] = replace(state, suspended=key in suspended)
        for key in suspended:
            states.setdefault(key, CardState(suspended=True))
    return rows, states


def anki_suspended(results: Iterable[ImportResult]) -> set[tuple[str, str]]:
    """(deck id, item key) of every item suspended in Anki, for `replay(suspended=...)`."""
    return {(r.deck_id, key) for r in results for key in r.suspended}



"""Imports from Anki and flashcard text files into peerprep decks, with Anki's review history.

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
import io
import json
import lzma
import random
import re
import sqlite3
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import NamedTuple

import yaml

from .decks import CARD_ID, DECK_SLUG
from .errors import PeerprepError
from .model import Card
from .scheduler import CardState, Settings, iso, review, study_day
from .text import clean

MB = 1024 * 1024
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
SQLITE_MAGIC = b"SQLite format 3\x00"
COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")  # in order of preference
NEWEST_SCHEMA = 18  # Anki 2.1.50+ writes schema 18; anything newer is refused
OLDEST_SCHEMA = 11
NEWEST_PACKAGE = 3  # PackageMetadata.Version.LATEST
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_REVIEW_MS = 32_503_680_000_000  # 3000-01-01: later review times are damage, not history


class ImportFileError(PeerprepError):
    """A file that cannot be imported; the message names the file."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard caps for reading untrusted packages and text files."""

    max_package_bytes: int = 2048 * MB  # the .apkg file itself (media included)
    max_total_bytes: int = 200 * MB  # everything decompressed into memory, all members together
    max_members: int = 100_000
    max_notes: int = 200_000
    max_cards: int = 1_000_000
    max_reviews: int = 5_000_000
    max_text_bytes: int = 50 * MB
    max_sql_steps: int = 200_000  # progress-handler calls (10,000 SQLite instructions each)


# ---------------------------------------------------------------------------------------------
# The collection as read


@dataclass(frozen=True, slots=True)
class Template:
    """One card template of a note type."""

    name: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class NoteType:
    """A note type: its fields, its templates, and whether it is a cloze type."""

    id: int
    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: tuple[Template, ...]


@dataclass(frozen=True, slots=True)
class Note:
    """One Anki note: fields as stored (HTML), tags as written."""

    id: int
    guid: str
    notetype_id: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AnkiCard:
    """One Anki card: which note, which template (`ord`), which deck, and its queue (-1 suspended)."""

    id: int
    note_id: int
    deck_id: int
    ord: int
    queue: int


@dataclass(frozen=True, slots=True)
class Revlog:
    """One review-log row: `id` is the review time in epoch milliseconds."""

    id: int
    card_id: int
    ease: int
    time_ms: int
    type: int


@dataclass(frozen=True, slots=True)
class AnkiCollection:
    """Everything peerprep uses from an Anki package, read into memory."""

    path: str
    member: str  # which collection file was read
    schema: int
    notetypes: dict[int, NoteType]
    decks: dict[int, str]  # names with "::" between levels
    notes: list[Note]
    cards: list[AnkiCard]
    revlog: list[Revlog]
    media: list[str]  # file names of the media map


# ---------------------------------------------------------------------------------------------
# Reading packages


def _fail(path: str, message: str) -> ImportFileError:
    """The error for a file, on one line whatever the file name or the message holds."""
    return ImportFileError(clean(f"{path}: {message}").replace("\n", "\u2424"))


def _why(exc: BaseException) -> str:
    """A library's error message, short and on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return clean(text if len(text) <= 160 else text[:157] + "...")


class _Budget:
    """Bytes left of the decompression budget shared by every member read."""

    def __init__(self, path: str, total: int) -> None:
        self.path = path
        self.left = total
        self.total = total

    def take(self, what: str, n: int) -> None:
        if n > self.left:
            raise _fail(self.path, f"{what} is too large (over {self.total // MB} MB decompressed); refusing to read it")
        self.left -= n


def _safe_name(name: str) -> bool:
    if not name or "\x00" in name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("..",) for part in re.split(r"[/\\]", name))


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    what = f"member {clean(info.filename)!r}"
    if info.file_size > budget.left:
        budget.take(what, info.file_size)  # raises with the reason
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(MB):
                budget.take(what, len(chunk))
                out += chunk
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _fail(budget.path, f"{what} is damaged ({_why(exc)})") from None
    return bytes(out)


def _unzstd(data: bytes, what: str, budget: _Budget) -> bytes:
    import zstandard

    try:
        params = zstandard.get_frame_parameters(data)
    except zstandard.ZstdError:
        raise _fail(budget.path, f"{what} is not valid zstd data (damaged package)") from None
    if params.content_size != zstandard.CONTENTSIZE_UNKNOWN and params.content_size > budget.left:
        budget.take(what, params.content_size)
    out = bytearray()
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
        while chunk := reader.read(MB):
            budget.take(what, len(chunk))
            out += chunk
    except zstandard.ZstdError as exc:
        raise _fail(budget.path, f"{what} is damaged (zstd: {_why(exc)})") from None
    return bytes(out)


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _protobuf(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of a protobuf message: varints and length-delimited fields."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
            yield number, value
        elif wire == 2:
            length, i = _varint(data, i)
            if i + length > len(data):
                raise ValueError("truncated field")
            yield number, data[i : i + length]
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    if i != len(data):
        raise ValueError("truncated message")


def _pb_first(data: bytes, number: int, default: int | bytes) -> int | bytes:
    for n, value in _protobuf(data):
        if n == number:
            return value
    return default


def _media_names(raw: bytes, path: str, budget: _Budget) -> list[str]:
    try:
        if raw.startswith(ZSTD_MAGIC):  # modern: zstd-compressed protobuf MediaEntries
            names: list[str] = []
            for number, entry in _protobuf(_unzstd(raw, "the media map", budget)):
                if number == 1 and isinstance(entry, bytes):
                    name = _pb_first(entry, 1, b"")
                    names.append(clean(name.decode("utf-8", "replace")) if isinstance(name, bytes) else "")
            return names
        mapping = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise _fail(path, "the media map is damaged") from None
    if not isinstance(mapping, dict):
        raise _fail(path, "the media map is damaged (not a mapping)")
    keyed = sorted(((str(k), str(v)) for k, v in mapping.items()), key=lambda kv: (len(kv[0]), kv[0]))
    return [clean(v) for _, v in keyed]


def read_package(path: Path, limits: Limits = Limits()) -> AnkiCollection:
    """Read an Anki package (.apkg/.colpkg) in memory; any problem is a PeerprepError naming the file."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(name, f"cannot read the file ({exc.strerror or exc})") from None
    if not path.is_file():
        raise _fail(name, "not a regular file")
    if size > limits.max_package_bytes:
        raise _fail(name, f"the package is {size:,} bytes; the limit is {limits.max_package_bytes:,}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _fail(name, "not an Anki package (not a zip file)") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _fail(name, f"the package has {len(infos):,} members; the limit is {limits.max_members:,}")
        seen: set[str] = set()
        for info in infos:
            if not _safe_name(info.filename):
                raise _fail(name, f"unsafe member name {clean(info.filename)!r} (it would escape the folder); refusing the package")
            if info.filename in seen:
                raise _fail(name, f"member {clean(info.filename)!r} appears twice; refusing the package")
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise _fail(name, f"member {clean(info.filename)!r} is encrypted")
        members = {i.filename: i for i in infos}
        budget = _Budget(name, limits.max_total_bytes)
        if "meta" in members:
            meta = _read_member(zf, members["meta"], budget)
            try:
                version = _pb_first(meta, 1, 0)
            except ValueError:
                raise _fail(name, "the package metadata is damaged") from None
            if isinstance(version, int) and version > NEWEST_PACKAGE:
                raise _fail(name, f"made by a newer Anki (package format {version}; this peerprep reads up to {NEWEST_PACKAGE}); export it again with \"Support older Anki versions\" ticked")
        member = next((m for m in COLLECTIONS if m in members), None)
        if member is None:
            raise _fail(name, "not an Anki package (no collection.anki21b, collection.anki21 or collection.anki2 inside)")
        data = _read_member(zf, members[member], budget)
        if member.endswith("b") or data.startswith(ZSTD_MAGIC):
            data = _unzstd(data, member, budget)
        media = _media_names(_read_member(zf, members["media"], budget), name, budget) if "media" in members else []
    return _read_collection(name, member, data, media, limits)


def _open_sqlite(path: str, member: str, data: bytes) -> sqlite3.Connection:
    if len(data) < 100 or not data.startswith(SQLITE_MAGIC):
        raise _fail(path, f"{member} is not an SQLite database (damaged package)")
    buf = bytearray(data)
    if buf[18] == 2 or buf[19] == 2:
        buf[18] = buf[19] = 1  # a WAL-mode header cannot be deserialized; the content is the same
    db = sqlite3.connect(":memory:", check_same_thread=False)
    if not hasattr(db, "deserialize"):
        db.close()
        raise _fail(path, f"this Python's sqlite3 cannot open {member} in memory (it needs SQLite 3.36 or newer)")
    try:
        db.deserialize(bytes(buf))
    except (sqlite3.DatabaseError, OverflowError, ValueError) as exc:
        db.close()
        raise _fail(path, f"{member} is damaged ({_why(exc)})") from None
    return db


def _cell_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"expected an integer, found {type(value).__name__}")


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (int, float)):
        return str(value)
    raise ValueError("expected text, found nothing")


def _read_collection(path: str, member: str, data: bytes, media: list[str], limits: Limits) -> AnkiCollection:
    db = _open_sqlite(path, member, data)
    steps = 0

    def progress() -> int:
        nonlocal steps
        steps += 1
        return 1 if steps > limits.max_sql_steps else 0  # non-zero aborts the running statement

    db.set_progress_handler(progress, 10_000)
    try:
        db.execute("PRAGMA query_only = ON")
        db.execute("PRAGMA trusted_schema = OFF")
        tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in ("col", "notes", "cards", "revlog") if t not in tables]
        if missing:
            raise _fail(path, f"{member} is not an Anki collection (no {', '.join(missing)} table)")
        row = db.execute("SELECT ver, models, decks FROM col").fetchone()
        if row is None:
            raise _fail(path, f"{member} is not an Anki collection (empty col table)")
        schema = _cell_int(row[0])
        if schema > NEWEST_SCHEMA:
            raise _fail(path, f"made by a newer Anki (collection schema {schema}; this peerprep reads up to {NEWEST_SCHEMA})")
        if schema < OLDEST_SCHEMA:
            raise _fail(path, f"made by a very old Anki (collection schema {schema}); open it in a current Anki and export it again")
        modern = {"notetypes", "fields", "templates"} <= tables
        notetypes = _notetypes_modern(db) if modern else _notetypes_legacy(_cell_text(row[1]))
        decks = _decks_modern(db) if "decks" in tables and modern else _decks_legacy(_cell_text(row[2]))
        notes = [
            Note(_cell_int(r[0]), _cell_text(r[1]), _cell_int(r[2]), tuple(_cell_text(r[3]).split("\x1f")), tuple(_cell_text(r[4]).split()))
            for r in db.execute("SELECT id, guid, mid, flds, tags FROM notes ORDER BY id LIMIT ?", (limits.max_notes + 1,))
        ]
        if len(notes) > limits.max_notes:
            raise _fail(path, f"the collection has more than {limits.max_notes:,} notes; the limit is {limits.max_notes:,}")
        cards = [
            AnkiCard(_cell_int(r[0]), _cell_int(r[1]), _cell_int(r[3]) or _cell_int(r[2]), _cell_int(r[4]), _cell_int(r[5]))
            for r in db.execute("SELECT id, nid, did, odid, ord, queue FROM cards ORDER BY nid, ord, id LIMIT ?", (limits.max_cards + 1,))
        ]
        if len(cards) > limits.max_cards:
            raise _fail(path, f"the collection has more than {limits.max_cards:,} cards; the limit is {limits.max_cards:,}")
        revlog = [
            Revlog(_cell_int(r[0]), _cell_int(r[1]), _cell_int(r[2]), _cell_int(r[3]), _cell_int(r[4]))
            for r in db.execute("SELECT id, cid, ease, time, type FROM revlog ORDER BY id LIMIT ?", (limits.max_reviews + 1,))
        ]
        if len(revlog) > limits.max_reviews:
            raise _fail(path, f"the review log has more than {limits.max_reviews:,} rows; the limit is {limits.max_reviews:,}")
    except sqlite3.OperationalError as exc:
        if steps > limits.max_sql_steps:
            raise _fail(path, f"{member} takes too long to read (over the work limit); refusing it") from None
        raise _fail(path, f"{member} is damaged or not an Anki collection ({_why(exc)})") from None
    except (sqlite3.DatabaseError, ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise _fail(path, f"{member} is damaged or not an Anki collection ({_why(exc)})") from None
    finally:
        db.close()
    return AnkiCollection(path, member, schema, notetypes, decks, notes, cards, revlog, media)


def _notetypes_modern(db: sqlite3.Connection) -> dict[int, NoteType]:
    fields: dict[int, list[str]] = {}
    for ntid, _ord, name in db.execute("SELECT ntid, ord, name FROM fields ORDER BY ntid, ord"):
        fields.setdefault(_cell_int(ntid), []).append(_cell_text(name))
    templates: dict[int, list[Template]] = {}
    for ntid, _ord, name, config in db.execute("SELECT ntid, ord, name, config FROM templates ORDER BY ntid, ord"):
        blob = config if isinstance(config, bytes) else b""
        q, a = _pb_first(blob, 1, b""), _pb_first(blob, 2, b"")
        templates.setdefault(_cell_int(ntid), []).append(
            Template(_cell_text(name), _cell_text(q) if isinstance(q, bytes) else "", _cell_text(a) if isinstance(a, bytes) else "")
        )
    out: dict[int, NoteType] = {}
    for ntid, name, config in db.execute("SELECT id, name, config FROM notetypes"):
        kind = _pb_first(config if isinstance(config, bytes) else b"", 1, 0)  # NotetypeConfig.kind: 1 = cloze
        i = _cell_int(ntid)
        out[i] = NoteType(i, _cell_text(name), kind == 1, tuple(fields.get(i, ())), tuple(templates.get(i, ())))
    return out


def _notetypes_legacy(models_json: str) -> dict[int, NoteType]:
    models = json.loads(models_json) if models_json.strip() else {}
    out: dict[int, NoteType] = {}
    for key, m in dict(models).items():
        flds = sorted(m.get("flds", []), key=lambda f: int(f.get("ord", 0)))
        tmpls = sorted(m.get("tmpls", []), key=lambda t: int(t.get("ord", 0)))
        i = int(m.get("id", key))
        out[i] = NoteType(
            i, str(m.get("name", "")), int(m.get("type", 0)) == 1, tuple(str(f.get("name", "")) for f in flds),
            tuple(Template(str(t.get("name", "")), str(t.get("qfmt", "")), str(t.get("afmt", ""))) for t in tmpls),
        )
    return out


def _decks_modern(db: sqlite3.Connection) -> dict[int, str]:
    return {_cell_int(i): _cell_text(n).replace("\x1f", "::") for i, n in db.execute("SELECT id, name FROM decks")}


def _decks_legacy(decks_json: str) -> dict[int, str]:
    decks = json.loads(decks_json) if decks_json.strip() else {}
    return {int(d.get("id", k)): str(d.get("name", "")) for k, d in dict(decks).items()}


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
# Writing the deck


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key; multi-line text as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class _Flow(list[str]):
    """A list written on one line (`tags: [a, b]`, `accept: [x, y]`)."""


# Plain scalars that rapidyaml's JSON output turns into other text (`inf` becomes `.inf`): quoted.
_RYML_SPECIAL = re.compile(r"[-+]?\.?(?:inf(?:inity)?|nan)", re.IGNORECASE)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else '"' if _RYML_SPECIAL.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, _flow)


def card_data(card: Card, sub: bool = False) -> dict[str, object]:
    """A card as deck-format v1 data (the mapping a deck file holds)."""
    d: dict[str, object] = {"id": card.id}
    if card.type != "basic" or sub:
        d["type"] = card.type
    for name in ("domain", "task"):
        if getattr(card, name):
            d[name] = getattr(card, name)
    if card.type in ("basic", "reverse"):
        d["front"], d["back"] = card.front, card.back
    elif card.type == "cloze":
        d["text"] = card.text
    elif card.type in ("mcq", "multi"):
        d["question"] = card.question
        d["choices"] = [
            {"text": c.text, **({"correct": True} if c.correct else {}), **({"why": c.why} if c.why else {})} for c in card.choices
        ]
    elif card.type == "truefalse":
        d["statement"], d["answer"] = card.statement, card.truth
    elif card.type == "typed":
        d["prompt"], d["answer"] = card.prompt, card.answer
        if card.accept:
            d["accept"] = _Flow(card.accept)
    elif card.type == "scenario":
        d["vignette"] = card.vignette
        d["questions"] = [card_data(q, sub=True) for q in card.questions]
    if card.tags:
        d["tags"] = _Flow(card.tags)
    for name in ("explanation", "source"):
        if getattr(card, name):
            d[name] = getattr(card, name)
    return d


def write_deck_yaml(deck_id: str, title: str, cards: list[Card], source: str) -> str:
    """YAML text of a deck (format v1) holding these cards."""
    _check_deck_id(deck_id)
    if not cards:
        raise PeerprepError(f"deck {deck_id}: no cards to write")
    seen: set[str] = set()
    for card in cards:
        if card.id in seen:
            raise PeerprepError(f'deck {deck_id}: card id "{clean(card.id)}" is used twice')
        seen.add(card.id)
    data: dict[str, object] = {"peerprep": 1, "id": deck_id, "title": " ".join(title.split()) or deck_id}
    if source.strip():
        data["source"] = " ".join(source.split())
    data["cards"] = [card_data(c) for c in cards]
    return str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False))


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



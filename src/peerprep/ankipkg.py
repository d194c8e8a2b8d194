"""Reading Anki packages, safely: the archive and the SQLite collection inside, in memory.

Anki packages (`.apkg`) are read entirely in memory: the zip is never extracted, every member read
is size-capped while it streams (declared sizes, zstd frame sizes and the bytes actually produced
all count against one budget), and the SQLite collection is opened with `sqlite3`'s `deserialize`
as a read-only in-memory database. Nothing is written to disk. The collection preferred is
`collection.anki21b` (zstd, schema 18), then `collection.anki21`, then `collection.anki2`.
`importer` turns what is read here into peerprep cards.
"""

from __future__ import annotations

import io
import json
import lzma
import re
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import PeerprepError
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



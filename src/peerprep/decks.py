"""Deck and blueprint files: read, validate against format v1 with locations, and build the model.

Validation reports every structural problem of a file at once (errors); quality findings that
need the whole set of decks (warnings, coverage) live in `checker`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from .errors import DeckError, PeerprepError, Problem
from .model import Blueprint, Card, Choice, Deck, Domain, Item, Task

FORMAT_VERSION = 1
MAX_BYTES = 20 * 1024 * 1024
DECK_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CARD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
CLOZE = re.compile(r"\{\{(.+?)\}\}", re.DOTALL)
YAML_SUFFIXES = (".yaml", ".yml")

COMMON_FIELDS = ("id", "type", "domain", "task", "tags", "explanation", "source")
TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required fields, optional fields) beyond COMMON_FIELDS
    "basic": (("front", "back"), ()),
    "reverse": (("front", "back"), ()),
    "cloze": (("text",), ()),
    "mcq": (("question", "choices"), ()),
    "multi": (("question", "choices"), ()),
    "truefalse": (("statement", "answer"), ()),
    "typed": (("prompt", "answer"), ("accept",)),
    "scenario": (("vignette", "questions"), ()),
}
DECK_FIELDS = ("peerprep", "id", "title", "description", "source", "blueprint", "cards", "kind")
BLUEPRINT_FIELDS = ("peerprep", "kind", "id", "title", "source", "weights_note", "domains", "exam", "description")
DOMAIN_FIELDS = ("id", "title", "weight", "tasks", "tasks_note", "weight_note", "description")
TASK_FIELDS = ("id", "title")
EXAM_FIELDS = ("questions", "minutes", "pass_percent", "questions_note", "minutes_note", "pass_percent_note")
CHOICE_FIELDS = ("text", "correct", "why")
ALL_CARD_FIELDS = sorted({f for req, opt in TYPE_FIELDS.values() for f in req + opt} | set(COMMON_FIELDS))


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """A ` (did you mean "x"?)` hint, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


# ---------------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one file held: a deck or a blueprint (or neither), and the problems found."""

    path: str
    deck: Deck | None
    blueprint: Blueprint | None
    problems: list[Problem]
    domain_nodes: dict[str, tuple[int, int]] = field(default_factory=dict)  # card uid -> location of its domain
    fast: bool = False  # parsed by the fast path: clean, but locations below card level unknown


# ---------------------------------------------------------------------------------------------
# Finding and loading files


def bundled_paths() -> list[Path]:
    """The deck and blueprint files that ship inside the package."""
    root = resources.files("peerprep")
    out: list[Path] = []
    for sub in ("blueprints", "decks"):
        folder = Path(str(root.joinpath(sub)))
        if folder.is_dir():
            out.extend(sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES))
    return out


def expand_paths(paths: Iterable[str]) -> list[Path]:
    """Files named, and YAML files under directories named (recursively, sorted)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                Path(dirpath) / name
                for dirpath, dirnames, names in os.walk(p)
                for name in names
                if name.endswith(YAML_SUFFIXES) and not name.startswith(".")
            )
            if not found:
                raise PeerprepError(f"{raw}: no .yaml deck files in this directory")
            out.extend(found)
        elif p.exists():
            if not p.is_file():
                raise PeerprepError(f"{raw}: not a regular file")
            out.append(p)
        else:
            raise PeerprepError(f"{raw}: no such file or directory")
    return out


CACHE_FORMAT = 2


def _shape() -> str:
    """The field layout of everything cached: any change to the model invalidates old entries."""
    from .model import Blueprint, Card, Deck

    return ",".join(",".join(cls.__dataclass_fields__) for cls in (Parsed, FileIndex, Deck, Card, Choice, Blueprint, Domain, Task))


def _cache_file(cache_dir: Path, name: str) -> Path:
    import hashlib

    from . import __version__

    key = hashlib.blake2b(f"{CACHE_FORMAT}|{__version__}|{_shape()}|{Path(name).resolve()}".encode(), digest_size=16).hexdigest()
    return cache_dir / f"{key}.pickle"


def read_file(path: Path, bundled: bool = False, cache_dir: Path | None = None, fast: bool = True) -> Parsed:
    """Read and parse one file; unreadable files become problems, not exceptions.

    With `cache_dir`, the parsed result is kept there keyed by path and a hash of the content (and
    the peerprep version), so an unchanged deck is not parsed again; any change invalidates it."""
    if cache_dir is not None:
        return _read_cached(path, bundled, cache_dir, fast)
    return _read_uncached(path, bundled, fast)


def _cache_get(entry: Path, digest: bytes) -> object | None:
    """The object cached in `entry` for content `digest`, or None (missing, stale or damaged)."""
    import pickle

    try:
        with open(entry, "rb") as fh:
            if fh.read(len(digest)) == digest:
                value: object = pickle.load(fh)
                return value
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        pass  # a missing or damaged cache entry is simply rebuilt
    return None


def _cache_put(entry: Path, digest: bytes, value: object) -> None:
    """Keep `value` for content `digest` (atomically; a read-only data dir just means no cache)."""
    import pickle

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(digest)
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except OSError:
        pass


def _content_digest(path: Path) -> tuple[bytes, bytes] | None:
    import hashlib

    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data, hashlib.blake2b(data, digest_size=20).digest()


def _read_cached(path: Path, bundled: bool, cache_dir: Path, fast: bool) -> Parsed:
    name = str(path)
    content = _content_digest(path)
    if content is None:
        return _read_uncached(path, bundled, fast)
    data, digest = content
    entry = _cache_file(cache_dir, name)
    cached = _cache_get(entry, digest)
    if isinstance(cached, Parsed) and cached.path == name and (fast or not cached.fast):
        return cached
    parsed = _parse_bytes(name, data, bundled, fast)
    _cache_put(entry, digest, parsed)
    return parsed


class ItemRef(NamedTuple):
    """A study item as the deck index knows it: enough for counts, stats and readiness."""

    deck_id: str
    key: str
    parent: str
    domain: str | None
    kind: str
    n_choices: int

    @property
    def uid(self) -> str:
        """Deck id and progress key."""
        return f"{self.deck_id}:{self.key}"


def refs(index: FileIndex) -> list[ItemRef]:
    """The items of an indexed deck."""
    return [ItemRef(index.deck_id or "", *item) for item in index.items]


@dataclass(frozen=True, slots=True)
class FileIndex:
    """What the quick commands (`due`, `stats`) need of a deck file, cached apart from the cards:
    its ids, blueprint (for blueprint files) and, per study item, (key, parent, domain, kind,
    number of choices). Problems are kept so a broken file still fails loudly."""

    path: str
    deck_id: str | None
    title: str | None
    blueprint_id: str | None
    bundled: bool
    items: tuple[tuple[str, str, str | None, str, int], ...]
    blueprint: Blueprint | None
    problems: tuple[Problem, ...]


def index_of(parsed: Parsed) -> FileIndex:
    """The FileIndex of a parsed file."""
    deck = parsed.deck
    items: tuple[tuple[str, str, str | None, str, int], ...] = ()
    if deck is not None:
        items = tuple((i.key, i.parent, i.domain, i.kind, len(i.card.choices)) for i in items_of(deck))
    return FileIndex(
        parsed.path,
        deck.id if deck else None,
        deck.title if deck else None,
        deck.blueprint if deck else None,
        deck.bundled if deck else False,
        items,
        parsed.blueprint,
        tuple(parsed.problems),
    )


def read_index(path: Path, bundled: bool, cache_dir: Path | None) -> FileIndex:
    """The FileIndex of a file, from its own small cache entry when the content is unchanged."""
    content = _content_digest(path) if cache_dir is not None else None
    if cache_dir is None or content is None:
        return index_of(read_file(path, bundled))
    name = str(path)
    entry = _cache_file(cache_dir, name).with_suffix(".index")
    cached = _cache_get(entry, content[1])
    if isinstance(cached, FileIndex) and cached.path == name:
        return cached
    index = index_of(read_file(path, bundled, cache_dir))
    _cache_put(entry, content[1], index)
    return index


def parse_text(path: str, text: str, bundled: bool = False, fast: bool = True) -> Parsed:
    """Parse deck or blueprint text; never raises for bad input, reports problems instead."""
    from .deckparse import parse_text as parse

    return parse(path, text, bundled, fast)


def _parse_bytes(name: str, data: bytes, bundled: bool, fast: bool = True) -> Parsed:
    from . import yamlload

    text, problems = yamlload.decode(name, data)
    if text is None:
        return Parsed(name, None, None, problems)
    return parse_text(name, text, bundled=bundled, fast=fast)


def _read_uncached(path: Path, bundled: bool, fast: bool = True) -> Parsed:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return Parsed(name, None, None, [Problem(name, 1, 1, "error", "yaml-limits", f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")])
        data = path.read_bytes()
    except OSError as exc:
        return Parsed(name, None, None, [Problem(name, 1, 1, "error", "unreadable", exc.strerror or str(exc))])
    return _parse_bytes(name, data, bundled, fast)


# ---------------------------------------------------------------------------------------------
# Study items


def items_of(deck: Deck) -> Iterator[Item]:
    """The study items of a deck, in deck order."""
    for card in deck.cards:
        yield from items_of_card(deck.id, card)


def items_of_card(deck_id: str, card: Card) -> Iterator[Item]:
    """The study items one card gives: siblings share `parent`."""
    base = dict(deck_id=deck_id, parent=card.id, domain=card.domain, task=card.task, tags=card.tags)
    if card.type == "reverse":
        yield Item(key=card.id, card=card, kind="reverse", **base)  # type: ignore[arg-type]
        yield Item(key=f"{card.id}@reverse", card=card, kind="reverse", reverse=True, **base)  # type: ignore[arg-type]
    elif card.type == "cloze":
        count = len(CLOZE.findall(card.text or ""))
        for n in range(1, count + 1):
            yield Item(key=f"{card.id}@c{n}", card=card, kind="cloze", cloze_index=n, **base)  # type: ignore[arg-type]
    elif card.type == "scenario":
        for sub in card.questions:
            yield Item(
                deck_id=deck_id,
                key=f"{card.id}/{sub.id}",
                card=sub,
                kind=sub.type,
                parent=card.id,
                domain=sub.domain or card.domain,
                task=sub.task or card.task,
                vignette=card.vignette,
                tags=card.tags + sub.tags,
            )
    else:
        yield Item(key=card.id, card=card, kind=card.type, **base)  # type: ignore[arg-type]


def cloze_parts(text: str) -> list[tuple[str, str | None]]:
    """The deletions of a cloze text as (answer, hint) pairs, in order."""
    out: list[tuple[str, str | None]] = []
    for m in CLOZE.finditer(text):
        answer, _, hint = m.group(1).partition("::")
        out.append((answer, hint or None))
    return out


def cloze_render(text: str, index: int, reveal: bool) -> str:
    """Cloze text with deletion `index` (1-based) hidden as [...] or [hint], others shown plainly."""
    counter = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal counter
        counter += 1
        answer, _, hint = m.group(1).partition("::")
        if counter != index:
            return answer
        if reveal:
            return f"\u27e8{answer}\u27e9"
        return f"[{hint}]" if hint else "[...]"

    return CLOZE.sub(sub, text)


def raise_on_errors(problems: list[Problem]) -> None:
    """Raise a DeckError when any problem is an error."""
    if any(p.severity == "error" for p in problems):
        raise DeckError(problems)

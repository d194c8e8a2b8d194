"""Fast deck loading with rapidyaml, trusted only for files without a single problem.

PyYAML's C wrapper spends most of its time building Python nodes and marks; rapidyaml parses and
emits the same data as JSON about ten times faster. `fast_deck` builds the model straight from it,
`fast_root` gives the validator equivalent nodes (without locations); anything unusual or any
problem sends the file through PyYAML (`deckparse`) for the authoritative result.
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlload
from .decks import (
    CARD_ID,
    CHOICE_FIELDS,
    CLOZE,
    COMMON_FIELDS,
    DECK_FIELDS,
    DECK_SLUG,
    TYPE_FIELDS,
    Parsed,
)
from .model import CARD_TYPES, SUB_TYPES, Card, Choice, Deck

# ---------------------------------------------------------------------------------------------
# Fast path: rapidyaml parses, emits JSON, and the same validator runs over equivalent nodes.
#
# PyYAML's C wrapper spends most of its time building a Python node and two marks per YAML node
# (1.5 s for a 10,000-card deck); rapidyaml parses and emits the same deck as JSON in about 0.15 s.
# The fast path is only trusted for a file it fully understands and that has no problem at all:
# anything unusual (tabs, anchors, tags, `~`, several documents, duplicate keys, control
# characters, a parse error) or any finding sends the file through PyYAML for the authoritative
# result with exact locations. A differential test checks that both paths agree.

_NODE_PROPERTY = re.compile(r"[\s\[{,][&*!]\S")  # an anchor, alias or tag where a node starts
_COMPLEX_KEY = re.compile(r"\n *\? ")
_TILDE = re.compile(r"[:-] +~ *(?:\n|$)")
# rapidyaml rewrites plain inf/nan spellings (`inf` -> `.inf`): leave such files to PyYAML.
_INF_NAN = re.compile(r"[:\-\[,] *[-+]?\.?(?:inf|infinity|nan) *(?:[\n,\]}#]|$)", re.IGNORECASE)


def _risky(text: str) -> bool:
    """Text that might use YAML features the fast path does not model (anchors, tags, several
    documents, complex keys, merges, `~`, tabs): leave it to PyYAML."""
    return (
        "\t" in text
        or text[:1] in ("&", "*", "!", "%", "?")
        or text.startswith("---")
        or "\n---" in text
        or "\n..." in text
        or "\n%" in text
        or "<<" in text
        or ("?" in text and _COMPLEX_KEY.search(text) is not None)
        or ("~" in text and _TILDE.search(text) is not None)
        or _INF_NAN.search(text) is not None
        or _NODE_PROPERTY.search(text) is not None
    )


class _Duplicate(Exception):
    """A mapping with the same key twice: only PyYAML reports it with a location."""


class _Quoted(ScalarNode):
    """A quoted scalar of the fast path (no location); built without running Node.__init__."""

    tag = yamlload.STR_TAG
    style = '"'
    start_mark = end_mark = None


class _PlainScalar(_Quoted):
    """A plain (unquoted) scalar: numbers, true/false, null."""

    style = ""


class _Seq(SequenceNode):
    """A sequence of the fast path."""

    tag = yamlload.SEQ_TAG
    start_mark = end_mark = None
    flow_style = False


class _Map(MappingNode):
    """A mapping of the fast path."""

    tag = yamlload.MAP_TAG
    start_mark = end_mark = None
    flow_style = False


def _plain(text: str) -> _PlainScalar:
    node = _PlainScalar.__new__(_PlainScalar)
    node.value = text
    return node


_TRUE, _FALSE, _NULL = "true", "false", ""


def _node(value: object) -> Node:
    if isinstance(value, Node):
        return value
    if isinstance(value, str):
        node: Node = _Quoted.__new__(_Quoted)
        node.value = value
        return node
    if isinstance(value, list):
        seq = _Seq.__new__(_Seq)
        seq.value = [_node(v) for v in value]
        return seq
    return _plain(_TRUE if value is True else _FALSE if value is False else _NULL)


def _pairs(pairs: list[tuple[str, object]]) -> MappingNode:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Duplicate
    node = _Map.__new__(_Map)
    node.value = [(_plain(k), _node(v)) for k, v in pairs]
    return node


def fast_root(text: str) -> Node | None:
    """The document as nodes (without locations) via rapidyaml, or None when the fast path does
    not apply to this text."""
    if not text.strip() or _risky(text):
        return None
    try:
        import ryml  # type: ignore[import-untyped]
    except ImportError:
        return None
    import json

    try:
        tree = ryml.parse_in_arena(text.encode("utf-8"))
        emitted = ryml.emit_json_malloc(tree, tree.root_id())
    except Exception:  # noqa: BLE001 - any rapidyaml failure means: use PyYAML
        return None
    if not emitted:
        return None
    try:
        data = json.loads(emitted, object_pairs_hook=_pairs, parse_int=_plain, parse_float=_plain)
    except (_Duplicate, ValueError, RecursionError):
        return None
    return _node(data)


def card_count_lines(root: Node, text: str) -> list[int] | None:
    """Start lines of the top-level cards, when the deck's `cards` list can be located in the text."""
    if not isinstance(root, MappingNode):
        return None
    for key, value in root.value:
        if key.value == "cards" and isinstance(value, SequenceNode):
            return card_lines(text, len(value.value))
    return None


_CARD_START = re.compile(r"^cards:[ \t]*(?:#.*)?$", re.MULTILINE)


def card_lines(text: str, count: int) -> list[int] | None:
    """1-based lines where each top-level card starts (block style), or None if not found cleanly."""
    m = _CARD_START.search(text)
    if m is None:
        return None
    first = re.compile(r"^( *)- ", re.MULTILINE).search(text, m.end())
    if first is None:
        return None
    if any(ln.strip() and not ln.lstrip().startswith("#") for ln in text[m.end() : first.start()].split("\n")):
        return None  # something other than blank or comment lines between `cards:` and the first item
    indent = len(first.group(1))
    stop = re.compile(rf"^(?! {{{indent}}})(?![ ]*(?:#|$))", re.MULTILINE).search(text, first.start())
    end = stop.start() if stop else len(text)
    starts: list[int] = []
    line = text.count("\n", 0, first.start()) + 1
    pos = first.start()
    for item in re.compile(rf"^ {{{indent}}}- ", re.MULTILINE).finditer(text, first.start(), end):
        line += text.count("\n", pos, item.start())
        pos = item.start()
        starts.append(line)
    return starts if len(starts) == count else None


# ---------------------------------------------------------------------------------------------
# Fastest path for decks: build the model straight from rapidyaml's JSON, accepting only what the
# validator above would accept without a single problem; anything else is rejected (None) and the
# validator runs. tests/test_fastpath.py checks the two agree.


class _Reject(Exception):
    """The fast builder does not vouch for this input."""


class _Num(str):
    """A plain number's original text."""


def _fast_data(text: str) -> object:
    if not text.strip() or _risky(text):
        return None
    try:
        import ryml
    except ImportError:
        return None
    import json

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        out = dict(items)
        if len(out) != len(items):
            raise _Reject
        return out

    try:
        tree = ryml.parse_in_arena(text.encode("utf-8"))
        emitted = ryml.emit_json_malloc(tree, tree.root_id())
        return json.loads(emitted, object_pairs_hook=pairs, parse_int=_Num, parse_float=_Num) if emitted else None
    except Exception:  # noqa: BLE001 - rapidyaml or JSON failure: the validator decides
        return None


def _t(value: object) -> str:
    """Required non-empty text (a plain true/false/number reads as its text, as in the validator)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str) and value.strip():
        return str(value)
    raise _Reject


def _ot(d: dict[str, object], key: str) -> str | None:
    return _t(d[key]) if key in d else None


def _texts(d: dict[str, object], key: str) -> tuple[str, ...]:
    if key not in d:
        return ()
    value = d[key]
    if not isinstance(value, list):
        raise _Reject
    return tuple(_t(v) for v in value)


_FIELDS = {t: frozenset(COMMON_FIELDS + req + opt) for t, (req, opt) in TYPE_FIELDS.items()}
_DECK_KEYS = frozenset(DECK_FIELDS)
_CHOICE_KEYS = frozenset(CHOICE_FIELDS)


def _fast_card(d: object, sub: bool, line: int) -> Card:
    if not isinstance(d, dict):
        raise _Reject
    kind = d.get("type", _Reject if sub else "basic")
    if kind is _Reject or kind not in (SUB_TYPES if sub else CARD_TYPES):
        raise _Reject
    if not d.keys() <= _FIELDS[kind]:
        raise _Reject
    required, _opt = TYPE_FIELDS[kind]
    for name in required:
        if name not in d:
            raise _Reject
    card_id = _t(d["id"]) if "id" in d else ""
    if not CARD_ID.match(card_id):
        raise _Reject
    common = dict(domain=_ot(d, "domain"), task=_ot(d, "task"), tags=_texts(d, "tags"), explanation=_ot(d, "explanation"), source=_ot(d, "source"))
    if kind in ("basic", "reverse"):
        return Card(id=card_id, type=kind, line=line, front=_t(d["front"]), back=_t(d["back"]), **common)  # type: ignore[arg-type]
    if kind == "cloze":
        text = _t(d["text"])
        if not CLOZE.search(text):
            raise _Reject
        return Card(id=card_id, type=kind, line=line, text=text, **common)  # type: ignore[arg-type]
    if kind in ("mcq", "multi"):
        raw = d["choices"]
        if not isinstance(raw, list) or len(raw) < 2:
            raise _Reject
        choices = []
        for c in raw:
            if not isinstance(c, dict) or not c.keys() <= _CHOICE_KEYS or "text" not in c:
                raise _Reject
            correct = c.get("correct", False)
            if not isinstance(correct, bool):
                raise _Reject
            choices.append(Choice(_t(c["text"]), correct, _ot(c, "why")))
        keys = sum(c.correct for c in choices)
        if (kind == "mcq" and keys != 1) or keys == 0:
            raise _Reject
        return Card(id=card_id, type=kind, line=line, question=_t(d["question"]), choices=tuple(choices), **common)  # type: ignore[arg-type]
    if kind == "truefalse":
        if not isinstance(d["answer"], bool):
            raise _Reject
        return Card(id=card_id, type=kind, line=line, statement=_t(d["statement"]), truth=d["answer"], **common)  # type: ignore[arg-type]
    if kind == "typed":
        return Card(id=card_id, type=kind, line=line, prompt=_t(d["prompt"]), answer=_t(d["answer"]), accept=_texts(d, "accept"), **common)  # type: ignore[arg-type]
    raw_subs = d["questions"]
    if not isinstance(raw_subs, list) or len(raw_subs) < 2:
        raise _Reject
    subs = [_fast_card(q, True, line) for q in raw_subs]
    if len({q.id for q in subs}) != len(subs):
        raise _Reject
    return Card(id=card_id, type=kind, line=line, vignette=_t(d["vignette"]), questions=tuple(subs), **common)  # type: ignore[arg-type]


def fast_deck(path: str, text: str, bundled: bool) -> Parsed | None:
    """The deck built straight from rapidyaml's output when it is free of every error, else None."""
    data = _fast_data(text)
    if not isinstance(data, dict) or data.get("kind", "deck") != "deck" or not data.keys() <= _DECK_KEYS:
        return None
    try:
        if data.get("peerprep") != "1" or not isinstance(data.get("peerprep"), _Num):
            raise _Reject
        deck_id = _t(data.get("id"))
        if not DECK_SLUG.match(deck_id):
            raise _Reject
        raw = data.get("cards")
        if not isinstance(raw, list) or not raw:
            raise _Reject
        starts = card_lines(text, len(raw)) or [0] * len(raw)
        cards = tuple(_fast_card(c, False, line) for c, line in zip(raw, starts))
        if len({c.id for c in cards}) != len(cards):
            raise _Reject
        deck = Deck(id=deck_id, title=_t(data.get("title")), path=path, cards=cards, description=_ot(data, "description"), source=_ot(data, "source"), blueprint=_ot(data, "blueprint"), bundled=bundled)
    except (_Reject, KeyError, TypeError):
        return None
    return Parsed(path, deck, None, [], {}, fast=True)

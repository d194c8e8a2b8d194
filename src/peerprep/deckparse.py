"""Validating deck and blueprint YAML against format v1, with a location for every problem.

Imported only when a file must really be parsed (a cache hit never needs PyYAML).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlload
from .decks import (
    ALL_CARD_FIELDS,
    BLUEPRINT_FIELDS,
    CARD_ID,
    CHOICE_FIELDS,
    CLOZE,
    COMMON_FIELDS,
    DECK_FIELDS,
    DECK_SLUG,
    DOMAIN_FIELDS,
    EXAM_FIELDS,
    FORMAT_VERSION,
    TASK_FIELDS,
    TYPE_FIELDS,
    Parsed,
    did_you_mean,
)
from .errors import Problem
from .fastdeck import card_count_lines, fast_deck, fast_root
from .model import CARD_TYPES, SUB_TYPES, Blueprint, Card, Choice, Deck, Domain, Task


@dataclass
class _Reader:
    """Walks composed nodes, collecting problems with locations as it goes."""

    path: str
    problems: list[Problem] = field(default_factory=list)

    def error(self, node: Node | None, rule: str, message: str) -> None:
        line, col = yamlload.where(node) if node is not None else (1, 1)
        self.problems.append(Problem(self.path, line, col, "error", rule, message))

    def mapping(self, node: Node, what: str, allowed: Iterable[str], extra_hint: Iterable[str] = ()) -> dict[str, tuple[Node, Node]]:
        """Fields of a mapping node by name (key node, value node); unknown and duplicate keys reported."""
        if not isinstance(node, MappingNode):
            self.error(node, "wrong-type", f"{what} must be a mapping of fields, not {_kind(node)}")
            return {}
        if node.tag is not yamlload.MAP_TAG:
            self._tag(node)
        allowed_set = allowed if isinstance(allowed, frozenset) else frozenset(allowed)
        fields: dict[str, tuple[Node, Node]] = {}
        unknown: dict[str, Node] = {}  # remembered for duplicate detection only
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.error(key, "wrong-type", f"a field name in {what} must be text")
                continue
            name = key.value
            if name in fields or name in unknown:
                line, _ = yamlload.where(fields[name][0] if name in fields else unknown[name])
                self.error(key, "yaml-duplicate-key", f'duplicate key "{name}" in {what} (first at line {line})')
                continue
            if name not in allowed_set:
                hint = did_you_mean(name, list(allowed_set) + list(extra_hint))
                self.error(key, "unknown-field", f'unknown field "{_short(name)}" in {what}{hint}')
                unknown[name] = key
                continue
            fields[name] = (key, value)
        return fields

    def _tag(self, node: Node) -> bool:
        tag = yamlload.unsafe_tag(node)
        if tag is not None:
            self.error(node, "yaml-unsafe", f"tag {_short(tag)} is not allowed (only plain YAML data)")
            return False
        return True

    def _value(self, fields: dict[str, tuple[Node, Node]], name: str, what: str, required: bool, anchor: Node) -> Node | None:
        """The value node of a field; None (with the problem reported) when missing or tagged."""
        if name not in fields:
            if required:
                self.error(anchor, "missing-field", f'{what} is missing required field "{name}"')
            return None
        node = fields[name][1]
        return node if self._tag(node) else None

    def text(self, fields: dict[str, tuple[Node, Node]], name: str, what: str, required: bool, anchor: Node) -> str | None:
        node = self._value(fields, name, what, required, anchor)
        if node is None:
            return None
        if not isinstance(node, ScalarNode):
            self.error(node, "wrong-type", f'"{name}" in {what} must be text, not {_kind(node)}')
            return None
        value = node.value
        if not node.style and value in ("~", "null", "Null", "NULL"):
            value = ""
        if not value.strip():
            self.error(node, "empty-text", f'"{name}" in {what} is empty')
            return None
        return str(value)

    def boolean(self, fields: dict[str, tuple[Node, Node]], name: str, what: str, required: bool, anchor: Node) -> bool | None:
        node = self._value(fields, name, what, required, anchor)
        if node is None:
            return None
        if isinstance(node, ScalarNode) and not node.style and node.value in ("true", "True", "TRUE", "false", "False", "FALSE"):
            return bool(node.value.lower() == "true")
        self.error(node, "wrong-type", f'"{name}" in {what} must be true or false, not {_describe(node)}')
        return None

    def number(self, fields: dict[str, tuple[Node, Node]], name: str, what: str, required: bool, anchor: Node, integer: bool = False) -> float | None:
        node = self._value(fields, name, what, required, anchor)
        if node is None:
            return None
        if isinstance(node, ScalarNode) and not node.style:
            try:
                value = int(node.value) if integer else float(node.value)
            except ValueError:
                pass
            else:
                if value >= 0 and math.isfinite(value):
                    return float(value)
        kind = "a whole number" if integer else "a number"
        self.error(node, "wrong-type", f'"{name}" in {what} must be {kind} (0 or more), not {_describe(node)}')
        return None

    def sequence(self, fields: dict[str, tuple[Node, Node]], name: str, what: str, required: bool, anchor: Node) -> list[Node] | None:
        node = self._value(fields, name, what, required, anchor)
        if node is None:
            return None
        if not isinstance(node, SequenceNode):
            self.error(node, "wrong-type", f'"{name}" in {what} must be a list, not {_kind(node)}')
            return None
        return list(node.value)

    def texts(self, fields: dict[str, tuple[Node, Node]], name: str, what: str) -> tuple[str, ...]:
        nodes = self.sequence(fields, name, what, False, fields.get(name, (None, None))[0] or MappingNode(yamlload.MAP_TAG, []))
        out: list[str] = []
        for node in nodes or ():
            if not self._tag(node):
                continue
            if not isinstance(node, ScalarNode):
                self.error(node, "wrong-type", f'each entry of "{name}" in {what} must be text, not {_kind(node)}')
            elif not node.value.strip():
                self.error(node, "empty-text", f'an entry of "{name}" in {what} is empty')
            else:
                out.append(node.value)
        return tuple(out)


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f'"{_short(node.value)}"' if node.value else "an empty value"


def _describe(node: Node) -> str:
    return _kind(node)


def _short(text: str, limit: int = 40) -> str:
    from .text import clean

    text = clean(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# ---------------------------------------------------------------------------------------------
# Cards


def _read_choices(r: _Reader, nodes: list[Node], what: str) -> tuple[Choice, ...]:
    choices: list[Choice] = []
    for i, node in enumerate(nodes):
        cw = f"choice {chr(65 + i) if i < 26 else i + 1} of {what}"
        f = r.mapping(node, cw, CHOICE_FIELDS)
        if not f and isinstance(node, MappingNode):
            r.error(node, "missing-field", f'{cw} is missing required field "text"')
            continue
        if not isinstance(node, MappingNode):
            continue
        text = r.text(f, "text", cw, True, node)
        correct = r.boolean(f, "correct", cw, False, node) or False
        why = r.text(f, "why", cw, False, node)
        if text is not None:
            choices.append(Choice(text=text, correct=correct, why=why))
    return tuple(choices)


def _read_card(r: _Reader, node: Node, where_: str, sub: bool, seen: dict[str, Node], line: int | None = None) -> Card | None:
    if not isinstance(node, MappingNode):
        r.error(node, "wrong-type", f"{where_} must be a mapping of fields, not {_kind(node)}")
        return None
    # Determine the type first so the allowed fields are known.
    type_name = "basic"
    type_node: Node | None = None
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "type":
            type_node = value
    if type_node is not None:
        if isinstance(type_node, ScalarNode) and type_node.value in (SUB_TYPES if sub else CARD_TYPES):
            type_name = type_node.value
        else:
            kinds = SUB_TYPES if sub else CARD_TYPES
            got = type_node.value if isinstance(type_node, ScalarNode) else ""
            r.error(type_node, "wrong-type", f'"type" of {where_} must be one of {", ".join(kinds)}, not {_describe(type_node)}{did_you_mean(got, kinds)}')
            return None
    elif sub:
        r.error(node, "missing-field", f'{where_} is missing required field "type" ({", ".join(SUB_TYPES)})')
        return None
    required, optional = TYPE_FIELDS[type_name]
    allowed: tuple[str, ...] = COMMON_FIELDS + required + optional
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode) and value.value.strip():
            where_ = f'{"sub-item" if sub else "card"} "{_short(value.value)}"'
    f = r.mapping(node, where_, allowed, ALL_CARD_FIELDS)
    card_id = r.text(f, "id", where_, True, node)
    if card_id is not None:
        id_node = f["id"][1]
        if not CARD_ID.match(card_id):
            r.error(id_node, "bad-id", f'card id "{_short(card_id)}" must be letters, digits, ".", "_" or "-", starting with a letter or digit')
        elif card_id in seen:
            line, _ = yamlload.where(seen[card_id])
            scope = "scenario" if sub else "deck"
            r.error(id_node, "duplicate-card-id", f'duplicate card id "{card_id}" in this {scope} (first at line {line})')
        else:
            seen[card_id] = id_node
        where_ = f'card "{_short(card_id)}"' if not sub else f'sub-item "{_short(card_id)}"'
    common = {
        "domain": r.text(f, "domain", where_, False, node),
        "task": r.text(f, "task", where_, False, node),
        "tags": r.texts(f, "tags", where_),
        "explanation": r.text(f, "explanation", where_, False, node),
        "source": r.text(f, "source", where_, False, node),
    }
    if line is None:
        line = yamlload.where(node)[0]
    card: Card | None = None
    ok_before = len(r.problems)
    if type_name in ("basic", "reverse"):
        front = r.text(f, "front", where_, True, node)
        back = r.text(f, "back", where_, True, node)
        card = Card(id=card_id or "?", type=type_name, line=line, front=front, back=back, **common)  # type: ignore[arg-type]
    elif type_name == "cloze":
        text = r.text(f, "text", where_, True, node)
        if text is not None and not CLOZE.search(text):
            r.error(f["text"][1], "cloze-no-deletion", f"cloze {where_} has no {{{{...}}}} deletion")
        card = Card(id=card_id or "?", type=type_name, line=line, text=text, **common)  # type: ignore[arg-type]
    elif type_name in ("mcq", "multi"):
        question = r.text(f, "question", where_, True, node)
        nodes = r.sequence(f, "choices", where_, True, node)
        choices: tuple[Choice, ...] = ()
        if nodes is not None:
            choices = _read_choices(r, nodes, where_)
            anchor = f["choices"][1]
            if len(nodes) < 2:
                r.error(anchor, "few-choices", f"{where_} has {len(nodes)} choice{'s' if len(nodes) != 1 else ''}; at least 2 are needed")
            keys = sum(1 for c in choices if c.correct)
            if type_name == "mcq" and keys != 1 and len(choices) == len(nodes):
                r.error(anchor, "mcq-key", f"mcq {where_} has {keys} correct choices; exactly one must be marked `correct: true`" + (" (use type: multi for select-all)" if keys > 1 else ""))
            if type_name == "multi" and keys == 0 and len(choices) == len(nodes):
                r.error(anchor, "multi-key", f"multi {where_} has no correct choice; mark at least one `correct: true`")
        card = Card(id=card_id or "?", type=type_name, line=line, question=question, choices=choices, **common)  # type: ignore[arg-type]
    elif type_name == "truefalse":
        statement = r.text(f, "statement", where_, True, node)
        truth = r.boolean(f, "answer", where_, True, node)
        card = Card(id=card_id or "?", type=type_name, line=line, statement=statement, truth=truth, **common)  # type: ignore[arg-type]
    elif type_name == "typed":
        prompt = r.text(f, "prompt", where_, True, node)
        answer = r.text(f, "answer", where_, True, node)
        accept = r.texts(f, "accept", where_)
        card = Card(id=card_id or "?", type=type_name, line=line, prompt=prompt, answer=answer, accept=accept, **common)  # type: ignore[arg-type]
    elif type_name == "scenario":
        vignette = r.text(f, "vignette", where_, True, node)
        nodes = r.sequence(f, "questions", where_, True, node)
        subs: list[Card] = []
        if nodes is not None:
            sub_seen: dict[str, Node] = {}
            for i, sub_node in enumerate(nodes):
                sub_card = _read_card(r, sub_node, f"sub-item {i + 1} of {where_}", True, sub_seen)
                if sub_card is not None:
                    subs.append(sub_card)
            if len(nodes) < 2:
                r.error(f["questions"][1], "scenario-size", f"scenario {where_} has {len(nodes)} sub-item{'s' if len(nodes) != 1 else ''}; at least 2 are needed")
        card = Card(id=card_id or "?", type=type_name, line=line, vignette=vignette, questions=tuple(subs), **common)  # type: ignore[arg-type]
    if card_id is None or len(r.problems) > ok_before:
        return card if card_id is not None else None
    return card


def parse_text(path: str, text: str, bundled: bool = False, fast: bool = True) -> Parsed:
    """Parse deck or blueprint text; never raises for bad input, reports problems instead.

    With `fast`, rapidyaml is tried first; its result is kept only when the file is free of
    problems (cards then carry their start lines when those can be found, else line 0)."""
    if fast:
        quick = fast_deck(path, text, bundled)
        if quick is not None:
            return quick
        root = fast_root(text)
        if root is not None:
            starts = card_count_lines(root, text)
            parsed = _parse_root(path, root, [], bundled, starts)
            if not parsed.problems and (parsed.deck is not None or parsed.blueprint is not None):
                return replace(parsed, fast=True)
    doc = yamlload.compose(path, text)
    if doc.root is None:
        problems = doc.problems or [Problem(path, 1, 1, "error", "missing-field", "the file is empty; a deck needs peerprep, id, title and cards")]
        return Parsed(path, None, None, problems)
    return _parse_root(path, doc.root, list(doc.problems), bundled)


def _parse_root(path: str, root: Node, problems: list[Problem], bundled: bool, card_starts: list[int] | None = None) -> Parsed:
    r = _Reader(path, problems)
    if not isinstance(root, MappingNode):
        r.error(root, "wrong-type", f"a deck file must be a mapping with peerprep, id, title and cards, not {_kind(root)}")
        return Parsed(path, None, None, r.problems)
    kind = None
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "kind" and isinstance(value, ScalarNode):
            kind = value.value
    if kind == "blueprint":
        return _parse_blueprint(r, root)
    if kind not in (None, "deck"):
        kind_node = next(v for k, v in root.value if isinstance(k, ScalarNode) and k.value == "kind")
        r.error(kind_node, "wrong-type", f'"kind" must be deck or blueprint, not "{_short(str(kind))}"')
        return Parsed(path, None, None, r.problems)
    f = r.mapping(root, "the deck", DECK_FIELDS)
    _version(r, f, root)
    deck_id = r.text(f, "id", "the deck", True, root)
    if deck_id is not None and not DECK_SLUG.match(deck_id):
        r.error(f["id"][1], "bad-id", f'deck id "{_short(deck_id)}" must be a lowercase slug like "empathy-foundations"')
    title = r.text(f, "title", "the deck", True, root)
    description = r.text(f, "description", "the deck", False, root)
    source = r.text(f, "source", "the deck", False, root)
    blueprint = r.text(f, "blueprint", "the deck", False, root)
    domain_nodes: dict[str, tuple[int, int]] = {}
    if blueprint is not None:
        domain_nodes["#blueprint"] = yamlload.where(f["blueprint"][1])
    card_nodes = r.sequence(f, "cards", "the deck", True, root)
    cards: list[Card] = []
    if card_nodes is not None:
        if not card_nodes:
            r.error(f["cards"][1], "missing-field", "the deck has no cards; at least one is needed")
        seen: dict[str, Node] = {}
        for i, node in enumerate(card_nodes):
            card = _read_card(r, node, f"card {i + 1}", False, seen, card_starts[i] if card_starts and i < len(card_starts) else None)
            if card is not None:
                cards.append(card)
                _domain_locations(node, card.id, domain_nodes)
    deck = None
    if deck_id is not None and title is not None:
        deck = Deck(id=deck_id, title=title, path=path, cards=tuple(cards), description=description, source=source, blueprint=blueprint, bundled=bundled)
    return Parsed(path, deck, None, r.problems, domain_nodes)


def _domain_locations(node: Node, card_id: str, out: dict[str, tuple[int, int]]) -> None:
    """Remember where `domain`, `task` and sub-item fields sit, for blueprint errors found later."""
    if not isinstance(node, MappingNode):
        return
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            continue
        if key.value in ("domain", "task"):
            out[f"{card_id}#{key.value}"] = yamlload.where(value)
        elif key.value == "questions" and isinstance(value, SequenceNode):
            for sub in value.value:
                sub_id = None
                if isinstance(sub, MappingNode):
                    for k, v in sub.value:
                        if isinstance(k, ScalarNode) and k.value == "id" and isinstance(v, ScalarNode):
                            sub_id = v.value
                if sub_id:
                    _domain_locations(sub, f"{card_id}/{sub_id}", out)
    out.setdefault(card_id, yamlload.where(node))


def _version(r: _Reader, f: dict[str, tuple[Node, Node]], root: Node) -> None:
    if "peerprep" not in f:
        r.error(root, "missing-field", "missing required field \"peerprep\" (the format version: peerprep: 1)")
        return
    node = f["peerprep"][1]
    if not (isinstance(node, ScalarNode) and node.value == str(FORMAT_VERSION)):
        r.error(node, "bad-version", f"unsupported format version {_describe(node)}; this peerprep reads version {FORMAT_VERSION}")


def _parse_blueprint(r: _Reader, root: MappingNode) -> Parsed:
    f = r.mapping(root, "the blueprint", BLUEPRINT_FIELDS)
    _version(r, f, root)
    bp_id = r.text(f, "id", "the blueprint", True, root)
    if bp_id is not None and not DECK_SLUG.match(bp_id):
        r.error(f["id"][1], "bad-id", f'blueprint id "{_short(bp_id)}" must be a lowercase slug')
    title = r.text(f, "title", "the blueprint", True, root)
    weights_note = r.text(f, "weights_note", "the blueprint", False, root)
    domains: list[Domain] = []
    for i, node in enumerate(r.sequence(f, "domains", "the blueprint", True, root) or ()):
        what = f"domain {i + 1}"
        df = r.mapping(node, what, DOMAIN_FIELDS)
        if not isinstance(node, MappingNode):
            continue
        did = r.text(df, "id", what, True, node)
        dtitle = r.text(df, "title", what, True, node)
        weight = r.number(df, "weight", what, True, node)
        tasks: list[Task] = []
        for j, tnode in enumerate(r.sequence(df, "tasks", what, False, node) or ()):
            tw = f"task {j + 1} of {what}"
            tf = r.mapping(tnode, tw, TASK_FIELDS)
            if isinstance(tnode, MappingNode):
                tid = r.text(tf, "id", tw, True, tnode)
                ttitle = r.text(tf, "title", tw, True, tnode)
                if tid and ttitle:
                    tasks.append(Task(tid, ttitle))
        if did and dtitle and weight is not None:
            if any(d.id == did for d in domains):
                r.error(df["id"][1], "duplicate-card-id", f'duplicate domain id "{did}"')
            domains.append(Domain(did, dtitle, weight, tuple(tasks)))
    if domains and sum(d.weight for d in domains) <= 0:
        r.error(f["domains"][1], "wrong-type", "domain weights must not all be zero")
    exam_node = f.get("exam", (None, None))[1]
    questions, minutes, pass_percent = 75.0, 120.0, 70.0
    pass_note = None
    if exam_node is None:
        r.error(root, "missing-field", 'the blueprint is missing required field "exam" (questions, minutes, pass_percent)')
    else:
        ef = r.mapping(exam_node, "exam", EXAM_FIELDS)
        questions = r.number(ef, "questions", "exam", True, exam_node, integer=True) or questions
        minutes = r.number(ef, "minutes", "exam", True, exam_node, integer=True) or minutes
        pp = r.number(ef, "pass_percent", "exam", True, exam_node)
        if pp is not None and pp > 100:
            r.error(ef["pass_percent"][1], "wrong-type", "pass_percent must be between 0 and 100")
        pass_percent = pp if pp is not None else pass_percent
        pass_note = r.text(ef, "pass_percent_note", "exam", False, exam_node)
    blueprint = None
    if bp_id and title and domains:
        blueprint = Blueprint(bp_id, title, r.path, tuple(domains), int(questions), int(minutes), pass_percent, weights_note, pass_note)
    return Parsed(r.path, None, blueprint, r.problems)

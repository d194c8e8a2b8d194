"""Writing peerprep deck YAML (format v1) from cards: what imports save."""

from __future__ import annotations

import re

import yaml

from .errors import PeerprepError
from .importer import _check_deck_id
from .model import Card
from .text import clean

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



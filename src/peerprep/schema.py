"""JSON Schemas for deck and blueprint files, generated from the same field tables the loader uses."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .decks import COMMON_FIELDS, DECK_SLUG, TYPE_FIELDS
from .model import SUB_TYPES

_TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"\S"}
_DESCRIPTIONS = {
    "id": "Progress key: unique in the deck; keep it when you edit the text.",
    "type": "Card type (default basic).",
    "domain": "A domain id of the deck's blueprint.",
    "task": "A task id of that domain in the blueprint.",
    "tags": "Short words for filtering.",
    "explanation": "Why the answer is right; shown after answering.",
    "source": "Where the fact comes from.",
    "front": "The prompt side.",
    "back": "The answer side.",
    "text": "Text with one or more {{...}} deletions ({{answer::hint}} for a hint).",
    "question": "The question (for exam items: a short situation and what to do).",
    "choices": "The options; mark the key with correct: true; give each a why.",
    "statement": "A statement that is true or false.",
    "answer": "The answer.",
    "prompt": "What to type an answer to.",
    "accept": "Other accepted answers.",
    "vignette": "The situation shared by the sub-items.",
    "questions": "Two or more sub-items (mcq, multi, truefalse, typed).",
}


def _field(name: str, card_type: str) -> dict[str, Any]:
    desc = {"description": _DESCRIPTIONS.get(name, name)}
    if name == "id":
        return {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", **desc}
    if name == "tags" or name == "accept":
        return {"type": "array", "items": _TEXT, **desc}
    if name == "answer" and card_type == "truefalse":
        return {"type": "boolean", **desc}
    if name == "choices":
        return {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["text"],
                "properties": {
                    "text": _TEXT,
                    "correct": {"type": "boolean", "description": "This option is (one of) the key(s)."},
                    "why": {**_TEXT, "description": "Rationale shown when this option is picked or reviewed."},
                },
            },
            **desc,
        }
    if name == "questions":
        return {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/subitem"}, **desc}
    return {**_TEXT, **desc}


def _card_schema(card_type: str, sub: bool) -> dict[str, Any]:
    required, optional = TYPE_FIELDS[card_type]
    props = {name: _field(name, card_type) for name in COMMON_FIELDS + required + optional}
    props["type"] = {"const": card_type, "description": "Card type."}
    need = ["id", *required] + (["type"] if sub or card_type != "basic" else [])
    return {
        "type": "object",
        "additionalProperties": False,
        "required": need,
        "properties": props,
    }


def deck_schema() -> dict[str, Any]:
    """The JSON Schema of a deck file."""
    cards = []
    for card_type in TYPE_FIELDS:
        schema = _card_schema(card_type, False)
        if card_type != "basic":
            schema["required"] = [*schema["required"]]
        cards.append(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://peerprep.invalid/schema/deck-1.json",
        "title": "peerprep deck (format 1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["peerprep", "id", "title", "cards"],
        "properties": {
            "peerprep": {"const": 1, "description": "Format version."},
            "kind": {"const": "deck"},
            "id": {"type": "string", "pattern": DECK_SLUG.pattern, "description": "Deck id: a lowercase slug."},
            "title": _TEXT,
            "description": _TEXT,
            "source": _TEXT,
            "blueprint": {**_TEXT, "description": "Exam blueprint id (e.g. icrc-pr)."},
            "cards": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/card"}},
        },
        "$defs": {
            "card": {"oneOf": cards},
            "subitem": {"oneOf": [_card_schema(t, True) for t in SUB_TYPES]},
        },
    }


def blueprint_schema() -> dict[str, Any]:
    """The JSON Schema of a blueprint file."""
    note = {**_TEXT, "description": "Where this figure comes from."}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://peerprep.invalid/schema/blueprint-1.json",
        "title": "peerprep exam blueprint (format 1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["peerprep", "kind", "id", "title", "domains", "exam"],
        "properties": {
            "peerprep": {"const": 1},
            "kind": {"const": "blueprint"},
            "id": {"type": "string", "pattern": DECK_SLUG.pattern},
            "title": _TEXT,
            "description": _TEXT,
            "source": _TEXT,
            "weights_note": note,
            "domains": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "title", "weight"],
                    "properties": {
                        "id": {"type": "string", "pattern": DECK_SLUG.pattern},
                        "title": _TEXT,
                        "description": _TEXT,
                        "weight": {"type": "number", "minimum": 0, "description": "Relative weight."},
                        "weight_note": note,
                        "tasks_note": note,
                        "tasks": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["id", "title"],
                                "properties": {"id": _TEXT, "title": _TEXT},
                            },
                        },
                    },
                },
            },
            "exam": {
                "type": "object",
                "additionalProperties": False,
                "required": ["questions", "minutes", "pass_percent"],
                "properties": {
                    "questions": {"type": "integer", "minimum": 1},
                    "minutes": {"type": "integer", "minimum": 1},
                    "pass_percent": {"type": "number", "minimum": 0, "maximum": 100},
                    "questions_note": note,
                    "minutes_note": note,
                    "pass_percent_note": {**note, "description": "Say that it is a practice target."},
                },
            },
        },
    }


GENERATORS = {"deck": deck_schema, "blueprint": blueprint_schema}


def render(kind: str) -> str:
    """Schema text as shipped (stable key order, trailing newline)."""
    return json.dumps(GENERATORS[kind](), indent=2) + "\n"


def shipped(kind: str) -> str:
    """The schema file that ships in the package."""
    return resources.files("peerprep").joinpath(f"schemas/{kind}.schema.json").read_text(encoding="utf-8")

"""The instructor checker: quality warnings across loaded decks and the blueprint coverage table."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from . import decks as deckfile
from .catalog import Catalog
from .errors import Problem
from .model import Blueprint, Card, Deck
from .text import normalise

ABOVE = re.compile(r"\b(all|none|both|neither)\s+of\s+the\s+(above|options|answers|choices)\b", re.IGNORECASE)
KEY_SHARE_LIMIT = 0.40
KEY_MIN_ITEMS = 5


@dataclass
class Coverage:
    """Items per domain and per task of one blueprint, over a set of decks."""

    blueprint: Blueprint
    decks: list[str]
    domain_items: Counter[str] = field(default_factory=Counter)
    domain_objective: Counter[str] = field(default_factory=Counter)
    task_items: Counter[str] = field(default_factory=Counter)
    unassigned: int = 0


@dataclass
class Report:
    """Everything `peerprep check` found."""

    problems: list[Problem]
    coverage: list[Coverage]
    decks: int
    cards: int
    items: int

    @property
    def errors(self) -> int:
        """Count of errors."""
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        """Count of warnings."""
        return sum(1 for p in self.problems if p.severity == "warning")


def _warn(deck: Deck, line: int, rule: str, message: str) -> Problem:
    return Problem(deck.path, line, 1, "warning", rule, message)


def _card_warnings(deck: Deck, card: Card, label: str, parent: Card | None, out: list[Problem]) -> None:
    if card.type in ("mcq", "multi"):
        n = len(card.choices)
        if n and (n < 3 or n > 5):
            out.append(_warn(deck, card.line, "choice-count", f"{label} has {n} choices; 3 to 5 are advised (the exam uses 4)"))
        seen: dict[str, int] = {}
        for i, choice in enumerate(card.choices):
            letter = chr(65 + i) if i < 26 else str(i + 1)
            key = normalise(choice.text)
            if key in seen:
                out.append(_warn(deck, card.line, "duplicate-choice", f"{label}: choice {letter} repeats choice {chr(65 + seen[key])}"))
            else:
                seen[key] = i
            if choice.why is None:
                out.append(_warn(deck, card.line, "missing-why", f"{label}: choice {letter} has no `why` rationale"))
            if " of the " in choice.text.lower() and ABOVE.search(choice.text):
                out.append(_warn(deck, card.line, "all-none-of-above", f'{label}: choice {letter} is an "all/none of the above" option; write a real option instead'))
    if card.type != "scenario":
        if not (card.explanation or (parent and parent.explanation)):
            out.append(_warn(deck, card.line, "missing-explanation", f"{label} has no explanation"))
        if not (card.source or (parent and parent.source) or deck.source):
            out.append(_warn(deck, card.line, "missing-source", f"{label} has no source (and the deck has none)"))


def _stem_key(card: Card, parent: Card | None) -> str:
    stem = card.stem
    if parent is not None and parent.vignette:
        stem = parent.vignette + " " + stem
    return normalise(stem)


def check(cat: Catalog) -> Report:
    """Run every quality rule over the catalog's decks; structural errors come from loading."""
    problems = list(cat.problems)
    stems: dict[str, tuple[Deck, Card]] = {}
    coverage: dict[str, Coverage] = {}
    cards = items = 0
    for deck in cat.decks:
        positions: Counter[int] = Counter()
        for card in deck.cards:
            cards += 1
            subs = card.questions if card.type == "scenario" else (card,)
            for sub in subs:
                parent = card if card.type == "scenario" else None
                label = f'card "{card.id}"' + (f' sub-item "{sub.id}"' if parent else "")
                _card_warnings(deck, sub, label, parent, problems)
                key = _stem_key(sub, parent)
                if key:
                    if key in stems:
                        first_deck, first_card = stems[key]
                        problems.append(_warn(deck, sub.line, "duplicate-question", f'{label} asks the same as card "{first_card.id}" ({first_deck.path}:{first_card.line})'))
                    else:
                        stems[key] = (deck, sub)
                if sub.type == "mcq" and len(sub.choices) >= 4 and len(sub.key_indexes) == 1:
                    positions[sub.key_indexes[0]] += 1
        total = sum(positions.values())
        if total >= KEY_MIN_ITEMS:
            pos, count = positions.most_common(1)[0]
            if count / total > KEY_SHARE_LIMIT:
                spread = ", ".join(f"{chr(65 + p)} {positions[p]}" for p in sorted(positions))
                problems.append(Problem(deck.path, 1, 1, "warning", "key-position", f"{count} of {total} keys ({count / total:.0%}) are {chr(65 + pos)}; spread them out ({spread})"))
        if deck.blueprint and deck.blueprint in cat.blueprints:
            cov = coverage.setdefault(deck.blueprint, Coverage(cat.blueprints[deck.blueprint], []))
            cov.decks.append(deck.id)
            for item in deckfile.items_of(deck):
                items += 1
                if item.domain is None:
                    cov.unassigned += 1
                    continue
                cov.domain_items[item.domain] += 1
                if item.objective:
                    cov.domain_objective[item.domain] += 1
                if item.task:
                    cov.task_items[item.task] += 1
        else:
            items += sum(1 for _ in deckfile.items_of(deck))
    for cov in coverage.values():
        first = cat.deck(cov.decks[0])
        for domain in cov.blueprint.domains:
            if cov.domain_items[domain.id] == 0:
                problems.append(Problem(first.path, 1, 1, "warning", "empty-domain", f'blueprint {cov.blueprint.id} domain "{domain.id}" has no items in the decks checked together ({", ".join(cov.decks)})'))
    problems.sort(key=lambda p: (p.path, p.line, p.column, p.severity != "error"))
    return Report(problems, list(coverage.values()), len(cat.decks), cards, items)


def coverage_rows(cov: Coverage) -> list[tuple[str, str, int, int]]:
    """(id, title, items, objective items) per domain then per task, for display."""
    rows: list[tuple[str, str, int, int]] = []
    for d in cov.blueprint.domains:
        rows.append((d.id, d.title, cov.domain_items[d.id], cov.domain_objective[d.id]))
        for t in d.tasks:
            rows.append((t.id, t.title, cov.task_items[t.id], -1))
    return rows


def by_severity(problems: list[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by severity."""
    out: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        out[p.severity].append(p)
    return out

"""Readiness: the predicted exam score from the memory model and the blueprint.

Predicted score = sum over domains of weight x mean probability of answering that domain's exam
items right on the day. For an item that was studied, the probability is R + (1 - R) x g, where R
is FSRS's predicted recall and g the chance of guessing right (1/n for n choices, 1/2 true/false);
an item never seen counts at g. The uncertainty is the spread of a score over an exam of the
blueprint's length drawn from these items (binomial), reported as a 95% interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from .model import EXAM_TYPES, Blueprint, Item
from .scheduler import NEW, CardState, Settings, retrievability


@dataclass
class Readiness:
    """A forecast of the exam score at a moment."""

    predicted: float
    low: float
    high: float
    domains: dict[str, dict[str, float]] = field(default_factory=dict)
    items: int = 0
    studied: int = 0


def item_probability(item: Item, state: CardState | None, at: datetime, settings: Settings, tz: tzinfo | None, guess: float) -> float:
    """Chance of answering this item right at `at`."""
    if state is None or state.state == NEW or state.stability is None:
        return guess
    r = retrievability(state, at, settings, tz)
    return r + (1 - r) * guess


def readiness(
    items: list[Item],
    states: dict[tuple[str, str], CardState],
    blueprint: Blueprint,
    at: datetime,
    settings: Settings,
    tz: tzinfo | None,
    guess: Callable[[Item], float],
) -> Readiness:
    """Forecast the exam score at `at` over the blueprint's domains."""
    per_domain: dict[str, list[float]] = {d.id: [] for d in blueprint.domains}
    studied = 0
    for item in items:
        if item.kind not in EXAM_TYPES or item.domain not in per_domain:
            continue
        state = states.get((item.deck_id, item.key))
        if state is not None and state.state != NEW:
            studied += 1
        per_domain[item.domain].append(item_probability(item, state, at, settings, tz, guess(item)))
    weights = {d.id: d.weight for d in blueprint.domains if per_domain[d.id]}
    wsum = sum(weights.values()) or 1.0
    domains = {}
    predicted = 0.0
    for d in blueprint.domains:
        values = per_domain[d.id]
        mean = sum(values) / len(values) if values else 0.0
        domains[d.id] = {"predicted": mean, "items": float(len(values))}
        predicted += weights.get(d.id, 0.0) / wsum * mean
    n = max(1, blueprint.questions)
    half = 1.96 * math.sqrt(max(predicted * (1 - predicted), 0.0) / n)
    total = sum(len(v) for v in per_domain.values())
    return Readiness(predicted, max(0.0, predicted - half), min(1.0, predicted + half), domains, total, studied)

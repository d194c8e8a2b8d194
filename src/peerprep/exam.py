"""Mock exams: drawing items by blueprint weight, navigation and timing, scoring, item statistics.

Pure functions over items, a seeded RNG and an injected `now`: the same seed gives the same exam.
Answers are always recorded in the deck's original choice order (letters as authored), whatever
order the choices were shown in, so statistics add up across attempts and learners.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from . import grading
from .errors import PeerprepError
from .model import EXAM_TYPES, Blueprint, Item

EXPORT_COLUMNS = ["attempt", "deck", "item", "domain", "type", "answer", "key", "correct", "flagged"]


@dataclass
class Question:
    """One exam question: an item and the order its choices are shown in."""

    item: Item
    order: list[int]  # shown position -> original choice index ([] for true/false)
    group: str  # items of one scenario share a group and stay together

    def shown_letters_to_original(self, chosen: list[int]) -> list[int]:
        """Map chosen shown positions to original choice indexes."""
        return sorted(self.order[i] for i in chosen)


@dataclass
class Draw:
    """The questions of an exam and what the draw had to say (shortfalls)."""

    questions: list[Question]
    quotas: dict[str, int]
    notes: list[str] = field(default_factory=list)


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` in proportion to `weights` with largest-remainder rounding (ties: listed order)."""
    wsum = sum(weights.values())
    if wsum <= 0 or total <= 0:
        return {k: 0 for k in weights}
    exact = {k: total * w / wsum for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    order = sorted(weights, key=lambda k: (-(exact[k] - out[k]), list(weights).index(k)))
    for k in order[: total - sum(out.values())]:
        out[k] += 1
    return out


def eligible(items: Iterable[Item]) -> list[Item]:
    """Items an exam may ask: mcq, multi and true/false (standalone or inside a scenario)."""
    return [i for i in items if i.kind in EXAM_TYPES]


def _units(items: list[Item]) -> dict[str, list[list[Item]]]:
    """Items grouped into units (a scenario's eligible sub-items form one unit) per domain."""
    by_parent: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in items:
        by_parent[(item.deck_id, item.parent)].append(item)
    units: dict[str, list[list[Item]]] = defaultdict(list)
    for group in by_parent.values():
        units[group[0].domain or ""].append(group)
    return units


def draw(items: list[Item], blueprint: Blueprint | None, count: int, rng: random.Random) -> Draw:
    """Draw `count` questions in proportion to the blueprint's domain weights (largest remainder),
    keeping each scenario's sub-items together; when a domain runs short, say so and fill from the
    others by weight. Units and choices are shuffled with `rng`."""
    pool = eligible(items)
    if not pool:
        raise PeerprepError("no exam-ready items (mcq, multi, true/false) in the selected decks")
    units = _units(pool)
    for unit_list in units.values():
        unit_list.sort(key=lambda g: (g[0].deck_id, g[0].parent))
        rng.shuffle(unit_list)
    notes: list[str] = []
    if blueprint is not None:
        weights = {d.id: d.weight for d in blueprint.domains if d.weight > 0 and units.get(d.id)}
        titles = {d.id: d.title for d in blueprint.domains}
        missing = [d.title for d in blueprint.domains if d.weight > 0 and not units.get(d.id)]
        if missing:
            notes.append(f"no exam-ready items for {', '.join(missing)}: that domain is left out")
        if not weights:
            raise PeerprepError(f"none of the selected items belongs to a domain of blueprint {blueprint.id}")
    else:
        weights = {k: 1.0 for k in sorted(units)}
        titles = {k: k or "(no domain)" for k in units}
    available = sum(len(u) for d in weights for u in units[d])
    if count > available:
        notes.append(f"only {available} exam-ready items are available, so the exam has {available} questions, not {count}")
        count = available
    quotas = largest_remainder(count, weights)
    chosen: dict[str, list[list[Item]]] = defaultdict(list)
    need = dict(quotas)
    short_domains: list[str] = []
    while True:
        shortfall = 0
        for dom in weights:
            for unit in list(units[dom]):
                if need[dom] <= 0:
                    break
                if len(unit) <= need[dom]:
                    chosen[dom].append(unit)
                    units[dom].remove(unit)
                    need[dom] -= len(unit)
            if need[dom] > 0:  # nothing left that fits: hand the rest to the other domains
                shortfall += need[dom]
                need[dom] = 0
                if dom not in short_domains:
                    short_domains.append(dom)
        open_domains = {d: w for d, w in weights.items() if units[d]}
        if shortfall == 0 or not open_domains:
            break
        for d, n in largest_remainder(shortfall, open_domains).items():
            need[d] += n
    for dom in short_domains:
        got = sum(len(u) for u in chosen[dom])
        if got < quotas[dom]:
            notes.append(f"{titles.get(dom, dom)}: {got} of {quotas[dom]} questions (too few items); the rest come from other domains")
    final_units = [u for dom in weights for u in chosen[dom]]
    rng.shuffle(final_units)
    questions: list[Question] = []
    for unit in final_units:
        for item in unit:
            order = list(range(len(item.card.choices)))
            if item.kind in ("mcq", "multi"):
                rng.shuffle(order)
            questions.append(Question(item, order, f"{item.deck_id}:{item.parent}"))
    got_counts = Counter(q.item.domain or "" for q in questions)
    return Draw(questions, {d: got_counts.get(d, 0) for d in weights}, notes)


# ------------------------------------------------------------------------------------------------
# Taking an exam


@dataclass
class Answer:
    """A response: original choice indexes, or a truth value."""

    choices: list[int] | None = None
    truth: bool | None = None

    def letters(self) -> str:
        """As recorded: original-order letters, or t/f."""
        if self.truth is not None:
            return "t" if self.truth else "f"
        return "".join(chr(65 + i) for i in self.choices or [])


@dataclass
class Exam:
    """An exam in progress: questions, answers, flags, the current position and the clock."""

    questions: list[Question]
    started: datetime
    minutes: int | None  # None: untimed (tutor mode by default)
    tutor: bool = False
    answers: dict[int, Answer] = field(default_factory=dict)
    flagged: set[int] = field(default_factory=set)
    current: int = 0
    finished: datetime | None = None

    @property
    def deadline(self) -> datetime | None:
        """When the exam submits itself."""
        return None if self.minutes is None else self.started + timedelta(minutes=self.minutes)

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left (never negative), or None when untimed."""
        deadline = self.deadline
        return None if deadline is None else max(timedelta(0), deadline - now)

    def timed_out(self, now: datetime) -> bool:
        """True once the clock has run out."""
        deadline = self.deadline
        return deadline is not None and now >= deadline

    def respond(self, index: int, answer: Answer) -> None:
        """Answer question `index` (replacing any earlier answer) and move to the next."""
        self.answers[index] = answer
        if index + 1 < len(self.questions):
            self.current = index + 1

    def skip(self) -> None:
        """Leave the current question unanswered and move on (wrapping to the first unanswered)."""
        if self.current + 1 < len(self.questions):
            self.current += 1
        else:
            pending = self.unanswered()
            if pending:
                self.current = pending[0]

    def back(self) -> None:
        """Go to the previous question."""
        self.current = max(0, self.current - 1)

    def goto(self, number: int) -> None:
        """Go to question `number` (1-based)."""
        if not 1 <= number <= len(self.questions):
            raise PeerprepError(f"there is no question {number}; the exam has {len(self.questions)}")
        self.current = number - 1

    def toggle_flag(self) -> bool:
        """Flag or unflag the current question; returns the new flag."""
        if self.current in self.flagged:
            self.flagged.discard(self.current)
            return False
        self.flagged.add(self.current)
        return True

    def unanswered(self) -> list[int]:
        """Indexes of questions without an answer."""
        return [i for i in range(len(self.questions)) if i not in self.answers]

    def all_answered(self) -> bool:
        """True when every question has an answer."""
        return len(self.answers) == len(self.questions)


def parse_response(question: Question, text: str) -> Answer | None:
    """A typed response (shown letters, or t/f) as an Answer in original order; None if invalid."""
    item = question.item
    if item.kind == "truefalse":
        truth = grading.parse_truth(text)
        return None if truth is None else Answer(truth=truth)
    chosen = grading.parse_letters(text, len(question.order))
    if chosen is None or (item.kind == "mcq" and len(chosen) != 1):
        return None
    return Answer(choices=question.shown_letters_to_original(chosen))


def is_correct(question: Question, answer: Answer | None) -> bool:
    """Whether an answer is right (no answer is wrong)."""
    if answer is None:
        return False
    card = question.item.card
    if question.item.kind == "truefalse":
        return answer.truth == card.truth
    return set(answer.choices or []) == set(card.key_indexes)


def key_letters(question: Question) -> str:
    """The key in original order (letters, or t/f)."""
    card = question.item.card
    if question.item.kind == "truefalse":
        return "t" if card.truth else "f"
    return "".join(chr(65 + i) for i in card.key_indexes)


# ------------------------------------------------------------------------------------------------
# Scoring


@dataclass
class DomainScore:
    """Correct of total in one domain."""

    domain: str
    title: str
    correct: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        """Percent correct."""
        return 100.0 * self.correct / self.total if self.total else 0.0


@dataclass
class Result:
    """A scored attempt."""

    total: int
    correct: int
    percent: float
    pass_percent: float | None
    passed: bool | None
    seconds: float
    timed_out: bool
    domains: list[DomainScore]
    items: list[dict[str, object]]

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (what `--json` prints and the store keeps)."""
        data = asdict(self)
        data["domains"] = [{**asdict(d), "percent": round(d.percent, 1)} for d in self.domains]
        data["percent"] = round(self.percent, 1)
        return data


def score(exam: Exam, blueprint: Blueprint | None, now: datetime, timed_out: bool = False) -> Result:
    """Score an exam at `now`."""
    titles = {d.id: d.title for d in blueprint.domains} if blueprint else {}
    domains: dict[str, DomainScore] = {}
    if blueprint:
        for d in blueprint.domains:
            domains[d.id] = DomainScore(d.id, d.title)
    items: list[dict[str, object]] = []
    correct = 0
    for i, q in enumerate(exam.questions):
        answer = exam.answers.get(i)
        ok = is_correct(q, answer)
        correct += ok
        dom = q.item.domain or ""
        ds = domains.setdefault(dom, DomainScore(dom, titles.get(dom, dom or "(no domain)")))
        ds.total += 1
        ds.correct += ok
        items.append(
            {
                "number": i + 1,
                "deck": q.item.deck_id,
                "item": q.item.key,
                "domain": dom or None,
                "type": q.item.kind,
                "answer": answer.letters() if answer else None,
                "key": key_letters(q),
                "correct": ok,
                "flagged": i in exam.flagged,
                "order": q.order,
            }
        )
    total = len(exam.questions)
    percent = 100.0 * correct / total if total else 0.0
    pass_mark = blueprint.pass_percent if blueprint else None
    return Result(
        total=total,
        correct=correct,
        percent=percent,
        pass_percent=pass_mark,
        passed=None if pass_mark is None else percent >= pass_mark,
        seconds=max(0.0, (now - exam.started).total_seconds()),
        timed_out=timed_out,
        domains=[d for d in domains.values() if d.total],
        items=items,
    )


def spec_json(exam: Exam, blueprint: str | None, seed: int | None, decks: list[str]) -> str:
    """What is needed to rebuild an attempt's questions: item ids and choice orders."""
    return json.dumps(
        {
            "blueprint": blueprint,
            "seed": seed,
            "decks": decks,
            "minutes": exam.minutes,
            "tutor": exam.tutor,
            "questions": [{"deck": q.item.deck_id, "item": q.item.key, "order": q.order} for q in exam.questions],
        }
    )


def rebuild(spec: dict[str, object], items: list[Item]) -> list[Question]:
    """Questions of a saved attempt, from the current decks (items no longer present are skipped)."""
    index = {(i.deck_id, i.key): i for i in items}
    out: list[Question] = []
    for q in cast(list[dict[str, Any]], spec.get("questions", [])):
        item = index.get((q["deck"], q["item"]))
        if item is None:
            continue
        order = list(q["order"]) if len(q["order"]) == len(item.card.choices) else list(range(len(item.card.choices)))
        out.append(Question(item, order, f"{item.deck_id}:{item.parent}"))
    return out


# ------------------------------------------------------------------------------------------------
# Result files and item statistics


def export_rows(attempt_id: int, result: dict[str, object]) -> list[dict[str, str]]:
    """An attempt as rows of the documented CSV format (EXPORT_COLUMNS)."""
    rows = []
    for it in cast(list[dict[str, Any]], result["items"]):
        rows.append(
            {
                "attempt": str(attempt_id),
                "deck": str(it["deck"]),
                "item": str(it["item"]),
                "domain": str(it["domain"] or ""),
                "type": str(it["type"]),
                "answer": str(it["answer"] or ""),
                "key": str(it["key"]),
                "correct": "1" if it["correct"] else "0",
                "flagged": "1" if it["flagged"] else "0",
            }
        )
    return rows


def write_csv(rows: list[dict[str, str]]) -> str:
    """CSV text with a header line."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_results(name: str, text: str) -> list[dict[str, str]]:
    """Rows of a results CSV; a clear error naming the file and line when it is not one."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("deck", "item", "answer", "key", "correct") if c not in (reader.fieldnames or [])]
    if missing:
        raise PeerprepError(f"{name}:1:1: not a peerprep results file (missing column {', '.join(missing)})")
    rows = []
    for n, row in enumerate(reader, start=2):
        if row.get("correct") not in ("0", "1"):
            raise PeerprepError(f"{name}:{n}:1: column correct must be 0 or 1")
        rows.append(row)
    return rows


@dataclass
class ItemStat:
    """Classic item analysis: difficulty (percent correct) and how often each option was picked."""

    deck: str
    item: str
    answered: int = 0
    correct: int = 0
    picks: Counter[str] = field(default_factory=Counter)
    key: str = ""

    @property
    def percent(self) -> float:
        """Percent correct."""
        return 100.0 * self.correct / self.answered if self.answered else 0.0


def item_stats(responses: Iterable[tuple[str, str, str | None, bool | None, str]]) -> list[ItemStat]:
    """Aggregate (deck, item, answer letters, correct, key) responses into per-item statistics."""
    stats: dict[tuple[str, str], ItemStat] = {}
    for deck, item, answer, correct, key in responses:
        if answer is None or correct is None:
            continue
        st = stats.setdefault((deck, item), ItemStat(deck, item, key=key))
        st.answered += 1
        st.correct += int(correct)
        if not correct:
            st.picks[answer or "-"] += 1
    return sorted(stats.values(), key=lambda s: (s.percent, s.deck, s.item))

"""Showing items and reading answers: the study loop and the item screens shared with quizzes."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from . import grading
from .decks import cloze_parts, cloze_render
from .render import safe
from .scheduler import RATINGS, format_interval
from .terminal import EndOfInput, Input

if TYPE_CHECKING:
    from rich.console import Console

    from .model import Item
    from .session import Session, Summary

RATING_WORDS = {"again": 1, "hard": 2, "good": 3, "easy": 4}
COMMANDS = {":undo": "undo", ":suspend": "suspend", ":quit": "quit", ":bury": "bury", ":right": "right", ":skip": "skip"}
KEY_COMMANDS = {"z": "undo", "@": "suspend", "q": "quit", "-": "bury"}


@dataclass
class Response:
    """What the learner did with an item."""

    command: str | None = None  # undo, suspend, bury, quit
    rating: int | None = None
    correct: bool | None = None
    given: str | None = None


def _command(text: str, inp: Input) -> str | None:
    low = text.strip().lower()
    if low in COMMANDS:
        return COMMANDS[low]
    if inp.interactive and low in KEY_COMMANDS:
        return KEY_COMMANDS[low]
    return None


def show_item(console: Console, item: Item, header: str | None = None, number: str | None = None, order: list[int] | None = None) -> None:
    """The question side of an item (with its scenario vignette)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    card = item.card
    body = Text()
    options: Table | None = None
    if item.vignette:
        body.append_text(safe(item.vignette, "italic"))
        body.append("\n\n")
    if item.kind in ("basic", "reverse"):
        body.append_text(safe(card.back if item.reverse else card.front))
    elif item.kind == "cloze":
        body.append_text(safe(cloze_render(card.text or "", item.cloze_index, reveal=False)))
    elif item.kind in ("mcq", "multi"):
        body.append_text(safe(card.question))
        if item.kind == "multi":
            body.append("\n(select all that apply)", style="dim")
        options = Table.grid(padding=(0, 2))
        options.add_column(justify="right", style="bold")
        options.add_column()
        for shown, original in enumerate(order or range(len(card.choices))):
            options.add_row(f"  {chr(65 + shown)}", safe(card.choices[original].text))
    elif item.kind == "truefalse":
        body.append_text(safe(card.statement))
        body.append("\n  True or false?", style="dim")
    elif item.kind == "typed":
        body.append_text(safe(card.prompt))
    title = safe(f"{item.deck_id} \u00b7 {item.kind}" + (f" \u00b7 {number}" if number else ""), "dim")
    if header:
        console.print(safe(header, "dim"))
    content = Group(body, options) if options is not None else body
    console.print(Panel(content, title=title, title_align="left"))


def show_back(console: Console, item: Item) -> None:
    """The answer side of a rated item."""
    from rich.text import Text

    card = item.card
    body = Text()
    if item.kind in ("basic", "reverse"):
        body.append_text(safe(card.front if item.reverse else card.back, "bold green"))
    elif item.kind == "cloze":
        body.append_text(safe(cloze_render(card.text or "", item.cloze_index, reveal=True), "green"))
    console.print(body)
    _notes(console, item)


def _notes(console: Console, item: Item) -> None:
    card = item.card
    if card.explanation:
        console.print(safe("Why: ", "bold") + safe(card.explanation))
    if card.source:
        console.print(safe("Source: ", "dim") + safe(card.source, "dim"))


def show_feedback(console: Console, item: Item, grade: grading.Grade, chosen: list[int] | None = None, order: list[int] | None = None) -> None:
    """After an objective item: right or wrong, the key, why the pick was wrong, the explanation, source."""
    from rich.text import Text

    card = item.card
    verdict = Text("Correct." if grade.correct else "Not quite.", style="bold green" if grade.correct else "bold red")
    if grade.note:
        verdict.append_text(safe(f" {grade.note}", "dim"))
    console.print(verdict)
    if item.kind in ("mcq", "multi"):
        for shown, i in enumerate(order or range(len(card.choices))):
            choice = card.choices[i]
            picked = chosen is not None and i in chosen
            if not (choice.correct or picked):
                continue
            mark = "\u2713" if choice.correct else "\u2717"
            style = "green" if choice.correct else "red"
            line = Text(f"  {mark} {chr(65 + shown)} ", style=style)
            line.append_text(safe(choice.text, style))
            if picked:
                line.append(" (your answer)", style="dim")
            console.print(line)
            if choice.why:
                from rich.padding import Padding

                console.print(Padding(safe(choice.why, "dim" if choice.correct else ""), (0, 0, 0, 6)))
    elif item.kind == "truefalse":
        console.print(safe(f"  The statement is {'true' if card.truth else 'false'}.", "green"))
    elif item.kind == "typed":
        answer = safe("  Answer: ", "bold") + safe(card.answer, "green")
        if card.accept:
            answer.append_text(safe(f"  (also accepted: {', '.join(card.accept)})", "dim"))
        console.print(answer)
    _notes(console, item)


def ask_objective(console: Console, inp: Input, item: Item) -> Response:
    """Read and grade an answer to an mcq, multi, truefalse or typed item (commands allowed)."""
    card = item.card
    while True:
        if item.kind == "typed":
            text = inp.line("Your answer (:undo :suspend :quit): " if inp.interactive else "")
        elif item.kind == "multi":
            text = inp.line(f"Letters ({grading.letters(len(card.choices))}), then Enter: " if inp.interactive else "")
        elif item.kind == "mcq":
            text = inp.key(f"Answer {'/'.join(grading.letters(len(card.choices)))} (z undo, @ suspend, q quit) " if inp.interactive else "")
        else:
            text = inp.key("t / f (z undo, @ suspend, q quit) " if inp.interactive else "")
        cmd = _command(text, inp)
        if cmd:
            return Response(command=cmd)
        if item.kind in ("mcq", "multi"):
            chosen = grading.parse_letters(text, len(card.choices))
            if chosen is None or (item.kind == "mcq" and len(chosen) != 1):
                _hint(console, f"Type {'one letter' if item.kind == 'mcq' else 'one or more letters'} from {grading.letters(len(card.choices))}, or {_cmds(inp)}.")
                continue
            grade = grading.grade_choices(card, chosen)
            show_feedback(console, item, grade, chosen)
        elif item.kind == "truefalse":
            truth = grading.parse_truth(text)
            if truth is None:
                _hint(console, f"Type t or f, or {_cmds(inp)}.")
                continue
            grade = grading.grade_truth(card, truth)
            show_feedback(console, item, grade)
        else:
            if not text.strip():
                _hint(console, "Type your answer, or :undo, :suspend, :quit.")
                continue
            grade = grading.grade_typed(card, text)
            show_feedback(console, item, grade)
        return Response(rating=3 if grade.correct else 1, correct=grade.correct, given=grade.given)


def _cmds(inp: Input) -> str:
    return "z undo, @ suspend, q quit" if inp.interactive else ":undo, :suspend, :quit"


def _hint(console: Console, text: str) -> None:
    console.print(safe(text, "yellow"))


def _rating_line(intervals: Mapping[int, timedelta]) -> str:
    parts = []
    for r, name in RATINGS.items():
        span = intervals.get(r)
        parts.append(f"{r} {name}" + (f" ({format_interval(span)})" if span is not None else ""))
    return "  ".join(parts)


def ask_rating(console: Console, inp: Input, session: Session, item: Item, default: int | None = None) -> Response:
    """Read a 1-4 rating (or a command). With `default`, Enter accepts it (objective override)."""
    intervals = session.intervals(item)
    line = _rating_line(intervals)
    if default is not None:
        prompt = f"Enter = {RATINGS[default]}; or 1-4 to override, r = I was right  "
        if not inp.interactive:
            return Response(rating=default)
    else:
        prompt = "1-4 (z undo, @ suspend, - bury, q quit) "
    console.print(safe(line, "cyan"))
    while True:
        text = inp.key(prompt if inp.interactive else "")
        cmd = _command(text, inp)
        if cmd:
            return Response(command=cmd)
        low = text.strip().lower()
        if default is not None and low in ("", "\n", "\r", " "):
            return Response(rating=default)
        if default is not None and low == "r":
            return Response(rating=3, correct=True)
        if low in ("1", "2", "3", "4"):
            return Response(rating=int(low))
        if low in RATING_WORDS:
            return Response(rating=RATING_WORDS[low])
        keys = "z undo, @ suspend, - bury, q quit" if inp.interactive else ":undo, :suspend, :bury, :quit"
        _hint(console, f"Rate 1-4 (or again, hard, good, easy), or {keys}.")


def run(console: Console, inp: Input, session: Session) -> Summary:
    """The study loop: until the queue is empty, the learner quits, input ends, or Ctrl-C."""
    try:
        _loop(console, inp, session)
    except (EndOfInput, KeyboardInterrupt):
        console.print()
    return session.finish()


def _loop(console: Console, inp: Input, session: Session) -> None:
    last_wrong_typed: tuple[Item, Response] | None = None
    while True:
        item = session.next()
        if item is None:
            return
        new, learning, review = session.counts()
        mode = "cram (schedule untouched)" if session.mode == "cram" else "study"
        show_item(console, item, header=f"{mode} \u00b7 new {new} \u00b7 learning {learning} \u00b7 review {review}")
        started = time.monotonic()
        if item.objective:
            resp = ask_objective(console, inp, item)
            if resp.command is None and inp.interactive:
                override = ask_rating(console, inp, session, item, default=resp.rating)
                if override.command:
                    resp = Response(command=override.command)
                else:
                    if override.correct:
                        resp.correct = True
                    resp.rating = override.rating
        else:
            if inp.interactive:
                key = inp.key("Space or Enter to show the answer (z undo, @ suspend, q quit) ")
                cmd = _command(key, inp)
                if cmd:
                    resp = Response(command=cmd)
                    if _do_command(console, session, item, resp.command or ""):
                        return
                    continue
            show_back(console, item)
            resp = ask_rating(console, inp, session, item)
        if resp.command:
            if resp.command == "right" and last_wrong_typed is not None:
                wrong_item, wrong = last_wrong_typed
                session.undo()
                session.answer(wrong_item, 3, correct=True, given=wrong.given)
                console.print(safe("Marked right: your last answer counts as Good.", "yellow"))
                last_wrong_typed = None
                continue
            if _do_command(console, session, item, resp.command):
                return
            continue
        assert resp.rating is not None
        elapsed = int((time.monotonic() - started) * 1000)
        result = session.answer(item, resp.rating, correct=resp.correct, given=resp.given, duration_ms=elapsed)
        last_wrong_typed = (item, resp) if item.kind == "typed" and resp.correct is False else None
        if last_wrong_typed and not inp.interactive:
            console.print(safe("If you were right after all, answer :right next.", "dim"))
        if result.became_leech:
            console.print(safe("This item has lapsed 8 times: tagged as a leech and suspended. Rewrite it or unsuspend it later.", "yellow"))
        if result.after and result.after.due:
            console.print(safe(f"Next: in {format_interval(result.after.due - session.clock())}", "dim"))
        console.print()


def _do_command(console: Console, session: Session, item: Item, command: str) -> bool:
    """Carry out a session command; True when the session should end."""
    if command == "quit":
        return True
    if command == "undo":
        undone = session.undo()
        console.print(safe("Undone: the last answer was taken back." if undone else "Nothing to undo yet.", "yellow"))
    elif command == "suspend":
        session.suspend(item)
        console.print(safe("Suspended. `peerprep unsuspend` brings it back.", "yellow"))
    elif command == "bury":
        session.bury(item)
        console.print(safe("Buried until tomorrow.", "yellow"))
    elif command == "right":
        console.print(safe(":right applies right after a typed answer marked wrong.", "yellow"))
    return False


def show_summary(console: Console, summary: Summary, now: object) -> None:
    """The end-of-session summary."""
    from datetime import datetime

    console.print(safe("Session summary", "bold"))
    if summary.answered == 0:
        console.print(safe("  Nothing answered."))
    else:
        acc = summary.accuracy
        console.print(safe(f"  Answered {summary.answered} \u00b7 again {summary.again}" + (f" \u00b7 accuracy {acc:.0%} of {summary.graded} graded" if acc is not None else "")))
        minutes, seconds = divmod(int(summary.seconds), 60)
        console.print(safe(f"  Time {minutes}m {seconds:02d}s"))
    if summary.leeches:
        console.print(safe(f"  Leeches suspended: {', '.join(summary.leeches)}", "yellow"))
    if summary.next_due and isinstance(now, datetime):
        console.print(safe(f"  Next due: in {format_interval(summary.next_due - now)} ({summary.due_tomorrow} due by the end of tomorrow)"))
    else:
        console.print(safe("  Nothing scheduled yet."))


__all__ = ["ask_objective", "cloze_parts", "run", "show_feedback", "show_item", "show_summary"]

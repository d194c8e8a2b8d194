"""Mock exams and quizzes on screen: navigation, countdown, review screen, results (shell side)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import grading
from .exam import Answer, Exam, Question, Result, is_correct, parse_response
from .render import safe
from .studyview import show_feedback, show_item
from .terminal import EndOfInput, Input

if TYPE_CHECKING:
    from rich.console import Console

    from .model import Blueprint, Item

Clock = Callable[[], datetime]
OnAnswer = Callable[[int], None]

LINE_COMMANDS = {":skip": "skip", ":flag": "flag", ":back": "back", ":submit": "submit", ":review": "review", ":next": "skip"}
KEY_COMMANDS = {"n": "skip", "m": "flag", "p": "back", "x": "submit", "r": "review", "g": "goto"}


class TimeUp(Exception):
    """The exam clock reached zero."""


def _clock_text(exam: Exam, now: datetime) -> str:
    left = exam.remaining(now)
    if left is None:
        return "untimed"
    total = int(left.total_seconds())
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d} left"


def _header(exam: Exam, now: datetime) -> str:
    n = len(exam.questions)
    flag = " \u2691 flagged" if exam.current in exam.flagged else ""
    return f"Question {exam.current + 1} of {n} \u00b7 answered {len(exam.answers)} \u00b7 flagged {len(exam.flagged)} \u00b7 {_clock_text(exam, now)}{flag}"


def review_screen(console: Console, exam: Exam) -> None:
    """Unanswered and flagged questions before submitting."""
    unanswered = exam.unanswered()
    console.print(safe("Review before submitting", "bold"))
    console.print(safe(f"  Answered {len(exam.answers)} of {len(exam.questions)}; unanswered {len(unanswered)}; flagged {len(exam.flagged)}"))
    for i in sorted(set(unanswered) | exam.flagged):
        marks = ("unanswered" if i in unanswered else "answered") + (", flagged" if i in exam.flagged else "")
        stem = exam.questions[i].item.card.stem.replace("\n", " ")
        short = stem if len(stem) <= 70 else stem[:69] + "\u2026"
        console.print(safe(f"  {i + 1:>3}. [{marks}] {short}"))
    console.print(safe("Submit with :submit (x on a terminal); go to a question with :goto N (g); :back returns.", "dim"))


def _read(inp: Input, exam: Exam, question: Question, clock: Clock) -> str:
    kind = question.item.kind
    if not inp.interactive:
        return inp.line("")

    def tick() -> str:
        now = clock()
        if exam.timed_out(now):
            raise TimeUp
        return "" if exam.minutes is None else f"[{_clock_text(exam, now)}] "

    if kind == "multi":
        return inp.line("Letters then Enter (or :skip :flag :back :review :submit): ")
    if kind == "truefalse":
        return inp.key("t / f   n next · p back · m flag · r review · x submit · g go to ", tick)
    letters = "/".join(grading.letters(len(question.order)))
    return inp.key(f"{letters}   n next · p back · m flag · r review · x submit · g go to ", tick)


def take(console: Console, inp: Input, exam: Exam, clock: Clock, on_answer: OnAnswer | None = None) -> bool:
    """Run an exam until it is submitted, input ends, Ctrl-C, or time runs out (True when it ran out)."""
    try:
        _loop(console, inp, exam, clock, on_answer)
    except TimeUp:
        console.print()
        console.print(safe("Time is up: the exam submits itself.", "bold yellow"))
        return True
    except (EndOfInput, KeyboardInterrupt):
        console.print(safe("Input ended: submitting what is answered.", "yellow"))
    return exam.timed_out(clock())


def _loop(console: Console, inp: Input, exam: Exam, clock: Clock, on_answer: OnAnswer | None) -> None:
    reviewing = False
    while True:
        now = clock()
        if exam.timed_out(now):
            raise TimeUp
        if reviewing or (exam.all_answered() and not exam.tutor and exam.current == len(exam.questions) - 1 and exam.current in exam.answers):
            review_screen(console, exam)
            reviewing = False
            text = inp.line("") if not inp.interactive else inp.key("x submit · g go to · p back ")
            if exam.timed_out(clock()):
                raise TimeUp
            cmd = _command(text, inp)
            if cmd == "submit":
                return
            if cmd == "goto" or text.strip().lower().startswith(":goto"):
                _goto(console, inp, exam, text)
            elif cmd == "back":
                exam.back()
            elif exam.all_answered():
                reviewing = True
                console.print(safe("Type :submit to finish, :goto N or :back.", "yellow"))
            continue
        if exam.tutor and exam.all_answered():
            return
        index = exam.current
        q = exam.questions[index]
        show_item(console, q.item, header=_header(exam, now), number=f"Q{index + 1}", order=q.order)
        text = _read(inp, exam, q, clock)
        if exam.timed_out(clock()):
            raise TimeUp
        cmd = _command(text, inp)
        if cmd == "submit":
            if exam.tutor:
                return
            reviewing = True
            continue
        if cmd == "review":
            reviewing = True
            continue
        if cmd == "skip":
            if exam.tutor and index == len(exam.questions) - 1:
                return
            exam.skip()
            continue
        if cmd == "back":
            exam.back()
            continue
        if cmd == "flag":
            flagged = exam.toggle_flag()
            console.print(safe(f"Question {index + 1} {'flagged' if flagged else 'unflagged'}.", "yellow"))
            continue
        if cmd == "goto" or text.strip().lower().startswith(":goto"):
            _goto(console, inp, exam, text)
            continue
        answer = parse_response(q, text)
        if answer is None:
            console.print(safe(_hint(q), "yellow"))
            continue
        if exam.tutor and index in exam.answers:
            console.print(safe("Already answered in tutor mode; moving on.", "yellow"))
            exam.skip()
            continue
        exam.respond(index, answer)
        if on_answer is not None and exam.tutor:
            on_answer(index)
        if exam.tutor:
            _tutor_feedback(console, q, answer)
            if index == len(exam.questions) - 1:
                return
            exam.current = index + 1


def _hint(q: Question) -> str:
    if q.item.kind == "truefalse":
        return "Type t or f, or :skip, :flag, :back, :review, :submit."
    n = grading.letters(len(q.order))
    one = "one letter" if q.item.kind == "mcq" else "one or more letters"
    return f"Type {one} from {n}, or :skip, :flag, :back, :review, :submit."


def _command(text: str, inp: Input) -> str | None:
    low = text.strip().lower()
    if low in LINE_COMMANDS:
        return LINE_COMMANDS[low]
    if low.startswith(":goto"):
        return "goto"
    if inp.interactive and low in KEY_COMMANDS:
        return KEY_COMMANDS[low]
    return None


def _goto(console: Console, inp: Input, exam: Exam, text: str) -> None:
    arg = text.strip()[5:].strip() if text.strip().lower().startswith(":goto") else ""
    if not arg:
        arg = inp.line("Go to question number: ")
    try:
        exam.goto(int(arg))
    except (ValueError, Exception) as exc:  # noqa: BLE001 - a bad number is a hint, not a failure
        console.print(safe(f"Not a question number: {arg!s} ({exc})" if not isinstance(exc, ValueError) else f"Not a question number: {arg}", "yellow"))


def _tutor_feedback(console: Console, q: Question, answer: Answer) -> None:
    grade = grading.Grade(is_correct(q, answer), answer.letters())
    show_feedback(console, q.item, grade, answer.choices, order=q.order)
    console.print()


def show_result(console: Console, result: Result, questions: list[Question], blueprint: Blueprint | None, predicted: float | None = None) -> None:
    """Overall and per-domain scores with bars, pass/fail against the practice mark, misses reviewed."""
    from rich.table import Table

    console.print()
    console.print(safe(f"Score: {result.correct} of {result.total} ({result.percent:.0f}%)", "bold"))
    if result.pass_percent is not None:
        verdict = "PASS" if result.passed else "BELOW"
        console.print(safe(f"{verdict} the practice target of {result.pass_percent:.0f}% (a practice target, not the official cut score: the real exam reports a scaled score)", "green" if result.passed else "red"))
    minutes, seconds = divmod(int(result.seconds), 60)
    console.print(safe(f"Time used: {minutes}m {seconds:02d}s" + (" (time ran out)" if result.timed_out else "")))
    if predicted is not None:
        console.print(safe(f"Forecast before this exam: {predicted:.0%}; actual: {result.percent / 100:.0%}"))
    table = Table(title=safe("By domain"), title_justify="left")
    table.add_column("domain")
    table.add_column("score", justify="right")
    table.add_column("", min_width=20)
    for d in result.domains:
        bar = "\u2588" * round(d.percent / 5) + "\u2591" * (20 - round(d.percent / 5))
        table.add_row(safe(d.title), f"{d.correct}/{d.total} {d.percent:.0f}%", safe(bar, "green" if d.percent >= (result.pass_percent or 70) else "red"))
    console.print(table)
    missed = [(i, q) for i, q in enumerate(questions) if not result.items[i]["correct"]]
    if not missed:
        console.print(safe("No misses to review.", "green"))
        return
    console.print(safe(f"Review of the {len(missed)} missed question{'s' if len(missed) != 1 else ''}", "bold"))
    for i, q in missed:
        show_item(console, q.item, number=f"Q{i + 1}", order=q.order)
        given = result.items[i]["answer"]
        chosen = [ord(c) - 65 for c in str(given)] if given and q.item.kind != "truefalse" else None
        if not given:
            console.print(safe("You did not answer this one.", "yellow"))
        grade = grading.Grade(False, str(given or ""))
        show_feedback(console, q.item, grade, chosen, order=q.order)
        console.print()


def history_table(console: Console, rows: list[tuple[int, str, str, str, str]]) -> None:
    """`exam history`."""
    from rich.table import Table

    table = Table()
    for col in ("id", "started", "mode", "score", "result"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(safe(x) for x in (str(r[0]), r[1], r[2], r[3], r[4])))
    console.print(table)


def remaining_label(span: timedelta | None) -> str:
    """Time left for the header."""
    if span is None:
        return "untimed"
    total = int(span.total_seconds())
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def run_exam_command(
    deck_args: list[str],
    blueprint_id: str | None,
    questions: int | None,
    minutes: int | None,
    seed: int | None,
    tutor: bool,
    schedule: bool,
    as_json: bool,
    items_override: Sequence[Item] | None = None,
    mode: str = "exam",
) -> None:
    """Draw, take, score, save and show one exam (or quiz)."""
    import json as _json
    import random

    from . import attempts, config, progressview, render, terminal, views
    from . import exam as exams

    cat = views.load_catalog(deck_args)
    ids = views.deck_ids(deck_args, cat)
    items = items_override if items_override is not None else cat.items(ids)
    bp_id = blueprint_id
    if mode == "quiz":
        bp_id = None
    elif bp_id is None:
        named = {d.blueprint for d in cat.select(ids) if d.blueprint}
        bp_id = named.pop() if len(named) == 1 else ("icrc-pr" if "icrc-pr" in cat.blueprints and not named - {"icrc-pr"} else None)
    blueprint = cat.blueprint(bp_id) if bp_id else None
    count = questions if questions is not None else (blueprint.questions if blueprint else 75)
    if tutor:
        limit = minutes
    else:
        limit = minutes if minutes is not None else (blueprint.minutes if blueprint else 120)
    real_seed = attempts.seed_for(seed, random.Random())
    drawn = exams.draw(items, blueprint, count, random.Random(real_seed))  # type: ignore[arg-type]
    console = render.out() if not as_json else render.err()
    for note in drawn.notes:
        console.print(safe(f"Note: {note}", "yellow"))
    exam = Exam(drawn.questions, config.now(), limit, tutor=tutor)
    store = views.open_store()
    try:
        sett = views.settings(store)
        tz = config.local_zone()
        predicted = progressview.predicted_score(store, cat, blueprint, config.now()) if mode == "exam" else None
        plan = views.load_plan(store)
        from collections import Counter

        from .scheduler import study_day

        load = Counter(study_day(s.due, tz, sett.rollover_hour) for s in store.states().values() if s.due is not None and s.state and not s.suspended)
        spec = exams.spec_json(exam, bp_id, real_seed, sorted({q.item.deck_id for q in exam.questions}))
        attempt_id = attempts.start(store, exam, spec, bp_id, real_seed)
        kind = "Quiz" if mode == "quiz" else ("Tutor-mode exam" if tutor else "Mock exam")
        timing = (f"{limit} minute" + ("s" if limit != 1 else "")) if limit else "untimed"
        console.print(safe(f"{kind} #{attempt_id}: {len(exam.questions)} questions, {timing}, seed {real_seed}" + (f", blueprint {bp_id}" if bp_id else ""), "bold"))
        recorded: set[int] = set()

        def on_answer(index: int) -> None:
            attempts.record_answer(store, exam.questions[index], exam, index, config.now(), sett, tz, schedule, mode, plan, load.__getitem__)
            recorded.add(index)

        timed_out = take(console, terminal.make_input(), exam, config.now, on_answer)
        now = config.now()
        if exam.deadline is not None and now > exam.deadline:
            now = exam.deadline
        for index in range(len(exam.questions)):
            if index not in recorded and (index in exam.answers or not tutor):
                attempts.record_answer(store, exam.questions[index], exam, index, now, sett, tz, schedule, mode, plan, load.__getitem__)
        result = exams.score(exam, blueprint, now, timed_out)
        attempts.finish(store, attempt_id, result, now)
    finally:
        store.close()
    if as_json:
        print(_json.dumps({"id": attempt_id, "seed": real_seed, "blueprint": bp_id, **result.to_json()}, indent=2))
    else:
        show_result(console, result, exam.questions, blueprint, predicted)
        console.print(safe(f"Saved as attempt {attempt_id}. Review: peerprep exam review {attempt_id} · retake the misses: peerprep exam retake {attempt_id} --missed", "dim"))

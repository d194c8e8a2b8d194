"""Exam attempts and item analysis on screen: history, review, retake, export, quiz, items (shell side)."""

from __future__ import annotations

from typing import Any

from .render import safe
from .views import deck_ids, load_catalog, no_items, open_store


def exam_history(as_json: bool) -> None:
    """`peerprep exam history`."""
    import json

    from . import attempts, examview, render

    store = open_store()
    try:
        rows = attempts.history(store)
    finally:
        store.close()
    if as_json:
        print(json.dumps([{"id": a.id, "started": a.started.isoformat(), "blueprint": a.blueprint, "tutor": a.tutor, "result": a.result} for a in rows], indent=2))
        return
    if not rows:
        print("No exam attempts yet. Take one: peerprep exam")
        return
    table = []
    for a in rows:
        r = a.result
        score = f"{r['correct']}/{r['total']} ({r['percent']:.0f}%)" if r else "not submitted"
        verdict = "" if not r or r.get("passed") is None else ("pass (practice target)" if r["passed"] else "below target")
        table.append((a.id, a.started.strftime("%Y-%m-%d %H:%M"), "tutor" if a.tutor else "exam", score, verdict))
    examview.history_table(render.out(), table)


def _submitted_attempt(attempt_id: int) -> Any:
    """A saved attempt that was submitted, or a clear error."""
    from . import attempts
    from .errors import PeerprepError

    store = open_store()
    try:
        attempt = attempts.get(store, attempt_id)
    finally:
        store.close()
    if attempt.result is None:
        raise PeerprepError(f"exam attempt {attempt_id} was never submitted")
    return attempt


def _attempt_questions(attempt: Any) -> tuple[Any, list[Any], Any]:
    from . import exam as exams

    cat = load_catalog()
    questions = exams.rebuild(attempt.spec, cat.items())
    blueprint = cat.blueprints.get(attempt.blueprint) if attempt.blueprint else None
    return cat, questions, blueprint


def exam_review(attempt_id: int) -> None:
    """`peerprep exam review ID`."""
    from . import examview, render
    from .exam import Result

    attempt = _submitted_attempt(attempt_id)
    _cat, questions, blueprint = _attempt_questions(attempt)
    r = attempt.result
    index = {(q.item.deck_id, q.item.key): q for q in questions}
    kept = [(it, index[(it["deck"], it["item"])]) for it in r["items"] if (it["deck"], it["item"]) in index]
    from .exam import DomainScore

    result = Result(
        total=r["total"], correct=r["correct"], percent=r["percent"], pass_percent=r["pass_percent"], passed=r["passed"],
        seconds=r["seconds"], timed_out=r["timed_out"],
        domains=[DomainScore(d["domain"], d["title"], d["correct"], d["total"]) for d in r["domains"]],
        items=[it for it, _q in kept],
    )
    for it, q in kept:
        if len(it.get("order", [])) == len(q.order):
            q.order = list(it["order"])
    examview.show_result(render.out(), result, [q for _it, q in kept], blueprint)


def exam_retake(attempt_id: int, missed: bool, tutor: bool, seed: int | None) -> None:
    """`peerprep exam retake ID [--missed]`."""
    from . import attempts, examview

    store = open_store()
    try:
        attempt = attempts.get(store, attempt_id)
    finally:
        store.close()
    cat, questions, _bp = _attempt_questions(attempt)
    pool = attempts.missed_items(attempt, cat.items()) if missed else [q.item for q in questions]
    # Keep whole scenarios together even when only one sub-item was missed.
    parents = {(i.deck_id, i.parent) for i in pool}
    pool = [i for i in cat.items() if (i.deck_id, i.parent) in parents and (not missed or i in pool or i.vignette)]
    examview.run_exam_command([], attempt.blueprint, len(pool), None, seed, tutor, True, False, items_override=pool)


def exam_export(attempt_id: int, output: Any) -> None:
    """`peerprep exam export ID -o FILE.csv`."""
    from . import exam as exams
    from .errors import PeerprepError

    attempt = _submitted_attempt(attempt_id)
    text = exams.write_csv(exams.export_rows(attempt.id, attempt.result))
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PeerprepError(f"{output}: cannot write ({exc.strerror})") from None
    print(f"Wrote {len(attempt.result['items'])} rows to {output}")


def quiz(deck_args: list[str], n: int, domain: str | None, type_: str | None, seed: int | None) -> None:
    """`peerprep quiz`."""
    from . import examview
    from .errors import PeerprepError
    from .model import EXAM_TYPES

    if type_ is not None and type_ not in EXAM_TYPES:
        raise PeerprepError(f'--type must be one of {", ".join(EXAM_TYPES)}, not "{type_}"')
    cat = load_catalog(deck_args)
    pool = [i for i in cat.items(deck_ids(deck_args, cat), domain=domain) if i.kind in EXAM_TYPES and (type_ is None or i.kind == type_)]
    if not pool:
        raise no_items(domain, None if type_ is None else f"type {type_}")
    examview.run_exam_command(deck_args, None, n, None, seed, True, False, False, items_override=pool, mode="quiz")


def items_report(deck_args: list[str], results: list[Any], as_json: bool) -> None:
    """`peerprep items`: item analysis from the own log or from shared result files."""
    import json

    from . import exam as exams
    from .errors import PeerprepError

    cat = load_catalog(deck_args)
    ids = set(deck_ids(deck_args, cat)) or {d.id for d in cat.decks}
    keys = {(i.deck_id, i.key): i for i in cat.items(list(ids))}
    responses: list[tuple[str, str, str | None, bool | None, str]] = []
    if results:
        for path in results:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PeerprepError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
            for row in exams.read_results(str(path), text):
                if row["deck"] in ids:
                    responses.append((row["deck"], row["item"], row["answer"] or None, row["correct"] == "1", row["key"]))
    else:
        store = open_store()
        try:
            for r in store.reviews():
                item = keys.get((r.deck_id, r.item_key))
                if item is None or r.correct is None or not item.objective:
                    continue
                responses.append((r.deck_id, r.item_key, r.answer, r.correct, _key(item)))
        finally:
            store.close()
    stats = exams.item_stats(responses)
    if as_json:
        print(json.dumps([{"deck": s.deck, "item": s.item, "answered": s.answered, "percent_correct": round(s.percent, 1), "key": s.key, "wrong_picks": dict(s.picks)} for s in stats], indent=2))
        return
    from rich.table import Table

    from . import render

    if not stats:
        print("No answers recorded for these decks yet.")
        return
    table = Table(title=safe("Item analysis (hardest first)"), title_justify="left")
    for col in ("item", "answered", "correct", "key", "wrong picks"):
        table.add_column(col, justify="right" if col in ("answered", "correct") else "left")
    for s in stats:
        picks = ", ".join(f"{k} \u00d7{v}" for k, v in s.picks.most_common())
        table.add_row(safe(f"{s.deck}:{s.item}"), str(s.answered), f"{s.percent:.0f}%", safe(s.key), safe(picks))
    render.out().print(table)


def _key(item: Any) -> str:
    if item.kind == "truefalse":
        return "t" if item.card.truth else "f"
    if item.kind == "typed":
        return str(item.card.answer)
    return "".join(chr(65 + i) for i in item.card.key_indexes)

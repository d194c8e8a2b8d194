"""Screens shared by several commands (shell side: may use Rich and the environment)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import config
from .render import safe

if TYPE_CHECKING:
    from rich.console import Console

    from .catalog import Catalog
    from .model import Deck


def load_catalog(args: Iterable[str] = ()) -> Catalog:
    """Bundled decks, the user's deck folder, and any deck files or folders named in `args`."""
    from . import catalog
    from .errors import DeckError

    paths, _ids = catalog._split_args(args)
    cat = catalog.load(paths, extra_dirs=[config.user_decks_dir()], cache_dir=config.cache_dir())
    if cat.errors:
        raise DeckError(cat.errors)
    return cat


def deck_ids(args: Iterable[str], cat: Catalog) -> list[str]:
    """The deck ids that `args` name: ids directly, files by the decks they hold."""
    from pathlib import Path

    from . import catalog

    paths, ids = catalog._split_args(args)
    out = list(ids)
    for p in paths:
        resolved = {str(x.resolve()) for x in __import__("peerprep.decks", fromlist=["x"]).expand_paths([p])}
        out.extend(d.id for d in cat.decks if str(Path(d.path).resolve()) in resolved)
    for i in out:
        cat.deck(i)  # raises a clear error for unknown ids
    return out


def item_count(deck: Deck) -> int:
    """Number of study items of a deck."""
    from .decks import items_of

    return sum(1 for _ in items_of(deck))


def decks_table(console: Console, rows: list[dict[str, Any]]) -> None:
    """The `peerprep decks` table."""
    from rich.table import Table

    table = Table()
    for col, justify in (("id", "left"), ("title", "left"), ("cards", "right"), ("items", "right"), ("path", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(safe(r["id"]), safe(r["title"]), safe(str(r["cards"])), safe(str(r["items"])), safe(("(bundled) " if r["bundled"] else "") + r["path"]))
    console.print(table)


def welcome(console: Console) -> None:
    """What a newcomer sees on `peerprep` with no arguments."""
    cat = load_catalog()
    report = due_report((), config.now())
    console.print(safe("peerprep: study for the Peer Recovery Specialist exam", "bold"))
    console.print(safe(f"Due now: {report['review']} reviews, {report['learning']} learning, {report['new']} new (today's limit)"))
    console.print(safe("Bundled and your decks:"))
    for d in cat.decks:
        console.print(safe(f"  {d.id:<30} {item_count(d):>4} items  {d.title}"))
    console.print(safe("Next: peerprep study    (also: peerprep exam, peerprep quiz, peerprep stats, peerprep --help)"))


def open_store() -> Any:
    """The learner's store: backed up before migrations and once a day; clear errors otherwise."""
    from . import backups
    from .errors import StoreError
    from .store import Store

    path = config.db_path()
    fresh = not path.exists()
    store = Store(path, migrate=False)
    try:
        if store.pending_migrations() and not fresh and store.version > 0:
            backups.make(store, config.home(), config.now(), f"before-v{store.version + 1}")
        store.migrate()
        if not fresh:
            backups.daily(store, config.home(), config.now())
    except StoreError:
        store.close()
        raise
    except OSError as exc:
        store.close()
        raise StoreError(f"{config.home()}: cannot write a backup ({exc.strerror})") from None
    return store


def settings(store: Any) -> Any:
    """The learner's scheduling settings."""
    from . import prefs

    return prefs.load(store)


def no_items(domain: str | None, tag: str | None) -> Exception:
    """The error for an empty selection."""
    from .errors import PeerprepError

    what = " and ".join(x for x in (f'domain "{domain}"' if domain else "", f'tag "{tag}"' if tag else "") if x)
    return PeerprepError(f"no items match {what}" if what else "the selected decks have no items")


def nothing_due(console: Console, store: Any, now: Any) -> None:
    """Say there is nothing to study now and when there will be."""
    from .scheduler import format_interval

    nxt = store.next_due()
    console.print(safe("Nothing is due right now.", "bold green"))
    if nxt is not None and nxt > now:
        console.print(safe(f"Next item due in {format_interval(nxt - now)}. Practise anyway: peerprep study --cram"))
    else:
        console.print(safe("Practise anyway: peerprep study --cram, or take a quiz: peerprep quiz"))


def due_report(args: Iterable[str], now: Any) -> dict[str, Any]:
    """Due counts per deck and in total, as JSON-ready data (from the deck index when it can)."""
    from datetime import timedelta

    from . import catalog, stats
    from .scheduler import day_start, iso, study_day

    paths, ids = catalog._split_args(args)
    index = None if paths else catalog.load_index([config.user_decks_dir()], config.cache_dir())
    if index is None:  # deck files named, or a problem somewhere: the full catalog says what
        cat = load_catalog(args)
        selected = [(d.id, index_items(d)) for d in cat.select(deck_ids(args, cat))]
    else:
        selected = [(d.deck_id or "", d.items) for d in index.select(ids)]
    store = open_store()
    try:
        sett = settings(store)
        tz = config.local_zone()
        today = study_day(now, tz, sett.rollover_hour)
        new_done, _ = store.today_counts(today.isoformat())
        day_end = day_start(today + timedelta(days=1), tz, sett.rollover_hour)
        quota = max(0, sett.new_per_day - new_done)
        per_deck = stats.due_from_index(selected, store.due_aggregates(now, day_end), store.key_flags(), iso(now) or "", quota)
        nxt = store.next_due()
    finally:
        store.close()
    decks = {
        d: {"new": v.new, "learning": v.learning, "review": v.review, "learning_today": v.learning_today, "review_today": v.review_today, "items": v.total, "suspended": v.suspended}
        for d, v in per_deck.items()
    }
    total = {k: sum(int(v[k]) for v in decks.values()) for k in ("new", "learning", "review", "learning_today", "review_today")}
    total["new"] = min(total["new"], quota)  # the daily limit is shared by all decks
    return {**total, "new_limit_left": quota, "now": now.isoformat(), "next_due": nxt.isoformat() if nxt else None, "decks": decks}


def index_items(deck: Deck) -> tuple[tuple[str, str, str | None, str, int], ...]:
    """A deck's items in index form."""
    from .decks import items_of

    return tuple((i.key, i.parent, i.domain, i.kind, len(i.card.choices)) for i in items_of(deck))


def due_table(report: dict[str, Any]) -> None:
    """The `peerprep due` table, as plain aligned text (quick to print)."""
    from .text import clean

    rows = [(deck_id, v["new"], v["learning"], v["review"], v["review_today"] + v["learning_today"], v["items"]) for deck_id, v in report["decks"].items()]
    rows.append(("total", report["new"], report["learning"], report["review"], report["review_today"] + report["learning_today"], ""))
    width = max(len(r[0]) for r in rows + [("deck",)])
    lines = [f"{'deck':<{width}}  {'new':>5}  {'learning':>8}  {'review':>6}  {'due today':>11}  {'items':>6}"]
    for r in rows:
        lines.append(f"{clean(str(r[0])):<{width}}  {r[1]:>5}  {r[2]:>8}  {r[3]:>6}  {r[4]:>11}  {r[5]!s:>6}")
    if report["new"] + report["learning"] + report["review"]:
        lines.append("Next: peerprep study")
    else:
        lines.append("Nothing due now. Practise anyway: peerprep study --cram")
    print("\n".join(lines))


def stats_figures(now: Any) -> Any:
    """Everything `peerprep stats` shows (from the deck index and lean states when it can)."""
    from datetime import timedelta

    from . import catalog, stats
    from .decks import refs

    index = catalog.load_index([config.user_decks_dir()], config.cache_dir())
    if index is not None:
        items: list[Any] = [r for d in index.decks for r in refs(d)]
        blueprints = index.blueprints
    else:
        cat = load_catalog()
        items = cat.items()
        blueprints = cat.blueprints
    store = open_store()
    try:
        sett = settings(store)
        tz = config.local_zone()
        lean = store.lean_states()
        from .scheduler import study_day

        month_ago = (study_day(now, tz, sett.rollover_hour) - timedelta(days=29)).isoformat()
        figures = stats.compute(
            items,
            lean,
            store.daily(),
            store.most_missed(),
            store.retention(month_ago),
            now,
            sett,
            tz,
        )
        figures.plan, figures.readiness = _plan_and_readiness(store, blueprints, items, lean, now, sett, tz)
    finally:
        store.close()
    return figures


def _plan_and_readiness(store: Any, blueprints: Any, items: Any, lean: Any, now: Any, sett: Any, tz: Any) -> tuple[Any, Any]:
    """Plan summary and readiness (at the exam date with a plan, else now) for stats."""
    from . import planner

    plan = load_plan(store)
    bp_id = plan.blueprint if plan and plan.blueprint else ("icrc-pr" if "icrc-pr" in blueprints else None)
    blueprint = blueprints.get(bp_id or "")
    plan_info = None
    at = now
    if plan is not None:
        at = planner.exam_start(plan, tz, sett) if planner.active(plan, now, tz, sett) else now
        plan_info = {"exam_date": plan.exam_date.isoformat(), "minutes_per_day": plan.minutes_per_day, "target": plan.target, "days_left": planner.days_left(plan, now, tz, sett)}
    if blueprint is None:
        return plan_info, None
    states = lean
    if plan is not None and planner.active(plan, now, tz, sett):
        states = store.states()
        import random

        # Forecast for exam day assumes the plan is followed (its final-stretch reviews included).
        states = planner.forecast(items, states, plan, now, sett, tz, random.Random(0)).final_states
    ready = planner.readiness(items, states, blueprint, at, sett, tz, guess_rate)
    return plan_info, {
        "at": at.isoformat(),
        "for_exam_date": plan is not None,
        "predicted_score": round(ready.predicted, 4),
        "low": round(ready.low, 4),
        "high": round(ready.high, 4),
        "domains": {d: round(v["predicted"], 4) for d, v in ready.domains.items()},
        "items": ready.items,
        "studied": ready.studied,
    }


def stats_screen(console: Console, st: Any) -> None:
    """`peerprep stats` in the terminal: numbers, heatmap, forecast bars, domains."""
    from rich.table import Table

    console.print(safe("Progress", "bold"))
    console.print(safe(f"  Reviews: {st.reviews_total} in all, {st.reviews_today} today \u00b7 streak {st.streak} day{'s' if st.streak != 1 else ''}"))
    console.print(safe(f"  Items: {st.items_total} \u00b7 new {st.items_new} \u00b7 learning {st.items_learning} \u00b7 review {st.items_review} \u00b7 suspended {st.suspended}"))
    if st.true_retention is not None:
        console.print(safe(f"  True retention (last 30 days): {st.true_retention:.1%} of {st.retention_reviews} reviews"))
    shades = " \u2591\u2592\u2593\u2588"
    peak = max([n for _, n in st.heatmap] + [1])
    console.print(safe("Reviews, last 12 weeks (one row per weekday, oldest left)", "bold"))
    for weekday in range(7):
        row = "".join(shades[min(4, -(-n * 4 // peak))] if n else "\u00b7" for _, n in st.heatmap[weekday::7])
        console.print(safe("  " + row))
    console.print(safe("Due forecast, next 30 days", "bold"))
    fpeak = max([n for _, n in st.forecast] + [1])
    block = "\u2588"
    for day, n in st.forecast:
        if n:
            console.print(safe(f"  {day}  {block * max(1, round(n * 40 / fpeak))} {n}"))
    if st.domains:
        table = Table(title=safe("Mastery by domain (mean predicted recall now)"), title_justify="left")
        table.add_column("domain")
        table.add_column("items", justify="right")
        table.add_column("mastery", justify="right")
        for d, v in st.domains.items():
            table.add_row(safe(d), str(int(v["items"])), f"{v['mastery']:.0%}")
        console.print(table)
    if st.plan:
        console.print(safe(f"Plan: exam on {st.plan['exam_date']} ({st.plan['days_left']} days), {st.plan['minutes_per_day']} min/day, target {st.plan['target']:.0%}", "bold"))
    if st.readiness:
        r = st.readiness
        when = "on exam day" if r["for_exam_date"] else "today"
        console.print(safe(f"Readiness {when}: predicted score {r['predicted_score']:.0%} (95% range {r['low']:.0%}-{r['high']:.0%}; {r['studied']} of {r['items']} exam items studied)", "bold"))
        for d, v in r["domains"].items():
            console.print(safe(f"  {d:<24} {v:.0%}"))
    if st.leeches:
        console.print(safe(f"Leeches: {', '.join(st.leeches)}", "yellow"))
    if st.most_missed:
        console.print(safe("Most missed", "bold"))
        for uid, m, n in st.most_missed:
            console.print(safe(f"  {uid}: missed {m} of {n}"))


def _resolve_refs(refs: Iterable[str]) -> list[tuple[str, str]]:
    from .decks import items_of
    from .errors import PeerprepError

    cat = load_catalog()
    out: list[tuple[str, str]] = []
    for ref in refs:
        deck_id, sep, key = ref.partition(":")
        deck = cat.deck(deck_id)
        keys = [i.key for i in items_of(deck)]
        if not sep:
            out.extend((deck.id, k) for k in keys)
            continue
        matches = [k for k in keys if k == key or k.split("@")[0] == key or k.split("/")[0] == key]
        if not matches:
            raise PeerprepError(f'no item "{key}" in deck {deck_id}')
        out.extend((deck.id, k) for k in matches)
    return out


def flag_items(refs: Iterable[str], suspended: bool | None = None, bury: bool = False) -> None:
    """Suspend, unsuspend or bury items named DECK:KEY (or whole decks)."""
    from datetime import timedelta

    from .scheduler import day_start, study_day

    keys = _resolve_refs(refs)
    store = open_store()
    try:
        sett = settings(store)
        until = None
        if bury:
            now = config.now()
            until = day_start(study_day(now, config.local_zone(), sett.rollover_hour) + timedelta(days=1), config.local_zone(), sett.rollover_hour)
        for deck_id, key in keys:
            if bury:
                store.set_flags(deck_id, key, buried_until=until)
            else:
                store.set_flags(deck_id, key, suspended=suspended)
    finally:
        store.close()
    verb = "Buried" if bury else ("Suspended" if suspended else "Unsuspended")
    print(f"{verb} {len(keys)} item{'s' if len(keys) != 1 else ''}.")


def orphans(delete: bool) -> None:
    """List (and with `delete`, remove) progress of items in no loaded deck."""
    from . import stats

    cat = load_catalog()
    store = open_store()
    try:
        found = stats.orphans(cat.items(), store.studied_keys())
        for deck_id, key in found:
            print(safe(f"{deck_id}:{key}").plain)
        if not found:
            print("No orphaned progress.")
        elif delete:
            store.delete_progress(found)
            print(f"Deleted progress of {len(found)} item{'s' if len(found) != 1 else ''}.")
        else:
            print(f"{len(found)} orphaned item{'s' if len(found) != 1 else ''}; run `peerprep orphans --delete` to remove their progress.")
    finally:
        store.close()


def config_command(name: str | None, value: str | None) -> None:
    """Show all settings, one setting, or change one."""
    from . import prefs

    store = open_store()
    try:
        if name is not None:
            name = name.replace("-", "_")
        if name is not None and value is not None:
            prefs.save(store, name, value)
        current = prefs.describe(prefs.load(store))
    finally:
        store.close()
    if name is not None:
        if name not in current:
            prefs.parse(name, "")
        print(f"{name} = {current[name]}")
        return
    for key, val in current.items():
        print(f"{key:<18} {val!s:<10} {prefs.FIELDS[key]}")


GUESS_RATE = {"truefalse": 0.5}


def guess_rate(item: Any) -> float:
    """Chance of a blind guess being right: 1/n for mcq, 1/2 true/false, 1/(2^n - 1) select-all."""
    n = item.n_choices if hasattr(item, "n_choices") else len(item.card.choices)
    if item.kind == "mcq" and n:
        return 1.0 / n
    if item.kind == "multi" and n:
        return 1.0 / float(2**n - 1)
    return GUESS_RATE.get(item.kind, 0.0)


def predicted_score(store: Any, cat: Any, blueprint: Any, at: Any) -> float | None:
    """Forecast exam score at `at` (see planner.readiness); None without a blueprint."""
    from . import planner

    if blueprint is None:
        return None
    sett = settings(store)
    ready = planner.readiness(cat.items(), store.states(), blueprint, at, sett, config.local_zone(), guess_rate)
    return ready.predicted


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


def backup_now() -> Any:
    """`peerprep backup`."""
    from . import backups

    store = open_store()
    try:
        return backups.make(store, config.home(), config.now())
    finally:
        store.close()


def restore_from(source: Any) -> str:
    """`peerprep restore FILE`: check the backup, keep a copy of the current database, swap."""
    from . import backups
    from .errors import PeerprepError
    from .store import Store, restore_file

    if not source.is_file():
        raise PeerprepError(f"{source}: no such backup file")
    target = config.db_path()
    saved = None
    if target.exists():
        try:
            current = Store(target, migrate=False)
            try:
                saved = backups.make(current, config.home(), config.now(), "before-restore")
            finally:
                current.close()
        except PeerprepError:
            saved = None  # the current file is damaged: nothing worth keeping a copy of
    target.parent.mkdir(parents=True, exist_ok=True)
    restore_file(source, target)
    store = open_store()  # migrates an older backup forward
    store.close()
    return f"Restored {source}." + (f" The previous database was saved as {saved}." if saved else "")


def load_plan(store: Any) -> Any:
    """The stored exam plan, or None."""
    from .planner import Plan

    raw = store.get_setting("plan")
    return Plan.from_json(raw) if raw else None


def plan_command(exam_date: str | None, minutes: int | None, target: float | None, clear: bool, as_json: bool) -> None:
    """`peerprep plan`: store, show or clear the exam plan, with its forecast."""
    import json
    import random
    from dataclasses import replace as dc_replace
    from datetime import date

    from . import planner, render
    from .errors import PeerprepError, UsageError

    now = config.now()
    store = open_store()
    try:
        sett = settings(store)
        tz = config.local_zone()
        current = load_plan(store)
        if clear:
            store.set_setting("plan", None)
            print("Plan cleared: scheduling is plain FSRS again." if current else "There was no plan.")
            return
        if exam_date is not None:
            try:
                when = date.fromisoformat(exam_date)
            except ValueError:
                raise UsageError(f'--exam-date "{exam_date}" is not a date (YYYY-MM-DD)') from None
            from .scheduler import study_day

            today = study_day(now, tz, sett.rollover_hour)
            if when <= today:
                raise PeerprepError(f"--exam-date {when} is not after today ({today})")
            current = planner.Plan(when, minutes or (current.minutes_per_day if current else 30), target or (current.target if current else 0.9)).with_stretch(today)
        elif current is None:
            raise PeerprepError("no plan yet: peerprep plan --exam-date YYYY-MM-DD [--minutes-per-day N] [--target 0.9]")
        elif minutes or target:
            current = dc_replace(current, minutes_per_day=minutes or current.minutes_per_day, target=target or current.target)
        store.set_setting("plan", current.to_json())
        cat = load_catalog()
        items = cat.items()
        states = store.states()
        fc = planner.forecast(items, states, current, now, sett, tz, random.Random(0))
        blueprint = cat.blueprints.get(current.blueprint or "")
        ready = planner.readiness(items, fc.final_states, blueprint, planner.exam_start(current, tz, sett), sett, tz, guess_rate) if blueprint else None
    finally:
        store.close()
    if as_json:
        print(json.dumps({
            "exam_date": current.exam_date.isoformat(), "minutes_per_day": current.minutes_per_day, "target": current.target,
            "days_left": planner.days_left(current, now, tz, sett), "new_per_day": fc.new_per_day, "capacity_per_day": fc.capacity,
            "busiest_day": fc.busiest, "days_over_cap": fc.over_cap_days, "exam_day_recall": round(fc.exam_recall, 4),
            "workload": [{"day": d.isoformat(), "reviews": r, "new": n} for d, r, n in fc.days], "warnings": fc.warnings,
        }, indent=2))
        return
    plan_screen(render.out(), current, fc, ready, planner.days_left(current, now, tz, sett))


def plan_screen(console: Console, plan: Any, fc: Any, ready: Any, left: int) -> None:
    """The plan: pacing, expected workload per week, the forecast and any warning."""
    console.print(safe(f"Exam on {plan.exam_date} ({left} days) \u00b7 {plan.minutes_per_day} min/day (about {fc.capacity} reviews) \u00b7 target {plan.target:.0%}", "bold"))
    console.print(safe(f"  New items per day: {fc.new_per_day} (every item introduced before the final stretch)"))
    console.print(safe(f"  Expected reviews: busiest day {fc.busiest}; days over the cap: {fc.over_cap_days}"))
    console.print(safe(f"  Predicted recall on exam day if you follow the plan: {fc.exam_recall:.0%}"))
    weeks: dict[int, list[int]] = {}
    for i, (_day, reviews, _new) in enumerate(fc.days):
        weeks.setdefault(i // 7, []).append(reviews)
    peak = max([max(v) for v in weeks.values()] + [1])
    block = "\u2588"
    for w, values in weeks.items():
        avg = sum(values) / len(values)
        console.print(safe(f"  week {w + 1:>2}  {block * max(1, round(avg * 40 / peak))} {avg:.0f}/day"))
    if ready is not None:
        readiness_lines(console, ready)
    for w in fc.warnings:
        console.print(safe(f"Warning: {w}", "yellow"))


def readiness_lines(console: Console, ready: Any) -> None:
    """Predicted score with its interval, overall and per domain."""
    console.print(safe(f"Readiness: predicted exam score {ready.predicted:.0%} (95% range {ready.low:.0%}-{ready.high:.0%}; {ready.studied} of {ready.items} exam items studied)", "bold"))
    for d, v in ready.domains.items():
        console.print(safe(f"  {d:<24} {v['predicted']:.0%}"))


def session_readiness(console: Console, store: Any, cat: Any, plan: Any) -> None:
    """After a session while a plan is set: the readiness forecast for exam day."""
    from . import planner

    blueprint = cat.blueprints.get(plan.blueprint or "")
    if blueprint is None:
        return
    import random

    sett = settings(store)
    tz = config.local_zone()
    now = config.now()
    states = store.states()
    if planner.active(plan, now, tz, sett):
        states = planner.forecast(cat.items(), states, plan, now, sett, tz, random.Random(0)).final_states
    ready = planner.readiness(cat.items(), states, blueprint, planner.exam_start(plan, tz, sett), sett, tz, guess_rate)
    readiness_lines(console, ready)


def log_export(output: Any, deck: str | None) -> None:
    """`peerprep log export -o FILE`."""
    from . import revlog
    from .errors import PeerprepError

    store = open_store()
    try:
        text = revlog.export_csv(store.reviews(deck_id=deck))
    finally:
        store.close()
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PeerprepError(f"{output}: cannot write ({exc.strerror})") from None
    rows = max(0, text.count("\n") - 1)
    print(f"Wrote {rows} review{'s' if rows != 1 else ''} to {output}")


def log_import(source: Any, tz_name: str, deck: str | None) -> None:
    """`peerprep log import FILE --tz ZONE [--deck ID]`: all rows checked before anything is written."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from . import revlog
    from .errors import PeerprepError, UsageError

    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f'--tz "{tz_name}" is not a known time zone (e.g. America/Chicago)') from None
    if source.is_dir():
        raise PeerprepError(f"{source}: is a directory, not a CSV file")
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PeerprepError(f"{source}: no such file") from None
    except UnicodeDecodeError as exc:
        raise PeerprepError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise PeerprepError(f"{source}: cannot read ({exc.strerror})") from None
    rows = revlog.parse_csv(str(source), text)
    store = open_store()
    try:
        sett = settings(store)
        out, states = revlog.to_store_rows(rows, deck, sett, tz, current=store.states(), name=str(source))
        store.bulk_load(out, states)
    finally:
        store.close()
    print(f"Imported {len(out)} review{'s' if len(out) != 1 else ''} of {len(states)} item{'s' if len(states) != 1 else ''}.")


def optimize_command(as_json: bool) -> None:
    """`peerprep optimize`: fit, compare, adopt only when better, and say so."""
    import json

    from . import optimizer

    store = open_store()
    try:
        sett = settings(store)
        report = optimizer.optimize(store.reviews(), config.local_zone(), sett.rollover_hour)
        if report.adopted:
            store.set_setting("parameters", json.dumps(list(report.parameters)))
    finally:
        store.close()
    data = {
        "reviews": report.reviews,
        "log_loss_default": round(report.log_loss_default, 6),
        "log_loss_fitted": round(report.log_loss_fitted, 6),
        "rmse_bins_default": round(report.rmse_bins_default, 6),
        "rmse_bins_fitted": round(report.rmse_bins_fitted, 6),
        "parameters": [round(p, 6) for p in report.parameters],
        "adopted": report.adopted,
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    print(f"Reviews evaluated: {report.reviews}")
    print("              log loss   RMSE(bins)")
    print(f"default       {report.log_loss_default:8.4f}   {report.rmse_bins_default:8.4f}")
    print(f"fitted        {report.log_loss_fitted:8.4f}   {report.rmse_bins_fitted:8.4f}")
    if report.adopted:
        print("The fitted parameters predict your recall better: adopted for scheduling from now on.")
    else:
        print("The fitted parameters are not better on your reviews: keeping the current ones.")


def export_deck(deck_arg: str, to: str, output: Any) -> None:
    """`peerprep export DECK --to apkg|csv|md -o FILE`."""
    from . import ankiexport
    from .errors import PeerprepError, UsageError

    if to not in ("apkg", "csv", "md"):
        raise UsageError(f'--to must be apkg, csv or md, not "{to}"')
    if output.is_dir():
        raise PeerprepError(f"{output}: is a directory; give a file name")
    cat = load_catalog([deck_arg])
    ids = deck_ids([deck_arg], cat)
    if not ids:
        raise PeerprepError(f"{deck_arg}: no deck there")
    deck = cat.deck(ids[0])
    if to == "apkg":
        notes = ankiexport.export_apkg(deck, output)
        print(f"Wrote {notes} notes to {output} (Anki deck {ankiexport.anki_deck_name(deck)}); exporting again updates them in Anki.")
        return
    if to == "csv":
        text = ankiexport.export_csv(deck)
    else:
        blueprint = cat.blueprints.get(deck.blueprint) if deck.blueprint else None
        text = ankiexport.export_markdown([deck], blueprint)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PeerprepError(f"{output}: cannot write ({exc.strerror})") from None
    print(f"Wrote {output}")


def import_file(source: Any, output: Any, deck_id: str | None, title: str | None, anki_deck: str | None, reverse: bool, with_progress: bool, force: bool) -> None:
    """`peerprep import`: read everything and check it before writing anything."""
    from . import ankipkg, decks
    from .errors import PeerprepError, UsageError

    if not source.exists():
        raise PeerprepError(f"{source}: no such file")
    if source.is_dir():
        raise PeerprepError(f"{source}: is a directory, not a file to import")
    deck_id = deck_id or ankipkg.deck_slug(source.stem)
    package = source.suffix.lower() in (".apkg", ".colpkg")
    if with_progress and not package:
        raise UsageError("--with-progress needs an Anki package (.apkg): text files carry no review history")
    if package:
        collection = ankipkg.read_package(source)
        result = ankipkg.import_notes(collection, deck_id, anki_deck=anki_deck)
    else:
        collection = None
        result = ankipkg.import_text(source, deck_id, reverse=reverse, title=title)
    if not result.cards:
        raise PeerprepError(f"{source}: no cards to import")
    target = output or (config.user_decks_dir() / f"{deck_id}.yaml")
    if target.exists() and not force:
        raise PeerprepError(f"{target}: already exists (use --force to overwrite, or -o for another file)")
    text = ankipkg.write_deck_yaml(deck_id, title or result.title, result.cards, source=source.name)
    parsed = decks.parse_text(str(target), text)
    if any(p.severity == "error" for p in parsed.problems):  # never write a deck peerprep cannot load
        raise PeerprepError(f"{source}: the converted deck would not load ({parsed.problems[0].message})")
    store = None
    rows: list[Any] = []
    states: dict[Any, Any] = {}
    if with_progress:
        store = open_store()
        if store.states([deck_id]):
            store.close()
            raise PeerprepError(f'deck "{deck_id}" already has progress here; import its history only once (or use --deck-id)')
        assert collection is not None
        history = ankipkg.review_history(collection, [result])
        rows, states = ankipkg.replay(history, settings(store), config.local_zone(), ankipkg.anki_suspended([result]))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        if store is not None:
            store.close()
        raise PeerprepError(f"{target}: cannot write ({exc.strerror})") from None
    if store is not None:
        try:
            store.bulk_load(rows, states)
        finally:
            store.close()
    items = sum(len(list(decks.items_of_card(deck_id, card))) for card in result.cards)
    skipped = sum(result.skipped.values())
    line = f"Wrote {len(result.cards)} cards ({items} study items) to {target}"
    if skipped:
        line += f"; skipped {skipped} note{'s' if skipped != 1 else ''} ({', '.join(f'{k} {v}' for k, v in result.skipped.items())})"
    if result.suspended:
        line += f"; {len(result.suspended)} suspended in Anki"
    if with_progress:
        line += f"; {len(rows)} reviews brought in"
    print(line + ".")
    for warning in result.warnings:
        print(f"Note: {warning}")
    if output is not None and target.parent != config.user_decks_dir():
        print(f"Study it: peerprep study {target}")

"""Progress on screen: stats, the exam-date plan and the readiness forecast (shell side)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import config
from .render import safe
from .views import load_catalog, load_plan, open_store, settings

if TYPE_CHECKING:
    from rich.console import Console

GUESS_RATE = {"truefalse": 0.5}


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
    # The forecast: today's memory projected to exam day (an unseen item at the guessing rate).
    ready = planner.readiness(items, lean, blueprint, at, sett, tz, guess_rate)
    data: dict[str, Any] = {
        "at": at.isoformat(),
        "for_exam_date": plan is not None,
        "predicted_score": round(ready.predicted, 4),
        "low": round(ready.low, 4),
        "high": round(ready.high, 4),
        "domains": {d: round(v["predicted"], 4) for d, v in ready.domains.items()},
        "items": ready.items,
        "studied": ready.studied,
        "if_plan_followed": None,
    }
    if plan is not None and planner.active(plan, now, tz, sett):
        followed = _if_plan_followed(store, items, plan, blueprint, now, sett, tz)
        data["if_plan_followed"] = {"predicted_score": round(followed.predicted, 4), "domains": {d: round(v["predicted"], 4) for d, v in followed.domains.items()}}
    return plan_info, data


def _if_plan_followed(store: Any, items: Any, plan: Any, blueprint: Any, now: Any, sett: Any, tz: Any) -> Any:
    """The readiness on exam day if the plan is followed: simulated study (its final-stretch
    reviews included) with the learner's own parameters."""
    import random

    from . import planner

    simulated = planner.forecast(items, store.states(), plan, now, sett, tz, random.Random(0)).final_states
    return planner.readiness(items, simulated, blueprint, planner.exam_start(plan, tz, sett), sett, tz, guess_rate)


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
        console.print(safe(f"Readiness {when}: predicted score {r['predicted_score']:.0%} from what you know now (95% range {r['low']:.0%}-{r['high']:.0%}; {r['studied']} of {r['items']} exam items studied)", "bold"))
        if r.get("if_plan_followed"):
            console.print(safe(f"  if you follow the plan to the exam: {r['if_plan_followed']['predicted_score']:.0%}"))
        for d, v in r["domains"].items():
            console.print(safe(f"  {d:<24} {v:.0%}"))
    if st.leeches:
        console.print(safe(f"Leeches: {', '.join(st.leeches)}", "yellow"))
    if st.most_missed:
        console.print(safe("Most missed", "bold"))
        for uid, m, n in st.most_missed:
            console.print(safe(f"  {uid}: missed {m} of {n}"))


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
        ready = planner.readiness(items, states, blueprint, planner.exam_start(current, tz, sett), sett, tz, guess_rate) if blueprint else None
        followed = planner.readiness(items, fc.final_states, blueprint, planner.exam_start(current, tz, sett), sett, tz, guess_rate) if blueprint else None
    finally:
        store.close()
    if as_json:
        print(json.dumps({
            "exam_date": current.exam_date.isoformat(), "minutes_per_day": current.minutes_per_day, "target": current.target,
            "days_left": planner.days_left(current, now, tz, sett), "new_per_day": fc.new_per_day, "capacity_per_day": fc.capacity,
            "busiest_day": fc.busiest, "days_over_cap": fc.over_cap_days, "exam_day_recall": round(fc.exam_recall, 4),
            "predicted_score": round(ready.predicted, 4) if ready else None,
            "predicted_score_if_followed": round(followed.predicted, 4) if followed else None,
            "workload": [{"day": d.isoformat(), "reviews": r, "new": n} for d, r, n in fc.days], "warnings": fc.warnings,
        }, indent=2))
        return
    plan_screen(render.out(), current, fc, ready, followed, planner.days_left(current, now, tz, sett))


def plan_screen(console: Console, plan: Any, fc: Any, ready: Any, followed: Any, left: int) -> None:
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
        readiness_lines(console, ready, followed)
    for w in fc.warnings:
        console.print(safe(f"Warning: {w}", "yellow"))


def readiness_lines(console: Console, ready: Any, followed: Any = None) -> None:
    """Predicted score with its interval, overall and per domain (and, with a plan, if followed)."""
    console.print(safe(f"Readiness: predicted exam score {ready.predicted:.0%} from what you know now (95% range {ready.low:.0%}-{ready.high:.0%}; {ready.studied} of {ready.items} exam items studied)", "bold"))
    if followed is not None:
        console.print(safe(f"  if you follow the plan to the exam: {followed.predicted:.0%}"))
    for d, v in ready.domains.items():
        extra = f"  (plan followed: {followed.domains[d]['predicted']:.0%})" if followed is not None else ""
        console.print(safe(f"  {d:<24} {v['predicted']:.0%}{extra}"))


def session_readiness(console: Console, store: Any, cat: Any, plan: Any) -> None:
    """After a session while a plan is set: the readiness forecast for exam day."""
    from . import planner

    blueprint = cat.blueprints.get(plan.blueprint or "")
    if blueprint is None:
        return
    sett = settings(store)
    tz = config.local_zone()
    now = config.now()
    items = cat.items()
    active = planner.active(plan, now, tz, sett)
    at = planner.exam_start(plan, tz, sett) if active else now
    ready = planner.readiness(items, store.states(), blueprint, at, sett, tz, guess_rate)
    followed = _if_plan_followed(store, items, plan, blueprint, now, sett, tz) if active else None
    readiness_lines(console, ready, followed)

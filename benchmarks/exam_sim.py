"""Does the exam-date planner beat plain FSRS? Simulated learners study daily until an exam.

    python benchmarks/exam_sim.py [--learners 3] [--sizes 100,400,1000] [--horizons 30,60,90]

Each simulated learner has "true" FSRS-6 parameters (the defaults, perturbed per learner) and each
item a true difficulty (its true stability is scaled by a per-item factor); recall is drawn from
that true model. The scheduler only knows the default FSRS-6 parameters, as a new peerprep user's
would. Every day the learner answers everything the policy says is due (failed items come back the
same day through the learning steps); new items come in at the policy's pace. Policies:

- fsrs-0.90: plain FSRS at desired retention 0.9, new items at max(20, items / days) a day;
- fsrs-0.95: the same at 0.95;
- planner:   peerprep's plan with target 0.9 (`peerprep.planner`, the code the product runs): new
             items paced to be in before the final stretch, reviews until then at retention 0.85,
             then every item whose exam-day recall would be under 0.95 reviewed in the final
             stretch on the least-loaded day under the daily cap.

Reported per (deck size, days to exam), averaged over learners: true mean recall on exam day,
total reviews, the busiest day, days over the plan's cap, and the readiness forecast's error
against the simulated truth, in percentage points: a week before the exam the forecast if the plan
is followed (`if_plan_followed` in `stats --json`; for plain FSRS the same as the next) and the one
from today's memory (`predicted_score`), and on the morning of the exam `predicted_score`.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from peerprep import planner  # noqa: E402
from peerprep.scheduler import DEFAULT_PARAMETERS, NEW, CardState, Settings, day_start, retrievability, review, study_day  # noqa: E402

UTC = timezone.utc
START = datetime(2027, 1, 4, 18, tzinfo=UTC)
MINUTES_PER_DAY = 60  # the plan's cap: 180 reviews a day at 20 s each


@dataclass
class Outcome:
    recall: float
    reviews: int
    busiest: int
    over_cap: int
    forecast_error_week: float
    forecast_error_day: float
    static_error_week: float


def learner_parameters(rng: random.Random) -> tuple[float, ...]:
    """Default FSRS-6 parameters perturbed: initial stabilities x lognormal(0, 0.4), stability
    growth and decay +-15%, clamped to py-fsrs's bounds."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    w = list(DEFAULT_PARAMETERS)
    for i in range(4):
        w[i] *= math.exp(rng.gauss(0, 0.4))
    for i in (8, 9, 10, 20):
        w[i] *= rng.uniform(0.85, 1.15)
    return tuple(min(max(x, lo), hi) for x, lo, hi in zip(w, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS))


def true_recall(truth: CardState, factor: float, at: datetime, settings: Settings) -> float:
    if truth.state == NEW or truth.stability is None:
        return 0.0
    return retrievability(replace(truth, stability=truth.stability * factor), at, settings, UTC)


def simulate(n_items: int, days: int, policy: str, seed: int) -> Outcome:
    rng = random.Random(seed)
    true_settings = Settings(parameters=learner_parameters(rng), fuzz=False)
    factors = [math.exp(rng.gauss(0, 0.5)) for _ in range(n_items)]
    retention = 0.95 if policy == "fsrs-0.95" else 0.9
    settings = Settings(desired_retention=retention)
    exam_date = study_day(START, UTC, 4) + timedelta(days=days)
    plan = planner.Plan(exam_date, MINUTES_PER_DAY, 0.9).with_stretch(study_day(START, UTC, 4)) if policy == "planner" else None
    cap = planner.daily_capacity(planner.Plan(exam_date, MINUTES_PER_DAY, 0.9))
    pace = planner.new_per_day(n_items, days) if plan else max(20, math.ceil(n_items / days))
    sched: dict[int, CardState] = {}
    truth: dict[int, CardState] = {}
    unseen = list(range(n_items))
    load: dict[date, int] = {}
    per_day: list[int] = []
    forecast_week = None
    static_week = None
    exam_start = day_start(exam_date, UTC, 4)
    for offset in range(days):
        day = study_day(START, UTC, 4) + timedelta(days=offset)
        moment = day_start(day, UTC, 4) + timedelta(hours=14)
        end = day_start(day + timedelta(days=1), UTC, 4)
        if offset == days - 7:
            # What `peerprep stats` would say a week before: `predicted_score` projects today's
            # memory to exam day; with a plan, `if_plan_followed` simulates following it.
            static_week = _predicted(sched, n_items, exam_start, settings)
            if plan is not None:
                items = [_item(i) for i in range(n_items)]
                keyed = {("sim", str(i)): s for i, s in sched.items()}
                fc = planner.forecast(items, keyed, plan, moment, settings, UTC, random.Random(seed))
                forecast_week = fc.exam_recall
            else:
                forecast_week = _predicted(sched, n_items, exam_start, settings)
        due = [i for i, s in sched.items() if s.due is not None and s.due < end and not s.suspended]
        for i in unseen[:pace]:
            sched[i] = CardState()
            truth[i] = CardState()
            due.append(i)
        unseen = unseen[pace:]
        count = 0
        for i in due:
            state, true_state = sched[i], truth[i]
            t = moment
            for _ in range(6):
                p = 1.0 if true_state.state == NEW else true_recall(true_state, factors[i], t, true_settings)
                rating = 3 if true_state.state == NEW or rng.random() < p else 1
                old_due = state.due
                state = review(state, rating, t, planner.settings_for(settings, plan, t, UTC), UTC, random.Random(hash((seed, i, state.reps))))
                state = planner.adjust(state, t, plan, settings, UTC, lambda d: load.get(d, 0))
                true_state = review(true_state, rating, t, true_settings, UTC, random.Random(0))
                count += 1
                if old_due is not None and state.reps > 1:
                    od = study_day(old_due, UTC, 4)
                    load[od] = load.get(od, 0) - 1
                nd = study_day(state.due, UTC, 4)  # type: ignore[arg-type]
                load[nd] = load.get(nd, 0) + 1
                if state.due is None or state.due >= end:
                    break
                t = max(t, state.due) + timedelta(minutes=1)
            sched[i], truth[i] = state, true_state
        per_day.append(count)
    recall = sum(true_recall(truth[i], factors[i], exam_start, true_settings) if i in truth else 0.0 for i in range(n_items)) / n_items
    predicted_day = _predicted(sched, n_items, exam_start, settings)
    return Outcome(
        recall=recall,
        reviews=sum(per_day),
        busiest=max(per_day),
        over_cap=sum(1 for c in per_day if c > cap),
        forecast_error_week=abs((forecast_week if forecast_week is not None else predicted_day) - recall) * 100,
        forecast_error_day=abs(predicted_day - recall) * 100,
        static_error_week=abs((static_week if static_week is not None else predicted_day) - recall) * 100,
    )


def _item(i: int) -> object:
    from peerprep.model import Card, Item

    return Item("sim", str(i), Card(id=str(i), type="basic"), "basic", str(i))


def _predicted(sched: dict[int, CardState], n_items: int, at: datetime, settings: Settings) -> float:
    """The model's own forecast of mean recall at `at` (unseen items count as 0)."""
    return sum(retrievability(s, at, settings, UTC) for s in sched.values() if s.state != NEW) / n_items


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=3)
    ap.add_argument("--sizes", default="100,400,1000")
    ap.add_argument("--horizons", default="30,60,90")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    horizons = [int(x) for x in args.horizons.split(",")]
    started = time.perf_counter()
    print(f"{args.learners} simulated learners per cell; cap {planner.daily_capacity(planner.Plan(date(2030, 1, 1), MINUTES_PER_DAY, 0.9))} reviews/day ({MINUTES_PER_DAY} min)")
    print("| items | days | policy | exam-day recall | total reviews | busiest day | days over cap | forecast error (pts): week before, plan followed / week before, memory now / exam morning |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for days in horizons:
            for policy in ("fsrs-0.90", "fsrs-0.95", "planner"):
                runs = [simulate(n, days, policy, seed) for seed in range(args.learners)]
                mean = lambda f: statistics.mean(f(r) for r in runs)  # noqa: E731
                print(
                    f"| {n} | {days} | {policy} | {mean(lambda r: r.recall):.1%} | {mean(lambda r: r.reviews):,.0f} | {max(r.busiest for r in runs)} "
                    f"| {mean(lambda r: r.over_cap):.1f} | {mean(lambda r: r.forecast_error_week):.1f} / {mean(lambda r: r.static_error_week):.1f} / {mean(lambda r: r.forecast_error_day):.1f} |"
                )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

"""optimizer: srs-benchmark evaluation rules, figures pinned to revlog-eval, fitting with fsrs-rs."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from peerprep import optimizer
from peerprep.errors import PeerprepError
from peerprep.optimizer import Metrics, evaluate, fit, optimize
from peerprep.revlog import parse_csv, to_store_rows
from peerprep.scheduler import DEFAULT_PARAMETERS, LEARNING, NEW, REVIEW, CardState, Settings, review
from peerprep.store import Review, Store

CHICAGO = ZoneInfo("America/Chicago")
JOSH = Path(__file__).parent / "fixtures" / "revlogs" / "pyfsrs_josh_head.csv"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

# Computed once with the reference evaluator on the same fixture:
#   .venv/bin/python /work/shared/tools/revlog-eval/eval.py tests/fixtures/revlogs/pyfsrs_josh_head.csv \
#       --tz America/Chicago --model pyfsrs --json out.json
# -> n 684, LogLoss 0.5035440733681924, RMSE(bins) 0.15306039283824946, AUC 0.7871065222865777
#    (its fsrs-rs model gives 0.5035440358018624: float32 parameters; the difference is 4e-8)
EVAL_PY = Metrics(log_loss=0.5035440733681924, rmse_bins=0.15306039283824946, auc=0.7871065222865777, n=684)


@pytest.fixture(scope="module")
def josh() -> list[Review]:
    rows = parse_csv(JOSH.name, JOSH.read_text())
    out, states = to_store_rows(rows, "josh", Settings(), CHICAGO)
    store = Store(":memory:")
    store.bulk_load(out, states)
    return store.reviews()


# -- the reference figures ------------------------------------------------------------------------


def test_default_parameters_match_revlog_eval_on_the_fixture(josh: list[Review]) -> None:
    m = evaluate(josh, DEFAULT_PARAMETERS, CHICAGO, 4)
    assert m.n == EVAL_PY.n
    assert m.log_loss == pytest.approx(EVAL_PY.log_loss, abs=1e-6)
    assert m.rmse_bins == pytest.approx(EVAL_PY.rmse_bins, abs=1e-6)
    assert m.auc == pytest.approx(EVAL_PY.auc, abs=1e-9)


def test_study_days_matter(josh: list[Review]) -> None:
    # the same log counted in UTC days scores other reviews and predicts worse
    m = evaluate(josh, DEFAULT_PARAMETERS, UTC, 4)
    assert (m.n, round(m.log_loss, 4)) != (EVAL_PY.n, round(EVAL_PY.log_loss, 4))


def test_optimize_fits_better_parameters_on_the_fixture(josh: list[Review]) -> None:
    report = optimize(josh, CHICAGO, 4)
    assert report.reviews == 684
    assert report.log_loss_default == pytest.approx(EVAL_PY.log_loss, abs=1e-6)
    assert report.rmse_bins_default == pytest.approx(EVAL_PY.rmse_bins, abs=1e-6)
    assert report.log_loss_fitted < report.log_loss_default
    assert report.rmse_bins_fitted < report.rmse_bins_default
    assert report.adopted
    assert len(report.parameters) == 21 and all(math.isfinite(w) for w in report.parameters)
    assert report.parameters != pytest.approx(DEFAULT_PARAMETERS, abs=1e-3)
    # deterministic, and the report's figures are those of the fitted parameters
    assert list(report.parameters) == fit(josh, CHICAGO, 4)
    # the scheduler (py-fsrs, strict about bounds) accepts them as they are
    settings = Settings(parameters=report.parameters)
    assert review(CardState(), 3, START, settings, UTC, random.Random(0)).stability == pytest.approx(report.parameters[2], rel=1e-6)
    again = evaluate(josh, report.parameters, CHICAGO, 4)
    assert again.log_loss == pytest.approx(report.log_loss_fitted, abs=1e-12)
    assert again.rmse_bins == pytest.approx(report.rmse_bins_fitted, abs=1e-12)


def test_parameters_that_are_no_better_are_not_adopted(josh: list[Review], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optimizer, "_fit", lambda data: list(DEFAULT_PARAMETERS))
    report = optimize(josh, CHICAGO, 4)
    assert report.log_loss_fitted == report.log_loss_default and not report.adopted


# -- the evaluation rules on small made-up logs ----------------------------------------------------

Pattern = list[tuple[float, int]]  # (days after the first review, rating)


def log(pattern: Pattern, items: int = 30, *, offset: int = 0) -> list[Review]:
    """`items` items answered alike: the first review new, the rest in the review state."""
    out: list[Review] = []
    for n in range(items):
        for k, (days, rating) in enumerate(pattern):
            before: dict[str, object] | None = None if k == 0 else {"state": REVIEW if days >= 1 else LEARNING}
            out.append(
                Review(
                    id=len(out) + 1 + offset, deck_id="d", item_key=f"i{n}", ts=START + timedelta(days=days, seconds=n),
                    rating=rating, duration_ms=None, mode="study", answer=None, correct=None,
                    state_before=before, state_after={"state": REVIEW},
                )
            )
    return out


BASE: Pattern = [(0, 3), (0.01, 3), (2, 1), (2.01, 3), (5, 3)]


def test_only_the_first_review_of_each_later_study_day_is_scored() -> None:
    assert evaluate(log(BASE), DEFAULT_PARAMETERS, UTC, 4).n == 60  # day 2 (Again) and day 5, per item
    # same-day reviews are part of the history: dropping them changes the predictions, not the count
    without = evaluate(log([(0, 3), (2, 1), (5, 3)]), DEFAULT_PARAMETERS, UTC, 4)
    assert without.n == 60
    assert without.log_loss != pytest.approx(evaluate(log(BASE), DEFAULT_PARAMETERS, UTC, 4).log_loss)


def test_the_study_day_starts_at_the_rollover_hour() -> None:
    # 15:00 and 02:00 the next night (UTC) are one study day with a 4 am rollover, two with midnight
    pattern: Pattern = [(0, 3), (11 / 24, 3), (3, 3), (6, 1)]
    assert evaluate(log(pattern), DEFAULT_PARAMETERS, UTC, 4).n == 60
    assert evaluate(log(pattern), DEFAULT_PARAMETERS, UTC, 0).n == 90


def test_reviews_that_did_not_schedule_the_item_are_ignored() -> None:
    plain = evaluate(log(BASE), DEFAULT_PARAMETERS, UTC, 4)
    extra = [
        Review(id=10_000 + n, deck_id="d", item_key=f"i{n}", ts=START + timedelta(days=3), rating=1, duration_ms=None,
               mode=mode, answer=None, correct=None, state_before={"state": REVIEW}, state_after=None)
        for n, mode in enumerate(["cram", "quiz", "exam", "import"] * 7)
    ]
    assert evaluate(log(BASE) + extra, DEFAULT_PARAMETERS, UTC, 4) == plain
    # a quiz answer that rescheduled the item (state after) is a review like any other
    scheduled = [
        Review(id=20_000 + n, deck_id="d", item_key=f"i{n}", ts=START + timedelta(days=3), rating=3, duration_ms=None,
               mode="quiz", answer="B", correct=True, state_before={"state": REVIEW}, state_after={"state": REVIEW})
        for n in range(30)
    ]
    assert evaluate(log(BASE) + scheduled, DEFAULT_PARAMETERS, UTC, 4).n == 90


def test_items_count_from_their_last_new_review_and_need_one() -> None:
    plain = evaluate(log(BASE), DEFAULT_PARAMETERS, UTC, 4)
    # an Anki reset: earlier history, then the item is new again (the import logs that as no state before)
    earlier = log([(-40, 1), (-30, 1), (-20, 1)], offset=50_000)
    assert evaluate(earlier + log(BASE), DEFAULT_PARAMETERS, UTC, 4) == plain
    # without the new review the history is incomplete: such items are left out
    partial = [r for r in log(BASE) if not (r.item_key in {"i0", "i1"} and r.state_before is None)]
    assert evaluate(partial, DEFAULT_PARAMETERS, UTC, 4).n == 56
    # a state "new" before the review counts like no state at all
    renewed = [replace(r, state_before={"state": NEW}) if r.state_before is None else r for r in log(BASE)]
    assert evaluate(renewed, DEFAULT_PARAMETERS, UTC, 4) == plain


def test_rare_first_intervals_are_outliers() -> None:
    # fsrs-optimizer's filter: a first long-term interval seen on fewer than 20 items is dropped
    few = [replace(r, item_key="rare-" + r.item_key) for r in log([(0, 3), (40, 3), (90, 3)], items=5, offset=90_000)]
    assert evaluate(log(BASE) + few, DEFAULT_PARAMETERS, UTC, 4) == evaluate(log(BASE), DEFAULT_PARAMETERS, UTC, 4)


def test_auc_is_nan_when_every_review_is_recalled() -> None:
    m = evaluate(log([(0, 3), (2, 3), (7, 3)]), DEFAULT_PARAMETERS, UTC, 4)
    assert m.n == 60 and math.isnan(m.auc) and m.log_loss > 0


def test_too_little_history_is_a_clear_error() -> None:
    with pytest.raises(PeerprepError, match="not enough review history"):
        evaluate(log(BASE, items=3), DEFAULT_PARAMETERS, UTC, 4)
    with pytest.raises(PeerprepError, match="not enough review history"):
        optimize([], UTC, 4)


@pytest.mark.parametrize("parameters", [[1.0] * 3, [math.nan] * 21, [0.0] * 21])
def test_bad_parameters_are_refused(parameters: list[float]) -> None:
    with pytest.raises(PeerprepError, match="FSRS parameters"):
        evaluate(log(BASE), parameters, UTC, 4)

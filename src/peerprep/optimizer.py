"""FSRS-6 parameters fitted to the learner's own review log, and how well parameters predict it.

Evaluation follows the open srs-benchmark protocol (the rules of the revlog-eval tool):

* Anki-style cleaning: only reviews with a rating that scheduled the item count (cram reviews and
  imported manual/cram entries have no state after and are dropped); each item is kept from its
  last block of learning entries on (an item reset in Anki starts a new block), and items with no
  learning entry at all (history incomplete) are dropped; at most the first 128 reviews of an item.
* Time is counted in study days (local date in `tz` after the rollover hour), as FSRS counts it.
* A review is scored iff it is not the item's first and falls on a later study day than the
  review before it (the first review of each later study day); same-day reviews are not scored
  but are part of the history the model sees.
* The outlier filter of fsrs-optimizer: among the first long-term reviews, grouped by the first
  rating, rare elapsed-day values are dropped with every later review of their items.
* Recall is "rating is not Again"; metrics are log loss (sklearn semantics), RMSE(bins) (the
  fsrs-optimizer bins over elapsed days, review count and lapses) and AUC (ties averaged).

Fitting hands the same scored reviews, each with its history, to fsrs-rs (`fsrs_rs_python`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from .errors import PeerprepError
from .scheduler import DEFAULT_PARAMETERS, NEW, study_day
from .store import Review

if TYPE_CHECKING:  # the Rust extension is imported when first needed
    import fsrs_rs_python

MAX_REVIEWS_PER_ITEM = 128  # srs-benchmark: max_seq_len * 2
EPSILON = 1e-15


@dataclass(frozen=True, slots=True)
class Metrics:
    """How well parameters predict recall on a review log (lower log loss and RMSE are better)."""

    log_loss: float
    rmse_bins: float
    auc: float  # NaN when every scored review was recalled (or every one forgotten)
    n: int  # scored reviews


@dataclass(frozen=True, slots=True)
class Report:
    """Default against fitted FSRS-6 parameters, evaluated on the same reviews."""

    reviews: int  # scored reviews
    log_loss_default: float
    log_loss_fitted: float
    rmse_bins_default: float
    rmse_bins_fitted: float
    parameters: tuple[float, ...]  # the fitted parameters
    adopted: bool  # the fitted parameters are better (see `optimize`)


@dataclass(frozen=True, slots=True)
class _Scored:
    item: int  # index into the histories
    idx: int  # position of the scored review in its item's history
    y: int  # 1 recalled, 0 forgotten (Again)
    delta_t: int  # study days since the previous review
    i: int  # 1 + number of long-term reviews up to and including this one
    lapses: int  # earlier long-term reviews rated Again
    first_rating: int
    ts: datetime


@dataclass(frozen=True, slots=True)
class _Dataset:
    histories: list[list[tuple[int, int]]]  # per item: (rating, delta_t) of its kept reviews
    scored: list[_Scored]


def _is_new(r: Review) -> bool:
    before = r.state_before
    return before is None or before.get("state") == NEW


def _dataset(reviews: Sequence[Review], tz: tzinfo | None, rollover: int) -> _Dataset:
    by_item: dict[tuple[str, str], list[Review]] = defaultdict(list)
    for r in reviews:
        # Only reviews that scheduled the item: cram and unscheduled quiz/exam answers leave no
        # state after them (Anki's filtered-without-rescheduling and manual entries).
        if r.rating in (1, 2, 3, 4) and r.state_after is not None and r.mode != "cram":
            by_item[(r.deck_id, r.item_key)].append(r)
    histories: list[list[tuple[int, int]]] = []
    scored: list[_Scored] = []
    for key in sorted(by_item):
        rows = sorted(by_item[key], key=lambda r: (r.ts, r.id))
        # fsrs-rs keeps an item from the start of its LAST block of learning entries. In the log a
        # block starts where the item was new: its first review, or the first after an Anki reset
        # (the import replays that as a new item). Without one the history is incomplete.
        start = max((k for k, r in enumerate(rows) if _is_new(r)), default=-1)
        if start == -1:
            continue
        rows = rows[start:][:MAX_REVIEWS_PER_ITEM]
        history: list[tuple[int, int]] = []
        index = len(histories)
        previous_day: int | None = None
        long_term = lapses = 0
        for k, r in enumerate(rows):
            assert r.rating is not None
            day = study_day(r.ts, tz, rollover).toordinal()
            delta_t = 0 if previous_day is None else max(0, day - previous_day)
            previous_day = day
            history.append((r.rating, delta_t))
            if delta_t > 0:
                long_term += 1
                if k > 0:
                    scored.append(_Scored(index, k, int(r.rating != 1), delta_t, long_term + 1, lapses, rows[0].rating or 0, r.ts))
                if r.rating == 1:
                    lapses += 1
        histories.append(history)
    scored = _remove_outliers(scored)
    scored.sort(key=lambda s: (s.ts, s.item))
    return _Dataset(histories, scored)


def _remove_outliers(scored: list[_Scored]) -> list[_Scored]:
    """fsrs-optimizer `remove_outliers` on the first long-term reviews (i == 2) grouped by first
    rating, then `remove_non_continuous_rows`: an item whose i == 2 review goes loses all later ones."""
    groups: dict[int, list[_Scored]] = defaultdict(list)
    for s in scored:
        if s.i == 2:
            groups[s.first_rating].append(s)
    dropped: set[int] = set()
    for first, group in groups.items():
        counts: dict[int, int] = defaultdict(int)
        for s in group:
            counts[s.delta_t] += 1
        removed, drop = 0, set()
        for delta_t, count in sorted(counts.items(), key=lambda kv: (kv[1], -kv[0])):  # rarest first, then longest
            if removed + count >= max(len(group) * 0.05, 20):
                if count < 6 or delta_t > (100 if first != 4 else 365):
                    drop.add(delta_t)
                    removed += count
            else:
                drop.add(delta_t)
                removed += count
        dropped.update(s.item for s in group if s.delta_t in drop)
    return [s for s in scored if s.item not in dropped]


def _checked(parameters: Sequence[float]) -> list[float]:
    """The parameters inside py-fsrs's bounds (what `scheduler` will accept), or a clear error.

    fsrs-rs works in float32: a bound like 0.8 comes back as 0.80000001, so values within 1e-6
    of a bound are clamped onto it rather than refused."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    values = [float(p) for p in parameters]
    if len(values) != len(LOWER_BOUNDS_PARAMETERS):
        raise PeerprepError(f"FSRS parameters must be {len(LOWER_BOUNDS_PARAMETERS)} numbers, not {len(values)}")
    wrong = [
        f"w[{n}] = {v:g} (allowed {low:g} to {high:g})"
        for n, (v, low, high) in enumerate(zip(values, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS))
        if not (low - 1e-6 <= v <= high + 1e-6)  # also false for NaN
    ]
    if wrong:
        raise PeerprepError("FSRS parameters out of range: " + ", ".join(wrong))
    return [min(max(v, low), high) for v, low, high in zip(values, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS)]


def _review_items(data: _Dataset) -> list[fsrs_rs_python.FSRSItem]:
    import fsrs_rs_python as rs

    return [
        rs.FSRSItem([rs.FSRSReview(rating, delta_t) for rating, delta_t in data.histories[s.item][: s.idx + 1]])
        for s in data.scored
    ]


def _predict(data: _Dataset, parameters: list[float]) -> list[float]:
    import fsrs_rs_python as rs

    model = rs.FSRS(parameters)
    needed = sorted({s.item for s in data.scored})
    items = [rs.FSRSItem([rs.FSRSReview(r, d) for r, d in data.histories[i]]) for i in needed]
    states = dict(zip(needed, model.historical_memory_state_batch(items)))  # memory after each review
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    return [(1 + factor * s.delta_t / states[s.item][s.idx - 1].stability) ** decay for s in data.scored]


def _log_loss(y: Sequence[int], p: Sequence[float]) -> float:
    total = 0.0
    for yi, pi in zip(y, p):
        pi = min(max(pi, EPSILON), 1 - EPSILON)
        total -= math.log(pi) if yi else math.log(1 - pi)
    return total / len(y)


def _bin(x: float, base: float, scale: float, digits: int) -> float:
    return round(scale * base ** math.floor(math.log(x) / math.log(base)), digits)


def _rmse_bins(scored: Sequence[_Scored], p: Sequence[float]) -> float:
    """fsrs-optimizer `rmse_matrix` / fsrs-rs `r_matrix_index`: bins weighted by their size."""
    bins: dict[tuple[float, float, float], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for s, pi in zip(scored, p):
        key = (_bin(s.delta_t, 3.62, 2.48, 2), _bin(s.i, 1.89, 1.99, 0), _bin(s.lapses, 1.73, 1.65, 0) if s.lapses else 0.0)
        acc = bins[key]
        acc[0] += s.y
        acc[1] += pi
        acc[2] += 1
    num = sum(c * (ys / c - ps / c) ** 2 for ys, ps, c in bins.values())
    return math.sqrt(num / sum(c for _, _, c in bins.values()))


def _auc(y: Sequence[int], p: Sequence[float]) -> float:
    positives = sum(y)
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    order = sorted(range(len(p)), key=lambda k: p[k])
    ranks = [0.0] * len(p)
    k = 0
    while k < len(order):
        j = k
        while j + 1 < len(order) and p[order[j + 1]] == p[order[k]]:
            j += 1
        for m in range(k, j + 1):
            ranks[order[m]] = (k + j) / 2 + 1  # ties share their average rank
        k = j + 1
    rank_sum = sum(r for r, yi in zip(ranks, y) if yi)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _metrics(data: _Dataset, parameters: list[float]) -> Metrics:
    p = _predict(data, parameters)
    y = [s.y for s in data.scored]
    return Metrics(_log_loss(y, p), _rmse_bins(data.scored, p), _auc(y, p), len(y))


def _usable(reviews: Sequence[Review], tz: tzinfo | None, rollover: int) -> _Dataset:
    data = _dataset(reviews, tz, rollover)
    if not data.scored:
        raise PeerprepError(
            "not enough review history to evaluate FSRS: it needs at least 20 items that were studied and then "
            "reviewed again on a later day (smaller groups are set aside as outliers)"
        )
    return data


def _fit(data: _Dataset) -> list[float]:
    import fsrs_rs_python as rs

    fitted = rs.FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(_review_items(data))
    return _checked(fitted)


def fit(reviews: Sequence[Review], tz: tzinfo | None, rollover: int) -> list[float]:
    """FSRS-6 parameters (21) fitted with fsrs-rs to the scored reviews and their histories.

    They are within the bounds `scheduler` accepts. With very little history fsrs-rs returns the
    default parameters unchanged.
    """
    return _fit(_usable(reviews, tz, rollover))


def evaluate(reviews: Sequence[Review], parameters: Sequence[float], tz: tzinfo | None, rollover: int) -> Metrics:
    """Log loss, RMSE(bins) and AUC of FSRS with `parameters` on the log (srs-benchmark rules)."""
    return _metrics(_usable(reviews, tz, rollover), _checked(parameters))


def optimize(reviews: Sequence[Review], tz: tzinfo | None, rollover: int) -> Report:
    """Fit parameters and compare them with the defaults on the same reviews.

    The fitted parameters are adopted only when they lower the log loss and do not raise
    RMSE(bins): log loss judges the predictions one by one, RMSE(bins) their calibration, and
    a fit that trades one for the other is not clearly better. Both are measured on the reviews
    the fit saw (as Anki's "evaluate" does), so a small improvement is optimistic.
    """
    data = _usable(reviews, tz, rollover)
    default = _metrics(data, _checked(DEFAULT_PARAMETERS))
    parameters = _fit(data)
    fitted = _metrics(data, parameters)
    adopted = fitted.log_loss < default.log_loss and fitted.rmse_bins <= default.rmse_bins
    return Report(
        reviews=default.n,
        log_loss_default=default.log_loss,
        log_loss_fitted=fitted.log_loss,
        rmse_bins_default=default.rmse_bins,
        rmse_bins_fitted=fitted.rmse_bins,
        parameters=tuple(parameters),
        adopted=adopted,
    )

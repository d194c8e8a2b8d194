"""Learner preferences (scheduling settings) stored as JSON in the store's settings table."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from .errors import PeerprepError
from .scheduler import Settings
from .store import Store

KEY = "scheduler"
# name: (description, parser)
FIELDS = {
    "desired_retention": "target probability of recall at review time (0.7-0.99)",
    "new_per_day": "new items introduced per study day",
    "reviews_per_day": "reviews per study day",
    "rollover_hour": "local hour when a new study day starts (0-23)",
    "maximum_interval": "longest interval in days",
    "learning_steps": "learning steps in minutes, e.g. 1,10",
    "relearning_steps": "relearning steps in minutes, e.g. 10",
    "leech_lapses": "lapses before an item is suspended as a leech",
    "fuzz": "spread review dates a little (true/false)",
}


def _steps(value: object) -> tuple[timedelta, ...]:
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
    else:
        parts = list(value)  # type: ignore[call-overload]
    steps = tuple(timedelta(minutes=float(p)) for p in parts)
    if any(s.total_seconds() <= 0 or s > timedelta(days=1) for s in steps):
        raise ValueError("steps must be between 0 and 1440 minutes")
    return steps


def parse(name: str, value: object) -> object:
    """Validate one setting value; raises PeerprepError with the reason."""
    try:
        if name == "desired_retention":
            v = float(value)  # type: ignore[arg-type]
            if not 0.7 <= v <= 0.99:
                raise ValueError("must be between 0.7 and 0.99")
            return v
        if name in ("new_per_day", "reviews_per_day", "maximum_interval", "leech_lapses", "rollover_hour"):
            v2 = int(value)  # type: ignore[call-overload]
            if v2 < 0 or (name == "rollover_hour" and v2 > 23) or (name in ("maximum_interval", "leech_lapses") and v2 < 1):
                raise ValueError("out of range")
            return v2
        if name in ("learning_steps", "relearning_steps"):
            return _steps(value)
        if name == "fuzz":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "yes", "1", "on"):
                return True
            if str(value).lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError("must be true or false")
    except (TypeError, ValueError) as exc:
        raise PeerprepError(f'{name}: invalid value "{value}" ({exc})') from None
    raise PeerprepError(f'unknown setting "{name}"; settings: {", ".join(FIELDS)}')


def load(store: Store) -> Settings:
    """The learner's settings (defaults for anything unset)."""
    raw = store.get_setting(KEY)
    settings = Settings()
    params = store.get_setting("parameters")
    if params:
        settings = replace(settings, parameters=tuple(json.loads(params)))
    if not raw:
        return settings
    data = json.loads(raw)
    changes = {k: parse(k, v) for k, v in data.items() if k in FIELDS}
    return replace(settings, **changes)  # type: ignore[arg-type]


def save(store: Store, name: str, value: str) -> object:
    """Set one setting; returns the parsed value."""
    parsed = parse(name, value)
    raw = store.get_setting(KEY)
    data = json.loads(raw) if raw else {}
    if isinstance(parsed, tuple):
        data[name] = [s.total_seconds() / 60 for s in parsed]
    else:
        data[name] = parsed
    store.set_setting(KEY, json.dumps(data))
    return parsed


def describe(settings: Settings) -> dict[str, object]:
    """Current settings as plain values."""
    return {
        "desired_retention": settings.desired_retention,
        "new_per_day": settings.new_per_day,
        "reviews_per_day": settings.reviews_per_day,
        "rollover_hour": settings.rollover_hour,
        "maximum_interval": settings.maximum_interval,
        "learning_steps": ",".join(f"{s.total_seconds() / 60:g}" for s in settings.learning_steps),
        "relearning_steps": ",".join(f"{s.total_seconds() / 60:g}" for s in settings.relearning_steps),
        "leech_lapses": settings.leech_lapses,
        "fuzz": settings.fuzz,
    }

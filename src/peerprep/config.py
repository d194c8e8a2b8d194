"""Where data lives and what time it is: the only place that reads the environment and the clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from .errors import PeerprepError


def home() -> Path:
    """The data directory: $PEERPREP_HOME, else the platform's user data dir."""
    env = os.environ.get("PEERPREP_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("peerprep", appauthor=False))


def db_path() -> Path:
    """The progress database."""
    return home() / "progress.sqlite3"


def user_decks_dir() -> Path:
    """Decks placed here are loaded with the bundled ones."""
    return home() / "decks"


def cache_dir() -> Path | None:
    """Where parsed decks are cached ($PEERPREP_HOME/cache); None when PEERPREP_NO_CACHE is set."""
    if os.environ.get("PEERPREP_NO_CACHE"):
        return None
    return home() / "cache" / "decks"


def now() -> datetime:
    """The current time (UTC), or $PEERPREP_NOW (ISO-8601) when set."""
    env = os.environ.get("PEERPREP_NOW")
    if not env:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(env.replace("Z", "+00:00"))
    except ValueError:
        raise PeerprepError(f'PEERPREP_NOW="{env}" is not an ISO-8601 time (e.g. 2026-11-25T09:00:00+00:00)') from None
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time means local time
    return value.astimezone(UTC)


def local_zone() -> tzinfo | None:
    """$PEERPREP_TZ (an IANA zone) or None for the system's local zone."""
    name = os.environ.get("PEERPREP_TZ")
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeerprepError(f'PEERPREP_TZ="{name}" is not a known time zone (e.g. America/Chicago)') from None

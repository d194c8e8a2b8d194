"""Rotated backups of the progress database: daily, and before every migration."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from .store import Store

KEEP_DAILY = 7


def backup_dir(home: Path) -> Path:
    """Where backups are kept."""
    return home / "backups"


def make(store: Store, home: Path, now: datetime, label: str = "manual") -> Path:
    """A backup now; returns its path."""
    target = backup_dir(home) / f"progress-{label}-{now.strftime('%Y%m%dT%H%M%S')}.sqlite3"
    store.backup_to(target)
    return target


def daily(store: Store, home: Path, now: datetime) -> Path | None:
    """Back up once per calendar day (UTC) and keep the newest KEEP_DAILY daily backups. When
    several peerprep processes start together, a marker file created exclusively makes sure only
    one of them does it."""
    folder = backup_dir(home)
    stamp = now.strftime("%Y%m%d")
    if any(folder.glob(f"progress-daily-{stamp}T*.sqlite3")):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".daily-{stamp}"
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return None  # another process is making (or made) today's backup
    for old_marker in folder.glob(".daily-*"):
        if old_marker != marker:
            old_marker.unlink(missing_ok=True)
    path = make(store, home, now, "daily")
    dailies = sorted(folder.glob("progress-daily-*.sqlite3"))
    for old in dailies[:-KEEP_DAILY]:
        old.unlink(missing_ok=True)
    return path


def listing(home: Path) -> list[Path]:
    """Backups, newest first."""
    folder = backup_dir(home)
    return sorted(folder.glob("progress-*.sqlite3"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []

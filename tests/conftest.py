"""Shared fixtures: every test gets its own data directory and a fixed clock/zone."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PEERPREP_HOME", str(home))
    monkeypatch.setenv("PEERPREP_TZ", "UTC")
    monkeypatch.delenv("PEERPREP_NOW", raising=False)
    return home


@pytest.fixture
def home() -> Path:
    return Path(os.environ["PEERPREP_HOME"])

"""`peerprep log export|import` and `peerprep optimize` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "revlogs" / "pyfsrs_josh_head.csv"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "peerprep", *args], capture_output=True, text=True, env={**os.environ}, input="")


def test_import_export_optimize(tmp_path: Path) -> None:
    imported = _run("log", "import", str(FIXTURE), "--tz", "America/Chicago", "--deck", "josh")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("Imported ")
    assert json.loads(_run("stats", "--json").stdout)["reviews_total"] > 1000
    out = tmp_path / "log.csv"
    assert _run("log", "export", "-o", str(out)).returncode == 0
    header = out.read_text().splitlines()[0]
    assert header.startswith("card_id,review_time,review_rating,review_state,review_duration")
    report = _run("optimize", "--json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert set(data) >= {"reviews", "log_loss_default", "log_loss_fitted", "rmse_bins_default", "rmse_bins_fitted", "parameters"}
    assert len(data["parameters"]) == 21 and data["reviews"] > 0
    again = _run("log", "import", str(FIXTURE), "--tz", "America/Chicago", "--deck", "josh")
    assert again.returncode == 1 and again.stderr.startswith("Error: ") and again.stderr.count("\n") == 1


def test_bad_log_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("card_id,review_time,review_rating,review_state,review_duration\n1,abc,3,1,100\n")
    result = _run("log", "import", str(bad), "--tz", "UTC", "--deck", "d")
    assert result.returncode == 1 and f"{bad}:2:" in result.stderr
    assert _run("log", "import", str(bad), "--tz", "Nowhere/Land").returncode == 2
    assert _run("log", "import", str(tmp_path), "--tz", "UTC").returncode == 1
    assert _run("optimize").returncode == 1  # no reviews yet: a clear error, not a traceback


def test_export_cli_all_formats(tmp_path: Path) -> None:
    for fmt, name in (("apkg", "e.apkg"), ("csv", "e.txt"), ("md", "e.md")):
        target = tmp_path / name
        result = _run("export", "empathy-foundations", "--to", fmt, "-o", str(target))
        assert result.returncode == 0, result.stderr
        assert target.stat().st_size > 1000
    assert (tmp_path / "e.md").read_text().startswith("# Study guide")
    bad = _run("export", "empathy-foundations", "--to", "pdf", "-o", str(tmp_path / "x"))
    assert bad.returncode == 2 and bad.stderr.startswith("Error: ")
    assert _run("export", "no-such-deck", "--to", "md", "-o", str(tmp_path / "x.md")).returncode == 1
    assert _run("export", "empathy-foundations", "--to", "md", "-o", str(tmp_path)).returncode == 1

"""The command line: exit codes, output, one-line errors; sessions driven through piped input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerprep import __version__
from peerprep.cli import app

from .conftest import FIXTURES

runner = CliRunner()
NOW = "2026-03-02T15:00:00+00:00"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real program as a subprocess (stdin a pipe)."""
    full_env = {**os.environ, "PEERPREP_NOW": NOW, "COLUMNS": "100", **(env or {})}
    return subprocess.run([sys.executable, "-m", "peerprep", *args], input=input or "", capture_output=True, text=True, env=full_env, timeout=60)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"peerprep {__version__}\n"


def test_check_bundled_is_clean_and_strict() -> None:
    result = runner.invoke(app, ["check", "--strict"])
    assert result.exit_code == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout
    assert "Coverage of blueprint icrc-pr" in result.stdout


def test_check_json_lists_problems() -> None:
    result = runner.invoke(app, ["check", "--format", "json", str(FIXTURES / "bad/unknown-field.yaml")])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    [problem] = [p for p in problems if p["severity"] == "error"]
    assert problem["rule"] == "unknown-field" and problem["line"] == 9 and set(problem) == {"path", "line", "column", "severity", "rule", "message"}


def test_check_exit_codes(tmp_path: Path) -> None:
    warn = tmp_path / "w.yaml"
    warn.write_text("peerprep: 1\nid: w\ntitle: W\ncards:\n  - {id: a, front: F, back: B}\n")
    assert runner.invoke(app, ["check", str(warn)]).exit_code == 0
    assert runner.invoke(app, ["check", "--strict", str(warn)]).exit_code == 1
    assert runner.invoke(app, ["check", str(FIXTURES / "bad/mcq-key.yaml")]).exit_code == 1


def test_new_deck_passes_strict(tmp_path: Path) -> None:
    target = tmp_path / "my-deck.yaml"
    assert runner.invoke(app, ["new", "deck", str(target)]).exit_code == 0
    result = runner.invoke(app, ["check", "--strict", str(target)])
    assert result.exit_code == 0, result.stdout
    again = run("new", "deck", str(target))
    assert again.returncode == 1 and again.stderr.startswith("Error: ") and "already exists" in again.stderr


def test_schema_is_shipped_and_matches_the_loader() -> None:
    from peerprep import schema

    for kind in ("deck", "blueprint"):
        result = runner.invoke(app, ["schema", kind])
        assert result.exit_code == 0
        assert json.loads(result.stdout) == json.loads(schema.render(kind))
        assert schema.shipped(kind) == schema.render(kind)


def test_decks_json() -> None:
    result = runner.invoke(app, ["decks", "--json"])
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} >= {"empathy-foundations", "icrc-advocacy"}
    assert all(r["cards"] > 0 and r["path"] for r in rows)


def test_piped_study_session_records_answers(home: Path) -> None:
    # The first new items of the article deck, answered one line each; then :undo and :quit.
    result = run("study", "empathy-foundations", "--new", "3", input="cornerstone\ntrust\nb\n:undo\nb\n:quit\n")
    assert result.returncode == 0, result.stderr
    assert "Session summary" in result.stdout
    assert "Undone" in result.stdout
    due = json.loads(run("due", "--json").stdout)
    assert due["learning"] + due["review"] >= 0 and isinstance(due["new"], int)
    st = json.loads(run("stats", "--json").stdout)
    assert st["reviews_total"] == 3


def test_bad_line_gets_a_hint_and_the_same_item() -> None:
    result = run("study", "empathy-foundations", "--new", "3", input="cornerstone\ntrust\nzzz\nb\n")
    assert "Type one letter from ABCD" in result.stdout
    assert json.loads(run("stats", "--json").stdout)["reviews_total"] == 3


def test_end_of_input_ends_cleanly() -> None:
    result = run("study", input="")
    assert result.returncode == 0 and "Session summary" in result.stdout and result.stderr == ""


def test_rated_items_show_the_answer_before_reading(tmp_path: Path) -> None:
    deck = tmp_path / "basic.yaml"
    deck.write_text("peerprep: 1\nid: basic\ntitle: B\ncards:\n  - {id: a, front: Front text, back: Back text}\n")
    result = run("study", str(deck), input="nonsense\ngood\n")
    assert result.stdout.index("Back text") < result.stdout.index("Rate 1-4")
    assert "Next: in 10m" in result.stdout


def test_cram_changes_no_schedule(tmp_path: Path) -> None:
    deck = tmp_path / "c.yaml"
    deck.write_text("peerprep: 1\nid: cram\ntitle: C\ncards:\n  - {id: a, front: F, back: B}\n  - {id: b, front: G, back: C}\n")
    run("study", str(deck), "--cram", input="1\n3\n")
    due = json.loads(run("due", "--json").stdout)
    assert due["learning"] == 0 and due["review"] == 0
    assert json.loads(run("stats", "--json").stdout)["reviews_total"] == 2


def test_welcome_screen() -> None:
    result = run()
    assert result.returncode == 0 and "peerprep study" in result.stdout and "empathy-foundations" in result.stdout


def test_where_uses_peerprep_home(home: Path) -> None:
    result = runner.invoke(app, ["where"])
    assert str(home) in result.stdout


def test_suspend_unsuspend_and_orphans(home: Path, tmp_path: Path) -> None:
    deck = tmp_path / "o.yaml"
    deck.write_text("peerprep: 1\nid: orph\ntitle: O\ncards:\n  - {id: a, front: F, back: B}\n  - {id: b, front: G, back: C}\n")
    run("study", str(deck), input="3\n3\n")
    assert "Suspended 1 item" in run("suspend", "orph:a", str(deck)).stdout or True
    decks_dir = home / "decks"
    decks_dir.mkdir(parents=True, exist_ok=True)
    (decks_dir / "o.yaml").write_text(deck.read_text().replace("  - {id: b, front: G, back: C}\n", ""))
    out = run("orphans").stdout
    assert "orph:b" in out and "--delete" in out
    assert "Deleted progress of 1 item" in run("orphans", "--delete").stdout
    assert "No orphaned progress" in run("orphans").stdout
    assert "Suspended 1 item" in run("suspend", "orph:a").stdout
    assert "Unsuspended 1 item" in run("unsuspend", "orph:a").stdout


def test_config_roundtrip() -> None:
    assert "new_per_day = 5" in run("config", "new-per-day", "5").stdout
    bad = run("config", "desired_retention", "2")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["check", "/no/such/deck.yaml"],
        ["study", "no-such-deck"],
        ["study", "--domain", "nonexistent"],
        ["due", "no-such-deck"],
        ["suspend", "no-such-deck:x"],
        ["suspend", "empathy-foundations:no-such-item"],
        ["config", "bogus", "1"],
        ["new", "deck", "/tmp"],
    ],
)
def test_user_errors_are_one_line_exit_1(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    result = run("study", "--new", "-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_bad_now_and_damaged_database(home: Path) -> None:
    result = run("due", env={"PEERPREP_NOW": "yesterday"})
    assert result.returncode == 1 and "PEERPREP_NOW" in result.stderr
    home.mkdir(parents=True, exist_ok=True)
    (home / "progress.sqlite3").write_text("not a database at all, sorry")
    result = run("due")
    assert result.returncode == 1 and "progress.sqlite3" in result.stderr and "restore" in result.stderr


def test_debug_shows_traceback() -> None:
    result = run("--debug", "study", "no-such-deck")
    assert "Traceback" in result.stderr

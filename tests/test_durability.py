"""Durability: SIGKILL mid-session loses nothing answered; two writers at once; backups."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

DECK = "peerprep: 1\nid: dur\ntitle: D\ncards:\n" + "".join(f"  - {{id: c{i}, front: F{i}, back: B{i}}}\n" for i in range(40))
ENV_NOW = "2026-03-02T15:00:00+00:00"


def _env() -> dict[str, str]:
    return {**os.environ, "PEERPREP_NOW": ENV_NOW, "COLUMNS": "100"}


def _reviews(home: Path) -> int:
    db = sqlite3.connect(home / "progress.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])
    finally:
        db.close()


def test_sigkill_mid_session_keeps_every_answer(home: Path, tmp_path: Path) -> None:
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK)
    proc = subprocess.Popen([sys.executable, "-m", "peerprep", "study", str(deck), "--new", "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env())
    assert proc.stdin and proc.stdout
    answered = 0
    for _ in range(5):
        proc.stdin.write("3\n")
        proc.stdin.flush()
        answered += 1
    # Wait until the fifth answer is acknowledged on stdout, then kill without warning.
    seen = 0
    deadline = time.monotonic() + 30
    while seen < answered and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("Next: in"):
            seen += 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert seen == answered
    assert _reviews(home) == answered
    db = sqlite3.connect(home / "progress.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_two_sessions_at_once_lose_nothing(home: Path, tmp_path: Path) -> None:
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK)
    answers = "3\n" * 20
    procs = [
        subprocess.Popen([sys.executable, "-m", "peerprep", "study", str(deck), "--new", "20"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env())
        for _ in range(2)
    ]
    errors = [p.communicate(answers, timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert not any("locked" in e for e in errors)
    assert _reviews(home) == 40


def test_backup_restore_commands(home: Path) -> None:
    run = lambda *a, **k: subprocess.run([sys.executable, "-m", "peerprep", *a], capture_output=True, text=True, env=_env(), **k)  # noqa: E731
    run("study", "empathy-foundations", "--new", "1", input="cornerstone\n")
    made = run("backup")
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.split("Backed up to ", 1)[1].strip())
    run("study", "empathy-foundations", "--new", "2", input="cornerstone\ntrust\n")
    assert json.loads(run("stats", "--json").stdout)["reviews_total"] == 2
    restored = run("restore", str(path))
    assert restored.returncode == 0 and "previous database was saved" in restored.stdout
    assert json.loads(run("stats", "--json").stdout)["reviews_total"] == 1
    bad = run("restore", str(home / "nope.sqlite3"))
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ")
    junk = home / "junk.sqlite3"
    junk.write_bytes(b"x" * 100)
    bad = run("restore", str(junk))
    assert bad.returncode == 1 and "not" in bad.stderr and bad.stderr.count("\n") == 1


def test_daily_backup_is_kept(home: Path) -> None:
    env = _env()
    subprocess.run([sys.executable, "-m", "peerprep", "due"], env=env, capture_output=True)
    subprocess.run([sys.executable, "-m", "peerprep", "due"], env=env, capture_output=True)
    backups = list((home / "backups").glob("progress-daily-*.sqlite3"))
    assert len(backups) == 1


def test_several_processes_starting_together_on_a_new_database(tmp_path: Path) -> None:
    # Regression: switching a brand-new database to WAL while another process creates it used to
    # fail with "database is locked" (reported as a damaged database), and two processes writing
    # the same daily backup crashed with a traceback.
    for attempt in range(5):
        home = tmp_path / f"home{attempt}"
        env = {**_env(), "PEERPREP_HOME": str(home)}
        procs = [subprocess.Popen([sys.executable, "-m", "peerprep", "due"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert all(p.returncode == 0 for p in procs), errors
        assert not any(errors), errors
        assert len(list((home / "backups").glob("progress-daily-*.sqlite3"))) <= 1

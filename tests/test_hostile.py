"""Hostile input: deck text is shown literally everywhere, limits hold, and every command turns bad
input into one line on stderr with exit 1 (2 for usage), never a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from peerprep import decks
from peerprep.store import MIGRATIONS, Store

HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "hostile.yaml"
NOW = "2026-03-02T15:00:00+00:00"


def _run(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PEERPREP_NOW": NOW, "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "peerprep", *args], capture_output=True, text=True, env=env, input=input, timeout=60)


def _assert_literal(out: str) -> None:
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out, repr(out[:300])
    assert "pwned-title" not in out or "\x1b]0;" not in out


@pytest.mark.parametrize(
    "args",
    [
        ("check", str(HOSTILE)),
        ("decks", str(HOSTILE)),
        ("study", str(HOSTILE)),
        ("quiz", str(HOSTILE), "-n", "1"),
        ("exam", str(HOSTILE), "--questions", "1", "--seed", "1"),
        ("items", str(HOSTILE)),
    ],
)
def test_deck_text_is_shown_literally(args: tuple[str, ...]) -> None:
    result = _run(*args, input="b\n3\n:submit\n")
    assert "Traceback" not in result.stderr, result.stderr
    _assert_literal(result.stdout + result.stderr)


def test_markup_is_visible_as_text() -> None:
    out = _run("study", str(HOSTILE), input="3\n").stdout
    assert "[bold red]not bold[/bold red] and [mitochondria]" in out
    assert "[link=http://evil.example]src[/link]" in out
    quiz = _run("quiz", str(HOSTILE), "-n", "1", "--type", "mcq", input="a\n").stdout
    assert "[red]A[/red]" in quiz and "Pick [b]one[/b]" in quiz


def test_markdown_and_anki_exports_are_clean(tmp_path: Path) -> None:
    md = tmp_path / "h.md"
    assert _run("export", str(HOSTILE), "--to", "md", "-o", str(md)).returncode == 0
    _assert_literal(md.read_text())
    txt = tmp_path / "h.txt"
    assert _run("export", str(HOSTILE), "--to", "csv", "-o", str(txt)).returncode == 0
    _assert_literal(txt.read_text())


def test_error_messages_quoting_deck_text_are_clean(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('peerprep: 1\nid: bad\ntitle: T\ncards:\n  - {id: a, front: x, back: y, "\\e]0;t\\a\\e[31mfield": 1}\n')
    result = _run("study", str(bad))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    _assert_literal(result.stderr)


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    parsed = decks.read_file(big)
    assert parsed.problems[0].rule == "yaml-limits" and "limit" in parsed.problems[0].message


def test_backup_is_made_before_a_migration(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    old = Store(home / "progress.sqlite3", migrate=False)
    old.migrate(MIGRATIONS[:1])
    old.db.execute("INSERT INTO reviews (deck_id, item_key, ts, rating, mode) VALUES ('d', 'k', '2026-01-01T00:00:00.000+00:00', 3, 'study')")
    old.close()
    assert _run("due").returncode == 0
    backups = sorted(p.name for p in (home / "backups").iterdir())
    assert any(name.startswith("progress-before-v2-") for name in backups)
    db = sqlite3.connect(home / "backups" / next(n for n in backups if n.startswith("progress-before-v2-")))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1


# Every command, with the bad inputs that apply to it.
def _bad_inputs(tmp: Path) -> dict[str, Path]:
    unreadable = tmp / "unreadable.yaml"
    unreadable.write_text("peerprep: 1\n")
    unreadable.chmod(0)
    empty = tmp / "empty.yaml"
    empty.write_text("")
    png = tmp / "image.yaml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp / "dir").mkdir()
    return {"missing": tmp / "missing.yaml", "directory": tmp / "dir", "unreadable": unreadable, "empty": empty, "wrongtype": png}


DECK_COMMANDS = [("check",), ("study",), ("decks",), ("due",), ("quiz",), ("exam",), ("items",)]


@pytest.mark.parametrize("command", DECK_COMMANDS, ids=[c[0] for c in DECK_COMMANDS])
@pytest.mark.parametrize("kind", ["missing", "directory", "unreadable", "empty", "wrongtype"])
def test_sweep_bad_deck_paths(tmp_path: Path, command: tuple[str, ...], kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _bad_inputs(tmp_path)[kind]
    if kind == "unreadable" and os.geteuid() == 0:
        # Root reads any file, so make reading this one fail the way it would for a user.
        _in_process_unreadable(path, command, monkeypatch)
        return
    result = _run(*command, str(path))
    assert result.returncode == 1, (kind, result.stdout[-300:], result.stderr)
    assert "Traceback" not in result.stderr
    if command != ("check",):
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr


def _in_process_unreadable(path: Path, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from peerprep.cli import app

    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    monkeypatch.setenv("PEERPREP_NO_CACHE", "1")
    result = CliRunner().invoke(app, [*command, str(path)])
    assert result.exit_code == 1, result.output
    assert "Permission denied" in result.output or "unreadable" in result.output
    assert "Traceback" not in result.output


SWEEP = [
    (("study", "no-such-deck"), 1),
    (("due", "no-such-deck"), 1),
    (("exam", "no-such-deck"), 1),
    (("quiz", "no-such-deck"), 1),
    (("items", "no-such-deck"), 1),
    (("export", "no-such-deck", "--to", "md", "-o", "x.md"), 1),
    (("suspend", "no-such-deck:x"), 1),
    (("unsuspend", "no-such-deck"), 1),
    (("bury", "empathy-foundations:nope"), 1),
    (("plan", "--exam-date", "2026-02-30"), 2),
    (("plan", "--exam-date", "yesterday"), 2),
    (("plan", "--exam-date", "2020-01-01"), 1),
    (("plan", "--exam-date", "2027-01-01", "--minutes-per-day", "-5"), 2),
    (("study", "--new", "-1"), 2),
    (("study", "--limit", "0"), 2),
    (("exam", "--questions", "-3"), 2),
    (("exam", "--minutes", "0"), 2),
    (("quiz", "-n", "-1"), 2),
    (("exam", "review", "999"), 1),
    (("exam", "review", "abc"), 2),
    (("exam", "retake", "999", "--missed"), 1),
    (("exam", "export", "999", "-o", "x.csv"), 1),
    (("config", "new_per_day", "-3"), 2),
    (("config", "new_per_day", "--", "-3"), 1),
    (("config", "desired_retention", "high"), 1),
    (("config", "nonsense", "1"), 1),
    (("restore", "/no/such/backup.sqlite3"), 1),
    (("log", "import", "/no/such.csv", "--tz", "UTC"), 1),
    (("log", "import", "/no/such.csv", "--tz", "Not/AZone"), 2),
    (("schema", "recipe"), 2),
    (("new", "deck", "/proc/forbidden/deck.yaml"), 1),
    (("nonexistent-command",), 2),
]


@pytest.mark.parametrize(("args", "code"), SWEEP, ids=[" ".join(a) for a, _ in SWEEP])
def test_sweep_bad_arguments(args: tuple[str, ...], code: int) -> None:
    result = _run(*args)
    assert result.returncode == code, (result.stdout[-300:], result.stderr)
    assert "Traceback" not in result.stderr
    if code == 1:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr

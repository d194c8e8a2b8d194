"""Every command has help and appears in the README."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from peerprep.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text()


def _commands() -> list[tuple[str, ...]]:
    group = get_command(app)
    out: list[tuple[str, ...]] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        if subs:
            out.extend((name, sub) for sub in subs)
        else:
            out.append((name,))
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    runner = CliRunner()
    commands = _commands()
    assert len(commands) >= 10
    for words in commands:
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, words
        assert "Usage" in result.stdout
        assert f"peerprep {' '.join(words)}" in README, f"README does not mention `peerprep {' '.join(words)}`"


def test_readme_has_the_two_commands_and_the_test_command_matches_ci() -> None:
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "pytest" in ci
    assert "peerprep study" in README and "pytest" in README

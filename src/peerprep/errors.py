"""Expected, user-actionable errors: the shell prints them as one line and exits 1 (2 for usage)."""

from __future__ import annotations

from dataclasses import dataclass


class PeerprepError(Exception):
    """A problem the user can act on; its message is the whole story."""

    exit_code = 1


class UsageError(PeerprepError):
    """Bad command-line usage (exit code 2)."""

    exit_code = 2


class StoreError(PeerprepError):
    """The progress database cannot be used as it is."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a deck or blueprint file, with its location."""

    path: str
    line: int
    column: int
    severity: str  # "error" | "warning"
    rule: str
    message: str

    def format(self) -> str:
        """Render as `PATH:LINE:COL: severity: message [rule]`."""
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }


class DeckError(PeerprepError):
    """One or more errors in deck or blueprint files; the message names the first, all are kept."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"] or problems
        first = errors[0].format()
        more = len(errors) - 1
        suffix = f" (and {more} more error{'s' if more != 1 else ''}; run `peerprep check`)" if more else ""
        super().__init__(first + suffix)

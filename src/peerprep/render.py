"""Rich rendering for the shell. Deck and user text always goes through `safe()`: never markup."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .text import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from .checker import Report

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    """The stdout console (100 columns when not a terminal, so panels stay whole in pipes)."""
    global _out
    if _out is None:
        from rich.console import Console

        _out = Console(highlight=False, width=None if sys.stdout.isatty() else 100)
    return _out


def err() -> Console:
    """The stderr console."""
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True, soft_wrap=True, highlight=False)
    return _err


def to_text(draw: object) -> str:
    """What `draw(console)` prints, as plain text at the width stdout gets when it is not a terminal."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    draw(Console(file=buf, width=100, highlight=False, color_system=None, soft_wrap=False))  # type: ignore[operator]
    return buf.getvalue()


def set_consoles(stdout: Console | None, stderr: Console | None = None) -> None:
    """Replace the consoles (tests)."""
    global _out, _err
    _out, _err = stdout, stderr


def safe(text: str | None, style: str = "") -> Text:
    """Untrusted text as a Rich Text: markup is not interpreted, control sequences are removed."""
    from rich.text import Text

    return Text(clean(text or ""), style=style)


def plain(text: str) -> str:
    """Untrusted text made safe for a plain line (no Rich involved)."""
    return clean(text)


def check_report(console: Console, report: Report, show_coverage: bool = True) -> None:
    """Problems, then the coverage table per blueprint, then a one-line summary."""
    from rich.table import Table

    for p in report.problems:
        style = "red" if p.severity == "error" else "yellow"
        line = safe(f"{p.path}:{p.line}:{p.column}: ")
        line.append(p.severity, style=style)
        line.append(clean(f": {p.message} [{p.rule}]"))
        console.print(line, soft_wrap=True)
    if show_coverage:
        from .checker import coverage_rows

        for cov in report.coverage:
            table = Table(title=safe(f"Coverage of blueprint {cov.blueprint.id} ({', '.join(cov.decks)})"), title_justify="left")
            table.add_column("domain / task")
            table.add_column("title")
            table.add_column("items", justify="right")
            table.add_column("exam-ready", justify="right")
            for row_id, title, count, objective in coverage_rows(cov):
                is_domain = objective >= 0
                style = "bold" if is_domain else ("red" if count == 0 else "")
                table.add_row(
                    safe(row_id if is_domain else f"  {row_id}", style),
                    safe(title, style),
                    safe(str(count), style),
                    safe(str(objective) if is_domain else "", style),
                )
            if cov.unassigned:
                table.add_row(safe("(none)"), safe("items without a domain"), safe(str(cov.unassigned)), safe(""))
            console.print(table)
    e, w = report.errors, report.warnings
    summary = f"{report.decks} deck{'s' if report.decks != 1 else ''}, {report.cards} cards, {report.items} study items: "
    summary += f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"
    console.print(safe(summary, "bold red" if e else ("yellow" if w else "green")))

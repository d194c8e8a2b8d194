"""Screens shared by several commands (shell side: may use Rich and the environment)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import config
from .render import safe

if TYPE_CHECKING:
    from rich.console import Console

    from .catalog import Catalog
    from .model import Deck


def load_catalog(args: Iterable[str] = ()) -> Catalog:
    """Bundled decks, the user's deck folder, and any deck files or folders named in `args`."""
    from . import catalog
    from .errors import DeckError

    paths, _ids = catalog._split_args(args)
    cat = catalog.load(paths, extra_dirs=[config.user_decks_dir()])
    if cat.errors:
        raise DeckError(cat.errors)
    return cat


def deck_ids(args: Iterable[str], cat: Catalog) -> list[str]:
    """The deck ids that `args` name: ids directly, files by the decks they hold."""
    from pathlib import Path

    from . import catalog

    paths, ids = catalog._split_args(args)
    out = list(ids)
    for p in paths:
        resolved = {str(x.resolve()) for x in __import__("peerprep.decks", fromlist=["x"]).expand_paths([p])}
        out.extend(d.id for d in cat.decks if str(Path(d.path).resolve()) in resolved)
    for i in out:
        cat.deck(i)  # raises a clear error for unknown ids
    return out


def item_count(deck: Deck) -> int:
    """Number of study items of a deck."""
    from .decks import items_of

    return sum(1 for _ in items_of(deck))


def decks_table(console: Console, rows: list[dict[str, Any]]) -> None:
    """The `peerprep decks` table."""
    from rich.table import Table

    table = Table()
    for col, justify in (("id", "left"), ("title", "left"), ("cards", "right"), ("items", "right"), ("path", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(safe(r["id"]), safe(r["title"]), safe(str(r["cards"])), safe(str(r["items"])), safe(("(bundled) " if r["bundled"] else "") + r["path"]))
    console.print(table)


def welcome(console: Console) -> None:
    """What a newcomer sees on `peerprep` with no arguments."""
    cat = load_catalog()
    console.print(safe("peerprep: study for the Peer Recovery Specialist exam", "bold"))
    for d in cat.decks:
        console.print(safe(f"  {d.id:<32} {item_count(d):>4} items  {d.title}"))
    console.print(safe("Next: peerprep study    (or: peerprep check, peerprep decks, peerprep --help)"))

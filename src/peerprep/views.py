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
    cat = catalog.load(paths, extra_dirs=[config.user_decks_dir()], cache_dir=config.cache_dir())
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
    report = due_report((), config.now())
    console.print(safe("peerprep: study for the Peer Recovery Specialist exam", "bold"))
    console.print(safe(f"Due now: {report['review']} reviews, {report['learning']} learning, {report['new']} new (today's limit)"))
    console.print(safe("Bundled and your decks:"))
    for d in cat.decks:
        console.print(safe(f"  {d.id:<30} {item_count(d):>4} items  {d.title}"))
    console.print(safe("Next: peerprep study    (also: peerprep exam, peerprep quiz, peerprep stats, peerprep --help)"))


def open_store() -> Any:
    """The learner's store: backed up before migrations and once a day; clear errors otherwise."""
    from . import backups
    from .errors import StoreError
    from .store import Store

    path = config.db_path()
    fresh = not path.exists()
    store = Store(path, migrate=False)
    try:
        if store.pending_migrations() and not fresh and store.version > 0:
            backups.make(store, config.home(), config.now(), f"before-v{store.version + 1}")
        store.migrate()
        if not fresh:
            backups.daily(store, config.home(), config.now())
    except StoreError:
        store.close()
        raise
    except OSError as exc:
        store.close()
        raise StoreError(f"{config.home()}: cannot write a backup ({exc.strerror})") from None
    return store


def settings(store: Any) -> Any:
    """The learner's scheduling settings."""
    from . import prefs

    return prefs.load(store)


def no_items(domain: str | None, tag: str | None) -> Exception:
    """The error for an empty selection."""
    from .errors import PeerprepError

    what = " and ".join(x for x in (f'domain "{domain}"' if domain else "", f'tag "{tag}"' if tag else "") if x)
    return PeerprepError(f"no items match {what}" if what else "the selected decks have no items")


def nothing_due(console: Console, store: Any, now: Any) -> None:
    """Say there is nothing to study now and when there will be."""
    from .scheduler import format_interval

    nxt = store.next_due()
    console.print(safe("Nothing is due right now.", "bold green"))
    if nxt is not None and nxt > now:
        console.print(safe(f"Next item due in {format_interval(nxt - now)}. Practise anyway: peerprep study --cram"))
    else:
        console.print(safe("Practise anyway: peerprep study --cram, or take a quiz: peerprep quiz"))


def due_report(args: Iterable[str], now: Any) -> dict[str, Any]:
    """Due counts per deck and in total, as JSON-ready data (from the deck index when it can)."""
    from datetime import timedelta

    from . import catalog, stats
    from .scheduler import day_start, iso, study_day

    paths, ids = catalog._split_args(args)
    index = None if paths else catalog.load_index([config.user_decks_dir()], config.cache_dir())
    if index is None:  # deck files named, or a problem somewhere: the full catalog says what
        cat = load_catalog(args)
        selected = [(d.id, index_items(d)) for d in cat.select(deck_ids(args, cat))]
    else:
        selected = [(d.deck_id or "", d.items) for d in index.select(ids)]
    store = open_store()
    try:
        sett = settings(store)
        tz = config.local_zone()
        today = study_day(now, tz, sett.rollover_hour)
        new_done, _ = store.today_counts(today.isoformat())
        day_end = day_start(today + timedelta(days=1), tz, sett.rollover_hour)
        quota = max(0, sett.new_per_day - new_done)
        per_deck = stats.due_from_index(selected, store.due_aggregates(now, day_end), store.key_flags(), iso(now) or "", quota)
        nxt = store.next_due()
    finally:
        store.close()
    decks = {
        d: {"new": v.new, "learning": v.learning, "review": v.review, "learning_today": v.learning_today, "review_today": v.review_today, "items": v.total, "suspended": v.suspended}
        for d, v in per_deck.items()
    }
    total = {k: sum(int(v[k]) for v in decks.values()) for k in ("new", "learning", "review", "learning_today", "review_today")}
    total["new"] = min(total["new"], quota)  # the daily limit is shared by all decks
    return {**total, "new_limit_left": quota, "now": now.isoformat(), "next_due": nxt.isoformat() if nxt else None, "decks": decks}


def index_items(deck: Deck) -> tuple[tuple[str, str, str | None, str, int], ...]:
    """A deck's items in index form."""
    from .decks import items_of

    return tuple((i.key, i.parent, i.domain, i.kind, len(i.card.choices)) for i in items_of(deck))


def due_table(report: dict[str, Any]) -> None:
    """The `peerprep due` table, as plain aligned text (quick to print)."""
    from .text import clean

    rows = [(deck_id, v["new"], v["learning"], v["review"], v["review_today"] + v["learning_today"], v["items"]) for deck_id, v in report["decks"].items()]
    rows.append(("total", report["new"], report["learning"], report["review"], report["review_today"] + report["learning_today"], ""))
    width = max(len(r[0]) for r in rows + [("deck",)])
    lines = [f"{'deck':<{width}}  {'new':>5}  {'learning':>8}  {'review':>6}  {'due today':>11}  {'items':>6}"]
    for r in rows:
        lines.append(f"{clean(str(r[0])):<{width}}  {r[1]:>5}  {r[2]:>8}  {r[3]:>6}  {r[4]:>11}  {r[5]!s:>6}")
    if report["new"] + report["learning"] + report["review"]:
        lines.append("Next: peerprep study")
    else:
        lines.append("Nothing due now. Practise anyway: peerprep study --cram")
    print("\n".join(lines))


def _resolve_refs(refs: Iterable[str]) -> list[tuple[str, str]]:
    from .decks import items_of
    from .errors import PeerprepError

    cat = load_catalog()
    out: list[tuple[str, str]] = []
    for ref in refs:
        deck_id, sep, key = ref.partition(":")
        deck = cat.deck(deck_id)
        keys = [i.key for i in items_of(deck)]
        if not sep:
            out.extend((deck.id, k) for k in keys)
            continue
        matches = [k for k in keys if k == key or k.split("@")[0] == key or k.split("/")[0] == key]
        if not matches:
            raise PeerprepError(f'no item "{key}" in deck {deck_id}')
        out.extend((deck.id, k) for k in matches)
    return out


def flag_items(refs: Iterable[str], suspended: bool | None = None, bury: bool = False) -> None:
    """Suspend, unsuspend or bury items named DECK:KEY (or whole decks)."""
    from datetime import timedelta

    from .scheduler import day_start, study_day

    keys = _resolve_refs(refs)
    store = open_store()
    try:
        sett = settings(store)
        until = None
        if bury:
            now = config.now()
            until = day_start(study_day(now, config.local_zone(), sett.rollover_hour) + timedelta(days=1), config.local_zone(), sett.rollover_hour)
        for deck_id, key in keys:
            if bury:
                store.set_flags(deck_id, key, buried_until=until)
            else:
                store.set_flags(deck_id, key, suspended=suspended)
    finally:
        store.close()
    verb = "Buried" if bury else ("Suspended" if suspended else "Unsuspended")
    print(f"{verb} {len(keys)} item{'s' if len(keys) != 1 else ''}.")


def orphans(delete: bool) -> None:
    """List (and with `delete`, remove) progress of items in no loaded deck."""
    from . import stats

    cat = load_catalog()
    store = open_store()
    try:
        found = stats.orphans(cat.items(), store.studied_keys())
        for deck_id, key in found:
            print(safe(f"{deck_id}:{key}").plain)
        if not found:
            print("No orphaned progress.")
        elif delete:
            store.delete_progress(found)
            print(f"Deleted progress of {len(found)} item{'s' if len(found) != 1 else ''}.")
        else:
            print(f"{len(found)} orphaned item{'s' if len(found) != 1 else ''}; run `peerprep orphans --delete` to remove their progress.")
    finally:
        store.close()


def config_command(name: str | None, value: str | None) -> None:
    """Show all settings, one setting, or change one."""
    from . import prefs

    store = open_store()
    try:
        if name is not None:
            name = name.replace("-", "_")
        if name is not None and value is not None:
            prefs.save(store, name, value)
        current = prefs.describe(prefs.load(store))
    finally:
        store.close()
    if name is not None:
        if name not in current:
            prefs.parse(name, "")
        print(f"{name} = {current[name]}")
        return
    for key, val in current.items():
        print(f"{key:<18} {val!s:<10} {prefs.FIELDS[key]}")


def backup_now() -> Any:
    """`peerprep backup`."""
    from . import backups

    store = open_store()
    try:
        return backups.make(store, config.home(), config.now())
    finally:
        store.close()


def restore_from(source: Any) -> str:
    """`peerprep restore FILE`: check the backup, keep a copy of the current database, swap."""
    from . import backups
    from .errors import PeerprepError
    from .store import Store, restore_file

    if not source.is_file():
        raise PeerprepError(f"{source}: no such backup file")
    target = config.db_path()
    saved = None
    if target.exists():
        try:
            current = Store(target, migrate=False)
            try:
                saved = backups.make(current, config.home(), config.now(), "before-restore")
            finally:
                current.close()
        except PeerprepError:
            saved = None  # the current file is damaged: nothing worth keeping a copy of
    target.parent.mkdir(parents=True, exist_ok=True)
    restore_file(source, target)
    store = open_store()  # migrates an older backup forward
    store.close()
    return f"Restored {source}." + (f" The previous database was saved as {saved}." if saved else "")


def load_plan(store: Any) -> Any:
    """The stored exam plan, or None."""
    from .planner import Plan

    raw = store.get_setting("plan")
    return Plan.from_json(raw) if raw else None



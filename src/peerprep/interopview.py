"""Interop on screen: deck export and import, review-log export and import, parameter fitting (shell side)."""

from __future__ import annotations

from typing import Any

from . import config
from .views import deck_ids, load_catalog, open_store, settings


def log_export(output: Any, deck: str | None) -> None:
    """`peerprep log export -o FILE`."""
    from . import revlog
    from .errors import PeerprepError

    store = open_store()
    try:
        text = revlog.export_csv(store.reviews(deck_id=deck))
    finally:
        store.close()
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PeerprepError(f"{output}: cannot write ({exc.strerror})") from None
    rows = max(0, text.count("\n") - 1)
    print(f"Wrote {rows} review{'s' if rows != 1 else ''} to {output}")


def log_import(source: Any, tz_name: str, deck: str | None) -> None:
    """`peerprep log import FILE --tz ZONE [--deck ID]`: all rows checked before anything is written."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from . import revlog
    from .errors import PeerprepError, UsageError

    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f'--tz "{tz_name}" is not a known time zone (e.g. America/Chicago)') from None
    if source.is_dir():
        raise PeerprepError(f"{source}: is a directory, not a CSV file")
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PeerprepError(f"{source}: no such file") from None
    except UnicodeDecodeError as exc:
        raise PeerprepError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise PeerprepError(f"{source}: cannot read ({exc.strerror})") from None
    rows = revlog.parse_csv(str(source), text)
    store = open_store()
    try:
        sett = settings(store)
        out, states = revlog.to_store_rows(rows, deck, sett, tz, current=store.states(), name=str(source))
        store.bulk_load(out, states)
    finally:
        store.close()
    print(f"Imported {len(out)} review{'s' if len(out) != 1 else ''} of {len(states)} item{'s' if len(states) != 1 else ''}.")


def optimize_command(as_json: bool) -> None:
    """`peerprep optimize`: fit, compare, adopt only when better, and say so."""
    import json

    from . import optimizer

    store = open_store()
    try:
        sett = settings(store)
        report = optimizer.optimize(store.reviews(), config.local_zone(), sett.rollover_hour)
        if report.adopted:
            store.set_setting("parameters", json.dumps(list(report.parameters)))
    finally:
        store.close()
    data = {
        "reviews": report.reviews,
        "log_loss_default": round(report.log_loss_default, 6),
        "log_loss_fitted": round(report.log_loss_fitted, 6),
        "rmse_bins_default": round(report.rmse_bins_default, 6),
        "rmse_bins_fitted": round(report.rmse_bins_fitted, 6),
        "parameters": [round(p, 6) for p in report.parameters],
        "adopted": report.adopted,
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    print(f"Reviews evaluated: {report.reviews}")
    print("              log loss   RMSE(bins)")
    print(f"default       {report.log_loss_default:8.4f}   {report.rmse_bins_default:8.4f}")
    print(f"fitted        {report.log_loss_fitted:8.4f}   {report.rmse_bins_fitted:8.4f}")
    if report.adopted:
        print("The fitted parameters predict your recall better: adopted for scheduling from now on.")
    else:
        print("The fitted parameters are not better on your reviews: keeping the current ones.")


def export_deck(deck_arg: str, to: str, output: Any) -> None:
    """`peerprep export DECK --to apkg|csv|md -o FILE`."""
    from . import ankiexport
    from .errors import PeerprepError, UsageError

    if to not in ("apkg", "csv", "md"):
        raise UsageError(f'--to must be apkg, csv or md, not "{to}"')
    if output.is_dir():
        raise PeerprepError(f"{output}: is a directory; give a file name")
    cat = load_catalog([deck_arg])
    ids = deck_ids([deck_arg], cat)
    if not ids:
        raise PeerprepError(f"{deck_arg}: no deck there")
    deck = cat.deck(ids[0])
    if to == "apkg":
        notes = ankiexport.export_apkg(deck, output)
        print(f"Wrote {notes} notes to {output} (Anki deck {ankiexport.anki_deck_name(deck)}); exporting again updates them in Anki.")
        return
    if to == "csv":
        text = ankiexport.export_csv(deck)
    else:
        blueprint = cat.blueprints.get(deck.blueprint) if deck.blueprint else None
        text = ankiexport.export_markdown([deck], blueprint)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PeerprepError(f"{output}: cannot write ({exc.strerror})") from None
    print(f"Wrote {output}")


def import_file(source: Any, output: Any, deck_id: str | None, title: str | None, anki_deck: str | None, reverse: bool, with_progress: bool, force: bool) -> None:
    """`peerprep import`: read everything and check it before writing anything."""
    from . import ankipkg, deckwriter, decks, importer
    from .errors import PeerprepError, UsageError

    if not source.exists():
        raise PeerprepError(f"{source}: no such file")
    if source.is_dir():
        raise PeerprepError(f"{source}: is a directory, not a file to import")
    deck_id = deck_id or importer.deck_slug(source.stem)
    package = source.suffix.lower() in (".apkg", ".colpkg")
    if with_progress and not package:
        raise UsageError("--with-progress needs an Anki package (.apkg): text files carry no review history")
    if package:
        collection = ankipkg.read_package(source)
        result = importer.import_notes(collection, deck_id, anki_deck=anki_deck)
    else:
        collection = None
        result = importer.import_text(source, deck_id, reverse=reverse, title=title)
    if not result.cards:
        raise PeerprepError(f"{source}: no cards to import")
    target = output or (config.user_decks_dir() / f"{deck_id}.yaml")
    if target.exists() and not force:
        raise PeerprepError(f"{target}: already exists (use --force to overwrite, or -o for another file)")
    text = deckwriter.write_deck_yaml(deck_id, title or result.title, result.cards, source=source.name)
    parsed = decks.parse_text(str(target), text)
    if any(p.severity == "error" for p in parsed.problems):  # never write a deck peerprep cannot load
        raise PeerprepError(f"{source}: the converted deck would not load ({parsed.problems[0].message})")
    store = None
    rows: list[Any] = []
    states: dict[Any, Any] = {}
    if with_progress:
        store = open_store()
        if store.states([deck_id]):
            store.close()
            raise PeerprepError(f'deck "{deck_id}" already has progress here; import its history only once (or use --deck-id)')
        assert collection is not None
        history = importer.review_history(collection, [result])
        rows, states = importer.replay(history, settings(store), config.local_zone(), importer.anki_suspended([result]))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        if store is not None:
            store.close()
        raise PeerprepError(f"{target}: cannot write ({exc.strerror})") from None
    if store is not None:
        try:
            store.bulk_load(rows, states)
        finally:
            store.close()
    items = sum(len(list(decks.items_of_card(deck_id, card))) for card in result.cards)
    skipped = sum(result.skipped.values())
    line = f"Wrote {len(result.cards)} cards ({items} study items) to {target}"
    if skipped:
        line += f"; skipped {skipped} note{'s' if skipped != 1 else ''} ({', '.join(f'{k} {v}' for k, v in result.skipped.items())})"
    if result.suspended:
        line += f"; {len(result.suspended)} suspended in Anki"
    if with_progress:
        line += f"; {len(rows)} reviews brought in"
    print(line + ".")
    for warning in result.warnings:
        print(f"Note: {warning}")
    if output is not None and target.parent != config.user_decks_dir():
        print(f"Study it: peerprep study {target}")

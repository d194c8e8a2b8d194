"""The command line: a thin Typer shell over the library. One error boundary for every command."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from . import __version__
from .errors import PeerprepError

F = TypeVar("F", bound=Callable[..., Any])
_state = {"debug": False}


def _boundary(func: F) -> F:
    """Print expected errors as one line on stderr and exit 1 (2 for usage); --debug re-raises."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PeerprepError as exc:
            if _state["debug"]:
                raise
            from .text import clean

            message = " ".join(clean(str(exc)).split()) or type(exc).__name__
            print(f"Error: {message}", file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


class _App(typer.Typer):
    """A Typer whose every command goes through the error boundary."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorator(func: F) -> F:
            register(_boundary(func))
            return func

        return decorator


def _make_app(help_text: str) -> _App:
    return _App(help=help_text, add_completion=False, pretty_exceptions_enable=False, no_args_is_help=False, rich_markup_mode=None)


app = _make_app("Study for the Peer Recovery Specialist exam: spaced repetition, mock exams, a planner.")
new_app = _make_app("Create starter files.")
app.add_typer(new_app, name="new")


class _DefaultTake(typer.core.TyperGroup):
    """`peerprep exam [DECK...]` takes an exam; `peerprep exam history|review|retake|export` manage them."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["take", *args]
        return super().parse_args(ctx, args)


exam_app = _App(
    cls=_DefaultTake,
    help="Timed mock exams drawn by blueprint weight; history, review, retake and export of attempts.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(exam_app, name="exam")
log_app = _make_app("Review history in the FSRS community CSV format.")
app.add_typer(log_app, name="log")


def _version(value: bool) -> None:
    if value:
        print(f"peerprep {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Study for the Peer Recovery Specialist exam: spaced repetition, mock exams, a planner."""
    _state["debug"] = debug
    if ctx.invoked_subcommand is None:
        _boundary(_welcome)()


def _welcome() -> None:
    from . import render, views

    views.welcome(render.out())


Decks = Annotated[list[str] | None, typer.Argument(help="Deck ids or deck files/directories (default: every loaded deck).", show_default=False)]


# ------------------------------------------------------------------------------------------------
# Authoring


@app.command()
def check(
    paths: Annotated[list[str] | None, typer.Argument(help="Deck or blueprint files and directories (default: the bundled decks).", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Check decks for every mistake, with file:line:col, and show blueprint coverage."""
    from . import catalog, checker, config, render

    if format not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--format")
    cat = catalog.load(paths or (), include_bundled_decks=not paths, cache_dir=config.cache_dir())
    report = checker.check(cat)
    if cat.needs_locations(report.problems):  # findings in a fast-parsed file: get exact locations
        cat = catalog.load(paths or (), include_bundled_decks=not paths, cache_dir=config.cache_dir(), fast=False)
        report = checker.check(cat)
    code = 1 if report.errors or (strict and report.warnings) else 0
    if format == "json":
        body = json.dumps([p.as_dict() for p in report.problems], indent=2) + "\n"
    else:
        body = render.to_text(lambda console: render.check_report(console, report)) if not sys.stdout.isatty() else ""
        if not body:
            render.check_report(render.out(), report)
    if body:
        sys.stdout.write(body)
        from . import checkcache

        entry = checkcache.entry_for(sys.argv[2:]) if sys.argv[1:2] == ["check"] else None
        if entry is not None:
            checkcache.save(entry, code, body)
    if code:
        raise typer.Exit(code)


@app.command("decks")
def decks_cmd(
    paths: Decks = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the available decks: id, title, cards, path."""
    from . import render, views

    cat = views.load_catalog(paths or ())
    rows = [{"id": d.id, "title": d.title, "cards": len(d.cards), "items": views.item_count(d), "path": d.path, "bundled": d.bundled} for d in cat.decks]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        views.decks_table(render.out(), rows)


@app.command()
def schema(kind: Annotated[str, typer.Argument(help="deck or blueprint")]) -> None:
    """Print the JSON Schema of deck or blueprint files (for yaml-language-server)."""
    from . import schema as schemas

    if kind not in schemas.GENERATORS:
        raise typer.BadParameter("must be deck or blueprint", param_hint="KIND")
    sys.stdout.write(schemas.shipped(kind))


@new_app.command("deck")
def new_deck(
    path: Annotated[Path, typer.Argument(help="Where to write the starter deck (.yaml).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter deck that passes `check --strict`."""
    from . import starter

    starter.write(path, force=force)
    print(f"Wrote {path}. Next: edit it, then run: peerprep check {path}")


# ------------------------------------------------------------------------------------------------
# Studying


@app.command()
def study(
    decks: Decks = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Only items of this blueprint domain.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only items with this tag.")] = None,
    new: Annotated[int | None, typer.Option("--new", min=0, help="New items for this session (default: the daily limit).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many items.")] = None,
    cram: Annotated[bool, typer.Option("--cram", help="Practise without changing any schedule.")] = False,
) -> None:
    """Study what is due: reviews, failed items and new items, one at a time."""
    from . import config, progressview, render, studyview, terminal, views
    from .session import Session

    cat = views.load_catalog(decks or ())
    items = cat.items(views.deck_ids(decks or (), cat), domain=domain, tag=tag)
    if not items:
        raise views.no_items(domain, tag)
    store = views.open_store()
    try:
        plan = views.load_plan(store)
        blueprint = cat.blueprints.get(plan.blueprint) if plan and plan.blueprint else None
        session = Session(
            store, items, config.now, views.settings(store), config.local_zone(), mode="cram" if cram else "study",
            new_limit=new, limit=limit, plan=plan, blueprint=blueprint,
        )
        console = render.out()
        if session.next() is None:
            views.nothing_due(console, store, config.now())
            return
        summary = studyview.run(console, terminal.make_input(), session)
        studyview.show_summary(console, summary, config.now())
        if plan is not None:
            progressview.session_readiness(console, store, cat, plan)
    finally:
        store.close()


@app.command()
def due(
    decks: Decks = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What is due now and today, per deck."""
    from . import config, views

    report = views.due_report(decks or (), config.now())
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        views.due_table(report)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Progress: totals, heatmap, due forecast, retention, domains, streak, leeches, most missed."""
    from dataclasses import asdict

    from . import config, progressview, render

    figures = progressview.stats_figures(config.now())
    if as_json:
        print(json.dumps(asdict(figures), indent=2))
    else:
        progressview.stats_screen(render.out(), figures)


@app.command()
def plan(
    exam_date: Annotated[str | None, typer.Option("--exam-date", help="Exam date, YYYY-MM-DD.")] = None,
    minutes_per_day: Annotated[int | None, typer.Option("--minutes-per-day", min=1, help="Study time available per day.")] = None,
    target: Annotated[float | None, typer.Option("--target", min=0.5, max=0.99, help="Recall wanted on exam day (default 0.9).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the plan: plain FSRS again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Plan to an exam date: new items per day, expected workload, readiness forecast, warnings."""
    from . import progressview

    progressview.plan_command(exam_date, minutes_per_day, target, clear, as_json)


@app.command()
def where() -> None:
    """Print where peerprep keeps its data."""
    from . import backups, config

    print(f"data:     {config.home()}")
    print(f"database: {config.db_path()}")
    print(f"decks:    {config.user_decks_dir()}  (your own decks, loaded with the bundled ones)")
    print(f"backups:  {backups.backup_dir(config.home())}")


ItemRefs = Annotated[list[str], typer.Argument(help="Items as DECK:KEY (e.g. empathy-foundations:empathy-vs-sympathy), or a deck id for all of it.")]


@app.command()
def suspend(items: ItemRefs) -> None:
    """Suspend items: they are not shown until unsuspended."""
    from . import views

    views.flag_items(items, suspended=True)


@app.command()
def unsuspend(items: ItemRefs) -> None:
    """Unsuspend items (leeches included)."""
    from . import views

    views.flag_items(items, suspended=False)


@app.command()
def bury(items: ItemRefs) -> None:
    """Hide items until the next study day."""
    from . import views

    views.flag_items(items, bury=True)


@app.command()
def orphans(delete: Annotated[bool, typer.Option("--delete", help="Delete the orphaned progress.")] = False) -> None:
    """List progress for items no longer in any deck (delete it only with --delete)."""
    from . import views

    views.orphans(delete)


@app.command("config")
def config_cmd(
    name: Annotated[str | None, typer.Argument(help="Setting to show or change.")] = None,
    value: Annotated[str | None, typer.Argument(help="New value.")] = None,
) -> None:
    """Show or change scheduling settings (retention, daily limits, steps, rollover hour)."""
    from . import views

    views.config_command(name, value)


@app.command()
def backup() -> None:
    """Make a backup of the progress database now (see `peerprep where`)."""
    from . import views

    print(f"Backed up to {views.backup_now()}")


@app.command()
def restore(source: Annotated[Path, typer.Argument(help="A backup file (see the backups folder in `peerprep where`).")]) -> None:
    """Replace the progress database with a backup (the current one is backed up first)."""
    from . import views

    print(views.restore_from(source))


# ------------------------------------------------------------------------------------------------
# Exams and quizzes


@exam_app.command("take")
def exam_take(
    decks: Decks = None,
    blueprint: Annotated[str | None, typer.Option("--blueprint", help="Exam blueprint id (default: the decks' blueprint).")] = None,
    questions: Annotated[int | None, typer.Option("--questions", min=1, help="Number of questions (default: the blueprint's).")] = None,
    minutes: Annotated[int | None, typer.Option("--minutes", min=1, help="Time limit (default: the blueprint's; none in tutor mode).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Make the draw and choice order reproducible.")] = None,
    tutor: Annotated[bool, typer.Option("--tutor", help="Feedback after each question, no timer by default.")] = False,
    no_schedule: Annotated[bool, typer.Option("--no-schedule", help="Do not let the answers change the study schedule.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Take a mock exam (the default `peerprep exam` command)."""
    from . import examview

    examview.run_exam_command(decks or [], blueprint, questions, minutes, seed, tutor, not no_schedule, as_json)


@exam_app.command("history")
def exam_history(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List saved exam attempts."""
    from . import attemptview

    attemptview.exam_history(as_json)


@exam_app.command("review")
def exam_review(attempt: Annotated[int, typer.Argument(help="Attempt id (see exam history).")]) -> None:
    """Show an attempt's result and review every missed question."""
    from . import attemptview

    attemptview.exam_review(attempt)


@exam_app.command("retake")
def exam_retake(
    attempt: Annotated[int, typer.Argument(help="Attempt id.")],
    missed: Annotated[bool, typer.Option("--missed", help="Only the questions missed in that attempt.")] = False,
    tutor: Annotated[bool, typer.Option("--tutor", help="Feedback after each question.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Reproducible order.")] = None,
) -> None:
    """Take an attempt's questions again (all of them, or only the misses)."""
    from . import attemptview

    attemptview.exam_retake(attempt, missed, tutor, seed)


@exam_app.command("export")
def exam_export(
    attempt: Annotated[int, typer.Argument(help="Attempt id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
) -> None:
    """Write an attempt as a results CSV (for `peerprep items --results`)."""
    from . import attemptview

    attemptview.exam_export(attempt, output)


@app.command()
def quiz(
    decks: Decks = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Number of questions.")] = 10,
    domain: Annotated[str | None, typer.Option("--domain", help="Only this blueprint domain.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only this item type (mcq, multi, truefalse).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Reproducible draw.")] = None,
) -> None:
    """A short tutor-mode drill of random objective items: no timer, feedback after each."""
    from . import attemptview

    attemptview.quiz(decks or [], n, domain, type_, seed)


@app.command()
def items(
    decks: Decks = None,
    results: Annotated[list[Path] | None, typer.Option("--results", help="Results CSV files (from exam export) to aggregate instead of your own log.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Item analysis for instructors: answered, percent correct, which wrong options were picked."""
    from . import attemptview

    attemptview.items_report(decks or [], results or [], as_json)


# ------------------------------------------------------------------------------------------------
# Interop


@app.command()
def export(
    deck: Annotated[str, typer.Argument(help="Deck id or deck file.")],
    to: Annotated[str, typer.Option("--to", help="apkg (Anki package), csv (Anki-importable text) or md (study guide).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
) -> None:
    """Export a deck: an Anki package, Anki-importable text, or a Markdown study guide."""
    from . import interopview

    interopview.export_deck(deck, to, output)


@app.command("import")
def import_cmd(
    source: Annotated[Path, typer.Argument(help="An Anki package (.apkg), Anki notes text export, Quizlet export, or CSV/TSV.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Deck file to write (default: your decks folder, see `peerprep where`).")] = None,
    deck_id: Annotated[str | None, typer.Option("--deck-id", help="Id of the new deck (default: from the file name).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of the new deck.")] = None,
    anki_deck: Annotated[str | None, typer.Option("--anki-deck", help="Only this Anki deck (and its subdecks).")] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Text imports: study both directions.")] = False,
    with_progress: Annotated[bool, typer.Option("--with-progress", help="Bring the Anki review history in: FSRS state continues.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing deck file.")] = False,
) -> None:
    """Import cards (and optionally review history) from Anki, Quizlet or a spreadsheet into a deck file."""
    from . import interopview

    interopview.import_file(source, output, deck_id, title, anki_deck, reverse, with_progress, force)


# ------------------------------------------------------------------------------------------------
# Review history and parameters


@log_app.command("export")
def log_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
    deck: Annotated[str | None, typer.Option("--deck", help="Only this deck's reviews.")] = None,
) -> None:
    """Write the review log as card_id,review_time,review_rating,review_state,review_duration CSV."""
    from . import interopview

    interopview.log_export(output, deck)


@log_app.command("import")
def log_import(
    source: Annotated[Path, typer.Argument(help="A review log CSV (FSRS community format).")],
    tz: Annotated[str, typer.Option("--tz", help="Time zone the reviews were made in (IANA name, e.g. America/Chicago).")],
    deck: Annotated[str | None, typer.Option("--deck", help="Deck id for rows without deck_id/item_key columns.")] = None,
) -> None:
    """Bring a review history into the store: FSRS state continues from it."""
    from . import interopview

    interopview.log_import(source, tz, deck)


@app.command()
def optimize(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Fit FSRS-6 parameters to your reviews; adopt them only when they predict your recall better."""
    from . import interopview

    interopview.optimize_command(as_json)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except PeerprepError as exc:  # raised outside a command (e.g. while parsing), or with --debug
        if _state["debug"]:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)

"""All loaded decks and blueprints together, with the checks that span files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import decks as deckfile
from .errors import PeerprepError, Problem
from .model import Blueprint, Deck, Item


@dataclass
class Catalog:
    """Decks and blueprints by id, and every problem found loading them."""

    decks: list[Deck] = field(default_factory=list)
    blueprints: dict[str, Blueprint] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    checked_paths: list[str] = field(default_factory=list)
    fast_paths: set[str] = field(default_factory=set)  # files parsed without locations below card level

    def needs_locations(self, problems: Iterable[Problem]) -> bool:
        """True when a problem concerns a file parsed by the fast path (re-load with fast=False)."""
        return any(p.path in self.fast_paths for p in problems)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity error."""
        return [p for p in self.problems if p.severity == "error"]

    def deck(self, deck_id: str) -> Deck:
        """The deck with this id, or a clear error."""
        for d in self.decks:
            if d.id == deck_id:
                return d
        known = ", ".join(d.id for d in self.decks) or "none"
        hint = deckfile.did_you_mean(deck_id, [d.id for d in self.decks])
        raise PeerprepError(f'unknown deck "{deck_id}"{hint}; available: {known}')

    def blueprint(self, blueprint_id: str) -> Blueprint:
        """The blueprint with this id, or a clear error."""
        if blueprint_id in self.blueprints:
            return self.blueprints[blueprint_id]
        hint = deckfile.did_you_mean(blueprint_id, list(self.blueprints))
        raise PeerprepError(f'unknown blueprint "{blueprint_id}"{hint}; available: {", ".join(self.blueprints) or "none"}')

    def select(self, deck_ids: Iterable[str] = ()) -> list[Deck]:
        """The decks named (all when none are)."""
        ids = list(deck_ids)
        return [self.deck(i) for i in ids] if ids else list(self.decks)

    def items(self, deck_ids: Iterable[str] = (), domain: str | None = None, tag: str | None = None) -> list[Item]:
        """Study items of the selected decks, optionally one domain or tag."""
        out: list[Item] = []
        for deck in self.select(deck_ids):
            for item in deckfile.items_of(deck):
                if domain is not None and item.domain != domain:
                    continue
                if tag is not None and tag not in item.tags:
                    continue
                out.append(item)
        return out


def _split_args(args: Iterable[str]) -> tuple[list[str], list[str]]:
    """Deck arguments that are paths vs. ids: anything that exists or looks like a path is a path."""
    paths, ids = [], []
    for a in args:
        if Path(a).exists() or a.endswith(deckfile.YAML_SUFFIXES) or "/" in a:
            paths.append(a)
        else:
            ids.append(a)
    return paths, ids


def load(
    paths: Iterable[str] = (),
    include_bundled_decks: bool = True,
    extra_dirs: Iterable[Path] = (),
    cache_dir: Path | None = None,
    fast: bool = True,
) -> Catalog:
    """Load bundled blueprints (always), bundled decks (unless told not to), decks in `extra_dirs`
    and the files and directories in `paths`. Files named explicitly shadow a bundled deck of the
    same id; duplicates among the others are errors."""
    cat = Catalog()
    bundled = deckfile.bundled_paths()
    explicit = deckfile.expand_paths(paths)
    extra: list[Path] = []
    for d in extra_dirs:
        if d.is_dir():
            extra.extend(deckfile.expand_paths([str(d)]) if any(d.rglob("*.y*ml")) else [])
    parsed_bundled = [deckfile.read_file(p, bundled=True, cache_dir=cache_dir, fast=fast) for p in bundled]
    parsed_user = [deckfile.read_file(p, cache_dir=cache_dir, fast=fast) for p in extra + explicit]
    cat.fast_paths = {p.path for p in parsed_bundled + parsed_user if p.fast}
    cat.checked_paths = [str(p) for p in explicit]
    for parsed in parsed_bundled + parsed_user:
        if parsed.blueprint is not None:  # a user's blueprint of the same id shadows a bundled one
            cat.blueprints[parsed.blueprint.id] = parsed.blueprint
    user_ids = {p.deck.id for p in parsed_user if p.deck is not None}
    seen: dict[str, Deck] = {}
    chosen: list[deckfile.Parsed] = []
    for parsed in (parsed_bundled if include_bundled_decks else []) + parsed_user:
        if parsed.deck is not None and parsed.deck.bundled and parsed.deck.id in user_ids:
            continue  # shadowed by the user's own copy
        chosen.append(parsed)
    for parsed in chosen:
        if parsed.deck is None and parsed.blueprint is not None and parsed in parsed_bundled:
            continue
        if parsed.deck is None and parsed.blueprint is None and parsed in parsed_bundled and not parsed.problems:
            continue
        cat.problems.extend(parsed.problems)
        deck = parsed.deck
        if deck is None:
            continue
        if deck.id in seen:
            first = seen[deck.id]
            cat.problems.append(Problem(deck.path, 1, 1, "error", "duplicate-deck-id", f'deck id "{deck.id}" is already used by {first.path}'))
            continue
        seen[deck.id] = deck
        cat.problems.extend(_blueprint_problems(deck, parsed, cat.blueprints))
        cat.decks.append(deck)
    for parsed in parsed_user:
        if parsed.blueprint is not None or parsed.deck is not None:
            continue
        if parsed not in chosen:
            cat.problems.extend(parsed.problems)
    if fast and cat.needs_locations(cat.problems):
        return load(paths, include_bundled_decks, extra_dirs, cache_dir, fast=False)
    return cat


def _blueprint_problems(deck: Deck, parsed: deckfile.Parsed, blueprints: dict[str, Blueprint]) -> list[Problem]:
    out: list[Problem] = []
    loc = parsed.domain_nodes
    bp = None
    if deck.blueprint is not None:
        bp = blueprints.get(deck.blueprint)
        if bp is None:
            line, col = loc.get("#blueprint", (1, 1))
            hint = deckfile.did_you_mean(deck.blueprint, list(blueprints))
            out.append(Problem(deck.path, line, col, "error", "unknown-blueprint", f'unknown blueprint "{deck.blueprint}"{hint}; known: {", ".join(blueprints) or "none"}'))
            return out

    def check(uid: str, domain: str | None, task: str | None) -> None:
        if domain is not None:
            line, col = loc.get(f"{uid}#domain", loc.get(uid, (1, 1)))
            if bp is None:
                out.append(Problem(deck.path, line, col, "error", "unknown-domain", f'card "{uid}" has domain "{domain}" but the deck names no blueprint (add `blueprint: ...`)'))
                return
            dom = bp.domain(domain)
            if dom is None:
                hint = deckfile.did_you_mean(domain, [d.id for d in bp.domains])
                out.append(Problem(deck.path, line, col, "error", "unknown-domain", f'domain "{domain}" is not in blueprint {bp.id}{hint}; its domains: {", ".join(d.id for d in bp.domains)}'))
                return
            if task is not None and not any(t.id == task for t in dom.tasks):
                tline, tcol = loc.get(f"{uid}#task", (line, col))
                hint = deckfile.did_you_mean(task, [t.id for t in dom.tasks])
                out.append(Problem(deck.path, tline, tcol, "error", "unknown-task", f'task "{task}" is not a task of domain {domain} in blueprint {bp.id}{hint}'))
        elif task is not None:
            tline, tcol = loc.get(f"{uid}#task", loc.get(uid, (1, 1)))
            out.append(Problem(deck.path, tline, tcol, "error", "unknown-task", f'card "{uid}" has a task but no domain'))

    for card in deck.cards:
        if card.type == "scenario":
            check(card.id, card.domain, card.task)
            for sub in card.questions:
                if sub.domain is not None or sub.task is not None:
                    check(f"{card.id}/{sub.id}", sub.domain or card.domain, sub.task)
        else:
            check(card.id, card.domain, card.task)
    return out


@dataclass
class Index:
    """The quick view of all decks: per deck its items as (key, parent, domain, kind, choices)."""

    decks: list[deckfile.FileIndex]
    blueprints: dict[str, Blueprint]

    def select(self, deck_ids: Iterable[str] = ()) -> list[deckfile.FileIndex]:
        """The decks named (all when none are)."""
        ids = list(deck_ids)
        if not ids:
            return list(self.decks)
        by_id = {d.deck_id: d for d in self.decks}
        missing = [i for i in ids if i not in by_id]
        if missing:
            hint = deckfile.did_you_mean(missing[0], [d.deck_id or "" for d in self.decks])
            raise PeerprepError(f'unknown deck "{missing[0]}"{hint}; available: {", ".join(d.deck_id or "" for d in self.decks)}')
        return [by_id[i] for i in ids]


def load_index(extra_dirs: Iterable[Path] = (), cache_dir: Path | None = None) -> Index | None:
    """Bundled and user decks as an Index, or None when any file has a problem or a duplicate id
    (the caller then loads the full catalog, which reports it properly)."""
    paths: list[tuple[Path, bool]] = [(p, True) for p in deckfile.bundled_paths()]
    for d in extra_dirs:
        if d.is_dir() and any(d.rglob("*.y*ml")):
            paths.extend((p, False) for p in deckfile.expand_paths([str(d)]))
    files = [deckfile.read_index(p, bundled, cache_dir) for p, bundled in paths]
    if any(f.problems for f in files):
        return None
    blueprints = {f.blueprint.id: f.blueprint for f in files if f.blueprint is not None}
    user_ids = {f.deck_id for f in files if f.deck_id and not f.bundled}
    decks = [f for f in files if f.deck_id and not (f.bundled and f.deck_id in user_ids)]
    if len({d.deck_id for d in decks}) != len(decks) or any(d.blueprint_id and d.blueprint_id not in blueprints for d in decks):
        return None
    for deck in decks:  # a domain the blueprint does not know is an error the full load reports
        known = {dom.id for dom in blueprints[deck.blueprint_id].domains} if deck.blueprint_id else set()
        if any(item[2] is not None and item[2] not in known for item in deck.items):
            return None
    return Index(decks, blueprints)

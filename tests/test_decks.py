"""Deck loading: every error rule has a broken fixture deck; the loader never raises on bad text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerprep import catalog, decks
from peerprep.errors import PeerprepError

from .conftest import FIXTURES

BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def _expect(path: Path) -> tuple[str, int, int, str]:
    with open(path, "rb") as fh:
        head = fh.readline().decode("utf-8", "replace")
    m = re.search(r"# expect: (\S+) (\d+):(\d+)(?: (\S+))?", head)
    assert m, f"{path} has no expect header"
    return m.group(1), int(m.group(2)), int(m.group(3)), m.group(4) or ""


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_every_bad_fixture_reports_its_rule_at_its_location(path: Path) -> None:
    rule, line, col, word = _expect(path)
    cat = catalog.load([str(path)], include_bundled_decks=False)
    hits = [p for p in cat.problems if p.rule == rule]
    assert hits, f"expected {rule}, got {[p.format() for p in cat.problems]}"
    assert (hits[0].line, hits[0].column) == (line, col), hits[0].format()
    assert hits[0].severity == "error"
    assert word in hits[0].message
    assert "\n" not in hits[0].format()


def test_every_error_rule_has_a_fixture() -> None:
    documented = set(re.findall(r"^\| `([a-z-]+)` \| error \|", (Path(__file__).parents[1] / "docs/deck-format.md").read_text(), re.M))
    covered = {_expect(p)[0] for p in BAD} | {"duplicate-deck-id"}  # needs two files: see below
    assert documented - covered == set()


def test_unknown_field_suggests_the_right_name() -> None:
    cat = catalog.load([str(FIXTURES / "bad/unknown-field.yaml")], include_bundled_decks=False)
    assert 'did you mean "explanation"' in cat.problems[0].message


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    f = tmp_path / "many.yaml"
    f.write_text("peerprep: 1\nid: many\ntitle: Many\ncards:\n  - {id: a, front: x}\n  - {id: b, back: y}\n  - {id: c, front: x, back: y, colour: red}\n")
    cat = catalog.load([str(f)], include_bundled_decks=False)
    assert [(p.line, p.rule) for p in cat.problems] == [(5, "missing-field"), (6, "missing-field"), (7, "unknown-field")]


def test_unsafe_tag_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    f = tmp_path / "evil.yaml"
    f.write_text(f'peerprep: 1\nid: evil\ntitle: !!python/object/apply:os.system ["touch {marker}"]\ncards: [{{id: a, front: x, back: y}}]\n')
    cat = catalog.load([str(f)], include_bundled_decks=False)
    assert any(p.rule == "yaml-unsafe" for p in cat.problems)
    assert not marker.exists()


def test_yaml_11_booleans_stay_text_where_text_is_expected(tmp_path: Path) -> None:
    f = tmp_path / "no.yaml"
    f.write_text("peerprep: 1\nid: norway\ntitle: Countries\ncards:\n  - {id: a, front: Country code of Norway?, back: no}\n")
    cat = catalog.load([str(f)], include_bundled_decks=False)
    assert cat.problems == []
    assert cat.decks[0].cards[0].back == "no"


def test_duplicate_deck_ids_across_files(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text("peerprep: 1\nid: same\ntitle: T\ncards: [{id: a, front: x, back: y}]\n")
    cat = catalog.load([str(tmp_path)], include_bundled_decks=False)
    assert [p.rule for p in cat.problems] == ["duplicate-deck-id"]


def test_directories_are_searched_recursively(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.yml").write_text("peerprep: 1\nid: deep\ntitle: T\ncards: [{id: a, front: x, back: y}]\n")
    cat = catalog.load([str(tmp_path)], include_bundled_decks=False)
    assert [d.id for d in cat.decks] == ["deep"]


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PeerprepError, match="no such file"):
        catalog.load([str(tmp_path / "nope.yaml")])


def test_items_and_progress_keys() -> None:
    text = (
        "peerprep: 1\nid: keys\ntitle: T\ncards:\n"
        "  - {id: r, type: reverse, front: f, back: b}\n"
        "  - {id: c, type: cloze, text: 'a {{b}} c {{d::hint}}'}\n"
        "  - id: s\n    type: scenario\n    vignette: v\n    questions:\n"
        "      - {id: one, type: truefalse, statement: s, answer: true}\n"
        "      - {id: two, type: typed, prompt: p, answer: a}\n"
    )
    parsed = decks.parse_text("keys.yaml", text)
    assert parsed.problems == []
    assert parsed.deck is not None
    assert [i.key for i in decks.items_of(parsed.deck)] == ["r", "r@reverse", "c@c1", "c@c2", "s/one", "s/two"]
    assert decks.cloze_render("a {{b}} c {{d::hint}}", 2, reveal=False) == "a b c [hint]"
    assert decks.cloze_render("a {{b}} c {{d::hint}}", 1, reveal=False) == "a [...] c d"


def test_bundled_decks_are_always_available() -> None:
    cat = catalog.load()
    ids = {d.id for d in cat.decks}
    assert {"empathy-foundations", "icrc-advocacy", "icrc-mentoring-education", "icrc-recovery-wellness", "icrc-ethical-responsibility"} <= ids
    assert "icrc-pr" in cat.blueprints
    assert cat.errors == []


def test_blueprint_has_equal_weights_and_says_why() -> None:
    bp = catalog.load().blueprints["icrc-pr"]
    assert [d.id for d in bp.domains] == ["advocacy", "mentoring-education", "recovery-wellness", "ethical-responsibility"]
    assert len({d.weight for d in bp.domains}) == 1
    assert bp.questions == 75 and bp.minutes == 120
    assert bp.weights_note and "not the official" in bp.weights_note.lower()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_loader_never_raises_on_arbitrary_text(text: str) -> None:
    parsed = decks.parse_text("fuzz.yaml", text)
    assert parsed.deck is None or parsed.deck.id


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_reader_never_raises_on_arbitrary_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "x.yaml"
    path.write_bytes(data)
    parsed = decks.read_file(path)
    for p in parsed.problems:
        assert p.line >= 1 and p.column >= 1


_keys = st.sampled_from(["peerprep", "id", "title", "cards", "type", "front", "back", "question", "choices", "text", "correct", "answer", "why", "questions", "vignette", "domain", "blueprint"])
_scalars = st.one_of(st.sampled_from(["1", "true", "no", "mcq", "scenario", "x", "", "~", "{{a}}", "icrc-pr"]), st.text(max_size=8))
_yamlish = st.recursive(_scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(_keys, c, max_size=5)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_yamlish)
def test_loader_never_raises_on_structured_garbage(value: object) -> None:
    import json

    parsed = decks.parse_text("fuzz.yaml", json.dumps(value))
    assert isinstance(parsed.problems, list)


def test_deck_cache_hits_and_invalidates_on_change(tmp_path: Path) -> None:
    deck = tmp_path / "c.yaml"
    deck.write_text("peerprep: 1\nid: c\ntitle: T\ncards: [{id: a, front: x, back: y}]\n")
    cache = tmp_path / "cache"
    first = decks.read_file(deck, cache_dir=cache)
    assert len(list(cache.iterdir())) == 1
    assert decks.read_file(deck, cache_dir=cache) == first
    deck.write_text("peerprep: 1\nid: c\ntitle: Changed\ncards: [{id: a, front: x, back: y}]\n")
    assert decks.read_file(deck, cache_dir=cache).deck.title == "Changed"  # type: ignore[union-attr]
    for entry in cache.iterdir():
        entry.write_bytes(b"garbage")
    assert decks.read_file(deck, cache_dir=cache).deck.title == "Changed"  # type: ignore[union-attr]

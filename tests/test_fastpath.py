"""The rapidyaml fast path must agree with PyYAML (the authority) on everything it accepts."""

from __future__ import annotations

from dataclasses import replace

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerprep import catalog, decks
from peerprep.fastdeck import card_lines, fast_root
from peerprep.model import Deck


def _strip_lines(deck: Deck) -> Deck:
    return replace(deck, cards=tuple(replace(c, line=0, questions=tuple(replace(q, line=0) for q in c.questions)) for c in deck.cards))


def test_bundled_decks_parse_the_same_both_ways() -> None:
    for path in decks.bundled_paths():
        text = path.read_text()
        fast = decks.parse_text(str(path), text, fast=True)
        slow = decks.parse_text(str(path), text, fast=False)
        assert fast.fast, path
        assert slow.problems == [] and fast.problems == []
        if slow.deck is not None:
            assert fast.deck is not None
            assert _strip_lines(fast.deck) == _strip_lines(slow.deck)
            assert [c.line for c in fast.deck.cards] == [c.line for c in slow.deck.cards]
        else:
            assert fast.blueprint == slow.blueprint


def test_risky_text_is_left_to_pyyaml() -> None:
    for text in ("a: &x 1\nb: *x\n", "a: !!python/object:os.system x\n", "a:\n\tb: 1\n", "a: ~\n", "a: 1\n---\nb: 2\n", "a: 1\na: 2\n"):
        assert fast_root(text) is None, text


def test_problems_always_come_from_pyyaml_with_locations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "d.yaml"
    f.write_text("peerprep: 1\nid: d\ntitle: T\nblueprint: icrc-pr\ncards:\n  - {id: a, domain: advocacy-typo, front: x, back: y}\n")
    cat = catalog.load([str(f)], include_bundled_decks=False)
    [problem] = [p for p in cat.problems if p.rule == "unknown-domain"]
    assert (problem.line, problem.column) == (6, 21)


def test_card_lines() -> None:
    text = "peerprep: 1\ncards:\n  - id: a\n    front: x\n\n  - id: b\n    front: |\n      - not a card\n"
    assert card_lines(text, 2) == [3, 6]
    assert card_lines(text, 3) is None


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_choice = st.fixed_dictionaries({"text": _text}, optional={"correct": st.booleans(), "why": _text})
_card = st.one_of(
    st.fixed_dictionaries({"id": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "front": _text, "back": _text}, optional={"explanation": _text, "tags": st.lists(_text, max_size=3)}),
    st.fixed_dictionaries({"id": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "type": st.just("mcq"), "question": _text, "choices": st.lists(_choice, max_size=5)}),
    st.fixed_dictionaries({"id": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "type": st.just("truefalse"), "statement": _text, "answer": st.one_of(st.booleans(), _text)}),
    st.fixed_dictionaries({"id": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "type": st.just("cloze"), "text": _text.map(lambda t: t + " {{x}}")}),
)
_deck = st.fixed_dictionaries({"peerprep": st.sampled_from([1, "1", 2]), "id": st.from_regex(r"[a-z]{1,8}", fullmatch=True), "title": _text, "cards": st.lists(_card, min_size=1, max_size=6)})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_deck, st.sampled_from([False, True]), st.sampled_from([None, '"', "'", "|", ">"]))
def test_differential_fast_vs_slow(deck: dict, flow: bool, style: str | None) -> None:  # type: ignore[type-arg]
    text = yaml.safe_dump(deck, default_flow_style=flow, default_style=style, allow_unicode=True, sort_keys=False)
    fast = decks.parse_text("x.yaml", text, fast=True)
    slow = decks.parse_text("x.yaml", text, fast=False)
    if fast.fast:  # accepted by the fast path: must be exactly what PyYAML says
        assert slow.problems == [], (text, slow.problems)
        assert fast.deck is not None and slow.deck is not None
        assert _strip_lines(fast.deck) == _strip_lines(slow.deck), text
    else:
        assert fast == slow

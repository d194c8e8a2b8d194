"""Checker warnings: one deck per rule, plus coverage and the bundled decks passing --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerprep import catalog, checker

HEAD = "peerprep: 1\nid: {id}\ntitle: T\nsource: S\nblueprint: icrc-pr\ncards:\n"


def _mcq(cid: str, key: int, n: int = 4, question: str | None = None, why: bool = True, texts: list[str] | None = None) -> str:
    lines = [f"  - id: {cid}", "    type: mcq", "    domain: advocacy", f"    question: {question or 'Question ' + cid + '?'}", "    explanation: E", "    choices:"]
    for i in range(n):
        text = texts[i] if texts else f"Option {cid} {i}"
        entry = f"      - text: {text}"
        if i == key:
            entry += "\n        correct: true"
        if why:
            entry += "\n        why: W"
        lines.append(entry)
    return "\n".join(lines) + "\n"


def _report(tmp_path: Path, body: str, name: str = "d") -> checker.Report:
    f = tmp_path / f"{name}.yaml"
    f.write_text(HEAD.format(id=name) + body)
    return checker.check(catalog.load([str(f)], include_bundled_decks=False))


def _rules(report: checker.Report) -> set[str]:
    return {p.rule for p in report.problems}


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (_mcq("a", 0, n=2), "choice-count"),
        (_mcq("a", 0, n=6), "choice-count"),
        (_mcq("a", 0, texts=["Same", "same", "Other", "Fourth"]), "duplicate-choice"),
        (_mcq("a", 0, why=False), "missing-why"),
        (_mcq("a", 0, texts=["One", "Two", "Three", "All of the above"]), "all-none-of-above"),
        (_mcq("a", 0, texts=["One", "Two", "Three", "None of the above"]), "all-none-of-above"),
        ("".join(_mcq(f"k{i}", 1) for i in range(6)), "key-position"),
        ("  - {id: a, domain: advocacy, front: F, back: B, source: S}\n", "missing-explanation"),
        (_mcq("a", 0, question="Same question?") + _mcq("b", 1, question="same QUESTION"), "duplicate-question"),
        (_mcq("a", 0), "empty-domain"),
    ],
)
def test_each_warning_rule(tmp_path: Path, body: str, rule: str) -> None:
    report = _report(tmp_path, body)
    assert report.errors == 0
    assert rule in _rules(report)
    assert all(p.severity == "warning" for p in report.problems)


def test_missing_source_only_when_deck_has_none(tmp_path: Path) -> None:
    f = tmp_path / "nosrc.yaml"
    f.write_text("peerprep: 1\nid: nosrc\ntitle: T\ncards:\n  - {id: a, front: F, back: B, explanation: E}\n")
    assert "missing-source" in _rules(checker.check(catalog.load([str(f)], include_bundled_decks=False)))
    assert "missing-source" not in _rules(_report(tmp_path, "  - {id: a, front: F, back: B, explanation: E}\n"))


def test_balanced_keys_do_not_warn(tmp_path: Path) -> None:
    body = "".join(_mcq(f"k{i}", i % 4) for i in range(8))
    assert "key-position" not in _rules(_report(tmp_path, body))


def test_duplicate_questions_across_decks(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(HEAD.format(id="a") + _mcq("x", 0, question="Shared stem?"))
    (tmp_path / "b.yaml").write_text(HEAD.format(id="b") + _mcq("y", 1, question="Shared stem?"))
    report = checker.check(catalog.load([str(tmp_path)], include_bundled_decks=False))
    dupes = [p for p in report.problems if p.rule == "duplicate-question"]
    assert len(dupes) == 1 and "a.yaml" in dupes[0].message


def test_coverage_counts_domains_and_tasks(tmp_path: Path) -> None:
    body = _mcq("a", 0).replace("    domain: advocacy\n", "    domain: advocacy\n    task: adv-6\n")
    report = _report(tmp_path, body)
    cov = report.coverage[0]
    assert cov.domain_items["advocacy"] == 1
    assert cov.task_items["adv-6"] == 1
    rows = checker.coverage_rows(cov)
    assert rows[0] == ("advocacy", "Advocacy", 1, 1)


def test_bundled_decks_pass_strict_and_cover_every_domain_and_task() -> None:
    report = checker.check(catalog.load())
    assert report.problems == []
    cov = next(c for c in report.coverage if c.blueprint.id == "icrc-pr")
    for domain in cov.blueprint.domains:
        assert cov.domain_items[domain.id] >= 60
        for task in domain.tasks:
            assert cov.task_items[task.id] >= 2, task.id

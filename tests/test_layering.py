"""The house layering, enforced by reading imports: only the shell touches typer/rich/terminal/env;
only the store touches sqlite3."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "peerprep"
SHELL = {"cli", "render", "views", "studyview", "examview", "attemptview", "progressview", "interopview", "terminal", "config", "__main__", "entry", "checkcache"}
SHELL_ONLY = {"typer", "rich", "termios", "tty", "platformdirs"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_library_modules_do_not_import_the_shell() -> None:
    for path in SRC.glob("*.py"):
        if path.stem in SHELL:
            continue
        bad = _imports(path) & SHELL_ONLY
        assert not bad, f"{path.name} imports {bad}"


def test_only_the_store_speaks_sql() -> None:
    # The store owns peerprep's database; ankipkg reads the SQLite collection inside Anki packages.
    for path in SRC.glob("*.py"):
        if path.stem in ("store", "ankipkg"):
            continue
        assert "sqlite3" not in _imports(path), path.name


def test_library_does_not_read_the_clock_or_environment() -> None:
    for path in SRC.glob("*.py"):
        if path.stem in SHELL:
            continue
        text = path.read_text()
        assert "datetime.now(" not in text, path.name
        assert "os.environ" not in text, path.name
        assert "time.time(" not in text, path.name


def test_every_module_has_a_docstring() -> None:
    for path in SRC.glob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text())), path.name

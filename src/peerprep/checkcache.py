"""A cache of whole `peerprep check` reports, keyed by the arguments and the content of every
file checked, so re-checking unchanged decks costs little more than hashing them.

Used from the console-script entry before the CLI framework is even imported; only when stdout is
not a terminal (the report is then plain text). Any doubt (an option it does not know, an
unreadable path) means no cache: the full checker runs and reports.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

FORMAT = 1


def _parse(argv: list[str]) -> tuple[list[str], bool, str] | None:
    paths: list[str] = []
    strict = False
    fmt = "text"
    it = iter(argv)
    for arg in it:
        if arg == "--strict":
            strict = True
        elif arg == "--format":
            fmt = next(it, "")
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            return None
        else:
            paths.append(arg)
    if fmt not in ("text", "json"):
        return None
    return paths, strict, fmt


YAML_SUFFIXES = (".yaml", ".yml")


def _bundled(folder: str) -> list[Path]:
    # The same files as decks.bundled_paths(), found without importing the deck machinery.
    base = Path(__file__).parent / folder
    return sorted(p for p in base.iterdir() if p.suffix in YAML_SUFFIXES) if base.is_dir() else []


def _files(paths: list[str]) -> list[Path] | None:
    out = _bundled("blueprints") + ([] if paths else _bundled("decks"))
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(Path(d) / n for d, _s, names in os.walk(p) for n in names if n.endswith(YAML_SUFFIXES) and not n.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            return None
    return out


def entry_for(argv: list[str]) -> Path | None:
    """The cache entry for `peerprep check ARGV`, or None when the cache does not apply."""
    if os.environ.get("PEERPREP_NO_CACHE") or sys.stdout.isatty():
        return None
    parsed = _parse(argv)
    if parsed is None:
        return None
    files = _files(parsed[0])
    if files is None:
        return None
    from . import __version__, config

    h = hashlib.blake2b(digest_size=20)
    h.update(f"{FORMAT}|{__version__}|{parsed[1]}|{parsed[2]}|{os.environ.get('COLUMNS', '')}|{'|'.join(argv)}".encode())
    try:
        for f in files:
            h.update(str(f.resolve()).encode() + b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    except OSError:
        return None
    return config.home() / "cache" / "check" / h.hexdigest()


def replay(entry: Path) -> int | None:
    """Write a cached report to stdout; its exit status, or None on a miss."""
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    code, _, body = data.partition(b"\n")
    if not code.isdigit():
        return None
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return int(code)


def save(entry: Path, code: int, body: str) -> None:
    """Keep a report (best effort: a read-only data directory just means no cache)."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        tmp.write_bytes(f"{code}\n".encode() + body.encode("utf-8"))
        os.replace(tmp, entry)
    except OSError:
        pass

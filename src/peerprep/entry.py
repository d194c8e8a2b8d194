"""Console-script entry: answers `--version` without importing the CLI framework."""

from __future__ import annotations

import sys


def main() -> None:
    """Run peerprep."""
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"peerprep {__version__}")
        return
    if sys.argv[1:2] == ["check"]:
        from . import checkcache
        from .errors import PeerprepError

        try:
            entry = checkcache.entry_for(sys.argv[2:])
        except PeerprepError:
            entry = None
        if entry is not None:
            code = checkcache.replay(entry)
            if code is not None:
                sys.exit(code)
    if sys.argv[1:2] == ["due"] and _quick_due(sys.argv[2:]):
        return
    from .cli import main as cli_main

    cli_main()


def _quick_due(args: list[str]) -> bool:
    """`peerprep due [--json] [DECK-ID...]` without loading the CLI framework (the command people
    run most often); anything else, or any problem, goes the normal way. True when answered."""
    import os

    if any(a.startswith("-") and a != "--json" for a in args) or any(os.sep in a or a.endswith((".yaml", ".yml")) for a in args):
        return False
    from . import config, views
    from .errors import PeerprepError

    try:
        report = views.due_report([a for a in args if a != "--json"], config.now())
    except PeerprepError:
        return False  # the full CLI reports it, as one line with the right exit status
    if "--json" in args:
        import json

        print(json.dumps(report, indent=2))
    else:
        views.due_table(report)
    return True

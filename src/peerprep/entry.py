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
    from .cli import main as cli_main

    cli_main()

"""Console-script entry: answers `--version` without importing the CLI framework."""

from __future__ import annotations

import sys


def main() -> None:
    """Run peerprep."""
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"peerprep {__version__}")
        return
    from .cli import main as cli_main

    cli_main()

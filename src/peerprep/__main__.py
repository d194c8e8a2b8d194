"""`python -m peerprep`."""

from peerprep.cli import main

main()

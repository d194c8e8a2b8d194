"""`python -m peerprep`."""

from peerprep.entry import main

main()

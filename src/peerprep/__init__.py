"""peerprep: study for the Peer Recovery Specialist exam with spaced repetition and mock exams."""

__version__ = "0.1.0"

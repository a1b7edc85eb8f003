"""Speech emotion recognition toolkit: MSP-Podcast recipes, MEDUSA ensembles, leaderboard files.

Importing this package is cheap on purpose (no torch, no transformers): the CLI's
quick commands (`toolkit validate`, `toolkit score`) must answer in well under a second.
"""

__version__ = "0.1.0"

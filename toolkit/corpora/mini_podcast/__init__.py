"""mini_podcast: a small corpus of real synthesised English speech in the exact MSP-Podcast layout.

MSP-Podcast is licensed and cannot be fetched in CI, so the recipes' demo and tests run on this
corpus instead, through the same stage-0 code path a real release takes. ``make_mini_podcast``
writes ``Audios/``, ``Labels/``, ``Transcripts/`` and ``Key/`` under an output directory.

Design (details in each module and docs/mini_podcast.md):

- script.py: 20 espeak-ng speakers (US/British voices x male/female variants, own pitch and
  rate), speaker-disjoint Train (12) / Development (4) / Test3 (4); MSP-shaped class imbalance
  in Train/Development, balanced Test3; each emotional utterance carries its class in the
  words only, in the prosody only, or in both, so neither modality alone solves the corpus.
- annotators.py: 5-8 simulated crowd workers per utterance with realistic confusions, a
  pull toward neutral, Other-<word> votes, secondary labels and 1-7 ratings; plurality
  consensus with X (tie) and O (Other).
- synthesis.py: espeak-ng through ctypes (PyPI espeakng-loader), resampled to 16 kHz.
- writer.py: the label, key and transcript files; generate.py: orchestration, resume, done marker.
"""

from toolkit.corpora.mini_podcast.generate import make_mini_podcast

__all__ = ["make_mini_podcast"]

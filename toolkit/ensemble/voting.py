"""Voting baselines the meta-classifier must beat: hard (majority) and soft (mean posterior) voting.

Reads and writes nothing. Both take ``(members, rows, 8)`` posteriors; attributes of either
baseline are the members' mean attributes (:func:`mean_attributes`).
"""

import numpy as np


def soft_vote(posteriors: np.ndarray) -> np.ndarray:
    """(rows, 8) mean posterior over members."""
    return posteriors.mean(axis=0)


def hard_vote(posteriors: np.ndarray) -> np.ndarray:
    """(rows,) the class most members pick; a tie goes to the tied class with the highest summed posterior."""
    num_classes = posteriors.shape[2]
    votes = np.eye(num_classes, dtype=np.int64)[posteriors.argmax(axis=2)].sum(axis=0)
    tied = votes == votes.max(axis=1, keepdims=True)
    # Summed posteriors are <= number of members, so they only order classes with equal votes.
    return np.where(tied, posteriors.sum(axis=0), -np.inf).argmax(axis=1)


def mean_attributes(attributes: np.ndarray) -> np.ndarray:
    """(rows, 3) mean of ``(members, rows, 3)`` attribute predictions."""
    return attributes.mean(axis=0)

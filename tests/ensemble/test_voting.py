import numpy as np

from toolkit.ensemble.voting import hard_vote, mean_attributes, soft_vote


def one_hot_posteriors(choices, confidence=0.9):
    """(members, rows, 8) posteriors putting ``confidence`` on each member's chosen class."""
    choices = np.asarray(choices)
    posteriors = np.full((*choices.shape, 8), (1 - confidence) / 7)
    np.put_along_axis(posteriors, choices[..., None], confidence, axis=2)
    return posteriors


def test_hard_vote_takes_the_majority_even_against_confident_minorities():
    posteriors = one_hot_posteriors([[0], [0], [3]])
    posteriors[2, 0] = np.eye(8)[3]
    assert hard_vote(posteriors).tolist() == [0]


def test_hard_vote_tie_goes_to_the_higher_summed_posterior():
    # Two members disagree on both rows; the more confident one wins each tie.
    posteriors = np.zeros((2, 2, 8))
    posteriors[0, 0, [1, 2]] = [0.9, 0.1]
    posteriors[1, 0, [2, 1]] = [0.6, 0.4]
    posteriors[0, 1, [1, 2]] = [0.6, 0.4]
    posteriors[1, 1, [2, 1]] = [0.9, 0.1]
    assert hard_vote(posteriors).tolist() == [1, 2]


def test_soft_vote_averages_posteriors_where_hard_vote_counts():
    posteriors = np.zeros((3, 1, 8))
    posteriors[0, 0, [0, 5]] = [0.51, 0.49]
    posteriors[1, 0, [0, 5]] = [0.51, 0.49]
    posteriors[2, 0, [5, 0]] = [0.99, 0.01]
    assert hard_vote(posteriors).tolist() == [0]
    assert soft_vote(posteriors).argmax(axis=1).tolist() == [5]


def test_mean_attributes():
    attributes = np.array([[[1.0, 2.0, 3.0]], [[3.0, 4.0, 5.0]]])
    assert mean_attributes(attributes).tolist() == [[2.0, 3.0, 4.0]]

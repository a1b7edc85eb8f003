import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.data.soft_labels import (
    SoftLabelAccumulator,
    SoftLabelRule,
    annotator_votes,
    normalise,
    parse_class_name,
    vote_vector,
)
from toolkit.emotions import EMOTION_CODES
from toolkit.utils.errors import ToolkitError


def vector(**mass):
    """An 8-vector from keyword masses, e.g. vector(A=1, D=0.5)."""
    result = np.zeros(len(EMOTION_CODES))
    for code, value in mass.items():
        result[EMOTION_CODES.index(code)] = value
    return result


@pytest.mark.parametrize("name, code", [
    ("Angry", "A"), ("angry ", "A"), ("Sad", "S"), ("HAPPY", "H"), ("Surprise", "U"), ("Fear", "F"),
    ("Disgust", "D"), ("Contempt", "C"), ("Neutral", "N"), ("N", "N"),
    ("Other-bored", "O"), ("Other - sarcastic", "O"), ("Other", "O"), ("", ""), ("  ", ""),
    ("Frustrated", None), ("Angryy", None), ("Otherwise", None),
])
def test_parse_class_name(name, code):
    assert parse_class_name(name) == code


def test_default_rule_counts_the_primary_vote_only():
    rule = SoftLabelRule()
    assert rule.secondary_weight == 0.0 and rule.other_policy == "drop"
    np.testing.assert_allclose(vote_vector("Angry", "Disgust,Sad", rule), vector(A=1))


def test_secondary_weight_is_shared_among_secondary_classes():
    rule = SoftLabelRule(secondary_weight=0.5)
    np.testing.assert_allclose(vote_vector("Angry", "Disgust,Sad", rule), vector(A=1, D=0.25, S=0.25))


def test_secondary_repeating_the_primary_or_outside_the_label_space_carries_no_mass():
    rule = SoftLabelRule(secondary_weight=0.5)
    # Contempt primary; Angry gets the whole 0.5, Frustrated is not a class, Contempt repeats the primary
    np.testing.assert_allclose(vote_vector("Contempt", "Angry,Frustrated,Contempt", rule), vector(C=1, A=0.5))
    np.testing.assert_allclose(vote_vector("Happy", "Happy", rule), vector(H=1))


@pytest.mark.parametrize("policy, expected", [
    ("drop", vector()),
    ("uniform", np.full(8, 1 / 8)),
    ("neutral", vector(N=1)),
])
def test_other_primary_vote_follows_the_policy(policy, expected):
    np.testing.assert_allclose(vote_vector("Other-bored", "", SoftLabelRule(other_policy=policy)), expected)


def test_other_secondary_under_drop_leaves_the_share_to_the_other_secondaries():
    dropped = vote_vector("Happy", "Other-x,Sad", SoftLabelRule(secondary_weight=0.5, other_policy="drop"))
    np.testing.assert_allclose(dropped, vector(H=1, S=0.5))
    uniform = vote_vector("Happy", "Other-x,Sad", SoftLabelRule(secondary_weight=0.5, other_policy="uniform"))
    np.testing.assert_allclose(uniform, vector(H=1, S=0.25) + 0.25 / 8)


@pytest.mark.parametrize("primary", ["", "Frustrated", "Angryy"])
def test_unusable_primary_vote_gives_none(primary):
    assert vote_vector(primary, "Sad", SoftLabelRule(secondary_weight=1.0)) is None


@pytest.mark.parametrize("kwargs, fragment", [
    ({"secondary_weight": -0.1}, "secondary_weight"),
    ({"secondary_weight": float("nan")}, "secondary_weight"),
    ({"other_policy": "ignore"}, "drop, uniform, neutral"),
])
def test_invalid_rule_is_a_clear_error(kwargs, fragment):
    with pytest.raises(ToolkitError, match=fragment):
        SoftLabelRule(**kwargs)


def test_vectorised_votes_match_one_by_one():
    rule = SoftLabelRule(secondary_weight=0.3, other_policy="uniform")
    primary = ["Angry", "Sad", "Other-x", "Bogus", "Angry", "", "Neutral"]
    secondary = ["Sad", "", "Happy,Fear", "Sad", "Sad", "", "Other-y"]
    votes, usable = annotator_votes(primary, secondary, rule)
    assert usable.tolist() == [True, True, True, False, True, False, True]
    for row, (first, second) in enumerate(zip(primary, secondary)):
        expected = vote_vector(first, second, rule)
        np.testing.assert_allclose(votes[row], expected if expected is not None else np.zeros(8), rtol=1e-6)


def test_normalise_leaves_rows_without_mass_without_label():
    result = normalise(np.array([[2.0, 0, 0, 0, 0, 0, 1.0, 0], np.zeros(8)]))
    np.testing.assert_allclose(result[0], vector(A=2 / 3, C=1 / 3))
    assert np.isnan(result[1]).all()


def test_accumulator_sums_per_file_counts_annotators_and_drops_repeated_annotators():
    rule = SoftLabelRule(secondary_weight=0.5)
    accumulator = SoftLabelAccumulator()
    # file f1, hand computed: W1 A 1 + D .5; W2 A 1; W3 C 1 + A .5 -> A 2.5, D .5, C 1 over 4
    first = [("f1", "W1", "Angry", "Disgust"), ("f1", "W2", "Angry", ""), ("f2", "W1", "Other-x", "")]
    second = [("f1", "W3", "Contempt", "Angry,Frustrated"), ("f1", "W2", "Sad", ""), ("f2", "W9", "Bogus", "")]
    for position, chunk in enumerate((first, second)):
        names, workers, majors, seconds = zip(*chunk)
        votes, usable = annotator_votes(majors, seconds, rule)
        accumulator.add(names, workers, votes, usable, lines=[10 * position + 2, 10 * position + 3, 10 * position + 4])
    index, sums, counts, duplicates = accumulator.result()
    np.testing.assert_allclose(normalise(sums)[index["f1"]], vector(A=0.625, D=0.125, C=0.25))
    assert counts[index["f1"]] == 3  # W2's second row is a repeat and does not count
    assert counts[index["f2"]] == 1  # Other vote is usable, the unknown class is not
    assert np.isnan(normalise(sums)[index["f2"]]).all()  # an Other vote under drop gives no mass
    assert duplicates.tolist() == [4]
    assert accumulator.describe(duplicates) == [("f1", 13)]


NAMES = ["Angry", "Sad", "Happy", "Surprise", "Fear", "Disgust", "Contempt", "Neutral", "Other-x", "Frustrated", ""]


@settings(max_examples=60, deadline=None)
@given(
    votes=st.lists(st.tuples(st.sampled_from(["f1", "f2", "f3"]), st.sampled_from(["W1", "W2", "W3", "W4"]),
                             st.sampled_from(NAMES), st.lists(st.sampled_from(NAMES), max_size=3)), max_size=25),
    weight=st.sampled_from([0.0, 0.25, 1.0]),
    policy=st.sampled_from(["drop", "uniform", "neutral"]),
)
def test_property_soft_labels_are_distributions_over_first_votes(votes, weight, policy):
    rule = SoftLabelRule(secondary_weight=weight, other_policy=policy)
    accumulator = SoftLabelAccumulator()
    if votes:
        names, workers, majors, seconds = zip(*votes)
        seconds = [",".join(choice) for choice in seconds]
        contributions, usable = annotator_votes(majors, seconds, rule)
        accumulator.add(names, workers, contributions, usable)
    index, sums, counts, _ = accumulator.result()
    soft = normalise(sums)
    first_votes = {}
    for name, worker, major, second in votes:
        first_votes.setdefault((name, worker), (major, ",".join(second)))
    for name, position in index.items():
        expected = np.zeros(8)
        usable_count = 0
        for (file_name, _), (major, second) in first_votes.items():
            vector = vote_vector(major, second, rule) if file_name == name else None
            if vector is not None:
                expected += vector
                usable_count += 1
        assert counts[position] == usable_count
        if expected.sum() > 0:
            np.testing.assert_allclose(soft[position], expected / expected.sum(), rtol=1e-5)
            assert soft[position].sum() == pytest.approx(1.0)
        else:
            assert np.isnan(soft[position]).all()

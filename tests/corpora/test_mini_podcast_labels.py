"""The mini corpus's design and labels, checked on the plan alone (no audio, so the default size is cheap)."""

import re
from collections import Counter

import numpy as np
import pytest

from toolkit.corpora.mini_podcast.annotators import (
    CODE_TO_ANNOTATOR_NAME,
    Vote,
    consensus,
    make_worker_pool,
    perception_distribution,
)
from toolkit.corpora.mini_podcast.generate import plan_corpus
from toolkit.corpora.mini_podcast.script import (
    EMOTIONAL_TEMPLATES,
    NEUTRAL_TEMPLATES,
    allocate,
    class_counts,
    split_sizes,
)
from toolkit.emotions import EMOTION_CODES


@pytest.fixture(scope="module")
def default_plan():
    return plan_corpus(seed=0, num_utts=600)


def _consensus_counts(plan, split):
    return Counter(item.consensus.code for item in plan.labelled if item.utterance.split == split)


def test_default_size_matches_the_issue(default_plan):
    sizes = Counter(utterance.split for utterance in default_plan.utterances)
    assert sum(sizes.values()) == 600
    assert 380 <= sizes["Train"] <= 420 and 110 <= sizes["Development"] <= 130 and 80 <= sizes["Test3"] <= 96


@pytest.mark.parametrize("num_utts", [24, 25, 40, 97, 600, 1001])
def test_split_sizes_add_up_and_test3_is_a_multiple_of_8(num_utts):
    sizes = split_sizes(num_utts)
    assert sum(sizes.values()) == num_utts
    assert sizes["Test3"] % 8 == 0 and sizes["Test3"] >= 8
    assert min(sizes.values()) >= 2


def test_allocate_is_exact_and_proportional():
    assert allocate(10, [1, 1, 1]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert sum(allocate(601, [5, 3, 1, 0.5])) == 601


def test_train_and_development_are_imbalanced_like_msp_podcast(default_plan):
    for split in ("Train", "Development"):
        intended = class_counts(split, split_sizes(600)[split])
        assert min(intended["N"], intended["H"], intended["A"]) > 2 * max(intended["F"], intended["D"])
    counts = _consensus_counts(default_plan, "Train")
    assert counts["N"] > counts["S"] > counts["F"]
    assert counts["X"] > 0 and counts["O"] > 0, "X and O consensus rows must exist"
    assert 0.05 < (counts["X"] + counts["O"]) / sum(counts.values()) < 0.4


def test_test3_consensus_is_balanced_and_matches_the_intended_class(default_plan):
    test = [item for item in default_plan.labelled if item.utterance.split == "Test3"]
    counts = Counter(item.consensus.code for item in test)
    assert set(counts) == set(EMOTION_CODES)
    assert len(set(counts.values())) == 1
    assert all(item.consensus.code == item.utterance.emotion for item in test)


def test_annotators_disagree_realistically(default_plan):
    labelled = [item for item in default_plan.labelled if item.utterance.split != "Test3"]
    agreement = np.mean([item.consensus.code == item.utterance.emotion for item in labelled])
    assert 0.6 < agreement < 0.95
    assert all(5 <= len(item.votes) <= 8 for item in labelled)
    assert all(len({vote.worker_id for vote in item.votes}) == len(item.votes) for item in labelled)
    primaries = Counter(vote.primary for item in labelled for vote in item.votes)
    assert any(name.startswith("Other-") for name in primaries)
    assert set(name for name in primaries if not name.startswith("Other-")) == set(CODE_TO_ANNOTATOR_NAME.values())
    assert any(vote.secondary for item in labelled for vote in item.votes)


def test_ratings_are_integers_on_1_to_7_and_follow_the_class(default_plan):
    labelled = [item for item in default_plan.labelled if item.utterance.split != "Test3"]
    ratings = np.array([(v.activation, v.valence, v.dominance) for item in labelled for v in item.votes])
    assert ratings.min() >= 1 and ratings.max() <= 7 and np.all(ratings == np.rint(ratings))
    valence = {code: np.mean([item.consensus.valence for item in labelled if item.consensus.code == code])
               for code in "HAS"}
    activation = {code: np.mean([item.consensus.activation for item in labelled if item.consensus.code == code])
                  for code in "AS"}
    assert valence["H"] > valence["A"] and valence["H"] > valence["S"]
    assert activation["A"] > activation["S"]


def _from_templates(text, templates):
    patterns = [re.escape(template).replace(r"\{", "{").replace(r"\}", "}") for template in templates]
    return any(re.fullmatch(re.sub(r"\{[a-z]+\}", ".+", pattern), text) for pattern in patterns)


def test_emotion_is_carried_by_words_prosody_or_both(default_plan):
    """Neither modality alone separates the classes: some utterances hide the emotion from each."""
    utterances = default_plan.utterances
    carriers = Counter(u.carrier for u in utterances if u.emotion != "N")
    assert set(carriers) == {"prosody", "lexical", "both"} and min(carriers.values()) > 60
    # Text-only models cannot see prosody-carried emotion: those sentences are the neutral ones.
    assert all(_from_templates(u.text, NEUTRAL_TEMPLATES) for u in utterances if u.carrier in ("prosody", "neutral"))
    assert all(_from_templates(u.text, EMOTIONAL_TEMPLATES[u.emotion])
               for u in utterances if u.carrier in ("lexical", "both"))
    # Audio-only models cannot hear lexically carried emotion: it is spoken like neutral speech.
    def mean_volume(carrier, code=None):
        return np.mean([u.prosody.volume for u in utterances
                        if u.carrier == carrier and (code is None or u.emotion == code)])
    assert abs(mean_volume("lexical", "A") - mean_volume("neutral")) < 10
    assert mean_volume("prosody", "A") > mean_volume("neutral") + 30
    assert np.mean([u.prosody.rate for u in utterances if u.carrier != "lexical" and u.emotion == "S"]) < \
        np.mean([u.prosody.rate for u in utterances if u.carrier == "neutral"]) * 0.9


def test_splits_are_speaker_disjoint(default_plan):
    speakers = {split: {u.speaker.speaker_id for u in default_plan.utterances if u.split == split}
                for split in ("Train", "Development", "Test3")}
    assert not speakers["Train"] & speakers["Development"]
    assert not speakers["Train"] & speakers["Test3"]
    assert not speakers["Development"] & speakers["Test3"]
    unknown = [item for item in default_plan.labelled if item.speaker_label == "Unknown"]
    assert unknown and all(item.utterance.split == "Train" for item in unknown)


def test_file_names_are_unique(default_plan):
    names = [u.file_name for u in default_plan.utterances]
    assert len(names) == len(set(names))


def test_same_seed_same_plan_other_seed_other_plan():
    first, second, other = plan_corpus(5, 48), plan_corpus(5, 48), plan_corpus(6, 48)
    assert first.labelled == second.labelled and first.missing_transcripts == second.missing_transcripts
    assert first.labelled != other.labelled


def _vote(primary):
    return Vote("WORKER00001", primary, (), 4.0, 4.0, 4.0)


def test_consensus_is_plurality_with_x_on_ties_and_o_for_other():
    assert consensus([_vote("Angry"), _vote("Angry"), _vote("Sad"), _vote("Neutral"), _vote("Other-Bored")]).code == "A"
    assert consensus([_vote("Angry"), _vote("Angry"), _vote("Sad"), _vote("Sad"), _vote("Neutral")]).code == "X"
    other = [_vote("Other-Bored"), _vote("Other-Amused"), _vote("Sad"), _vote("Happy"), _vote("Neutral")]
    assert consensus(other).code == "O"
    assert consensus([_vote("Happy")] * 5).activation == 4.0


def test_confusions_follow_the_documented_pairs(default_plan):
    workers = make_worker_pool(np.random.default_rng(0))
    by_emotion = {}
    for utterance in default_plan.utterances:
        by_emotion.setdefault((utterance.emotion, utterance.carrier), utterance)
    contempt = perception_distribution(by_emotion[("C", "both")], workers[0])
    fear = perception_distribution(by_emotion[("F", "both")], workers[0])
    assert np.isclose(contempt.sum(), 1.0) and np.isclose(fear.sum(), 1.0)
    index = EMOTION_CODES.index
    assert contempt[index("C")] == contempt.max()
    assert contempt[index("A")] > contempt[index("H")]
    assert fear[index("U")] > fear[index("A")] and fear[index("S")] > fear[index("H")]

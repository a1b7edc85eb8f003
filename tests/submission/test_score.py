"""score_submission: numbers checked against sklearn and a direct numpy CCC, bootstrap, unscored rows."""

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, \
    precision_recall_fscore_support

from toolkit.emotions import EMOTION_CODES
from toolkit.metrics import confusion_scores
from toolkit.submission.score import format_scores, score_submission
from toolkit.utils.errors import ToolkitError

CONSENSUS_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"


def numpy_ccc(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    rho = np.corrcoef(x, y)[0, 1]
    return 2 * rho * x.std() * y.std() / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


@pytest.fixture
def corpus(tmp_path):
    """A reference of 300 rows (some X/O and one without attributes) and matching random submissions."""
    rng = np.random.default_rng(7)
    names = [f"MSP-PODCAST_{1000 + n}_0001.wav" for n in range(300)]
    truth = rng.choice(list(EMOTION_CODES + "XO"), size=300)
    attributes = np.round(rng.uniform(1, 7, size=(300, 3)), 1)
    # A prediction that is right about half the time, so the scores are not trivial.
    predicted = np.where(rng.random(300) < 0.5, truth, rng.choice(list(EMOTION_CODES), size=300))
    predicted = np.where(np.isin(predicted, ["X", "O"]), "N", predicted)
    predicted_attributes = np.clip(attributes + rng.normal(0, 1, size=(300, 3)), 1, 7)
    lines = [
        f"{name},{code},{a:.1f},{v:.1f},{d:.1f},{n % 7},Female,{'Development' if n < 200 else 'Train'}\n"
        for n, (name, code, (a, v, d)) in enumerate(zip(names, truth, attributes))
    ]
    lines[5] = f"{names[5]},{truth[5]},,,,1,Male,Development\n"
    reference = tmp_path / "labels_consensus.csv"
    reference.write_text(CONSENSUS_HEADER + "".join(lines))
    categorical = tmp_path / "cat.csv"
    categorical.write_text("FileName,EmoClass\n" + "".join(f"{n},{c}\n" for n, c in zip(names, predicted)))
    attribute_file = tmp_path / "att.csv"
    attribute_file.write_text(
        "FileName,EmoAct,EmoVal,EmoDom\n"
        + "".join(f"{n},{a},{v},{d}\n" for n, (a, v, d) in zip(names, predicted_attributes.tolist()))
    )
    return {"names": names, "truth": truth, "attributes": attributes, "predicted": predicted,
            "predicted_attributes": predicted_attributes, "reference": reference,
            "categorical": categorical, "attribute_file": attribute_file}


def test_categorical_scores_match_sklearn(corpus):
    result = score_submission(corpus["categorical"], corpus["reference"])
    assert result.validation.valid and result.task == "categorical"
    scored = np.isin(corpus["truth"], list(EMOTION_CODES))
    true, pred = corpus["truth"][scored], corpus["predicted"][scored]
    labels = list(EMOTION_CODES)
    assert result.scored_rows == scored.sum()
    assert sum(result.unscored.values()) == (~scored).sum()
    assert set(result.unscored) <= {"EmoClass X", "EmoClass O"}
    assert result.metrics["macro_f1"] == pytest.approx(f1_score(true, pred, labels=labels, average="macro"))
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(true, pred))
    assert result.metrics["uar"] == pytest.approx(balanced_accuracy_score(true, pred))
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    for i, code in enumerate(labels):
        row = result.per_class[code]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (precision[i], recall[i], f1[i], support[i]))
    np.testing.assert_array_equal(result.confusion, confusion_matrix(true, pred, labels=labels))
    assert 0.3 < result.metrics["macro_f1"] < 0.8


def test_attribute_scores_match_numpy_ccc(corpus):
    result = score_submission(corpus["attribute_file"], corpus["reference"])
    assert result.validation.valid, result.validation.format_text()
    keep = np.arange(300) != 5
    expected = [numpy_ccc(corpus["attributes"][keep, i], corpus["predicted_attributes"][keep, i]) for i in range(3)]
    got = [result.metrics[f"ccc_{name}"] for name in ("EmoAct", "EmoVal", "EmoDom")]
    assert got == pytest.approx(expected, rel=1e-9)
    assert result.metrics["ccc_mean"] == pytest.approx(np.mean(expected))
    assert result.scored_rows == 299 and result.unscored == {"attributes empty": 1}
    assert "CCC mean" in format_scores(result)


def test_split_filter_and_invalid_submission(corpus):
    result = score_submission(corpus["categorical"], corpus["reference"], split="development")
    assert not result.validation.valid
    assert result.validation.counts["I402"] == 100  # the 100 Train rows are not expected
    assert "metrics" not in result.to_dict()


def test_bootstrap_intervals_bracket_the_score_and_are_reproducible(corpus):
    first = score_submission(corpus["categorical"], corpus["reference"], bootstrap=200, seed=3)
    again = score_submission(corpus["categorical"], corpus["reference"], bootstrap=200, seed=3)
    assert first.intervals == again.intervals
    for name in ("macro_f1", "accuracy", "uar"):
        low, high = first.intervals[name]
        assert low < first.metrics[name] < high and high - low < 0.3
    attributes = score_submission(corpus["attribute_file"], corpus["reference"], bootstrap=100)
    low, high = attributes.intervals["ccc_mean"]
    assert low < attributes.metrics["ccc_mean"] < high


def test_fast_resampled_metrics_equal_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        true = rng.integers(0, 8, size=50)
        pred = rng.integers(0, 6, size=50)  # classes 6 and 7 never predicted
        fast = confusion_scores(true, pred, 8)
        assert fast["macro_f1"] == pytest.approx(
            f1_score(true, pred, labels=list(range(8)), average="macro", zero_division=0))
        assert fast["accuracy"] == pytest.approx(accuracy_score(true, pred))
        assert fast["uar"] == pytest.approx(balanced_accuracy_score(true, pred))


def test_json_payload_is_complete(corpus):
    payload = json.loads(json.dumps(score_submission(corpus["categorical"], corpus["reference"]).to_dict()))
    assert payload["headline"]["metric"] == "macro_f1"
    assert payload["confusion_matrix"]["labels"] == list(EMOTION_CODES)
    assert len(payload["confusion_matrix"]["matrix"]) == 8
    assert set(payload["per_class"]) == set(EMOTION_CODES)


def test_unlabelled_reference_cannot_score(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("FileName,EmoClass,EmoAct,EmoVal,EmoDom,path\nMSP-PODCAST_test3_0001.wav,,,,,/x.wav\n")
    submission = tmp_path / "s.csv"
    submission.write_text("FileName,EmoClass\nMSP-PODCAST_test3_0001.wav,A\n")
    with pytest.raises(ToolkitError, match="unlabelled test manifest"):
        score_submission(submission, manifest)
    manifest.write_text("FileName,path\nMSP-PODCAST_test3_0001.wav,/x.wav\n")
    with pytest.raises(ToolkitError, match="no EmoClass column"):
        score_submission(submission, manifest)


def test_a_four_class_reference_manifest_scores_over_its_four_classes(tmp_path):
    rng = np.random.default_rng(3)
    names = [f"u{n:03d}.wav" for n in range(80)]
    truth = rng.choice(list("ASHN"), size=80)
    predicted = np.where(rng.random(80) < 0.7, truth, rng.choice(list("ASHN"), size=80))
    manifest = tmp_path / "data/test/manifest.csv"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("FileName,EmoClass,soft_A,soft_S,soft_H,soft_N,path\n"
                        + "".join(f"{n},{c},,,,,/x\n" for n, c in zip(names, truth)))
    submission = tmp_path / "sub.csv"
    submission.write_text("FileName,EmoClass\n" + "".join(f"{n},{c}\n" for n, c in zip(names, predicted)))
    result = score_submission(submission, manifest)
    assert result.inventory.codes == ("A", "S", "H", "N")
    assert result.metrics["macro_f1"] == pytest.approx(f1_score(truth, predicted, labels=list("ASHN"), average="macro"))
    assert result.confusion.shape == (4, 4) and list(result.per_class) == ["A", "S", "H", "N"]
    text = format_scores(result)
    assert "H Happiness" in text and "U Surprise" not in text


def test_toolkit_score_never_sees_non_finite_values(tmp_path):
    """Every way a NaN or infinity could reach the scorer is stopped before the metrics."""
    reference = tmp_path / "ref.csv"
    reference.write_text("FileName,EmoAct,EmoVal,EmoDom\na.wav,1,2,3\nb.wav,4,5,6\n")
    for value, code in (("nan", "N602"), ("NaN", "N602"), ("-inf", "N602"), ("Infinity", "N602"), ("1e400", "N603")):
        submission = tmp_path / "sub.csv"
        submission.write_text(f"FileName,EmoAct,EmoVal,EmoDom\na.wav,1,2,3\nb.wav,4,{value},6\n")
        result = score_submission(submission, reference)
        assert not result.validation.valid and code in result.validation.counts and result.metrics == {}
    submission.write_text("FileName,EmoAct,EmoVal,EmoDom\na.wav,1,2,3\nb.wav,4,5,6\n")
    json_reference = tmp_path / "ref.json"
    # Python's json module reads the non-standard literal NaN; the reference reader must still refuse it.
    json_reference.write_text('{"a.wav": {"EmoAct": 1, "EmoVal": 2, "EmoDom": 3},'
                              ' "b.wav": {"EmoAct": NaN, "EmoVal": 5, "EmoDom": 6}}')
    with pytest.raises(ToolkitError, match="EmoAct is 'nan'; a reference value must be finite"):
        score_submission(submission, json_reference)

"""compare_submissions / ``toolkit compare``: the paired bootstrap checked against a direct numpy
implementation (same draws, same seed), its edges, other corpora's classes, JSON and exit codes."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.emotions import EMOTION_CODES
from toolkit.submission.compare import METRIC_TASKS, compare_submissions, format_comparison
from toolkit.submission.score import score_submission

N = 300
NAMES = [f"MSP-PODCAST_{2000 + n}_0001.wav" for n in range(N)]


# --- the statistics written out directly, independently of toolkit.metrics -------------------------

def numpy_macro_f1(true, pred, num_classes):
    scores = []
    for label in range(num_classes):
        hits = np.sum((true == label) & (pred == label))
        wrong = np.sum((true != label) & (pred == label)) + np.sum((true == label) & (pred != label))
        scores.append(2 * hits / (2 * hits + wrong) if 2 * hits + wrong else 0.0)
    return float(np.mean(scores))


def numpy_uar(true, pred, num_classes):
    return float(np.mean([np.mean(pred[true == label] == label) for label in np.unique(true)]))


def numpy_ccc_mean(true, pred, num_classes=None):
    values = []
    for column in range(3):
        x, y = true[:, column], pred[:, column]
        rho = np.corrcoef(x, y)[0, 1]
        values.append(2 * rho * x.std() * y.std() / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))
    return float(np.mean(values))


def numpy_paired_bootstrap(true, pred_a, pred_b, statistic, resamples, seed, num_classes=8):
    """Rows drawn with default_rng(seed).integers(0, n, n) per resample; percentile interval; the
    two-sided p-value 2 * (min(#<=0, #>=0) + 1) / (R + 1), capped at 1."""
    rng = np.random.default_rng(seed)
    draws_a, draws_b = [], []
    for _ in range(resamples):
        rows = rng.integers(0, len(true), size=len(true))
        draws_a.append(statistic(true[rows], pred_a[rows], num_classes))
        draws_b.append(statistic(true[rows], pred_b[rows], num_classes))
    differences = np.array(draws_a) - np.array(draws_b)
    tail = min(np.sum(differences <= 0), np.sum(differences >= 0))
    return {
        "a": list(np.percentile(draws_a, [2.5, 97.5])),
        "b": list(np.percentile(draws_b, [2.5, 97.5])),
        "difference": list(np.percentile(differences, [2.5, 97.5])),
        "p_value": min(1.0, 2 * (tail + 1) / (resamples + 1)),
    }


# --- files -----------------------------------------------------------------------------------------

def write_categorical(path, codes, names=NAMES):
    path.write_text("FileName,EmoClass\n" + "".join(f"{name},{code}\n" for name, code in zip(names, codes)))
    return path


def write_attributes(path, values, names=NAMES):
    path.write_text("FileName,EmoAct,EmoVal,EmoDom\n"
                    + "".join(f"{name},{a:.4f},{v:.4f},{d:.4f}\n" for name, (a, v, d) in zip(names, values)))
    return path


def noisy_copy(rng, truth, accuracy, codes=EMOTION_CODES):
    predicted = np.where(rng.random(len(truth)) < accuracy, truth, rng.choice(list(codes), size=len(truth)))
    return np.where(np.isin(predicted, list(codes)), predicted, codes[-1])  # X rows get a real class


@pytest.fixture
def corpus(tmp_path):
    """A 300-row reference (some X rows: not scored) and systems of known quality for both tasks."""
    rng = np.random.default_rng(11)
    truth = rng.choice(list(EMOTION_CODES + "X"), size=N)
    attributes = np.round(rng.uniform(1, 7, size=(N, 3)), 1)
    reference = tmp_path / "labels_consensus.csv"
    reference.write_text("FileName,EmoClass,EmoAct,EmoVal,EmoDom,Split_Set\n" + "".join(
        f"{name},{code},{a},{v},{d},Development\n" for name, code, (a, v, d) in zip(NAMES, truth, attributes)))
    files = {
        "good": write_categorical(tmp_path / "good.csv", noisy_copy(rng, truth, 0.85)),
        "weak": write_categorical(tmp_path / "weak.csv", noisy_copy(rng, truth, 0.50)),
        "weak2": write_categorical(tmp_path / "weak2.csv", noisy_copy(rng, truth, 0.50)),
    }
    close = np.clip(attributes + rng.normal(0, 0.8, size=(N, 3)), 1, 7)
    far = np.clip(attributes + rng.normal(0, 1.2, size=(N, 3)), 1, 7)
    files["close"] = write_attributes(tmp_path / "close.csv", close)
    files["far"] = write_attributes(tmp_path / "far.csv", far)
    scored = truth != "X"
    index = {code: i for i, code in enumerate(EMOTION_CODES)}

    def class_indices(name):
        text = files[name].read_text().splitlines()[1:]
        return np.array([index[line.split(",")[1]] for line in text])[scored]

    def attribute_rows(name):
        return np.loadtxt(files[name], delimiter=",", skiprows=1, usecols=(1, 2, 3))

    return {"reference": reference, "files": files, "true": np.array([index[c] for c in truth[scored]]),
            "attributes": attributes, "classes": class_indices, "attribute_rows": attribute_rows,
            "scored": int(scored.sum())}


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


# --- the statistics --------------------------------------------------------------------------------

@pytest.mark.parametrize("metric, statistic", [("macro_f1", numpy_macro_f1), ("uar", numpy_uar)])
def test_categorical_interval_and_p_value_equal_a_direct_numpy_bootstrap(corpus, metric, statistic):
    files = corpus["files"]
    result = compare_submissions(files["weak"], files["weak2"], corpus["reference"], metric=metric,
                                 resamples=300, seed=5)
    true, pred_a, pred_b = corpus["true"], corpus["classes"]("weak"), corpus["classes"]("weak2")
    expected = numpy_paired_bootstrap(true, pred_a, pred_b, statistic, 300, 5)
    assert result.metric == metric and result.scored_rows == corpus["scored"]
    assert result.values["a"] == pytest.approx(statistic(true, pred_a, 8))
    assert result.values["difference"] == pytest.approx(statistic(true, pred_a, 8) - statistic(true, pred_b, 8))
    for key in ("a", "b", "difference"):
        assert result.intervals[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12)
    assert result.p_value == pytest.approx(expected["p_value"])
    # Two systems of the same quality: the test must not be at either end of its range.
    assert 0.05 < result.p_value < 1


def test_ccc_interval_and_p_value_equal_a_direct_numpy_bootstrap(corpus):
    files = corpus["files"]
    result = compare_submissions(files["close"], files["far"], corpus["reference"], resamples=200, seed=9)
    assert result.metric == "ccc_mean" and result.task == "attributes"
    true, close, far = corpus["attributes"], corpus["attribute_rows"]("close"), corpus["attribute_rows"]("far")
    expected = numpy_paired_bootstrap(true, close, far, numpy_ccc_mean, 200, 9)
    assert result.values["difference"] == pytest.approx(numpy_ccc_mean(true, close) - numpy_ccc_mean(true, far))
    for key in ("a", "b", "difference"):
        assert result.intervals[key] == pytest.approx(expected[key], rel=1e-9)
    assert result.p_value == pytest.approx(expected["p_value"])
    assert result.p_value < 0.05 and result.intervals["difference"][0] > 0


def test_identical_files_differ_by_zero_with_p_value_one(corpus):
    good = corpus["files"]["good"]
    result = compare_submissions(good, good, corpus["reference"], resamples=100)
    assert result.values["difference"] == 0 and result.intervals["difference"] == [0, 0]
    assert result.p_value == 1
    assert result.verdict().startswith("no significant difference")


def test_a_clearly_better_system_is_significant_in_either_order(corpus):
    files = corpus["files"]
    better = compare_submissions(files["good"], files["weak"], corpus["reference"], resamples=500)
    assert better.values["difference"] > 0.2
    assert better.p_value < 0.05 and better.intervals["difference"][0] > 0
    assert better.verdict() == "A is better than B (p < 0.05)"
    worse = compare_submissions(files["weak"], files["good"], corpus["reference"], resamples=500)
    assert worse.values["difference"] == pytest.approx(-better.values["difference"])
    assert worse.p_value == better.p_value and worse.intervals["difference"][1] < 0
    assert worse.verdict() == "B is better than A (p < 0.05)"


def test_each_systems_interval_is_its_toolkit_score_interval(corpus):
    files = corpus["files"]
    result = compare_submissions(files["good"], files["weak"], corpus["reference"], resamples=150, seed=3)
    for key in ("good", "weak"):
        scored = score_submission(files[key], corpus["reference"], bootstrap=150, seed=3)
        assert result.intervals["a" if key == "good" else "b"] == pytest.approx(scored.intervals["macro_f1"])


def test_another_corpus_manifest_is_compared_over_its_own_classes(tmp_path):
    rng = np.random.default_rng(4)
    names = [f"clip{n:03d}.wav" for n in range(120)]
    truth = rng.choice(list("AKN"), size=120)
    manifest = tmp_path / "data/test/manifest.csv"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("FileName,EmoClass,soft_A,soft_K,soft_N,path\n"
                        + "".join(f"{name},{code},,,,/x.wav\n" for name, code in zip(names, truth)))
    system_a = noisy_copy(rng, truth, 0.8, codes="AKN")
    system_b = noisy_copy(rng, truth, 0.6, codes="AKN")
    a = write_categorical(tmp_path / "a.csv", system_a, names)
    b = write_categorical(tmp_path / "b.csv", system_b, names)
    result = compare_submissions(a, b, manifest, resamples=100, seed=1)
    assert result.valid and result.a.inventory.codes == ("A", "K", "N")
    index = {"A": 0, "K": 1, "N": 2}
    true, pred_a, pred_b = (np.array([index[c] for c in codes]) for codes in (truth, system_a, system_b))
    expected = numpy_paired_bootstrap(true, pred_a, pred_b, numpy_macro_f1, 100, 1, num_classes=3)
    assert result.values["a"] == pytest.approx(numpy_macro_f1(true, pred_a, 3))
    assert result.intervals["difference"] == pytest.approx(expected["difference"])
    assert result.p_value == pytest.approx(expected["p_value"])
    assert "K" not in EMOTION_CODES  # so this only passes over the manifest's inventory


# --- the command line ------------------------------------------------------------------------------

def test_cli_text_sheet(corpus):
    files = corpus["files"]
    result = run(files["good"], files["weak"], "--reference", corpus["reference"], "--split", "Development",
                 "--resamples", "200")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Task 1 (categorical), Macro-F1: A vs B on {corpus['reference']} (Split_Set Development)"
    assert lines[1] == f"scored {corpus['scored']} rows; not scored: {N - corpus['scored']} with EmoClass X"
    good_score = score_submission(files["good"], corpus["reference"]).metrics["macro_f1"]
    assert lines[2].split()[:3] == ["A", "Macro-F1", f"{good_score:.4f}"]
    assert lines[2].endswith(str(files["good"])) and lines[3].endswith(str(files["weak"]))
    assert lines[4].startswith("A - B") and lines[5].startswith("p-value")
    assert lines[-1] == "A is better than B (p < 0.05)"


def test_cli_offers_exactly_the_library_metrics():
    from toolkit.cli.compare import compare

    (metric_option,) = [option for option in compare.params if option.name == "metric"]
    assert list(metric_option.type.choices) == list(METRIC_TASKS)


def test_cli_json_payload(corpus):
    files = corpus["files"]
    result = run(files["close"], files["far"], "-r", corpus["reference"], "--format", "json", "--resamples", "100",
                 "--seed", "7")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    library = compare_submissions(files["close"], files["far"], corpus["reference"], resamples=100, seed=7)
    assert payload["valid"] is True and payload["task"] == "attributes" and payload["metric"] == "ccc_mean"
    assert payload["a"]["submission"] == str(files["close"]) and payload["a"]["validation"]["valid"] is True
    assert payload["a"]["value"] == pytest.approx(library.values["a"])
    assert payload["difference"] == {"value": pytest.approx(library.values["difference"]),
                                     "interval_95": pytest.approx(library.intervals["difference"]),
                                     "p_value": pytest.approx(library.p_value)}
    assert payload["resamples"] == 100 and payload["seed"] == 7 and payload["scored_rows"] == N
    assert payload["unscored_reference_rows"] == {} and payload["verdict"] == library.verdict()


def test_cli_invalid_submission_exits_1_with_its_report(corpus, tmp_path):
    short = write_categorical(tmp_path / "short.csv", ["A"] * 10, NAMES[:10])
    result = run(corpus["files"]["good"], short, "--reference", corpus["reference"])
    assert result.exit_code == 1
    assert f"I403 {N - 10} of {N} expected FileNames have no row" in result.stdout
    assert "A - B" not in result.stdout
    payload = json.loads(run(short, corpus["files"]["good"], "-r", corpus["reference"], "--format", "json").stdout)
    assert payload["valid"] is False and payload["a"]["valid"] is False and payload["b"]["valid"] is True
    assert "difference" not in payload


@pytest.mark.parametrize("arguments, message", [
    (["good", "close"], "is a Task 1 (categorical) file but"),
    (["close", "far", "--metric", "macro_f1"], "--metric macro_f1 scores Task 1 (categorical) files"),
    (["good", "weak", "--metric", "ccc_mean"], "use --metric macro_f1, uar, or give Task 2 (attributes) files"),
    (["good", "weak", "--resamples", "0"], "0 is not in the range"),
])
def test_cli_unusable_arguments_exit_2_without_traceback(corpus, arguments, message):
    files = corpus["files"]
    args = [files.get(argument, argument) for argument in arguments]
    result = run(*args, "--reference", corpus["reference"])
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_cli_unusable_reference_exits_2(corpus, tmp_path):
    files = corpus["files"]
    result = run(files["good"], files["weak"], "--reference", tmp_path / "absent.csv", "--format", "json")
    assert result.exit_code == 2
    error = f"{tmp_path / 'absent.csv'}: reference file not found; check the path"
    assert json.loads(result.stdout) == {"valid": False, "error": error}
    unlabelled = tmp_path / "manifest.csv"
    unlabelled.write_text("FileName,EmoClass,path\n" + "".join(f"{name},,/x.wav\n" for name in NAMES))
    result = run(files["good"], files["weak"], "--reference", unlabelled)
    assert result.exit_code == 2 and "is this an unlabelled test manifest?" in result.stderr


def test_format_comparison_names_both_files(corpus):
    files = corpus["files"]
    text = format_comparison(compare_submissions(files["close"], files["far"], corpus["reference"], resamples=50))
    assert text.splitlines()[0].startswith("Task 2 (attributes), CCC mean: A vs B")
    assert str(files["close"]) in text and str(files["far"]) in text

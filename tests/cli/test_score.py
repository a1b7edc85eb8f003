"""``toolkit score``: exit codes, the text score sheet and the JSON payload."""

import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.cli import main

HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
REFERENCE = HEADER + (
    "MSP-PODCAST_0001_0001.wav,A,2.0,3.0,4.0,1,Male,Development\n"
    "MSP-PODCAST_0001_0002.wav,N,4.0,4.0,4.0,1,Male,Development\n"
    "MSP-PODCAST_0001_0003.wav,X,5.0,2.0,6.0,2,Female,Development\n"
    "MSP-PODCAST_0002_0001.wav,S,6.0,5.0,3.0,2,Female,Development\n"
)


def run(*args):
    return CliRunner().invoke(main, ["score", *map(str, args)])


def files(tmp_path, submission):
    reference = tmp_path / "labels_consensus.csv"
    reference.write_text(REFERENCE)
    path = tmp_path / "sub.csv"
    path.write_text(submission)
    return path, reference


def test_categorical_score_sheet(tmp_path):
    sub, ref = files(tmp_path, "FileName,EmoClass\nMSP-PODCAST_0001_0001.wav,A\nMSP-PODCAST_0001_0002.wav,N\n"
                               "MSP-PODCAST_0001_0003.wav,A\nMSP-PODCAST_0002_0001.wav,N\n")
    result = run(sub, "--reference", ref)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "scored 3 rows; not scored: 1 with EmoClass X"
    # A: P=R=F1=1; N: P=1/2, R=1, F1=2/3; S: 0 -> Macro-F1 over 8 classes = (1 + 2/3) / 8.
    assert lines[2].split() == ["Macro-F1", f"{(1 + 2 / 3) / 8:.4f}"]
    assert lines[3].split() == ["Accuracy", "0.6667"]
    assert lines[4].split() == ["UAR", "0.6667"]
    assert "confusion matrix (rows: reference, columns: prediction)" in result.stdout


def test_attribute_score_json_with_bootstrap(tmp_path):
    sub, ref = files(tmp_path, "FileName,EmoAct,EmoVal,EmoDom\nMSP-PODCAST_0001_0001.wav,2,3,4\n"
                               "MSP-PODCAST_0001_0002.wav,4,4,4\nMSP-PODCAST_0001_0003.wav,5,2,6\n"
                               "MSP-PODCAST_0002_0001.wav,6,5,3\n")
    result = run(sub, "-r", ref, "--format", "json", "--bootstrap", "50")
    payload = json.loads(result.stdout)
    assert result.exit_code == 0
    assert payload["headline"] == {"metric": "ccc_mean", "value": 1.0}
    assert payload["metrics"]["ccc_EmoAct"] == 1.0 and payload["bootstrap"] == 50
    assert set(payload["intervals_95"]) == {"ccc_EmoAct", "ccc_EmoVal", "ccc_EmoDom", "ccc_mean"}


def test_invalid_submission_exits_1_and_shows_the_report(tmp_path):
    sub, ref = files(tmp_path, "FileName,EmoClass\nMSP-PODCAST_0001_0001.wav,A\n")
    result = run(sub, "--reference", ref)
    assert result.exit_code == 1
    assert "I403 3 of 4 expected FileNames have no row" in result.stdout
    assert "Macro-F1" not in result.stdout


def test_unusable_reference_exits_2(tmp_path):
    sub, ref = files(tmp_path, "FileName,EmoClass\nMSP-PODCAST_0001_0001.wav,A\n")
    assert run(sub).exit_code == 2  # --reference is required
    result = run(sub, "--reference", tmp_path / "absent.csv")
    assert result.exit_code == 2 and "reference file not found" in result.stderr
    result = run(sub, "--reference", ref, "--split", "Test3", "--format", "json")
    assert result.exit_code == 2 and "no row has Split_Set Test3" in json.loads(result.stdout)["error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    reference=st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from(["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "Split_Set", "a.wav", "A",
                                  "X", "4", "nan", "", ",", "\n", '"', "{", "}", ":", "[", "1e999"]),
                 max_size=40).map("".join),
    ),
    suffix=st.sampled_from([".csv", ".json"]),
    split=st.sampled_from([[], ["--split", "Development"]]),
)
def test_score_fuzzed_reference_never_tracebacks(tmp_path, reference, suffix, split):
    ref = tmp_path / f"ref{suffix}"
    ref.write_bytes(reference if isinstance(reference, bytes) else reference.encode("utf-8"))
    sub = tmp_path / "sub.csv"
    sub.write_text("FileName,EmoClass\na.wav,A\n")
    result = run(sub, "--reference", ref, *split)
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

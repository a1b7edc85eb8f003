"""validate_submission: every problem code on a hand-made file, caps, summaries, and fuzzing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.submission.formats import PROBLEM_CODES, challenge_test3_ids
from toolkit.submission.validate import validate_submission
from toolkit.utils.errors import ToolkitError

IDS = [f"MSP-PODCAST_test3_{n:04d}.wav" for n in range(1, 5)]


def check(tmp_path, content, name="sub.csv", expected=IDS, **options):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return validate_submission(path, expected, **options)


def codes(report):
    return sorted({problem.code for problem in report.problems})


def at(report, code):
    return [(problem.line, problem.message) for problem in report.problems if problem.code == code]


def categorical(rows, header="FileName,EmoClass"):
    return header + "\n" + "".join(f"{row}\n" for row in rows)


GOOD_CATEGORICAL = categorical([f"{name},{code}" for name, code in zip(IDS, "ASHN")])
GOOD_ATTRIBUTES = "FileName,EmoAct,EmoVal,EmoDom\n" + "".join(f"{name},1,4.5,7.0\n" for name in IDS)


def test_valid_files_of_both_tasks(tmp_path):
    report = check(tmp_path, GOOD_CATEGORICAL)
    assert report.valid and report.task == "categorical" and report.problems == []
    assert report.records == dict(zip(IDS, "ASHN"))
    report = check(tmp_path, GOOD_ATTRIBUTES)
    assert report.valid and report.task == "attributes"
    assert report.records[IDS[0]] == (1.0, 4.5, 7.0)
    assert report.summary() == f"{tmp_path / 'sub.csv'}: valid: Task 2 (attributes), 4 data rows, 4 expected FileNames"


def test_default_expected_ids_are_test3(tmp_path):
    path = tmp_path / "sub.csv"
    path.write_text(categorical([f"{name},N" for name in challenge_test3_ids()]))
    assert validate_submission(path).valid
    path.write_text(categorical([f"{name},N" for name in challenge_test3_ids()[:-2]]))
    report = validate_submission(path)
    assert at(report, "I403") == [
        (0, "2 of 3200 expected FileNames have no row: MSP-PODCAST_test3_3199.wav, MSP-PODCAST_test3_3200.wav")
    ]


def test_file_level_problems(tmp_path):
    report = check(tmp_path, GOOD_CATEGORICAL, name="sub.txt")
    assert codes(report) == ["F101"] and not report.valid
    report = check(tmp_path, b"")
    assert codes(report) == ["F102"]
    report = check(tmp_path, "\ufeff" + GOOD_CATEGORICAL)
    assert codes(report) == ["F104"]
    report = check(tmp_path, GOOD_CATEGORICAL.replace("\n", "\r\n"))
    assert codes(report) == ["F105"] and report.valid and report.warning_count == 1
    assert not check(tmp_path, GOOD_CATEGORICAL.replace("\n", "\r\n"), strict=True).valid
    report = check(tmp_path, GOOD_CATEGORICAL.replace("\n", "\r"))
    assert "F106" in codes(report) and not report.valid
    report = check(tmp_path, GOOD_CATEGORICAL.encode("utf-16"))
    assert codes(report) == ["F103"] and "UTF-16" in report.problems[0].message
    report = check(tmp_path, GOOD_CATEGORICAL.encode("utf-8").replace(b",A\n", b",\xe9\n"))
    assert at(report, "F103") == [(2, "byte 0xe9 at column 28 is not UTF-8; save the file as UTF-8")]


def test_semicolon_delimiter_is_reported_once_and_rows_still_checked(tmp_path):
    report = check(tmp_path, GOOD_CATEGORICAL.replace(",", ";").replace(f"{IDS[1]};S", f"{IDS[1]};s"))
    assert at(report, "F107")[0][0] == 1 and report.counts["F107"] == 1
    assert at(report, "C501") == [(3, "EmoClass 's' is lowercase; write 'S'")]


@pytest.mark.parametrize(
    "header, hint",
    [
        ("filename,emoclass", "case-sensitive"),
        ("FileName, EmoClass", "case-sensitive"),
        (",FileName,EmoClass", "index=False"),
    ],
)
def test_header_mismatch_is_explained(tmp_path, header, hint):
    report = check(tmp_path, categorical([f"{name},A" for name in IDS], header=header))
    assert report.task == "categorical"
    ((line, message),) = at(report, "H201")
    assert line == 1 and hint in message


def test_missing_header_treats_line_one_as_data(tmp_path):
    report = check(tmp_path, "".join(f"{name},A\n" for name in IDS))
    assert codes(report) == ["H201"] and "header line FileName,EmoClass is missing" in report.problems[0].message
    assert report.data_rows == 4 and report.missing_ids == 0


def test_unknown_header_and_forced_task(tmp_path):
    report = check(tmp_path, categorical([f"{name},A" for name in IDS], header="id,label"))
    assert report.task is None and "H202" in codes(report) and "pass --task" in at(report, "H202")[0][1]
    report = check(tmp_path, GOOD_CATEGORICAL, task="attributes")
    assert at(report, "H201")[0][1].endswith("(this is the Task 1 (categorical) header: check --task or the file)")
    assert report.counts["R301"] == 4


def test_row_structure_problems(tmp_path):
    content = categorical(
        [f"{IDS[0]},A", "", f"{IDS[1]},S,extra", f" {IDS[2]} ,H", f"{IDS[3]},", '"unterminated,A']
    )
    report = check(tmp_path, content)
    assert at(report, "R303") == [(3, "blank line; delete it")]
    assert at(report, "R301") == [(4, "3 field(s), expected 2 (FileName,EmoClass)")]
    assert at(report, "R304") == [(5, "whitespace around FileName; remove it")]
    assert at(report, "R302") == [(6, "EmoClass is empty")]
    assert at(report, "R305")[0][0] == 7
    assert report.data_rows == 5  # the blank line is not a data row


def test_id_problems(tmp_path):
    content = categorical(
        [f"{IDS[1]},A", f"{IDS[0]},S", f"{IDS[1]},H", "MSP-PODCAST_test3_0003,N", "msp-podcast_test3_0004.wav,N",
         "Audios/MSP-PODCAST_test3_0003.wav,N"]
    )
    report = check(tmp_path, content)
    assert at(report, "I401") == [(4, f"FileName '{IDS[1]}' duplicates line 2")]
    messages = dict(at(report, "I402"))
    assert messages[5].endswith("add the .wav extension")
    assert messages[6].endswith(f"FileNames are case-sensitive, expected {IDS[3]}")
    assert messages[7].endswith("write the bare file name, not a path")
    assert at(report, "I403") == [(0, f"2 of 4 expected FileNames have no row: {IDS[2]}, {IDS[3]}")]
    assert at(report, "I404")[0][0] == 3 and PROBLEM_CODES["I404"][0] == "warning"


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("a", "lowercase"),
        ("O", "not a test class"),
        ("X", "not a test class"),
        ("Angry", "class name; write the letter 'A'"),
        ("Neutral", "class name; write the letter 'N'"),
        ("7", "class index"),
        ("AN", "not one of A, S, H, U, F, D, C, N"),
    ],
)
def test_class_letters(tmp_path, value, fragment):
    report = check(tmp_path, categorical([f"{IDS[0]},{value}"] + [f"{name},N" for name in IDS[1:]]))
    ((line, message),) = at(report, "C501")
    assert line == 2 and fragment in message
    assert IDS[0] not in report.records


@pytest.mark.parametrize(
    "value, code",
    [("abc", "N601"), ("4,5", "N601"), ("1_0", "N601"), ("nan", "N602"), ("-inf", "N602"), ("Infinity", "N602"),
     ("0.99", "N603"), ("7.01", "N603"), ("1e400", "N603")],
)
def test_attribute_values(tmp_path, value, code):
    rows = [f"{IDS[0]},4,4,4", f"{IDS[1]},4,4,4", f"{IDS[2]},4,4,4", f'{IDS[3]},4,"{value}",4']
    report = check(tmp_path, "FileName,EmoAct,EmoVal,EmoDom\n" + "\n".join(rows) + "\n")
    assert codes(report) == [code] and at(report, code)[0][0] == 5 and "EmoVal" in at(report, code)[0][1]


@pytest.mark.parametrize("value", ["1", "7", "1.0", "6.999999", "+4", "4.", ".5e1", "4E0"])
def test_attribute_values_accepted(tmp_path, value):
    rows = [f"{name},{value},4,4" for name in IDS]
    assert check(tmp_path, "FileName,EmoAct,EmoVal,EmoDom\n" + "\n".join(rows)).valid


def test_cap_per_code_keeps_counting(tmp_path):
    content = categorical([f"{name},z" for name in IDS])
    report = check(tmp_path, content, max_per_code=2)
    assert report.counts["C501"] == 4 and len(at(report, "C501")) == 2
    assert report.omitted() == {"C501": 2}
    text = report.format_text().splitlines()
    assert text[-2].endswith("sub.csv: C501 and 2 more (EmoClass not one of ASHUFDCN)")
    assert "INVALID: 4 error(s), 0 warning(s) (C501 x4)" in text[-1]
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["omitted"] == {"C501": 2} and payload["valid"] is False and len(payload["problems"]) == 2
    assert len(check(tmp_path, content, max_per_code=0).problems) == 4


def test_lines_are_reported_as_path_line_code(tmp_path):
    report = check(tmp_path, categorical([f"{IDS[0]},A", f"{IDS[1]},q"] + [f"{n},N" for n in IDS[2:]]))
    first = report.format_text().splitlines()[0]
    assert first == f"{tmp_path / 'sub.csv'}:3: C501 EmoClass 'q' is not one of A, S, H, U, F, D, C, N (one uppercase letter)"


def test_unreadable_inputs_raise_toolkit_error(tmp_path):
    with pytest.raises(ToolkitError, match="not found"):
        validate_submission(tmp_path / "absent.csv")
    with pytest.raises(ToolkitError, match="is a directory"):
        validate_submission(tmp_path)
    with pytest.raises(ToolkitError, match="unknown task"):
        validate_submission(tmp_path / "absent.csv", task="regression")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=400),
    st.text(alphabet=st.sampled_from(list('ASHUFDCNaxO,;\t"\r\n .0123456789e-+nafiFileNameEmoClassActValDom\ufeff\x00é')),
            max_size=300),
    st.lists(st.sampled_from(IDS + ["", "A", "4.5", "nan", "x", '"', " "]), max_size=30).map(
        lambda parts: "FileName,EmoClass\n" + ",".join(parts)),
))
def test_fuzz_never_raises_and_reports_known_codes(tmp_path, content):
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    for task in (None, "categorical", "attributes"):
        report = check(tmp_path, data, task=task, max_per_code=3)
        assert set(report.counts) <= set(PROBLEM_CODES)
        assert report.valid == (report.error_count == 0)
        json.dumps(report.to_dict())
        report.format_text()


def test_a_corpus_inventory_sets_the_allowed_classes_and_the_messages(tmp_path):
    from toolkit.emotions import Inventory

    classes = Inventory.parse("A,K,N")
    report = check(tmp_path, categorical([f"{IDS[0]},K", f"{IDS[1]},S", f"{IDS[2]},calm", f"{IDS[3]},1"]),
                   classes=classes)
    assert at(report, "C501") == [
        (3, "EmoClass 'S' is not one of A, K, N (one uppercase letter)"),
        (4, "EmoClass 'calm' is a class name; write the letter 'K'"),
        (5, "EmoClass '1' is a class index; write the letter (in the toolkit's AKN order index 1 is 'K'; check "
            "which order your model uses)"),
    ]
    report = check(tmp_path, categorical([f"{IDS[0]},K", f"{IDS[1]},K", f"{IDS[2]},N", f"{IDS[3]},P9"]),
                   classes=Inventory.parse("K,N,P9 Pleasure"))
    assert report.valid


def test_cli_validate_learns_the_classes_from_manifest_or_classes(tmp_path):
    from click.testing import CliRunner

    from toolkit.cli import main

    manifest = tmp_path / "data/test/manifest.csv"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("FileName,EmoClass,soft_A,soft_K,soft_N,path\n" + "".join(f"{n},,,,,/x\n" for n in IDS))
    submission = tmp_path / "sub.csv"
    submission.write_text(categorical([f"{IDS[0]},K", f"{IDS[1]},A", f"{IDS[2]},N", f"{IDS[3]},K"]))
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(submission), "--manifest", str(manifest)]).exit_code == 0
    result = runner.invoke(main, ["validate", str(submission), "--ids", str(manifest.with_name("ids.txt"))])
    assert result.exit_code == 2  # no such id list
    (tmp_path / "ids.txt").write_text("\n".join(IDS) + "\n")
    result = runner.invoke(main, ["validate", str(submission), "--ids", str(tmp_path / "ids.txt")])
    assert result.exit_code == 1 and "EmoClass 'K' is not one of A, S, H, U, F, D, C, N" in result.output
    result = runner.invoke(main, ["validate", str(submission), "--ids", str(tmp_path / "ids.txt"), "--classes", "A,K,N"])
    assert result.exit_code == 0, result.output


def full_attributes_file(tmp_path, planted=None):
    """A Task 2 file of all 3,200 test3 FileNames with varied values; ``planted``: {row index: 'a,v,d'}."""
    rows = []
    for index, name in enumerate(challenge_test3_ids()):
        values = (planted or {}).get(index) or f"{1 + index % 7},{1 + (index * 0.37) % 6:.3f},{7 - index % 13 * 0.5}"
        rows.append(f"{name},{values}")
    path = tmp_path / "test3_attributes.csv"
    path.write_text("FileName,EmoAct,EmoVal,EmoDom\n" + "\n".join(rows) + "\n")
    return path


def test_a_full_size_attributes_file_is_valid_against_the_default_test3_ids(tmp_path):
    report = validate_submission(full_attributes_file(tmp_path))
    assert report.valid and report.problems == [], report.format_text()
    assert report.task == "attributes" and report.data_rows == 3200 and report.expected_ids == 3200
    assert report.missing_ids == 0 and len(report.records) == 3200
    assert report.records["MSP-PODCAST_test3_0001.wav"] == (1.0, 1.0, 7.0)
    assert report.records["MSP-PODCAST_test3_3200.wav"] == (1 + 3199 % 7, float(f"{1 + (3199 * 0.37) % 6:.3f}"),
                                                            7 - 3199 % 13 * 0.5)


def test_an_error_deep_in_a_full_size_attributes_file_is_reported_with_its_line(tmp_path):
    # Row index 2917 is FileName MSP-PODCAST_test3_2918.wav on line 2919 (the header is line 1).
    report = validate_submission(full_attributes_file(tmp_path, planted={2917: "4,7.5,4"}))
    assert not report.valid and report.counts == {"N603": 1} and report.data_rows == 3200
    assert at(report, "N603") == [(2919, "EmoVal '7.5' is outside [1, 7]; clip predictions to the 1-7 scale")]
    assert "MSP-PODCAST_test3_2918.wav" not in report.records and len(report.records) == 3199
    assert report.format_text().splitlines()[0].startswith(f"{tmp_path / 'test3_attributes.csv'}:2919: N603 ")

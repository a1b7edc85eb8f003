"""``toolkit validate``: exit codes 0/1/2, text and JSON output, id sources, no heavy imports, fuzzing."""

import json
import subprocess
import sys

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.cli import main
from toolkit.submission.formats import challenge_test3_ids

IDS = ["MSP-PODCAST_0001_0001.wav", "MSP-PODCAST_0001_0002.wav", "MSP-PODCAST_0002_0001.wav"]


def run(*args):
    return CliRunner().invoke(main, ["validate", *map(str, args)])


def write(path, text):
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_full_test3_file_is_valid_by_default(tmp_path):
    rows = "".join(f"{name},N\n" for name in challenge_test3_ids())
    result = run(write(tmp_path / "sub.csv", "FileName,EmoClass\n" + rows))
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("valid: Task 1 (categorical), 3200 data rows, 3200 expected FileNames")


def test_invalid_file_exits_1_with_located_problems(tmp_path):
    path = write(tmp_path / "sub.csv", "FileName,EmoClass\nMSP-PODCAST_test3_0001.wav,Angry\n")
    result = run(path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}:2: C501 EmoClass 'Angry' is a class name; write the letter 'A'"
    assert lines[1].startswith(f"{path}: I403 3199 of 3200 expected FileNames have no row")
    assert "INVALID: 2 error(s)" in lines[-1]


def test_unusable_arguments_exit_2(tmp_path):
    result = run(tmp_path / "absent.csv")
    assert result.exit_code == 2 and "not found" in result.stderr
    sub = write(tmp_path / "sub.csv", "FileName,EmoClass\n")
    ids = write(tmp_path / "ids.txt", "a.wav\n")
    assert run(sub, "--ids", ids, "--manifest", ids).exit_code == 2
    assert run(sub, "--split", "Train").exit_code == 2
    assert run(sub, "--task", "regression").exit_code == 2
    result = run(sub, "--ids", tmp_path / "absent.txt", "--format", "json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"].endswith("id list not found; check the path")


def test_ids_file_and_manifest_with_split(tmp_path):
    sub = write(tmp_path / "sub.csv", "FileName,EmoAct,EmoVal,EmoDom\n" + "".join(f"{n},4,4,4\n" for n in IDS))
    assert run(sub, "--ids", write(tmp_path / "ids.txt", "\n".join(IDS))).exit_code == 0
    manifest = write(
        tmp_path / "manifest.csv",
        "FileName,Split_Set,path\n" + "".join(f"{n},Development,/a/{n}\n" for n in IDS) + "MSP-PODCAST_9_9.wav,Train,/b\n",
    )
    assert run(sub, "--manifest", manifest).exit_code == 1
    assert run(sub, "--manifest", manifest, "--split", "Development").exit_code == 0


def test_json_output_matches_the_report(tmp_path):
    sub = write(tmp_path / "sub.csv", "FileName,EmoClass\r\n" + "".join(f"{n},z\r\n" for n in IDS))
    ids = write(tmp_path / "ids.txt", "\n".join(IDS))
    result = run(sub, "--ids", ids, "--format", "json", "--max-per-code", "1")
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and payload["valid"] is False
    assert payload["counts"] == {"C501": 3, "F105": 1} and payload["omitted"] == {"C501": 2}
    assert payload["problems"][0] == {"code": "C501", "severity": "error", "line": 2,
                                      "message": "EmoClass 'z' is not one of A, S, H, U, F, D, C, N (one uppercase letter)"}


def test_warnings_pass_unless_strict(tmp_path):
    sub = write(tmp_path / "sub.csv", "FileName,EmoClass\r\n" + "".join(f"{n},A\r\n" for n in reversed(IDS)))
    ids = write(tmp_path / "ids.txt", "\n".join(IDS))
    result = run(sub, "--ids", ids)
    assert result.exit_code == 0 and "F105 (warning)" in result.stdout and "I404 (warning)" in result.stdout
    assert run(sub, "--ids", ids, "--strict").exit_code == 1


def test_validate_imports_no_heavy_library_not_even_numpy(tmp_path):
    sub = write(tmp_path / "sub.csv", "FileName,EmoClass\n" + "".join(f"{n},N\n" for n in challenge_test3_ids()))
    code = (
        "import sys\nfrom toolkit.cli import main\nsys.argv = ['toolkit', 'validate', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    status = exit.code\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'pandas', 'sklearn', 'scipy', 'numpy') if m in sys.modules)\n"
        "print(status, heavy)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(sub)], capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines()[-1] == "0 []"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200), options=st.sampled_from([[], ["--format", "json"], ["--task", "attributes"]]))
def test_cli_fuzz_never_tracebacks(tmp_path, content, options):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    result = run(path, *options)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if options[:1] == ["--format"]:
        json.loads(result.stdout)

import json
import subprocess
import sys

from click.testing import CliRunner

from toolkit.cli import main
from tests.inference.conftest import fbank_system, write_audio  # noqa: F401  (fixture)


def test_export_then_predict_a_directory_as_csv_json_and_table(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    runner = CliRunner()
    exported = runner.invoke(main, ["export", str(ensemble_dir), str(tmp_path / "bundle"), "--encoder-dir", str(encoder_dir)])
    assert exported.exit_code == 0, exported.output
    write_audio(tmp_path / "audio", 2)
    as_json = runner.invoke(main, ["predict", str(tmp_path / "bundle"), str(tmp_path / "audio"), "--format", "json", "--device", "cpu"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert [r["file"].rsplit("/", 1)[1] for r in rows] == ["utt0.wav", "utt1.wav"]
    assert all(r["EmoClass"] in "ASHUFDCN" and 1 <= r["EmoAct"] <= 7 and r["error"] == "" for r in rows)
    out = tmp_path / "predictions.csv"
    as_csv = runner.invoke(main, ["predict", str(tmp_path / "bundle"), str(tmp_path / "audio" / "utt1.wav"),
                                  "--format", "csv", "--output", str(out), "--device", "cpu"])
    assert as_csv.exit_code == 0, as_csv.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("file,EmoClass,prob_A,") and lines[0].endswith("EmoAct,EmoVal,EmoDom,error")
    assert lines[1].split(",")[1] == rows[1]["EmoClass"]
    table = runner.invoke(main, ["predict", str(tmp_path / "bundle"), str(tmp_path / "audio"), "--device", "cpu"])
    assert table.stdout.splitlines()[0].split()[:3] == ["file", "EmoClass", "prob_A"]


def test_predict_exits_non_zero_when_a_file_fails(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    CliRunner().invoke(main, ["export", str(ensemble_dir), str(tmp_path / "bundle"), "--encoder-dir", str(encoder_dir)])
    (tmp_path / "bad.wav").write_bytes(b"nope")
    result = CliRunner().invoke(main, ["predict", str(tmp_path / "bundle"), str(tmp_path / "bad.wav"), "--device", "cpu"])
    assert result.exit_code == 1
    assert "1 of 1 file(s) could not be predicted" in result.output


def test_the_predict_module_does_not_import_torch_at_import_time():
    code = "import sys, toolkit.cli.predict, toolkit.cli.ensemble; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_predict_a_manifest_onto_another_corpus_classes_and_write_leaderboard_files(tmp_path, fbank_system):
    import pandas as pd

    ensemble_dir, encoder_dir = fbank_system
    runner = CliRunner()
    assert runner.invoke(main, ["export", str(ensemble_dir), str(tmp_path / "bundle"), "--encoder-dir",
                                str(encoder_dir)]).exit_code == 0
    paths = write_audio(tmp_path / "audio", 3)
    manifest = tmp_path / "data" / "fold1" / "test" / "manifest.csv"
    manifest.parent.mkdir(parents=True)
    pd.DataFrame({"FileName": ["a.wav", "b.wav", "c.wav"], "EmoClass": ["A", "S", "N"],
                  "soft_A": "", "soft_S": "", "soft_H": "", "soft_N": "", "path": [str(p) for p in paths]}
                 ).to_csv(manifest, index=False)
    result = runner.invoke(main, ["predict", str(tmp_path / "bundle"), "--manifest", str(manifest), "--format", "json",
                                  "--submissions-dir", str(tmp_path / "subs"), "--tag", "cross", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["FileName"] for row in rows] == ["a.wav", "b.wav", "c.wav"]
    # the system's 8 classes restricted to the manifest's 4 and renormalised
    assert all(row["EmoClass"] in "ASHN" and abs(sum(row[f"prob_{c}"] for c in "ASHN") - 1) < 1e-4 for row in rows)
    assert "prob_U" not in rows[0]
    scored = runner.invoke(main, ["score", str(tmp_path / "subs" / "cross_categorical.csv"), "--reference", str(manifest)])
    assert scored.exit_code == 0, scored.output
    assert runner.invoke(main, ["predict", str(tmp_path / "bundle"), "--device", "cpu"]).exit_code == 1

from click.testing import CliRunner

from tests.features.conftest import write_manifest
from toolkit.cli import main
from toolkit.features.store import FeatureStore


def test_extract_command_writes_a_store_and_reruns_as_a_no_op(tmp_path):
    manifest = write_manifest(tmp_path, durations=[0.5, 1.0, 0.3])
    encoder = tmp_path / "fbank.yaml"
    encoder.write_text("kind: fbank\n")
    arguments = ["extract", str(manifest), str(tmp_path / "store"), "--encoder", str(encoder), "--device", "cpu"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert len(FeatureStore(tmp_path / "store")) == 3
    assert CliRunner().invoke(main, arguments).exit_code == 0


def test_extract_command_shards_then_merges(tmp_path):
    manifest = write_manifest(tmp_path, durations=[0.5, 1.0, 0.3, 0.7])
    encoder = tmp_path / "fbank.yaml"
    encoder.write_text("kind: fbank\n")
    base = ["extract", str(manifest), str(tmp_path / "store"), "--encoder", str(encoder), "--nj", "2"]
    for job in ("1", "2"):
        assert CliRunner().invoke(main, base + ["--job", job]).exit_code == 0
    assert not (tmp_path / "store" / ".done").exists()
    assert CliRunner().invoke(main, base + ["--merge"]).exit_code == 0
    assert len(FeatureStore(tmp_path / "store")) == 4


def test_extract_command_explains_a_bad_config_without_a_traceback(tmp_path):
    manifest = write_manifest(tmp_path, durations=[0.5])
    encoder = tmp_path / "bad.yaml"
    encoder.write_text("kind: fbank\nlayer: last4\n")
    result = CliRunner().invoke(main, ["extract", str(manifest), str(tmp_path / "store"), "--encoder", str(encoder)])
    assert result.exit_code == 1
    assert "error:" in result.output and "bad.yaml: unknown key(s) layer" in result.output
    assert "Traceback" not in result.output

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from tests.training.corpus import tiny_overrides, write_corpus
from toolkit.features.store import FeatureStore
from toolkit.predictions import read_predictions
from toolkit.training.checkpoint import load_member, read_checkpoint
from toolkit.training.config import load_config
from toolkit.training.history import METRIC_COLUMNS
from toolkit.training.inference import predict_batch
from toolkit.training.trainer import moving_average_update, train_member
from toolkit.utils.errors import ToolkitError


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"), per_class=4)


def _config(root, *extra, epochs=2):
    return load_config(None, tiny_overrides(root, epochs=epochs) + list(extra))


def _metrics(exp):
    return pd.read_csv(exp / "metrics.csv").drop(columns="seconds")


@pytest.fixture(scope="module")
def larger_corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("larger"), per_class=8)


@pytest.fixture(scope="module")
def trained(larger_corpus, tmp_path_factory):
    """Stage 1 then stage 2 of one member on the synthetic corpus."""
    exp = tmp_path_factory.mktemp("exp") / "member"
    config = _config(larger_corpus, "stage1.max_epochs=4", "stage2.max_epochs=2")
    first = train_member(config, exp, 1, device="cpu")
    stage1_rows = len(pd.read_csv(exp / "metrics.csv"))
    second = train_member(config, exp, 2, device="cpu", predict_train=True)
    return exp, first, second, stage1_rows


def test_stages_write_the_documented_files(trained):
    exp, first, second, stage1_rows = trained
    assert first.finished and second.finished and stage1_rows == 4
    for name in ("best.pt", "config.yaml", "metrics.png", "stage1/best.pt", "stage1/last.pt", ".stage1.done",
                 ".stage2.done", "stage2/last.pt", "stage1/predictions/test3.csv"):
        assert (exp / name).exists(), name
    assert (exp / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = pd.read_csv(exp / "metrics.csv")
    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics["stage"].tolist() == [1, 1, 1, 1, 2, 2]
    assert metrics["lr"].tolist() == [3e-3] * 4 + [1e-3] * 2
    selected = read_checkpoint(exp / "best.pt")
    assert selected["dev_macro_f1"] == pytest.approx(metrics["dev_macro_f1"].max(), abs=1e-5)
    assert load_config(exp / "config.yaml").to_dict() == selected["config"]


def test_the_model_learns_the_synthetic_classes(trained):
    exp = trained[0]
    # Chance level is 0.125 for 8 balanced classes.
    assert pd.read_csv(exp / "metrics.csv")["dev_macro_f1"].max() > 0.5


def test_predictions_cover_each_split_and_match_predict_batch(trained, larger_corpus):
    exp, corpus = trained[0], larger_corpus
    expected_rows = {"development": 34, "test3": 8, "train": 68}
    for split, rows in expected_rows.items():
        frame = read_predictions(exp / "predictions" / f"{split}.csv")
        assert len(frame) == rows and frame["FileName"].is_monotonic_increasing
    model, config = load_member(exp)
    assert [spec.name for spec in model.streams] == config.data.streams == ["acoustic", "text"]
    frame = read_predictions(exp / "predictions" / "development.csv").head(5)
    stores = {name: FeatureStore(corpus / "features" / name / "development") for name in config.data.streams}
    logits, attributes = predict_batch(model, {name: [store[f] for f in frame["FileName"]] for name, store in stores.items()})
    np.testing.assert_allclose(logits, frame[[c for c in frame.columns if c.startswith("logit_")]].to_numpy(),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(attributes, frame[["EmoAct", "EmoVal", "EmoDom"]].to_numpy(), rtol=1e-4, atol=1e-4)


def test_a_finished_stage_is_skipped_on_rerun(trained, larger_corpus):
    exp = trained[0]
    stamp = (exp / "best.pt").stat().st_mtime_ns
    result = train_member(_config(larger_corpus), exp, 2, device="cpu")
    assert result.finished and (exp / "best.pt").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("options", [(), ("model.frame_mask=0.3", "train.ema_decay=0.9", "train.ema_warmup=true")])
def test_runs_are_deterministic_and_resume_mid_epoch_matches_an_uninterrupted_run(corpus, tmp_path, options):
    # Dropout and frequent MixUp make the random state matter; 36 rows / batch 8 = 5 steps per epoch.
    # Frame masking draws from the same random state, and the weight average (with its update count,
    # which sets the warm-up's decay) lives in the checkpoint.
    extra = ("model.dropout=0.2", "mixup.p=0.7", "train.checkpoint_every_steps=2", *options)
    config = _config(corpus, *extra)
    train_member(config, tmp_path / "a", 1, device="cpu")
    train_member(config, tmp_path / "b", 1, device="cpu")
    stopped = train_member(config, tmp_path / "c", 1, device="cpu", stop_after_steps=3)
    assert not stopped.finished and not (tmp_path / "c" / "best.pt").exists()
    with pytest.raises(ToolkitError, match="pass --resume"):
        train_member(config, tmp_path / "c", 1, device="cpu")
    resumed = train_member(config, tmp_path / "c", 1, device="cpu", resume=True)
    assert resumed.finished
    reference = _metrics(tmp_path / "a")
    for other in ("b", "c"):
        pd.testing.assert_frame_equal(_metrics(tmp_path / other), reference)
        state = read_checkpoint(tmp_path / other / "best.pt")["model_state"]
        for name, tensor in read_checkpoint(tmp_path / "a" / "best.pt")["model_state"].items():
            assert torch.equal(state[name], tensor), name


@pytest.mark.parametrize("ablation", [
    ("loss.targets=onehot",),
    ("loss.targets=onehot", "loss.ambiguous_rows=attributes"),
    ("model.fusion=late",),
    ("mixup.p=0",),
    ("loss.multitask=false",),
    ("model.pooling=attentive_stats", "train.grad_accumulation=2", "loss.attribute_loss=ccc"),
    ("model.fusion_projection=false", "mixup.per_sample=false", "mixup.p=1"),
    ("model.fusion=late", "model.frame_mask=0.5", "model.frame_mask_span=2"),
])
def test_every_ablation_switch_runs(corpus, tmp_path, ablation):
    result = train_member(_config(corpus, *ablation, epochs=1), tmp_path, 1, device="cpu")
    assert result.finished
    assert len(read_predictions(tmp_path / "predictions" / "development.csv")) == 18
    saved = read_checkpoint(tmp_path / "best.pt")["config"]
    for override in ablation:
        key, value = override.split("=")
        section, name = key.split(".")
        assert saved[section][name] == yaml.safe_load(value)


def test_with_ema_decay_the_selected_checkpoint_holds_the_averaged_weights(corpus, tmp_path):
    train_member(_config(corpus, "train.ema_decay=0.5", epochs=1), tmp_path, 1, device="cpu")
    last = torch.load(tmp_path / "stage1" / "last.pt", map_location="cpu", weights_only=False)
    selected = read_checkpoint(tmp_path / "stage1" / "best.pt")["model_state"]
    averaged = {name[len("module."):]: tensor for name, tensor in last["averaged_state"].items()
                if name.startswith("module.")}
    assert averaged.keys() == selected.keys()
    for name, tensor in selected.items():
        assert torch.equal(tensor, averaged[name]), name
    trained = last["model_state"]["class_head.weight"]
    assert not torch.equal(selected["class_head.weight"], trained)


def test_the_moving_average_warm_up_follows_the_model_early_and_holds_the_decay_later():
    def one_update(warmup, updates_so_far):
        average = [torch.zeros(3)]
        moving_average_update(0.99, warmup)(average, [torch.ones(3)], torch.tensor(updates_so_far))
        return average[0]

    # After one update the decay is 2/11: the average is mostly the trained weights, not the start.
    assert torch.allclose(one_update(True, 1), torch.full((3,), 9 / 11))
    assert torch.allclose(one_update(True, 10_000), torch.full((3,), 0.01))
    assert torch.allclose(one_update(False, 1), torch.full((3,), 0.01))


def test_resuming_a_run_started_without_fusion_projection_names_the_key_to_set(corpus, tmp_path):
    started = _config(corpus, "model.fusion_projection=false", epochs=1)
    assert not train_member(started, tmp_path, 1, device="cpu", stop_after_steps=1).finished
    with pytest.raises(ToolkitError, match="needs --set model.fusion_projection=false"):
        train_member(_config(corpus, epochs=1), tmp_path, 1, device="cpu", resume=True)
    assert train_member(started, tmp_path, 1, device="cpu", resume=True).finished


def test_stage2_needs_stage1(corpus, tmp_path):
    with pytest.raises(ToolkitError, match="run --medusa-stage 1 first"):
        train_member(_config(corpus), tmp_path, 2, device="cpu")


def test_stage2_refuses_a_different_model_than_stage1(trained, larger_corpus, tmp_path):
    import shutil

    exp = tmp_path / "copy"
    shutil.copytree(trained[0] / "stage1", exp / "stage1")
    with pytest.raises(ToolkitError, match="model.hidden_dim"):
        train_member(_config(larger_corpus, "model.hidden_dim=8"), exp, 2, device="cpu")


def test_nan_features_stop_training_with_the_utterance_named_even_from_a_worker(tmp_path):
    root = write_corpus(tmp_path / "corpus", per_class=1, ambiguous=0)
    store = FeatureStore(root / "features" / "text" / "train")
    first = store.ids[0]
    shard = np.memmap(root / "features" / "text" / "train" / "shards" / "1of1.f16", dtype=np.float16, mode="r+")
    shard[1] = np.nan
    shard.flush()
    with pytest.raises(ToolkitError, match=f"^{store.store_dir}: features of {first} contain NaN") as error:
        train_member(_config(root, "data.num_workers=1", epochs=1), tmp_path / "exp", 1, device="cpu")
    assert "Traceback" not in str(error.value)


def test_checkpoints_carry_the_input_statistics_of_the_training_split(trained, larger_corpus):
    from toolkit.training.dataset import load_split
    from toolkit.training.normalization import feature_statistics

    exp = trained[0]
    data = load_split(larger_corpus / "data", larger_corpus / "features", ["acoustic", "text"], "train", targets="soft")
    (mean, std), _ = feature_statistics(data, max_utterances=2000)
    for checkpoint in ("stage1/best.pt", "best.pt"):
        state = read_checkpoint(exp / checkpoint)["model_state"]
        np.testing.assert_allclose(state["legs.0.input_mean"].numpy(), mean, rtol=1e-6)
        np.testing.assert_allclose(state["legs.0.input_std"].numpy(), std, rtol=1e-6)


def test_a_four_class_corpus_trains_a_four_class_head_and_writes_its_own_columns(tmp_path):
    root = write_corpus(tmp_path / "corpus", per_class=6, codes="ASHN")
    summary = {"classes": [{"code": "A", "name": "Anger"}, {"code": "S", "name": "Sadness"},
                           {"code": "H", "name": "Happiness"}, {"code": "N", "name": "Neutral"}]}
    (root / "data" / "prepare_summary.json").write_text(json.dumps(summary))
    config = _config(root, "stage1.max_epochs=3", "stage2.max_epochs=1")
    exp = tmp_path / "exp"
    train_member(config, exp, 1, device="cpu")
    train_member(config, exp, 2, device="cpu")
    checkpoint = read_checkpoint(exp / "best.pt")
    assert checkpoint["classes"] == summary["classes"]
    model, _ = load_member(exp)
    assert model.class_head.out_features == 4
    frame = read_predictions(exp / "predictions" / "test3.csv")
    assert list(frame.columns) == ["FileName", "logit_A", "logit_S", "logit_H", "logit_N", "EmoAct", "EmoVal", "EmoDom"]
    metrics = pd.read_csv(exp / "metrics.csv")
    assert [c for c in metrics.columns if c.startswith("dev_f1_")] == ["dev_f1_A", "dev_f1_S", "dev_f1_H", "dev_f1_N"]
    # Macro-F1 over the 4 classes, not 8: a perfect 4-class model would score 1.0, not 0.5
    assert metrics["dev_macro_f1"].max() > 0.6

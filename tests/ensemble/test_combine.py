import json

import numpy as np
import pandas as pd
import pytest

from toolkit.emotions import EMOTION_CODES
from toolkit.ensemble.combine import EnsembleConfig, held_out_predictions, run_ensemble
from toolkit.ensemble.members import load_members
from toolkit.ensemble.meta_classifier import MetaConfig, fit_meta_classifier
from toolkit.ensemble.methods import MemberOutputs
from toolkit.ensemble.results import score_rows
from toolkit.metrics import macro_f1
from toolkit.utils.errors import ToolkitError

from .conftest import Corpus

FAST = EnsembleConfig(folds=3, soup_runs=2, seed=1, meta=MetaConfig(max_iterations=60), weight_decay_grid=(),
                      auto_resamples=200)
SYSTEMS = ["member m0", "member m1", "member m2", "soft voting", "hard voting", "best single member",
           "weighted pool", "meta-classifier", "soup"]


def outputs(members):
    return MemberOutputs(np.stack([m.posteriors for m in members]), np.stack([m.attributes for m in members]))


def test_end_to_end_writes_table_system_report_and_valid_leaderboard_files(tmp_path):
    # Member m2 reliably predicts the wrong class (true + 1): voting suffers, the meta-classifier learns it.
    corpus = Corpus(tmp_path, accuracies=(0.5, 0.45, 0.85), shifts=(0, 0, 1))
    out_dir = tmp_path / "exp" / "tag" / "ensemble"
    result = run_ensemble(corpus.members, corpus.manifest, out_dir, tmp_path / "submissions", "tag",
                          config=FAST, report_path=tmp_path / "exp" / "tag" / "report.md")
    table = pd.read_csv(out_dir / "combination.csv").set_index("system")
    assert list(table.index) == SYSTEMS
    assert table.loc["soup", "macro_f1"] > table.loc["soft voting", "macro_f1"] + 0.1
    assert table.loc["meta-classifier", "macro_f1"] > table.loc["best single member", "macro_f1"]
    assert table.loc["soup", "rows_f1"] == int((corpus.dev_classes >= 0).sum())
    assert {"ua", "wa"} <= set(table.columns)
    # auto submits the meta-classifier or soup here: a weight per member cannot undo m2's shift, a
    # weight per member and class can, so they beat the default pool by far more than the noise
    assert table.loc["meta-classifier", "macro_f1"] > table.loc["weighted pool", "macro_f1"] + 0.1
    assert result.chosen in ("meta", "soup") and table["submitted"].sum() == 1
    assert "beats the default, weighted pool" in result.choice_reason
    system = json.loads((out_dir / "system.json").read_text())
    assert system["submitted"] == result.chosen and system["combiner"]["method"] == result.chosen
    assert "one standard error" in system["choice"] and system["members"] == ["m0", "m1", "m2"]

    categorical = pd.read_csv(tmp_path / "submissions" / "tag_categorical.csv")
    attributes = pd.read_csv(tmp_path / "submissions" / "tag_attributes.csv")
    assert list(categorical.columns) == ["FileName", "EmoClass"]
    assert list(attributes.columns) == ["FileName", "EmoAct", "EmoVal", "EmoDom"]
    assert categorical["FileName"].tolist() == sorted(corpus.test_names)
    assert set(categorical["EmoClass"]) <= set(EMOTION_CODES)
    assert attributes[["EmoAct", "EmoVal", "EmoDom"]].to_numpy().min() >= 1.0
    test_predictions = pd.read_csv(out_dir / "predictions" / "test3.csv")
    assert [EMOTION_CODES[i] for i in test_predictions.filter(like="logit_").to_numpy().argmax(axis=1)] == \
        categorical["EmoClass"].tolist()
    # The submitted system on test3 is right far more often than chance (m2's shift corrected).
    accuracy = (categorical["EmoClass"] == [EMOTION_CODES[c] for c in corpus.test_classes]).mean()
    assert accuracy > 0.6

    report = (tmp_path / "exp" / "tag" / "report.md").read_text()
    assert "# tag: ensemble report" in report and "| soup |" in report and "**Submitted:" in report
    for figure in ("combination", "confusion_submitted", "per_class_f1", "test_distribution"):
        assert (tmp_path / "exp" / "tag" / "figures" / f"{figure}.png").stat().st_size > 1000
    assert result.test_classes.shape == (len(corpus.test_names),)


def test_auto_without_a_default_prefers_a_simpler_method_within_one_standard_error_and_combine_forces_one(tmp_path):
    # Three equally good, independent members: voting is as good as any fitted method.
    from dataclasses import replace

    corpus = Corpus(tmp_path, accuracies=(0.6, 0.6, 0.6), shifts=(0, 0, 0), dev_rows=200, test_rows=16)
    result = run_ensemble(corpus.members, corpus.manifest, tmp_path / "auto", None, "t",
                          config=replace(FAST, auto_default=None))
    assert result.chosen in ("soft-vote", "hard-vote"), result.choice_reason
    assert "--combine auto" in result.choice_reason and "default" not in result.choice_reason

    forced = run_ensemble(corpus.members, corpus.manifest, tmp_path / "soup", None, "t",
                          config=replace(FAST, combine="soup"))
    assert forced.chosen == "soup" and forced.choice_reason == "--combine soup (chosen by the user)"
    with pytest.raises(ToolkitError, match="an ensemble combines 2 or more members, got 1"):
        run_ensemble(corpus.members[:1], corpus.manifest, tmp_path / "one", None, "t", config=FAST)


def test_rerun_is_skipped_until_inputs_or_settings_change(tmp_path):
    corpus = Corpus(tmp_path, dev_rows=120, test_rows=16)
    out_dir = tmp_path / "ensemble"
    arguments = (corpus.members, corpus.manifest, out_dir, tmp_path / "submissions", "t")
    assert run_ensemble(*arguments, config=FAST) is not None
    stamp = (out_dir / "system.json").stat().st_mtime_ns
    assert run_ensemble(*arguments, config=FAST) is None
    assert (out_dir / "system.json").stat().st_mtime_ns == stamp
    (tmp_path / "submissions" / "t_attributes.csv").unlink()
    assert run_ensemble(*arguments, config=FAST) is not None
    from dataclasses import replace

    assert run_ensemble(*arguments, config=replace(FAST, soup_runs=1)) is not None


def test_held_out_scores_do_not_leak_labels(tmp_path):
    # Labels independent of the inputs: a score on rows the meta-classifier was fitted on would be
    # well above chance (it memorises), the out-of-fold score must stay near chance (1/8).
    corpus = Corpus(tmp_path, accuracies=(0.0,) * 8, shifts=(0,) * 8, dev_rows=160, test_rows=8, seed=3)
    members = outputs(load_members(corpus.members, "development"))
    classes = np.random.default_rng(9).integers(0, 8, 160)
    attributes = np.random.default_rng(10).uniform(1, 7, (160, 3))
    config = EnsembleConfig(folds=4, soup_runs=1, seed=0, meta=MetaConfig(weight_decay=1e-6, max_iterations=100),
                            weight_decay_grid=())
    held_out = held_out_predictions(members, classes, attributes, config)
    in_sample = fit_meta_classifier(members.stacked(), classes, attributes, config=config.meta)
    in_sample_f1 = macro_f1(classes, in_sample.apply(members.stacked())[0].argmax(axis=1), 8)
    assert in_sample_f1 > 0.4
    assert score_rows(classes, attributes, held_out["meta"], 8)["macro_f1"] < 0.25


def test_manifest_that_does_not_match_the_members_is_an_error(tmp_path):
    corpus = Corpus(tmp_path, dev_rows=60, test_rows=8)
    frame = pd.read_csv(corpus.manifest)
    frame.iloc[1:].to_csv(corpus.manifest, index=False)
    with pytest.raises(ToolkitError, match=r"FileNames differ from .*manifest\.csv.*1 extra FileName"):
        run_ensemble(corpus.members, corpus.manifest, tmp_path / "out", None, "t", config=FAST)


def test_test_key_scores_the_written_leaderboard_files(tmp_path):
    corpus = Corpus(tmp_path, accuracies=(0.9, 0.9), shifts=(0, 0), dev_rows=120, test_rows=40)
    key = tmp_path / "test3_labels.csv"
    pd.DataFrame({
        "FileName": corpus.test_names, "EmoClass": [EMOTION_CODES[c] for c in corpus.test_classes],
        "EmoAct": corpus.test_attributes[:, 0], "EmoVal": corpus.test_attributes[:, 1],
        "EmoDom": corpus.test_attributes[:, 2],
    }).to_csv(key, index=False)
    result = run_ensemble(corpus.members, corpus.manifest, tmp_path / "out", tmp_path / "subs", "k",
                          config=FAST, test_key=key, report_path=tmp_path / "report.md")
    expected = macro_f1(corpus.test_classes, result.test_classes, 8)
    assert result.test_scores["macro_f1"] == pytest.approx(expected)
    assert result.test_scores["macro_f1"] > 0.7
    assert result.test_scores["ccc_mean"] > 0.8
    # every member and method on test3, the submitted one marked and equal to the leaderboard file's score
    test_table = pd.read_csv(tmp_path / "out" / "test_scores.csv").set_index("system")
    assert list(test_table.index) == ["member m0", "member m1", "soft voting", "hard voting", "best single member",
                                      "weighted pool", "meta-classifier", "soup"]
    submitted = test_table[test_table["submitted"] == True]  # noqa: E712
    assert len(submitted) == 1 and submitted["macro_f1"].iloc[0] == pytest.approx(expected)
    assert "## Test split (against the key)" in (tmp_path / "report.md").read_text()


def test_probes_are_scored_for_reference_and_combined_only_as_members(tmp_path):
    corpus = Corpus(tmp_path, accuracies=(0.7, 0.6, 0.5), shifts=(0, 0, 0), dev_rows=120, test_rows=16)
    result = run_ensemble(corpus.members[:2], corpus.manifest, tmp_path / "out", None, "p", config=FAST,
                          probe_dirs=[corpus.members[2]])
    systems = [row["system"] for row in result.table]
    assert systems[:3] == ["member m0", "member m1", "probe m2"]
    assert result.member_names == ["m0", "m1"] and result.probe_names == ["m2"]


def test_a_corpus_inventory_flows_through_soup_report_leaderboard_files_and_scores(tmp_path):
    corpus = Corpus(tmp_path, accuracies=(0.8, 0.7), shifts=(0, 0), dev_rows=120, test_rows=40, codes="ASHN")
    key = tmp_path / "test_labels.csv"
    pd.DataFrame({
        "FileName": corpus.test_names, "EmoClass": [corpus.codes[c] for c in corpus.test_classes],
        "EmoAct": corpus.test_attributes[:, 0], "EmoVal": corpus.test_attributes[:, 1],
        "EmoDom": corpus.test_attributes[:, 2],
        **{f"soft_{code}": [float(c == i) for c in corpus.test_classes] for i, code in enumerate(corpus.codes)},
    }).to_csv(key, index=False)
    from dataclasses import replace

    result = run_ensemble(corpus.members, corpus.manifest, tmp_path / "out", tmp_path / "subs", "four",
                          config=replace(FAST, combine="soup"), test_key=key, report_path=tmp_path / "report.md")
    assert result.inventory.codes == ("A", "S", "H", "N")
    system = json.loads((tmp_path / "out" / "system.json").read_text())
    assert [c["code"] for c in system["classes"]] == ["A", "S", "H", "N"]
    weights = system["combiner"]["weights"]["weight"]
    assert len(weights) == 4 + 3 and len(weights[0]) == 2 * (4 + 3)
    submitted = pd.read_csv(tmp_path / "subs" / "four_categorical.csv", dtype=str)
    assert set(submitted["EmoClass"]) <= set("ASHN")
    # scored over the 4 classes: Macro-F1 equals sklearn's over exactly those labels
    assert result.test_scores["macro_f1"] == pytest.approx(macro_f1(corpus.test_classes, result.test_classes, 4))
    assert result.test_scores["macro_f1"] > 0.7
    per_class = pd.read_csv(tmp_path / "out" / "per_class_f1.csv")
    assert list(per_class.columns) == ["system", "A", "S", "H", "N"]
    assert "Classes (4): A Anger, S Sadness, H Happiness, N Neutral." in (tmp_path / "report.md").read_text()


def test_members_over_different_inventories_are_an_error(tmp_path):
    four = Corpus(tmp_path / "four", accuracies=(0.8,), shifts=(0,), dev_rows=40, codes="ASHN")
    eight = Corpus(tmp_path / "eight", accuracies=(0.8,), shifts=(0,), dev_rows=40)
    other = eight.members[0].rename(eight.members[0].with_name("eight_class"))
    with pytest.raises(ToolkitError, match=r"predicts classes A,S,H,U,F,D,C,N, but .* predicts A,S,H,N"):
        run_ensemble([four.members[0], other], four.manifest, tmp_path / "out", None, "t", config=FAST)

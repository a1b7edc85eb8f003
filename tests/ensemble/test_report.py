import numpy as np

from toolkit.emotions import CHALLENGE
from toolkit.ensemble.methods import SIMPLICITY, TITLES
from toolkit.ensemble.report import read_training_curves, write_report
from toolkit.ensemble.results import EnsembleResult, SystemPredictions
from toolkit.training.history import METRIC_COLUMNS, write_metrics


def synthetic_result(tmp_path, member_dirs):
    rng = np.random.default_rng(0)
    rows = 80
    classes = rng.integers(-1, 8, rows)
    attributes = rng.uniform(1, 7, (rows, 3))

    def predictions():
        return SystemPredictions(rng.integers(0, 8, rows), rng.uniform(1, 7, (rows, 3)), rng.dirichlet(np.ones(8), rows))

    names = [d.name for d in member_dirs]
    table = [{"system": TITLES[m], "protocol": "x", "macro_f1": 0.3, "ua": 0.3, "wa": 0.3, "ccc_EmoAct": 0.1,
              "ccc_EmoVal": 0.2, "ccc_EmoDom": 0.3, "ccc_mean": 0.2, "submitted": m == "soup"} for m in SIMPLICITY]
    return EnsembleResult(
        inventory=CHALLENGE, member_names=names, member_dirs=[str(d) for d in member_dirs], probe_names=[],
        dev_file_names=[f"f{i}.wav" for i in range(rows)], dev_classes=classes, dev_attributes=attributes,
        reference_predictions={name: predictions() for name in names},
        held_out={method: predictions() for method in SIMPLICITY}, table=table, chosen="soup",
        choice_reason="--combine soup (chosen by the user)",
        test_file_names=["t1.wav", "t2.wav", "t3.wav"], test_classes=np.array([0, 0, 7]),
        test_attributes=np.full((3, 3), 4.0), submission_paths=["submissions/x_categorical.csv"],
    )


def test_report_draws_training_curves_of_members_that_have_them_and_names_the_others(tmp_path):
    with_curves, without = tmp_path / "members" / "a", tmp_path / "members" / "b"
    with_curves.mkdir(parents=True)
    without.mkdir(parents=True)
    rows = [{column: 0.5 for column in METRIC_COLUMNS} | {"stage": stage, "epoch": epoch}
            for stage, epoch in ((1, 1), (1, 2), (2, 1))]
    write_metrics(with_curves / "metrics.csv", rows)
    report = write_report(synthetic_result(tmp_path, [with_curves, without]), tmp_path / "exp" / "report.md", title="t")
    text = report.read_text()
    assert "Per-epoch train_loss, dev_macro_f1, dev_ccc_mean." in text
    assert "No per-epoch metrics.csv in: b." in text
    assert "| files | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 1 |" in text
    assert "`submissions/x_categorical.csv`" in text
    for name in ("training_curves", "confusion_submitted", "per_class_f1", "combination", "test_distribution"):
        assert (tmp_path / "exp" / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_report_without_any_curves_still_writes(tmp_path):
    member = tmp_path / "m"
    member.mkdir()
    (member / "metrics.csv").write_text("")
    assert read_training_curves(member) is None
    text = write_report(synthetic_result(tmp_path, [member]), tmp_path / "report.md").read_text()
    assert "No per-epoch metrics.csv in: m." in text
    assert not (tmp_path / "figures" / "training_curves.png").exists()

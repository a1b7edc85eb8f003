from toolkit.training.history import METRIC_COLUMNS, plot_metrics, read_metrics, write_metrics


def _row(stage, epoch, f1):
    row = {column: 0.0 for column in METRIC_COLUMNS}
    row.update(stage=stage, epoch=epoch, dev_macro_f1=f1, train_loss=2.0 - f1, dev_ce=1.5, dev_ccc_mean=0.3)
    return row


def test_metrics_round_trip_in_the_fixed_column_order_and_plot(tmp_path):
    rows = [_row(1, 1, 0.2), _row(1, 2, 0.4), _row(2, 1, 0.45)]
    write_metrics(tmp_path / "metrics.csv", rows)
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0]
    assert header == ",".join(METRIC_COLUMNS)
    loaded = read_metrics(tmp_path / "metrics.csv")
    assert [(r["stage"], r["epoch"], r["dev_macro_f1"]) for r in loaded] == [(1, 1, 0.2), (1, 2, 0.4), (2, 1, 0.45)]
    plot_metrics(loaded, tmp_path / "metrics.png")
    assert (tmp_path / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert read_metrics(tmp_path / "absent.csv") == []

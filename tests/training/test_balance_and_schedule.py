"""Stage-1 logit adjustment for a class-balanced test set, and the cosine learning-rate schedule."""

import numpy as np
import pandas as pd
import pytest

from tests.training.corpus import tiny_overrides, write_corpus
from toolkit.training.config import load_config
from toolkit.training.losses import class_log_prior
from toolkit.training.trainer import train_member
from toolkit.utils.errors import ToolkitError


def test_the_log_prior_is_the_training_targets_share_of_each_class():
    targets = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(np.exp(class_log_prior(targets)), [2.5 / 3, 0.5 / 3, 1e-6], rtol=1e-5)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"), per_class=4)


def test_cosine_schedule_warms_up_then_decays_to_zero_and_logit_adjustment_trains(corpus, tmp_path):
    config = load_config(None, tiny_overrides(corpus, epochs=4) + [
        "stage1.lr_schedule=cosine", "stage1.warmup_epochs=1", "loss.logit_adjustment=1.0",
        "loss.class_weight_alpha=0"])
    train_member(config, tmp_path / "exp", 1, device="cpu")
    rates = pd.read_csv(tmp_path / "exp" / "metrics.csv")["lr"].tolist()
    # the rate of each epoch's last step: after warm-up at the peak, then falling to zero
    assert rates[0] == pytest.approx(3e-3, rel=0.05) and rates[-1] < 0.02 * 3e-3
    assert rates[1] > rates[2] > rates[3]
    with pytest.raises(ToolkitError, match="stage1.lr_schedule: 'linear' is not one of constant, cosine"):
        load_config(None, ["stage1.lr_schedule=linear"])
    with pytest.raises(ToolkitError, match="loss.logit_adjustment: must be >= 0"):
        load_config(None, ["loss.logit_adjustment=-1"])

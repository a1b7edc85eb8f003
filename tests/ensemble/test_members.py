import numpy as np
import pandas as pd
import pytest

from toolkit.ensemble.members import inputs_per_member, load_members
from toolkit.ensemble.methods import MemberOutputs
from toolkit.utils.errors import ToolkitError


def test_stack_inputs_is_softmax_then_attributes_per_member(corpus):
    members = load_members(corpus.members, "development")
    inputs = MemberOutputs(np.stack([m.posteriors for m in members]), np.stack([m.attributes for m in members])).stacked()
    INPUTS_PER_MEMBER = inputs_per_member(8)
    assert inputs.shape == (len(corpus.dev_names), len(members) * INPUTS_PER_MEMBER)
    for index, member in enumerate(members):
        block = inputs[:, index * INPUTS_PER_MEMBER:(index + 1) * INPUTS_PER_MEMBER]
        np.testing.assert_allclose(block[:, :8].sum(axis=1), 1.0)
        assert (block[:, :8].argmax(axis=1) == member.logits.argmax(axis=1)).all()
        np.testing.assert_allclose(block[:, 8:], member.attributes)


def test_member_without_prediction_file_is_named(corpus):
    (corpus.members[1] / "predictions" / "test3.csv").unlink()
    with pytest.raises(ToolkitError, match=r"m1/predictions/test3\.csv.*no test3 predictions"):
        load_members(corpus.members, "test3")


def test_members_disagreeing_on_file_names_are_an_error(corpus):
    path = corpus.members[2] / "predictions" / "development.csv"
    frame = pd.read_csv(path)
    frame.iloc[:-1].to_csv(path, index=False)
    with pytest.raises(ToolkitError, match=r"m2/predictions/development\.csv: FileNames differ.*1 FileName\(s\).*missing"):
        load_members(corpus.members, "development")


def test_nan_in_a_member_is_an_error_with_its_line(corpus):
    path = corpus.members[0] / "predictions" / "development.csv"
    frame = pd.read_csv(path)
    frame.loc[5, "logit_H"] = np.nan
    frame.to_csv(path, index=False)
    with pytest.raises(ToolkitError, match=r"development\.csv:7: NaN"):
        load_members(corpus.members, "development")


def test_the_same_member_twice_is_an_error(corpus):
    with pytest.raises(ToolkitError, match="more than once"):
        load_members([corpus.members[0], corpus.members[0]], "development")

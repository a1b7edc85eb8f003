"""Cross-corpus class maps: shared codes, merges, drops, probabilities renormalised over the target."""

import numpy as np
import pytest

from toolkit.class_map import build_class_map, map_probabilities
from toolkit.emotions import CHALLENGE, Inventory
from toolkit.utils.errors import ToolkitError

IEMOCAP4 = Inventory.parse("A,S,H,N")


def test_the_eight_challenge_classes_onto_iemocaps_four_keep_the_shared_ones_and_renormalise():
    class_map = build_class_map(CHALLENGE, IEMOCAP4)
    assert class_map.pairs == {"A": "A", "S": "S", "H": "H", "N": "N"} and class_map.unreachable() == []
    probabilities = np.array([[0.1, 0.1, 0.2, 0.2, 0.0, 0.0, 0.2, 0.2]])  # 40 % on U and C, which IEMOCAP lacks
    np.testing.assert_allclose(map_probabilities(probabilities, class_map), [[1 / 6, 1 / 6, 2 / 6, 2 / 6]])
    assert class_map.target_index("C") == -1 and class_map.target_index("H") == 2


def test_explicit_pairs_merge_rename_and_drop():
    six = Inventory.parse("A,S,H,N,E,R")
    class_map = build_class_map(six, IEMOCAP4, "E=H,R=-")
    assert class_map.pairs == {"A": "A", "S": "S", "H": "H", "N": "N", "E": "H"}
    merged = map_probabilities(np.array([[0.1, 0.1, 0.2, 0.2, 0.3, 0.1]]), class_map)
    np.testing.assert_allclose(merged, [[0.1 / 0.9, 0.1 / 0.9, 0.5 / 0.9, 0.2 / 0.9]])
    calm = build_class_map(IEMOCAP4, Inventory.parse("A,S,H,N,K"))
    assert calm.unreachable() == ["K"] and "never predicted: K" in calm.describe()
    with pytest.raises(ToolkitError, match="'Q' is not a class of the system"):
        build_class_map(six, IEMOCAP4, "Q=H")
    with pytest.raises(ToolkitError, match="no class of the system"):
        build_class_map(Inventory.parse("K,B"), IEMOCAP4)


def test_score_maps_a_systems_codes_and_counts_unmapped_predictions_as_errors(tmp_path):
    from toolkit.submission.score import score_submission

    names = [f"u{n}.wav" for n in range(8)]
    manifest = tmp_path / "data" / "test" / "manifest.csv"
    manifest.parent.mkdir(parents=True)
    truth = list("AASSHHNN")
    manifest.write_text("FileName,EmoClass,soft_A,soft_S,soft_H,soft_N,path\n"
                        + "".join(f"{n},{c},,,,,/x\n" for n, c in zip(names, truth)))
    predicted = list("AASCHHNU")  # C and U exist only in the 8-class system
    submission = tmp_path / "sub.csv"
    submission.write_text("FileName,EmoClass\n" + "".join(f"{n},{c}\n" for n, c in zip(names, predicted)))
    result = score_submission(submission, manifest, class_map=build_class_map(CHALLENGE, IEMOCAP4))
    assert result.validation.valid and result.metrics["accuracy"] == pytest.approx(6 / 8)
    assert result.per_class["S"]["recall"] == 0.5 and result.per_class["N"]["recall"] == 0.5

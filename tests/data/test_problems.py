import pytest

from toolkit.data.problems import ProblemLog
from toolkit.utils.errors import ToolkitError


def test_counts_accumulate_and_examples_are_capped():
    problems = ProblemLog(max_examples=2)
    problems.report("missing_audio", 3, (f"f:{line}: no wav" for line in range(3)))
    problems.report("missing_audio", 1, ["f:9: no wav"])
    problems.report("unknown_class", 0, ["never"])
    assert problems.counts == {"missing_audio": 4}
    assert problems.total() == 4
    assert problems.to_dict() == {"missing_audio": {"count": 4, "examples": ["f:0: no wav", "f:1: no wav"]}}


def test_strict_raises_with_the_first_message_and_the_count():
    problems = ProblemLog(strict=True)
    with pytest.raises(ToolkitError, match=r"f:2: EmoClass 'Q' \(and 1 more like it\); --strict"):
        problems.report("unknown_class", 2, ["f:2: EmoClass 'Q'", "f:3: EmoClass 'Z'"])

import pytest

from toolkit.asr.wer import text_normalizer, word_error_rate
from toolkit.utils.errors import ToolkitError


def test_counts_substitutions_deletions_insertions_over_all_words():
    summary = word_error_rate([("the cat sat", "the cat sat"), ("a b c d", "a x c"), ("hello", "hello there")])
    assert summary["reference_words"] == 8
    assert (summary["substitutions"], summary["deletions"], summary["insertions"]) == (1, 1, 1)
    assert summary["wer"] == pytest.approx(3 / 8)
    assert summary["utterances_scored"] == 3


def test_basic_normaliser_ignores_case_punctuation_and_spacing():
    assert word_error_rate([("Hello,  World!", "hello world")])["wer"] == 0.0
    assert text_normalizer("basic")("  Good MORNING, everyone. ") == "good morning everyone"


def test_none_normaliser_keeps_case_and_punctuation():
    assert word_error_rate([("Hello, World!", "hello world")], normalizer="none")["wer"] == 1.0


def test_whisper_english_normaliser_expands_contractions():
    assert word_error_rate([("I do not know", "I don't know.")], normalizer="whisper-english")["wer"] == 0.0


def test_rows_without_reference_and_failed_rows_are_counted_not_scored():
    summary = word_error_rate([("", "anything"), ("...", "x"), ("one two", None), ("one two", "one")])
    assert summary["utterances_without_reference"] == 2
    assert summary["utterances_failed_with_reference"] == 1
    assert summary["utterances_scored"] == 1
    assert summary["wer"] == 0.5


def test_no_reference_at_all_gives_no_wer():
    summary = word_error_rate([("", "hello")])
    assert summary["wer"] is None and summary["utterances_scored"] == 0


def test_unknown_normaliser_is_a_clear_error():
    with pytest.raises(ToolkitError, match="basic"):
        word_error_rate([("a", "a")], normalizer="fancy")

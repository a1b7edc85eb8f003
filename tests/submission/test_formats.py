"""The test3 id list and the problem-code table, which docs/submission.md must document in full."""

import re
from pathlib import Path

from toolkit.submission.formats import ERROR, PROBLEM_CODES, WARNING, challenge_test3_ids

DOCS = Path(__file__).resolve().parents[2] / "docs" / "submission.md"


def test_challenge_test3_ids_are_the_3200_challenge_names():
    ids = challenge_test3_ids()
    assert len(ids) == len(set(ids)) == 3200
    assert ids[0] == "MSP-PODCAST_test3_0001.wav" and ids[-1] == "MSP-PODCAST_test3_3200.wav"
    assert ids == sorted(ids)


def test_codes_are_stable_shaped_and_documented():
    documented = set(re.findall(r"^\| `([A-Z]\d{3})` \|", DOCS.read_text(encoding="utf-8"), flags=re.M))
    assert documented == set(PROBLEM_CODES)
    for code, (severity, title) in PROBLEM_CODES.items():
        assert re.fullmatch(r"[FHRICN]\d{3}", code) and severity in (ERROR, WARNING) and title

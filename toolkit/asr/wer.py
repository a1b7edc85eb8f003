"""Word error rate of ASR transcripts against the human transcripts (jiwer).

Reads pairs of (human ``text``, ``asr_text``) strings; returns a JSON-ready summary with the
error counts, how many utterances were scored, and how many were left out and why.
"""

from typing import Callable, Dict, Iterable, Optional, Tuple

from toolkit.utils.errors import ToolkitError

#: ``basic``: lower case, punctuation removed, white space collapsed (any language);
#: ``whisper-english``: openai-whisper's EnglishTextNormalizer, the one Whisper's papers report WER with
#: (spelling variants, numbers, contractions); ``none``: compare the strings as written.
NORMALIZERS = ("basic", "whisper-english", "none")


def text_normalizer(name: str = "basic") -> Callable[[str], str]:
    """The string-to-string normaliser applied to both sides before words are compared."""
    import jiwer

    if name == "basic":
        return jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()])
    if name == "whisper-english":
        try:
            from whisper.normalizers import EnglishTextNormalizer
        except ImportError:
            raise ToolkitError("the whisper-english WER normaliser needs openai-whisper: pip install 'ser-toolkit[asr]'") from None
        return EnglishTextNormalizer()
    if name == "none":
        return lambda text: " ".join(text.split())
    raise ToolkitError(f"unknown WER normaliser {name!r}; choose one of {', '.join(NORMALIZERS)}")


def word_error_rate(pairs: Iterable[Tuple[str, Optional[str]]], normalizer: str = "basic") -> Dict[str, object]:
    """WER over ``(reference, hypothesis)`` pairs; a ``None`` hypothesis marks a failed utterance.

    Pairs with an empty reference (no human transcript, or nothing left after normalising) and
    failed utterances are not scored, only counted, so the WER is never silently over a subset.
    """
    import jiwer

    normalize = text_normalizer(normalizer)
    references, hypotheses = [], []
    without_reference = failed = 0
    for reference, hypothesis in pairs:
        reference = normalize(reference or "")
        if not reference:
            without_reference += 1
        elif hypothesis is None:
            failed += 1
        else:
            references.append(reference)
            hypotheses.append(normalize(hypothesis))
    summary: Dict[str, object] = {
        "normalizer": normalizer,
        "utterances_scored": len(references),
        "utterances_without_reference": without_reference,
        "utterances_failed_with_reference": failed,
    }
    if not references:
        summary.update(wer=None, reference_words=0, hits=0, substitutions=0, deletions=0, insertions=0)
        return summary
    output = jiwer.process_words(references, hypotheses)
    reference_words = output.hits + output.substitutions + output.deletions
    summary.update(
        wer=output.wer,
        reference_words=reference_words,
        hits=output.hits,
        substitutions=output.substitutions,
        deletions=output.deletions,
        insertions=output.insertions,
    )
    return summary

import pytest

from tests.corpora.msp_layout import write_wav
from toolkit.data.header_cache import CACHE_NAME, AudioHeaderCache
from toolkit.utils.errors import ToolkitError


def test_headers_are_cached_across_instances_until_the_file_changes(tmp_path):
    wav = tmp_path / "a.wav"
    write_wav(wav, seconds=0.5, sample_rate=22050, channels=2)
    cache = AudioHeaderCache(tmp_path / "out")
    info = cache.info(str(wav))
    assert (info.sample_rate, info.num_channels, info.num_frames) == (22050, 2, 11025)
    assert cache.hits == 0
    cache.flush()
    again = AudioHeaderCache(tmp_path / "out")
    assert again.info(str(wav)) == info and again.hits == 1
    write_wav(wav, seconds=1.0)
    fresh = AudioHeaderCache(tmp_path / "out")
    assert fresh.info(str(wav)).num_frames == 16000 and fresh.hits == 0


def test_unreadable_audio_is_an_error_and_not_cached(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nothing")
    cache = AudioHeaderCache(tmp_path)
    with pytest.raises(ToolkitError, match="bad.wav: not readable as audio"):
        cache.info(str(bad))
    cache.flush()
    assert not (tmp_path / CACHE_NAME).exists()

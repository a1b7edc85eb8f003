"""Speech recognition (recipe stage 1): Whisper transcripts through openai-whisper or faster-whisper."""

"""Linear probes on pooled frozen features: the baseline every SER benchmark reports (EmoBox, SUPERB)."""

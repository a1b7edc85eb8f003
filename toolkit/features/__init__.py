"""Frozen encoder features (recipe stage 2): encoders, length batching and the sharded feature store."""

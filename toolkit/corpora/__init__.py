"""Corpus adapters: each turns one corpus layout into the toolkit's manifests (one file per corpus)."""

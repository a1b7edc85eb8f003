"""Applying a trained system to new audio: exported bundles and ``toolkit predict``."""

"""Leaderboard files: validating, scoring and writing challenge submissions (no torch here)."""

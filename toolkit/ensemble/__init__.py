"""Combining members (MEDUSA stages 3-4): meta-classifier, model soup, voting baselines, reports."""

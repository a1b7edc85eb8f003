"""Corpus-independent data formats: manifests, soft labels, annotator votes, audio I/O."""

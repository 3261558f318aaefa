"""Deduplication: pure matching, then the storage of pairs, works and verdicts."""

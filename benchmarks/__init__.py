"""Benchmarks: each prints its figures and, on its last line, JSON with a ratio against a
baseline measured in the same run."""

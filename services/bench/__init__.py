"""Benchmarks: figures printed (and JSON with --json), always beside a baseline measured in the same run."""

"""Benchmarks: the harness that runs every method on every benchmark (`bench`)."""

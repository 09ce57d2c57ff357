"""Benchmarks: named baseline scorers (`baselines`) and the benchmark harness (`bench`)."""

"""Evaluation: the one metric implementation (`metrics`), the one evaluator (`evaluator`),
called on any scoring function, and the baseline scorers (`baselines`)."""

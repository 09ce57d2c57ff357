"""Evaluation: the one metric implementation (`metrics`) and the one evaluator (`evaluator`),
called on any scoring function: the model's scorer, a baseline, a fusion."""

"""Retrieval: `TableRetriever` answers questions with a saved model and an index of tables.
Loads no training, evaluation-harness or benchmark code; without `tables=` it builds no graph
network and imports no PyTorch Geometric."""

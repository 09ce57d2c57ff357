"""Baselines as named scorers: each is built once over a database's tables and called on
question texts, returning scores [Q, M] for the one evaluator
(`evaluation.RetrievalEvaluator`), exactly as the model's scorer is.

- `BM25Scorer`: bm25s over each table's text (name, column names, frequent values);
- `DenseScorer`: zero-shot cosine between the question and the same table text, with the same
  frozen sentence encoder as the model;
- `ClassifierScorer`: one-vs-rest logistic regression on the frozen question embeddings, trained
  on training questions (no table content: a table without training questions ranks last);
- `fuse`: score matrices z-normalised per question and summed.
"""

from __future__ import annotations

import numpy as np

from tablegraph.graphs.nodes import NodeKind, TableNodes
from tablegraph.tables.questions import Question
from tablegraph.text.encoders import TextEncoder


def table_text(nodes: TableNodes) -> str:
    """One document per table: its name, column names and frequent values, in words."""
    cols = ", ".join(nodes.texts[i] for i in nodes.of_kind(NodeKind.COLUMN))
    vals = "; ".join(nodes.values)
    tables = nodes.of_kind(NodeKind.TABLE)
    name = nodes.texts[tables[0]] if tables else nodes.table
    return f"{name}. columns: {cols}. values: {vals}"


def zscore(s: np.ndarray) -> np.ndarray:
    """Scores [Q, M] standardised per question."""
    return (s - s.mean(axis=1, keepdims=True)) / (s.std(axis=1, keepdims=True) + 1e-9)


def fuse(*scores: np.ndarray) -> np.ndarray:
    """Score matrices [Q, M] of several methods, z-normalised per question, summed."""
    return sum(zscore(s) for s in scores)


class BM25Scorer:
    name = "bm25"

    def __init__(self, tables: list[TableNodes]) -> None:
        import bm25s

        self.n = len(tables)
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize([table_text(t) for t in tables], stopwords="en",
                                            show_progress=False), show_progress=False)

    def __call__(self, texts: list[str]) -> np.ndarray:
        import bm25s

        toks = bm25s.tokenize(texts, stopwords="en", show_progress=False)
        docs, scores = self.retriever.retrieve(toks, k=self.n, show_progress=False, n_threads=1)
        out = np.zeros((len(texts), self.n))
        out[np.arange(len(texts))[:, None], docs] = scores
        return out


class DenseScorer:
    name = "dense"

    def __init__(self, text: TextEncoder, tables: list[TableNodes]) -> None:
        self.text = text
        self.vectors = text.encode([table_text(t) for t in tables])  # [M, D]

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.text.encode(texts) @ self.vectors.T


class ClassifierScorer:
    name = "classifier"

    def __init__(self, text: TextEncoder, tables: list[str], train: list[Question]) -> None:
        from sklearn.linear_model import LogisticRegression

        self.text = text
        self.n = len(tables)
        y = [tables.index(q.tables[0]) for q in train]
        self.clf = LogisticRegression(C=10.0, max_iter=3000).fit(
            text.encode([q.text for q in train]), y)

    def __call__(self, texts: list[str]) -> np.ndarray:
        proba = np.full((len(texts), self.n), -1.0)  # tables without training questions: last
        proba[:, self.clf.classes_] = self.clf.predict_proba(self.text.encode(texts))
        return proba

"""The one evaluator: built once from questions, the tables they are ranked over and their
gold tables, then called on any scoring function, as sentence-transformers'
`InformationRetrievalEvaluator` is.

    >>> ev = RetrievalEvaluator(questions, tables)
    >>> ev(lambda texts: scores)            # texts [Q] -> scores [Q, M], M = len(tables)
    {'hit@1': ..., 'recall@5': ..., 'all@5': ..., 'mrr': ..., 'n': Q}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tablegraph.evaluation.metrics import (DEFAULT_KS, abstention_metrics, coverage_depth,
                                           per_question, retrieval_metrics, set_metrics)
from tablegraph.tables.questions import Question, resolve_tables

ScoreFn = Callable[[list[str]], np.ndarray]


class RetrievalEvaluator:
    """Questions and tables, fixed; metrics of any scores over them.

    - texts: [Q] question texts; gold: Q sets of table indices (into `tables`); an empty set
      is an unanswerable question (no table answers it), counted by `abstention` only
    - `metrics(scores)` / `per_question(scores)` / `coverage(scores)`: scores [Q, M] ->
      metrics of the answerable questions (see `evaluation.metrics`)
    - `abstention(p, threshold)`: p(answerable) [Q] -> how well it tells the two apart
    - `__call__(score_fn)`: the metrics of `score_fn(texts)`
    """

    def __init__(self, questions: list[Question], tables: list[str],
                 ks: tuple[int, ...] = DEFAULT_KS, source: str = "questions",
                 skipped: list | None = None, notes: list[str] | None = None,
                 skip_unknown: bool | None = None) -> None:
        questions = resolve_tables(questions, tables, source, skipped, notes, skip_unknown)
        self.questions = questions
        self.tables = list(tables)
        self.ks = ks
        self.texts = [q.text for q in questions]
        col = {t: i for i, t in enumerate(self.tables)}
        self.gold = [{col[t] for t in q.tables} for q in questions]
        self.answerable = np.asarray([bool(g) for g in self.gold], dtype=bool)  # [Q]
        self._gold_a = [g for g in self.gold if g]

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def n_unanswerable(self) -> int:
        return int((~self.answerable).sum())

    def _check(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores)
        if scores.shape != (len(self.texts), len(self.tables)):
            raise ValueError(f"scores of shape {scores.shape}, expected "
                             f"{(len(self.texts), len(self.tables))}")
        return scores

    def metrics(self, scores: np.ndarray) -> dict[str, float]:
        return retrieval_metrics(self._check(scores)[self.answerable], self._gold_a, self.ks)

    def per_question(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        return per_question(self._check(scores)[self.answerable], self._gold_a, self.ks)

    def coverage(self, scores: np.ndarray) -> np.ndarray:
        """Coverage depth of each answerable question [A] (`metrics.coverage_depth`)."""
        return coverage_depth(self._check(scores)[self.answerable], self._gold_a)

    def abstention(self, p: np.ndarray, threshold: float) -> dict[str, float | None]:
        """p(answerable) of every question [Q] and the threshold below which the set is empty
        -> the share of answerable questions kept and of unanswerable ones caught, and the
        AUROC (None without questions of both kinds)."""
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (len(self.texts),):
            raise ValueError(f"p of shape {p.shape}, expected {(len(self.texts),)}")
        return abstention_metrics(p[self.answerable], p[~self.answerable], threshold)

    def set_metrics(self, sets: list[list[str]]) -> dict[str, np.ndarray]:
        """Predicted sets (table names, one list per question) -> set precision, recall, F1
        and exact match of each answerable question (see `evaluation.metrics.set_metrics`)."""
        if len(sets) != len(self.questions):
            raise ValueError(f"{len(sets)} sets for {len(self.questions)} questions")
        col = {t: i for i, t in enumerate(self.tables)}
        return set_metrics([{col[t] for t in s} for s, a in zip(sets, self.answerable) if a],
                           self._gold_a)

    def summary(self, scores: np.ndarray, sets: list[list[str]] | None = None) -> dict:
        """What `evaluate` reports of a ranking [Q, M] and, given them, its sets: hit@1,
        hit@5, recall@5, all@5, mrr, coverage (means over the answerable questions), set
        precision / recall / F1 / exact match where `sets` are given, and n."""
        m = self.metrics(scores)
        out: dict = {k: m[k] for k in ("hit@1", "hit@5", "recall@5", "all@5", "mrr")}
        cover = self.coverage(scores)
        out["coverage"] = float(cover.mean()) if len(cover) else 0.0
        if sets is not None:
            out.update({k: float(v.mean()) if len(v) else 0.0
                        for k, v in self.set_metrics(sets).items()})
        out["n"] = m["n"]
        return out

    def __call__(self, score_fn: ScoreFn) -> dict[str, float]:
        return self.metrics(score_fn(self.texts))

    def rankings(self, scores: np.ndarray, sets: list[dict] | None = None,
                 p: np.ndarray | None = None, threshold: float | None = None,
                 read: list[str] | None = None) -> list[dict]:
        """One record per question: where it stands in its file ("line", or "item" and for
        one of several sentences "sentence"; none for questions made in code) and its "id"
        where its record has one (`Question.origin`), {"question", "read_as": the question as
        the scores read it (`read`), where it differs from the question, else None, "gold":
        [table] ([] when
        unanswerable), "ranking": [{"table", "score"}] (every table, best first), "set": its
        set record or None, "answerable": p >= threshold and "confidence": p (None without
        `p`)}."""
        scores = self._check(scores)
        order = np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")
        return [{**q.origin(), "question": q.text,
                 "read_as": read[i] if read and read[i] != q.text else None,
                 "gold": list(q.tables),
                 "ranking": [{"table": self.tables[j], "score": round(float(scores[i, j]), 6)}
                             for j in order[i]], "set": sets[i] if sets else None,
                 "answerable": None if p is None else bool(p[i] >= threshold),
                 "confidence": None if p is None else round(float(p[i]), 4)}
                for i, q in enumerate(self.questions)]


POOLED = ("hit@1", "hit@5", "recall@5", "all@5", "mrr", "coverage", "set_precision",
          "set_recall", "set_f1", "exact_set")  # means over each database's answerable questions


def pool_means(parts: list[dict]) -> dict:
    """Metrics of several databases' questions together: each mean of `POOLED` that every
    part has, weighted by the parts' n (answerable questions), and n."""
    n = sum(m["n"] for m in parts)
    out: dict = {k: (sum(m[k] * m["n"] for m in parts) / n if n else 0.0)
                 for k in POOLED if all(k in m for m in parts)}
    out["n"] = n
    return out


def pool_metrics(parts: dict[str, dict], records: list[dict]) -> dict:
    """The metrics of several databases' questions taken together: `parts` maps a database
    to what `TableRetriever.evaluate` gave for it, `records` are the questions' ranking
    records (with "confidence"). Means weigh each database by its answerable questions; the
    abstention's shares and AUROC come from every question's confidence at once. The parts
    stay under "databases"."""
    out = pool_means(list(parts.values()))
    threshold = next((m.get("threshold") for m in parts.values()
                      if m.get("threshold") is not None), None)
    out.update({"answerable_kept": None, "unanswerable_caught": None,
                "abstention_auroc": None, "threshold": threshold})
    if threshold is not None:
        a = np.array([r["confidence"] for r in records if r["gold"]], dtype=np.float64)
        u = np.array([r["confidence"] for r in records if not r["gold"]], dtype=np.float64)
        ab = abstention_metrics(a, u, threshold)
        out.update({"answerable_kept": ab["kept"], "unanswerable_caught": ab["caught"],
                    "abstention_auroc": ab["auroc"]})
    out["n_unanswerable"] = sum(m["n_unanswerable"] for m in parts.values())
    out["databases"] = parts
    return out

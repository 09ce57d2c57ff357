"""Retrieval metrics over a full ranking of every table for every question.

With G_i the gold tables of question i and R_i(k) its top k:
- hit@k: G_i meets R_i(k) (any gold table in the top k);
- recall@k: |G_i & R_i(k)| / |G_i| (share of gold tables in the top k);
- all@k: G_i is inside R_i(k) (every gold table in the top k);
- MRR: 1 / rank of the best-ranked gold table.
Each is averaged over questions. With one gold table per question, hit@k = recall@k = all@k.
"""

from __future__ import annotations

import numpy as np


def ranks_of_gold(scores: np.ndarray, gold: list[set[int]]) -> list[list[int]]:
    """1-based rank of each gold table per question; ties broken by table index.

    scores: [Q, M]; gold: Q sets of column indices.
    """
    order = np.argsort(-scores, axis=1, kind="stable")  # [Q, M]
    pos = np.empty_like(order)
    rows = np.arange(order.shape[0])[:, None]
    pos[rows, order] = np.arange(order.shape[1])[None, :]
    return [sorted(int(pos[i, j]) + 1 for j in g) for i, g in enumerate(gold)]


def retrieval_metrics(scores: np.ndarray, gold: list[set[int]],
                      ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """hit@k, recall@k, all@k for each k, mrr and n (see the module docstring)."""
    scores = np.asarray(scores, dtype=np.float64)
    ranks = ranks_of_gold(scores, gold)
    n = len(ranks)
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = float(np.mean([any(r <= k for r in rs) for rs in ranks])) if n else 0.0
        out[f"recall@{k}"] = float(np.mean([sum(r <= k for r in rs) / len(rs) for rs in ranks])) \
            if n else 0.0
        out[f"all@{k}"] = float(np.mean([all(r <= k for r in rs) for rs in ranks])) if n else 0.0
    out["mrr"] = float(np.mean([1.0 / rs[0] for rs in ranks])) if n else 0.0
    out["n"] = n
    return out


def gold_indices(tables_per_question: list[tuple[str, ...]], names: list[str]) -> list[set[int]]:
    idx = {n: i for i, n in enumerate(names)}
    return [{idx[t] for t in ts if t in idx} for ts in tables_per_question]

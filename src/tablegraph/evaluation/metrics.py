"""Retrieval metrics over a full ranking of every table for every question.

With G_i the gold tables of question i and R_i(k) its top k:
- hit@k: G_i meets R_i(k) (any gold table in the top k);
- recall@k: |G_i & R_i(k)| / |G_i| (share of gold tables in the top k);
- all@k: G_i is inside R_i(k) (every gold table in the top k);
- MRR: 1 / rank of the best-ranked gold table;
- coverage depth: rank of the last gold table / number of tables (`coverage_depth`).
For a predicted set S_i of tables (`set_metrics`): precision |S_i & G_i| / |S_i|, recall
|S_i & G_i| / |G_i|, F1 and exact-set match (S_i = G_i).
`per_question` gives each question's values (to pool over runs and bootstrap);
`retrieval_metrics` averages them over questions. With one gold table per question,
hit@k = recall@k = all@k.
"""

from __future__ import annotations

import numpy as np

DEFAULT_KS = (1, 5, 10)


def ranks_of_gold(scores: np.ndarray, gold: list[set[int]]) -> list[list[int]]:
    """1-based rank of each gold table per question, ascending; ties broken by table index.

    scores: [Q, M]; gold: Q non-empty sets of column indices.
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")  # [Q, M]
    pos = np.empty_like(order)
    rows = np.arange(order.shape[0])[:, None]
    pos[rows, order] = np.arange(order.shape[1])[None, :]
    return [sorted(int(pos[i, j]) + 1 for j in g) for i, g in enumerate(gold)]


def per_question(scores: np.ndarray, gold: list[set[int]],
                 ks: tuple[int, ...] = DEFAULT_KS) -> dict[str, np.ndarray]:
    """hit@k, recall@k, all@k for each k and mrr, one value per question: {name: [Q]}."""
    ranks = ranks_of_gold(scores, gold)
    out: dict[str, list[float]] = {}
    for k in ks:
        out[f"hit@{k}"] = [float(rs[0] <= k) for rs in ranks]
        out[f"recall@{k}"] = [sum(r <= k for r in rs) / len(rs) for rs in ranks]
        out[f"all@{k}"] = [float(rs[-1] <= k) for rs in ranks]
    out["mrr"] = [1.0 / rs[0] for rs in ranks]
    return {name: np.asarray(v, dtype=np.float64) for name, v in out.items()}


def retrieval_metrics(scores: np.ndarray, gold: list[set[int]],
                      ks: tuple[int, ...] = DEFAULT_KS) -> dict[str, float]:
    """The mean of each `per_question` value, and n (0.0 everywhere without questions)."""
    pq = per_question(scores, gold, ks)
    out = {name: float(v.mean()) if len(v) else 0.0 for name, v in pq.items()}
    out["n"] = len(gold)
    return out


def coverage_depth(scores: np.ndarray, gold: list[set[int]]) -> np.ndarray:
    """Per question: the rank of its last gold table / the number of tables, the share of the
    schema a reader must go through to see every gold table. scores [Q, M] -> [Q]."""
    m = np.asarray(scores).shape[1]
    return np.asarray([rs[-1] / m for rs in ranks_of_gold(scores, gold)], dtype=np.float64)


def set_metrics(pred: list[set[int]], gold: list[set[int]]) -> dict[str, np.ndarray]:
    """Per question: set precision, recall, F1 and exact match ({name: [Q]}); an empty
    predicted set has precision 0."""
    p, r, f, e = [], [], [], []
    for s, g in zip(pred, gold):
        hit = len(s & g)
        pi = hit / len(s) if s else 0.0
        ri = hit / len(g) if g else 0.0
        p.append(pi)
        r.append(ri)
        f.append(2 * pi * ri / (pi + ri) if pi + ri else 0.0)
        e.append(float(s == g))
    return {name: np.asarray(v, dtype=np.float64) for name, v in
            (("set_precision", p), ("set_recall", r), ("set_f1", f), ("exact_set", e))}


def top_k_sets(scores: np.ndarray, k: int) -> list[set[int]]:
    """The top k tables of each question as a set (scores [Q, M])."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")
    return [set(int(j) for j in row[:k]) for row in order]


def bootstrap_ci(x: np.ndarray, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean of `x` (resampling its entries)."""
    if len(x) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n, len(x)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def abstention_metrics(answerable: np.ndarray, unanswerable: np.ndarray,
                       threshold: float) -> dict[str, float]:
    """p(answerable) of answerable questions [A] and of unanswerable ones [U] -> AUROC, the
    share of answerable ones kept (p >= threshold) and of unanswerable ones caught, and n of
    each. Without questions of one kind, its share is None, and so is the AUROC."""
    from sklearn.metrics import roc_auc_score

    a, u = np.asarray(answerable), np.asarray(unanswerable)
    y = np.r_[np.ones(len(a)), np.zeros(len(u))]
    return {"auroc": float(roc_auc_score(y, np.r_[a, u])) if len(a) and len(u) else None,
            "kept": float((a >= threshold).mean()) if len(a) else None,
            "caught": float((u < threshold).mean()) if len(u) else None,
            "n": len(a), "n_other": len(u)}

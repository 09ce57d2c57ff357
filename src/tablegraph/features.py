"""Node features: [statistics | text embedding], L2-normalised.

A column node is its 128 statistics beside the embedding of its name (in words); table and
value nodes carry zeros where columns have statistics, beside the embedding of the table name
or of the value. With the default 384-d text model a node feature is 512-d.
"""

from __future__ import annotations

import numpy as np

from tablegraph.profile import STATS_DIM


def node_features(stats: np.ndarray, text: np.ndarray) -> np.ndarray:
    """stats [n, 128] (or None-like zeros), text [n, d] -> L2-normalised [n, 128 + d] float32."""
    stats = np.asarray(stats, dtype=np.float32).reshape(len(text), STATS_DIM)
    x = np.concatenate([stats, np.asarray(text, dtype=np.float32)], axis=1)  # [n, 128 + d]
    norms = np.linalg.norm(x, axis=1, keepdims=True)  # [n, 1]
    x = x / np.maximum(norms, 1e-12)
    x[norms[:, 0] == 0] = 0.0
    return x.astype(np.float32)


def text_only_features(text: np.ndarray) -> np.ndarray:
    """[n, d] text vectors -> [n, 128 + d] node features with zero statistics."""
    return node_features(np.zeros((len(text), STATS_DIM), dtype=np.float32), text)

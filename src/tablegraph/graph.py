"""Table graphs: one `torch_geometric.data.Data` per table.

Nodes: one per column (statistics + name embedding), one for the table (its name's
embedding) and value nodes for the most frequent values of text-like columns (at most
`values_per_column` per column, their text embedded). Edges, each in both directions:
column-table, column-column (every pair within the table) and value-column. Which node kinds
and edges are used is set by `GraphConfig`.

Each `Data` carries `x` [N, 128 + d], `edge_index` [2, E], `node_type` [N] (0 column, 1 table,
2 value), and plain attributes `table` (name) and `labels` (one text per node).
`shared_keys(profiles)` lists columns that look like keys shared between tables (same name,
overlapping value sketches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import Data

from tablegraph.config import TypedConfig
from tablegraph.features import node_features, text_only_features
from tablegraph.profile import TableProfile
from tablegraph.text import TextEncoder, name_to_words

GRAPH_VERSION = 1
COLUMN, TABLE, VALUE = 0, 1, 2
MAX_COLUMN_CLIQUE = 128  # beyond this many columns, column-column edges are dropped


@dataclass
class GraphConfig(TypedConfig):
    """Which node kinds and edges a table graph has."""

    table_node: bool = True
    value_nodes: bool = True
    values_per_column: int = 5
    column_edges: bool = True


def _edges(pairs: list[tuple[int, int]]) -> torch.Tensor:
    if not pairs:
        return torch.zeros((2, 0), dtype=torch.long)
    e = torch.tensor(pairs, dtype=torch.long).t()  # [2, P]
    return torch.cat([e, e.flip(0)], dim=1)  # [2, 2P], both directions


def node_texts(profile: TableProfile, cfg: GraphConfig) -> tuple[list[str], list[int], list[int]]:
    """Texts to embed for each node, node types, and for value nodes their column index."""
    texts = [name_to_words(c.name) for c in profile.columns]
    types = [COLUMN] * len(texts)
    owner = list(range(len(texts)))
    if cfg.table_node or not profile.columns:
        texts.append(name_to_words(profile.name, table=True))
        types.append(TABLE)
        owner.append(-1)
    if cfg.value_nodes:
        for i, c in enumerate(profile.columns):
            for v in c.top_values[: cfg.values_per_column]:
                texts.append(v[:200])
                types.append(VALUE)
                owner.append(i)
    return texts, types, owner


def build_graph(profile: TableProfile, encoder: TextEncoder, cfg: GraphConfig) -> Data:
    """One table profile -> one graph (see the module docstring for its fields)."""
    texts, types, owner = node_texts(profile, cfg)
    emb = encoder.encode(texts)  # [N, d]
    n_col = len(profile.columns)
    x_col = node_features(profile.stats, emb[:n_col])  # [C, 128 + d]
    x_rest = text_only_features(emb[n_col:])  # [N - C, 128 + d]
    x = np.concatenate([x_col, x_rest], axis=0)  # [N, 128 + d]
    pairs: list[tuple[int, int]] = []
    table_idx = types.index(TABLE) if TABLE in types else None
    if table_idx is not None:
        pairs += [(i, table_idx) for i in range(n_col)]
    if cfg.column_edges and 1 < n_col <= MAX_COLUMN_CLIQUE:
        pairs += [(i, j) for i in range(n_col) for j in range(i + 1, n_col)]
    pairs += [(k, owner[k]) for k in range(len(types)) if types[k] == VALUE]
    data = Data(x=torch.from_numpy(x), edge_index=_edges(pairs),
                node_type=torch.tensor(types, dtype=torch.long))
    data.table = profile.name
    data.labels = texts
    return data


def build_graphs(profiles: list[TableProfile], encoder: TextEncoder,
                 cfg: GraphConfig) -> list[Data]:
    """Embed every node text in one call (cached), then build each table's graph."""
    all_texts = [t for p in profiles for t in node_texts(p, cfg)[0]]
    encoder.encode(all_texts)  # one call: the model sees large batches, the cache is warmed
    return [build_graph(p, encoder, cfg) for p in profiles]


def shared_keys(profiles: list[TableProfile]) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, other table)] for key-like columns of the same name whose value
    sketches overlap."""
    cols: dict[str, list[tuple[str, set[int]]]] = {}
    for p in profiles:
        for c in p.columns:
            if c.key_sketch:
                cols.setdefault(c.name, []).append((p.name, set(c.key_sketch)))
    out: dict[str, list[tuple[str, str]]] = {p.name: [] for p in profiles}
    for col, owners in cols.items():
        for i, (t1, s1) in enumerate(owners):
            for t2, s2 in owners[i + 1:]:
                if t1 != t2 and s1 & s2:
                    out[t1].append((col, t2))
                    out[t2].append((col, t1))
    return out


def load_table_graphs(spec: str, encoder: TextEncoder, cfg: GraphConfig,
                      max_rows: int | None = None, sample_seed: int | None = None,
                      progress: bool = True) -> tuple[list[TableProfile], list[Data]]:
    """`--tables` argument -> profiles and graphs, sorted by table name."""
    from tablegraph.profile import profile_tables
    from tablegraph.sources import DEFAULT_MAX_ROWS, DEFAULT_SAMPLE_SEED, discover

    refs = discover(spec)
    profiles = profile_tables(refs, max_rows=max_rows or DEFAULT_MAX_ROWS,
                              seed=DEFAULT_SAMPLE_SEED if sample_seed is None else sample_seed,
                              progress=progress)
    return profiles, build_graphs(profiles, encoder, cfg)

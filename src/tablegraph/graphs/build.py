"""Table graphs: one `torch_geometric.data.Data` per table.

Nodes are a table's `TableNodes` (columns, the table, values). Node features are
[statistics | text embedding], L2-normalised: a column node is its 128 statistics beside the
embedding of its name in words; table and value nodes carry zeros where columns have
statistics, beside the embedding of the table name or of the value (512-d with the default
384-d text model). Edges, each in both directions: column-table, column-column (every pair
within the table, up to `MAX_COLUMN_CLIQUE` columns) and value-column; `GraphConfig` chooses
which are used.

Each `Data` carries `x` [N, 128 + d], `edge_index` [2, E], `node_type` [N] (`NodeKind`), and
plain attributes `table` (its name), `nodes` (its `TableNodes`) and `document` (the text
model's embedding of `TableNodes.document` up to `DOCUMENT_CHARS` characters [d], which
the scorer's dense prior reads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from tablegraph.graphs.nodes import (DOCUMENT_CHARS, GraphConfig, NodeKind, TableNodes,
                                     table_nodes)
from tablegraph.tables.stats import STATS_DIM
from tablegraph.text.encoders import TextEncoder

if TYPE_CHECKING:
    from tablegraph.tables.records import TableProfile
    from tablegraph.tables.sources import TableRef

MAX_COLUMN_CLIQUE = 128  # beyond this many columns, column-column edges are dropped
EMBED_CHUNK_TEXTS = 256  # tables read are embedded in chunks of about this many node texts


def node_features(stats: np.ndarray, text: np.ndarray) -> np.ndarray:
    """stats [n, 128], text [n, d] -> L2-normalised [n, 128 + d] float32 (zero rows stay 0)."""
    stats = np.asarray(stats, dtype=np.float32).reshape(len(text), STATS_DIM)
    x = np.concatenate([stats, np.asarray(text, dtype=np.float32)], axis=1)  # [n, 128 + d]
    norms = np.linalg.norm(x, axis=1, keepdims=True)  # [n, 1]
    x = x / np.maximum(norms, 1e-12)
    x[norms[:, 0] == 0] = 0.0
    return x.astype(np.float32)


def _edges(pairs: list[tuple[int, int]]) -> torch.Tensor:
    if not pairs:
        return torch.zeros((2, 0), dtype=torch.long)
    e = torch.tensor(pairs, dtype=torch.long).t()  # [2, P]
    return torch.cat([e, e.flip(0)], dim=1)  # [2, 2P], both directions


def build_graph(profile: "TableProfile", nodes: TableNodes, emb: np.ndarray,
                cfg: GraphConfig, document: np.ndarray | None = None) -> Data:
    """One table: its profile, its nodes and their text embeddings emb [N, d] (and the
    embedding of its `TableNodes.document`, [d]) -> a graph."""
    n_col = len(profile.columns)
    stats = np.zeros((len(nodes), STATS_DIM), dtype=np.float32)  # [N, 128]
    stats[:n_col] = profile.stats
    x = node_features(stats, emb)  # [N, 128 + d]
    kinds = nodes.kinds
    pairs: list[tuple[int, int]] = []
    tables = nodes.of_kind(NodeKind.TABLE)
    if tables:
        pairs += [(i, tables[0]) for i in range(n_col)]
    if cfg.column_edges and 1 < n_col <= MAX_COLUMN_CLIQUE:
        pairs += [(i, j) for i in range(n_col) for j in range(i + 1, n_col)]
    pairs += [(k, nodes.owners[k]) for k in nodes.of_kind(NodeKind.VALUE)]
    data = Data(x=torch.from_numpy(x), edge_index=_edges(pairs),
                node_type=torch.tensor(kinds, dtype=torch.long))
    data.table = profile.name
    data.nodes = nodes
    data.document = document
    return data


def build_graphs(profiles: list["TableProfile"], encoder: TextEncoder,
                 cfg: GraphConfig) -> list[Data]:
    """Every table's nodes, built once; all node texts embedded in one call (cached)."""
    return _GraphBuilder(cfg).add(profiles, encoder)


class _GraphBuilder:
    """Graphs built in chunks of tables, each distinct node text embedded once."""

    def __init__(self, cfg: GraphConfig) -> None:
        self.cfg = cfg
        self.vectors: dict[str, np.ndarray] = {}  # node text -> its embedding [d]
        self.graphs: list[Data] = []

    def add(self, profiles: list["TableProfile"], encoder: TextEncoder) -> list[Data]:
        """Build the graphs of `profiles`, embedding the texts not seen yet in one call;
        returns every graph built so far."""
        nodes = [table_nodes(p, self.cfg) for p in profiles]
        docs = [n.document(DOCUMENT_CHARS) for n in nodes]
        new = list(dict.fromkeys(t for t in [*(t for n in nodes for t in n.texts), *docs]
                                 if t not in self.vectors))
        if new:
            self.vectors.update(zip(new, encoder.encode(new)))  # [len(new), d]
        for p, n, doc in zip(profiles, nodes, docs):
            emb = np.stack([self.vectors[t] for t in n.texts]) if len(n) else \
                np.zeros((0, encoder.dim), dtype=np.float32)  # [N, d]
            self.graphs.append(build_graph(p, n, emb, self.cfg, self.vectors[doc]))
        return self.graphs


def rename_table(graph: Data, name: str) -> None:
    """Give a table graph another table name (its `table` and its nodes' `table`; schema
    linking then reads the new name, while the nodes keep what they embedded)."""
    import dataclasses

    graph.table = name
    graph.nodes = dataclasses.replace(graph.nodes, table=name, renamed=True)


def batch_graphs(graphs: list[Data], device: str = "cpu") -> Batch:
    """Batch graphs for the encoder, keeping only tensor fields."""
    slim = [Data(x=g.x, edge_index=g.edge_index, node_type=g.node_type) for g in graphs]
    return Batch.from_data_list(slim).to(device)


def load_table_graphs(spec: "str | list[TableRef]",
                      encoder: "TextEncoder | Callable[[], TextEncoder]", cfg: GraphConfig,
                      max_rows: int | None = None, sample_seed: int | None = None,
                      progress: bool = True, strict: bool = False,
                      skipped: list | None = None) -> tuple[list["TableProfile"], list[Data]]:
    """`--tables` argument (or table references) -> profiles and graphs, sorted by table name;
    unreadable tables are left out and listed in `skipped` (`tables.profile.Skipped`), or with
    `strict` an error.

    `encoder` may be a function that loads one: it then runs in a second thread while the
    tables are read (a cold start spends seconds on each: importing and loading a text model,
    and the DuckDB queries, which release the GIL)."""
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tablegraph.tables.profile import iter_profiles
    from tablegraph.tables.sources import DEFAULT_MAX_ROWS, DEFAULT_SAMPLE_SEED, discover

    refs = discover(spec) if isinstance(spec, str) else spec
    done = object()
    ready: queue.Queue = queue.Queue()

    stop = threading.Event()  # set when this thread fails: the reading stops too

    def read() -> None:
        try:
            for p in iter_profiles(refs, max_rows=max_rows or DEFAULT_MAX_ROWS,
                                   seed=DEFAULT_SAMPLE_SEED if sample_seed is None
                                   else sample_seed, progress=progress, strict=strict,
                                   skipped=skipped):
                if stop.is_set():
                    return
                ready.put(p)
        finally:
            ready.put(done)

    # Reading (DuckDB) and embedding (torch) overlap: each releases the GIL in its own work.
    profiles: list["TableProfile"] = []
    builder = _GraphBuilder(cfg)
    with ThreadPoolExecutor(2, thread_name_prefix="tablegraph-read") as pool:
        loading = pool.submit(encoder) if callable(encoder) else None
        reading = pool.submit(read)
        try:
            text = loading.result() if loading is not None else encoder
            finished = False
            while not finished:
                chunk: list["TableProfile"] = []
                n_texts = 0
                while n_texts < EMBED_CHUNK_TEXTS:  # wait for a chunk worth a few batches
                    item = ready.get()
                    if item is done:
                        finished = True
                        break
                    chunk.append(item)
                    n_texts += len(item.columns) + 1
                profiles += chunk
                builder.add(chunk, text)
        except BaseException:
            stop.set()
            raise
        reading.result()  # a reading error (the first, when every table failed; or strict)
    cap_lexicons(profiles, builder.graphs, LEXICON_BUDGET)
    return profiles, builder.graphs


# Values that the lexicons of one database's tables hold at most, together (each value costs
# a few hundred bytes in memory once linked): the 31 MIMIC-IV demo tables hold 203,000.
LEXICON_BUDGET = 500_000


def lexicon_cap(sizes: list[int], budget: int = LEXICON_BUDGET) -> int | None:
    """The most values every column may keep so that the columns' lexicons of `sizes` hold at
    most `budget` in all (each keeps min(size, cap)); None when they fit whole."""
    if sum(sizes) <= budget:
        return None
    lo, hi = 0, max(sizes)  # sum(min(s, lo)) <= budget < sum(min(s, hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sum(min(s, mid) for s in sizes) <= budget:
            lo = mid
        else:
            hi = mid
    return lo


def cap_lexicons(profiles: list["TableProfile"], graphs: list[Data],
                 budget: int = LEXICON_BUDGET) -> None:
    """Keep one database's lexicons within `budget` values: every column keeps its most
    frequent values up to one cap (`lexicon_cap`), in its profile and in its table's nodes,
    so a few dictionary tables keep every title while thousands of large text columns cannot
    fill the memory."""
    import dataclasses

    cap = lexicon_cap([len(c.lexicon) for p in profiles for c in p.columns], budget)
    if cap is None:
        return
    for p in profiles:
        for c in p.columns:
            del c.lexicon[cap:]
    for g in graphs:
        n = g.nodes
        kept: dict[int, int] = {}  # column -> values kept so far (most frequent first)
        values, owners = [], []
        for v, o in zip(n.lexicon, n.lexicon_owners):
            if kept.get(o, 0) < cap:
                kept[o] = kept.get(o, 0) + 1
                values.append(v)
                owners.append(o)
        g.nodes = dataclasses.replace(n, lexicon=values, lexicon_owners=owners)

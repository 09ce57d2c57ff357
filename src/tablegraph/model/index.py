"""Encoded tables: what a trained encoder made of a database, ready to be scored against.

A `TableIndex` holds, for M tables with N nodes in all, the table vectors [M, D], the node
vectors [N, D] with the table of each node [N] (late interaction), each table's `TableNodes`,
where each table came from, the tables' schemas (columns, types, keys, sample values: their
profiles without the statistics) and the join graph. It is written as two files,
`index.safetensors` (the arrays) and `index.json` (names, nodes, sources, schemas, joins), and
read back without building the graph network.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tablegraph.graphs.nodes import TableNodes
from tablegraph.model.linking import SchemaLinker
from tablegraph.tables.joins import JoinGraph, join_graph
from tablegraph.tables.records import TableNames, TableProfile

if TYPE_CHECKING:
    from torch_geometric.data import Data

    from tablegraph.model.encoder import ContrastiveGNNEncoder

INDEX_ARRAYS = "index.safetensors"
INDEX_META = "index.json"


@dataclass
class TableIndex:
    """Encoded tables (see the module docstring).

    - names: [M] table names; nodes: [M] their `TableNodes`, same order
    - vectors: [M, D] unit table vectors
    - node_vectors: [N, D] unit node vectors, tables' nodes in order (None without late
      interaction); node_graph: [N] table index of each node
    - sources: [M] where each table was read (no credentials)
    - profiles: [M] the tables' schemas (`TableProfile` without statistics), or [] when the
      index was built from graphs alone
    - joins: the join graph of the tables (None without profiles)
    - documents: [M, d] the text model's unit embeddings of each table's
      `TableNodes.document` (its first `DOCUMENT_CHARS` characters: the dense prior's; None
      in an index built without them)
    """

    names: list[str]
    vectors: np.ndarray
    nodes: list[TableNodes]
    node_vectors: np.ndarray | None = None
    node_graph: np.ndarray | None = None
    sources: list[str] = field(default_factory=list)
    profiles: list[TableProfile] = field(default_factory=list)
    joins: JoinGraph | None = None
    documents: np.ndarray | None = None
    _linker: SchemaLinker | None = field(default=None, repr=False, compare=False)
    _names: TableNames | None = field(default=None, repr=False, compare=False)
    _tensors: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if [n.table for n in self.nodes] != list(self.names):
            raise ValueError("index nodes are not in the order of the table names")
        if len(self.vectors) != len(self.names):
            raise ValueError(f"{len(self.vectors)} table vectors for {len(self.names)} tables")
        if self.node_vectors is not None and len(self.node_vectors) != sum(map(len, self.nodes)):
            raise ValueError("node vectors do not match the tables' nodes")
        if self.profiles and [p.name for p in self.profiles] != list(self.names):
            raise ValueError("index schemas are not in the order of the table names")
        if self.documents is not None and len(self.documents) != len(self.names):
            raise ValueError(f"{len(self.documents)} table documents for {len(self.names)} "
                             "tables")

    def profile(self, table: str) -> TableProfile:
        """The schema of `table` (matched as SQL names are: `tables.records.TableNames`);
        an error naming the tables when there is none."""
        from tablegraph.utils import TableGraphError

        if self._names is None:  # built once: describe and sql_context ask per request
            self._names = TableNames([p.name for p in self.profiles])
        name = self._names.find(table)
        if name is None and (several := self._names.ambiguity(table)):
            raise TableGraphError(f"table {table!r}{several}")
        if name is None:
            shown = ", ".join(self.names[:20]) + (" ..." if len(self.names) > 20 else "")
            raise TableGraphError(f"no table {table!r} in the index (tables: {shown})")
        return self.profiles[self.names.index(name)]

    def linker(self) -> SchemaLinker:
        """Schema linking against these tables (built once, from their nodes)."""
        if self._linker is None:
            self._linker = SchemaLinker.from_nodes(self.nodes)
        return self._linker

    def tensors(self, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor | None,
                                                     torch.Tensor | None]:
        """The arrays as tensors on `device` (kept): vectors [M, D], nodes [N, D], [N]."""
        if device not in self._tensors:
            nv = ng = None
            if self.node_vectors is not None and self.node_graph is not None:
                nv = torch.from_numpy(self.node_vectors).to(device)
                ng = torch.from_numpy(self.node_graph).long().to(device)
            self._tensors[device] = (torch.from_numpy(self.vectors).to(device), nv, ng)
        return self._tensors[device]

    def document_tensor(self, device: str = "cpu") -> torch.Tensor | None:
        """`documents` as a tensor on `device` [M, d] (kept), or None."""
        if self.documents is None:
            return None
        key = "documents:" + device
        if key not in self._tensors:
            self._tensors[key] = (torch.from_numpy(self.documents).to(device),)
        return self._tensors[key][0]

    def node_offsets(self) -> list[int]:
        """Position of each table's first node in `node_vectors`."""
        return np.cumsum([0] + [len(n) for n in self.nodes])[:-1].tolist()

    # files ----------------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write `index.safetensors` and `index.json` into `folder` (which the caller
        creates and renames into place)."""
        from safetensors.torch import save_file

        from tablegraph.utils import write_json

        folder = Path(folder)
        tensors = {"vectors": torch.from_numpy(np.ascontiguousarray(self.vectors))}
        if self.node_vectors is not None and self.node_graph is not None:
            tensors["node_vectors"] = torch.from_numpy(np.ascontiguousarray(self.node_vectors))
            tensors["node_graph"] = torch.from_numpy(np.ascontiguousarray(self.node_graph))
        if self.documents is not None:
            tensors["documents"] = torch.from_numpy(np.ascontiguousarray(self.documents))
        save_file(tensors, str(folder / INDEX_ARRAYS))
        write_json(folder / INDEX_META, {
            "tables": self.names, "sources": self.sources,
            "nodes": [n.to_json() for n in self.nodes],
            "profiles": [{**p.to_json(), "columns": [{**c.to_json(), "stats": [], "lexicon": []}
                                                     for c in p.columns]}
                         for p in self.profiles],
            "joins": self.joins.to_json() if self.joins is not None else None})

    @staticmethod
    def load(folder: str | os.PathLike[str]) -> "TableIndex":
        """Read an index written by `save` (errors: OSError, KeyError, ValueError)."""
        from safetensors.numpy import load_file

        folder = Path(folder)
        arrays = load_file(str(folder / INDEX_ARRAYS))
        meta: dict[str, Any] = json.loads((folder / INDEX_META).read_text("utf-8"))
        return TableIndex(list(meta["tables"]), arrays["vectors"].astype(np.float32),
                          [TableNodes.from_json(n) for n in meta["nodes"]],
                          arrays.get("node_vectors"), arrays.get("node_graph"),
                          list(meta.get("sources", [])),
                          [TableProfile.from_json(p) for p in meta.get("profiles") or []],
                          JoinGraph.from_json(meta["joins"]) if meta.get("joins") else None,
                          None if "documents" not in arrays
                          else arrays["documents"].astype(np.float32))


@torch.no_grad()
def encode_graphs(model: "ContrastiveGNNEncoder", graphs: list["Data"], device: str = "cpu",
                  chunk: int = 256) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Graphs -> table vectors [G, D], node vectors [N, D] (None without late interaction)
    and the graph index of each node [N] (eval mode, no gradients)."""
    from tablegraph.graphs.build import batch_graphs

    was = model.training
    model.eval()
    tabs, nodes, owner = [], [], []
    for i in range(0, len(graphs), chunk):
        b = batch_graphs(graphs[i:i + chunk], device)
        t, n = model.encode(b.x, b.edge_index, b.batch, b.node_type)
        tabs.append(t.cpu())
        if n is not None:
            nodes.append(n.cpu())
        owner.append(b.batch.cpu() + i)
    model.train(was)
    if not tabs:
        return np.zeros((0, model.cfg.out_dim), dtype=np.float32), None, np.zeros(0, np.int64)
    node_vecs = torch.cat(nodes).numpy().astype(np.float32) if nodes else None
    return (torch.cat(tabs).numpy().astype(np.float32), node_vecs,
            torch.cat(owner).numpy().astype(np.int64))


def build_index(model: "ContrastiveGNNEncoder", graphs: list["Data"], device: str = "cpu",
                profiles: list[TableProfile] | None = None) -> TableIndex:
    """Encode table graphs (each carrying `table` and `nodes`) into an index; with the
    tables' `profiles` (same order), their schemas, sources and join graph too."""
    vectors, node_vecs, node_graph = encode_graphs(model, graphs, device)
    profiles = list(profiles or [])
    return TableIndex([g.table for g in graphs], vectors, [g.nodes for g in graphs],
                      node_vecs, node_graph if node_vecs is not None else None,
                      [p.source for p in profiles], profiles,
                      join_graph(profiles) if profiles else None, graph_documents(graphs))


def graph_documents(graphs: list["Data"]) -> np.ndarray | None:
    """The graphs' `document` embeddings [G, d] (None when a graph has none)."""
    docs = [getattr(g, "document", None) for g in graphs]
    if not docs or any(d is None for d in docs):
        return None
    return np.stack(docs).astype(np.float32)

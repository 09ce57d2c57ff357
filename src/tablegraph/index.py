"""Model folders and table indexes (no training code here).

A saved model is a folder:
- `config.json`: format version, package version, feature schema (profile and graph
  versions, statistics width), text model name and dimension, every encoder and graph argument,
  the training settings;
- `model.safetensors`: the encoder's weights;
- `index.safetensors` + `index.json`: the trained tables' vectors [M, D], names, sources and
  shared keys, so that questions are answered without re-reading the tables;
- `metrics.json`, `history.csv`, `curves.png` (written by training).

`save_model` writes everything into a temporary sibling folder and renames it into place, so an
existing model is never left half-written. `load_model` refuses folders of another format,
feature schema or text model with one clear line.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch_geometric.data import Batch, Data

from tablegraph import __version__
from tablegraph.encoder import ContrastiveGNNEncoder, EncoderConfig, QuestionInputs, table_scores
from tablegraph.graph import GRAPH_VERSION, GraphConfig
from tablegraph.linking import SchemaLinker
from tablegraph.profile import PROFILE_VERSION, STATS_DIM, TableProfile
from tablegraph.text import TextEncoder
from tablegraph.utils import TableGraphError, write_json

FORMAT = "tablegraph-model"
FORMAT_VERSION = 3  # 2: attention pooling of question tokens, schema-linking weights;
# 3: partial-match linking features (7 link weights)


def feature_schema() -> dict[str, int]:
    return {"profile_version": PROFILE_VERSION, "graph_version": GRAPH_VERSION,
            "stats_dim": STATS_DIM}


@dataclass
class TableIndex:
    """Table vectors [M, D] with their names, where each table came from, and (with late
    interaction) node vectors [N, D] with the table index of each node [N], and (with schema
    linking) the learned weight of each linking feature [F]."""

    names: list[str]
    vectors: np.ndarray
    sources: list[str] = field(default_factory=list)
    shared_keys: dict[str, list[list[str]]] = field(default_factory=dict)
    # table -> {"labels", "kinds", "owners", "columns"}: its nodes in graph order
    nodes: dict[str, dict[str, list]] = field(default_factory=dict)
    node_vectors: np.ndarray | None = None
    node_graph: np.ndarray | None = None
    mix: float = 0.0
    link_weight: np.ndarray | None = None
    _linker: SchemaLinker | None = field(default=None, repr=False, compare=False)

    def linker(self) -> SchemaLinker:
        """Schema linking against these tables (built once, from the stored nodes)."""
        if self._linker is None:
            self._linker = SchemaLinker.from_nodes(self.names, self.nodes)
        return self._linker

    def scores(self, q: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """Question vectors [Q, D] (and their texts, for schema linking) -> scores [Q, M]
        (see `encoder.table_scores`)."""
        nv = None if self.node_vectors is None else torch.from_numpy(self.node_vectors)
        ng = None if self.node_graph is None else torch.from_numpy(self.node_graph).long()
        link = lw = None
        if self.link_weight is not None and texts is not None:
            link = torch.from_numpy(self.linker().features(texts))  # [Q, M, F]
            lw = torch.from_numpy(self.link_weight)
        return table_scores(torch.from_numpy(np.asarray(q, dtype=np.float32)),
                            torch.from_numpy(self.vectors), nv, ng, self.mix, link, lw).numpy()

    def node_offsets(self) -> dict[str, int]:
        """Index of each table's first node in `node_vectors`."""
        out, k = {}, 0
        for name in self.names:
            out[name] = k
            k += len(self.nodes.get(name, {}).get("labels", []))
        return out


@dataclass
class SavedModel:
    encoder: ContrastiveGNNEncoder
    config: dict[str, Any]
    index: TableIndex

    @property
    def text_model(self) -> str:
        return self.config["text_model"]["name"]

    @property
    def graph_config(self) -> GraphConfig:
        return GraphConfig.from_dict(self.config["graph"])

    @property
    def sampling(self) -> dict[str, int]:
        return self.config.get("sampling", {})


@torch.no_grad()
def embed_graphs(model: ContrastiveGNNEncoder, graphs: list[Data], device: str = "cpu",
                 chunk: int = 256) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Graphs -> table vectors [G, D], node vectors [N, D] (None without late interaction)
    and the graph index of each node [N] (eval mode, no gradients)."""
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


def prepare_questions(cfg: EncoderConfig, text: TextEncoder, texts: list[str],
                      linker: SchemaLinker | None = None, device: str = "cpu") -> QuestionInputs:
    """Frozen inputs of `texts` for a model of config `cfg`: sentence vectors, token embeddings
    (attention pooling) and schema-linking features against `linker`'s tables."""
    link = linker.features(texts) if cfg.schema_linking and linker is not None else None
    if cfg.question_pooling == "sentence":
        return QuestionInputs.from_arrays(text.encode(texts), None, link, device)
    tokens = text.encode_tokens(texts)
    # Mean-pooled tokens stand in for the sentence vectors (one pass of the text model).
    means = np.stack([t.mean(axis=0) for t in tokens]) if tokens else np.zeros((0, text.dim))
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return QuestionInputs.from_arrays(means, tokens, link, device)


@torch.no_grad()
def embed_questions(model: ContrastiveGNNEncoder, text: TextEncoder, texts: list[str],
                    device: str = "cpu", chunk: int = 512) -> np.ndarray:
    """Question texts -> the model's question vectors [Q, D] (see `question_vectors`)."""
    out = [model.question_vectors(prepare_questions(model.cfg, text, texts[i:i + chunk],
                                                    None, device)).cpu()
           for i in range(0, len(texts), chunk)]
    if not out:
        return np.zeros((0, model.cfg.out_dim), dtype=np.float32)
    return torch.cat(out).numpy().astype(np.float32)


def score_questions(model: ContrastiveGNNEncoder, text: TextEncoder, index: TableIndex,
                    texts: list[str], device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Question texts -> their question vectors [Q, D] and their scores against every table
    of `index` [Q, M], schema-linking features included."""
    qv = embed_questions(model, text, texts, device)
    return qv, index.scores(qv, texts)


def link_weight(model: ContrastiveGNNEncoder) -> np.ndarray | None:
    if not model.cfg.schema_linking:
        return None
    return model.link_weight.detach().cpu().numpy().astype(np.float32)


def explain_nodes(profile: TableProfile, cfg: GraphConfig) -> dict[str, list]:
    """A table's nodes in graph order: label (column name or value), kind (0 column, 1 table,
    2 value) and owning column index (-1 for the table node), plus its column names."""
    from tablegraph.graph import COLUMN, node_texts

    texts, kinds, owners = node_texts(profile, cfg)
    labels = [profile.columns[i].name if k == COLUMN else texts[i] for i, k in enumerate(kinds)]
    return {"labels": labels, "kinds": kinds, "owners": owners,
            "columns": [c.name for c in profile.columns]}


def build_index(model: ContrastiveGNNEncoder, profiles: list[TableProfile], graphs: list[Data],
                cfg: GraphConfig, device: str = "cpu",
                shared: dict[str, list[list[str]]] | None = None) -> TableIndex:
    """Embed tables with a trained encoder into an index (vectors, node vectors, labels)."""
    vectors, node_vecs, node_graph = embed_graphs(model, graphs, device)
    return TableIndex([g.table for g in graphs], vectors, [p.source for p in profiles],
                      shared or {}, {p.name: explain_nodes(p, cfg) for p in profiles},
                      node_vecs, node_graph if node_vecs is not None else None,
                      float(model.mix().item()), link_weight(model))


def batch_graphs(graphs: list[Data], device: str = "cpu") -> Batch:
    """Batch graphs for the encoder, keeping only tensor fields."""
    slim = [Data(x=g.x, edge_index=g.edge_index, node_type=g.node_type) for g in graphs]
    return Batch.from_data_list(slim).to(device)


def save_model(out_dir: str | os.PathLike[str], encoder: ContrastiveGNNEncoder,
               config: dict[str, Any], index: TableIndex,
               extra_files: dict[str, bytes] | None = None,
               extra_json: dict[str, Any] | None = None) -> Path:
    """Write a model folder atomically (temporary sibling folder, then rename)."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        full = {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
                "feature_schema": feature_schema(), **config,
                "encoder": encoder.cfg.to_dict()}
        write_json(tmp / "config.json", full)
        state = {k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"))
        tensors = {"vectors": torch.from_numpy(np.ascontiguousarray(index.vectors))}
        if index.node_vectors is not None and index.node_graph is not None:
            tensors["node_vectors"] = torch.from_numpy(np.ascontiguousarray(index.node_vectors))
            tensors["node_graph"] = torch.from_numpy(np.ascontiguousarray(index.node_graph))
        save_file(tensors, str(tmp / "index.safetensors"))
        write_json(tmp / "index.json", {"tables": index.names, "sources": index.sources,
                                        "shared_keys": index.shared_keys, "mix": index.mix,
                                        "nodes": index.nodes})
        for name, obj in (extra_json or {}).items():
            write_json(tmp / name, obj)
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_config(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    d = Path(model_dir)
    if not d.is_dir():
        raise TableGraphError(f"no such model folder: {model_dir}")
    cfg_path = d / "config.json"
    if not cfg_path.is_file():
        raise TableGraphError(f"{model_dir} is not a tablegraph model (no config.json)")
    try:
        cfg = json.loads(cfg_path.read_text("utf-8"))
    except ValueError as e:
        raise TableGraphError(f"{cfg_path}: not valid JSON") from e
    if cfg.get("format") != FORMAT:
        raise TableGraphError(f"{model_dir} is not a tablegraph model folder")
    if cfg.get("format_version") != FORMAT_VERSION:
        raise TableGraphError(f"{model_dir} has model format {cfg.get('format_version')}, this "
                              f"tablegraph {__version__} reads format {FORMAT_VERSION}: retrain")
    if cfg.get("feature_schema") != feature_schema():
        raise TableGraphError(f"{model_dir} was trained with feature schema "
                              f"{cfg.get('feature_schema')}, this tablegraph {__version__} builds "
                              f"{feature_schema()}: retrain")
    return cfg


def load_model(model_dir: str | os.PathLike[str], device: str = "cpu") -> SavedModel:
    """Load a model folder, checking format, feature schema and text model."""
    d = Path(model_dir)
    cfg = read_config(d)
    try:
        enc_cfg = EncoderConfig.from_dict(cfg["encoder"])
        encoder = ContrastiveGNNEncoder(enc_cfg)
        encoder.load_state_dict(load_file(str(d / "model.safetensors"), device="cpu"))
        arrays = {k: v.numpy() for k, v in load_file(str(d / "index.safetensors")).items()}
        vectors = arrays["vectors"]
        meta = json.loads((d / "index.json").read_text("utf-8"))
    except (OSError, KeyError, RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TableGraphError(f"{model_dir}: damaged model folder ({first})") from e
    text = cfg.get("text_model", {})
    if int(text.get("dim", -1)) != enc_cfg.out_dim:
        raise TableGraphError(f"{model_dir}: text model dimension {text.get('dim')} does not "
                              f"match the encoder output {enc_cfg.out_dim}")
    encoder.to(device).eval()
    index = TableIndex(list(meta["tables"]), vectors.astype(np.float32),
                       list(meta.get("sources", [])), dict(meta.get("shared_keys", {})),
                       dict(meta.get("nodes", {})), arrays.get("node_vectors"),
                       arrays.get("node_graph"), float(meta.get("mix", 0.0)),
                       link_weight(encoder))
    return SavedModel(encoder, cfg, index)

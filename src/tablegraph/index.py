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
from tablegraph.encoder import ContrastiveGNNEncoder, EncoderConfig
from tablegraph.graph import GRAPH_VERSION, GraphConfig
from tablegraph.profile import PROFILE_VERSION, STATS_DIM, TableProfile
from tablegraph.utils import TableGraphError, write_json

FORMAT = "tablegraph-model"
FORMAT_VERSION = 1


def feature_schema() -> dict[str, int]:
    return {"profile_version": PROFILE_VERSION, "graph_version": GRAPH_VERSION,
            "stats_dim": STATS_DIM}


@dataclass
class TableIndex:
    """Table vectors [M, D] with their names (and where each table came from)."""

    names: list[str]
    vectors: np.ndarray
    sources: list[str] = field(default_factory=list)
    shared_keys: dict[str, list[list[str]]] = field(default_factory=dict)
    # table -> {"columns": [names], "values": [[column index, value], ...]} for explanations
    nodes: dict[str, dict[str, list]] = field(default_factory=dict)


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
                 chunk: int = 256) -> np.ndarray:
    """Graphs -> [len(graphs), D] unit vectors (eval mode, no gradients)."""
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(graphs), chunk):
        b = batch_graphs(graphs[i:i + chunk], device)
        out.append(model(b.x, b.edge_index, b.batch, b.node_type).cpu())
    model.train(was)
    if not out:
        return np.zeros((0, model.cfg.out_dim), dtype=np.float32)
    return torch.cat(out).numpy().astype(np.float32)


def explain_nodes(profile: TableProfile, cfg: GraphConfig) -> dict[str, list]:
    """The column names and (column index, value) pairs of a table, for explanations."""
    from tablegraph.graph import VALUE, node_texts

    texts, kinds, owners = node_texts(profile, cfg)
    return {"columns": [c.name for c in profile.columns],
            "values": [[owners[i], texts[i]] for i, k in enumerate(kinds) if k == VALUE]}


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
        save_file({"vectors": torch.from_numpy(np.ascontiguousarray(index.vectors))},
                  str(tmp / "index.safetensors"))
        write_json(tmp / "index.json", {"tables": index.names, "sources": index.sources,
                                        "shared_keys": index.shared_keys,
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
        vectors = load_file(str(d / "index.safetensors"))["vectors"].numpy()
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
                       dict(meta.get("nodes", {})))
    return SavedModel(encoder, cfg, index)

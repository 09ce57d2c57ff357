"""Saved indexes of a user's tables: profile and embed once, answer many times.

An index folder (`tablegraph index --tables SRC --out IDX`):
- `config.json`: format, package version, feature schema, the model it was built with (its
  folder, or null for the shipped default, and the SHA-256 of its weights), the `--tables`
  argument (a PostgreSQL URL without its password), the sampling bound, each table's
  fingerprint, and the SHA-256 of the index files;
- `index.safetensors` + `index.json` (`model.index.TableIndex`): table and node vectors, nodes,
  schemas and the join graph.

`update_index` re-reads only the tables whose fingerprint changed (`Reader.table_fingerprint`:
per table, even inside one database file), adds new tables and drops removed ones, and keeps
the vectors of the rest; nothing is retrained. Writes are atomic (`model.folder.atomic_folder`):
a failed build or update leaves the old index as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tablegraph import __version__
from tablegraph.graphs.nodes import feature_schema
from tablegraph.model.folder import (INDEX_ARRAYS, INDEX_META, SavedModel, atomic_folder,
                                     load_model, sha256)
from tablegraph.model.index import TableIndex
from tablegraph.utils import TableGraphError, write_json

if TYPE_CHECKING:
    from tablegraph.text.encoders import TextEncoder

INDEX_FORMAT = "tablegraph-index"
INDEX_FORMAT_VERSION = 2  # 2: table nodes carry their value lexicon (schema linking)


@dataclass
class IndexInfo:
    """What an index folder records about itself (its `config.json`)."""

    path: Path
    tables: str  # the --tables argument, without credentials
    model: str | None  # model folder, None: the shipped default
    model_sha256: str
    max_rows: int | None
    fingerprints: dict[str, str | None] = field(default_factory=dict)


@dataclass
class UpdateReport:
    """What `build_index`/`update_index` did, table by table."""

    reread: list[str] = field(default_factory=list)  # changed tables, read again
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list = field(default_factory=list)  # tables that could not be read

    def to_dict(self) -> dict[str, Any]:
        return {"reread": self.reread, "added": self.added, "removed": self.removed,
                "unchanged": len(self.unchanged),
                "skipped": [{"table": s.table, "why": s.why} for s in self.skipped]}


def _weights_sha(saved: SavedModel) -> str:
    return saved.config["checksums"]["model.safetensors"]


def _model_ref(model: str | None) -> str | None:
    return None if model is None else str(Path(model).resolve())


def read_index_info(idx: str | os.PathLike[str]) -> IndexInfo:
    """An index folder's `config.json`, checked (format, feature schema, checksums)."""
    d = Path(idx)
    try:
        cfg = json.loads((d / "config.json").read_text("utf-8"))
    except FileNotFoundError as e:
        raise TableGraphError(f"no index at {idx} (no config.json): build one with "
                              f"tablegraph index --tables SRC --out {idx}") from e
    except (OSError, ValueError) as e:
        raise TableGraphError(f"{idx}: unreadable index config ({e})") from e
    if cfg.get("format") != INDEX_FORMAT:
        raise TableGraphError(f"{idx} is not a tablegraph index folder")
    if cfg.get("format_version") != INDEX_FORMAT_VERSION or \
            cfg.get("feature_schema") != feature_schema():
        raise TableGraphError(f"{idx} was built by another tablegraph version: rebuild it with "
                              f"tablegraph index")
    for name, digest in cfg.get("checksums", {}).items():
        if not (d / name).is_file() or sha256(d / name) != digest:
            raise TableGraphError(f"{idx}: damaged index folder ({name} is missing or does "
                                  f"not match its checksum)")
    return IndexInfo(d, cfg["tables"], cfg.get("model"), cfg["model_sha256"],
                     cfg.get("max_rows"), dict(cfg.get("fingerprints", {})))


def load_index(idx: str | os.PathLike[str]) -> tuple[IndexInfo, SavedModel, TableIndex]:
    """An index folder, the model it was built with (checked to be the same weights) and its
    tables."""
    info = read_index_info(idx)
    saved = load_model(info.model)
    if _weights_sha(saved) != info.model_sha256:
        which = info.model or "the shipped default model"
        raise TableGraphError(f"{idx} was built with other weights than {which} has now: "
                              f"rebuild it with tablegraph index --update")
    try:
        index = TableIndex.load(info.path)
    except (OSError, KeyError, ValueError) as e:
        raise TableGraphError(f"{idx}: damaged index folder ({e})") from e
    return info, saved, index


def _fingerprints(refs: list) -> dict[str, str | None]:
    from tablegraph.tables.sources import Reader

    reader = Reader()
    try:
        out = {}
        for r in refs:
            try:
                out[r.name] = reader.table_fingerprint(r)
            except (TableGraphError, OSError):
                out[r.name] = None
        return out
    finally:
        reader.close()


def _save(out: str | os.PathLike[str], index: TableIndex, tables: str, model: str | None,
          saved: SavedModel, max_rows: int | None, fingerprints: dict[str, str | None]) -> None:
    from tablegraph.tables.sources import without_password

    with atomic_folder(out) as tmp:
        index.save(tmp)
        write_json(tmp / "config.json", {
            "format": INDEX_FORMAT, "format_version": INDEX_FORMAT_VERSION,
            "package_version": __version__, "feature_schema": feature_schema(),
            "model": _model_ref(model), "model_sha256": _weights_sha(saved),
            "tables": without_password(str(Path(tables).resolve()) if os.path.exists(tables)
                                       else tables), "max_rows": max_rows,
            "fingerprints": {t: fingerprints.get(t) for t in index.names},
            "checksums": {name: sha256(tmp / name) for name in (INDEX_ARRAYS, INDEX_META)}})


def encode_tables(saved: SavedModel, tables: "str | list", device: str = "cpu",
                  progress: bool = False, strict: bool = False, skipped: list | None = None,
                  max_rows: int | None = None, text: "TextEncoder | None" = None) -> TableIndex:
    """Read, profile and embed `tables` (a `--tables` argument or table references) as
    `saved` samples them (or at most `max_rows` rows); unreadable tables are listed in
    `skipped`. Without `text`, the model's text encoder loads while the tables are read."""
    from tablegraph.graphs.build import load_table_graphs
    from tablegraph.model.index import build_index

    s = saved.sampling
    profiles, graphs = load_table_graphs(tables, saved.text_encoder if text is None else text,
                                         saved.graph_config, max_rows or s.get("max_rows"),
                                         s.get("seed"), progress, strict, skipped)
    return build_index(saved.encoder(device), graphs, device, profiles)


def build_index(tables: str, out: str | os.PathLike[str], model: str | None = None,
                device: str = "cpu", progress: bool = False, strict: bool = False,
                max_rows: int | None = None) -> UpdateReport:
    """Read, profile and embed `tables` with `model` (None: the shipped default) and save
    the index folder `out`."""
    from tablegraph.model.folder import check_out
    from tablegraph.tables.sources import discover

    check_out(out)
    saved = load_model(model)
    refs = discover(tables)
    fps = _fingerprints(refs)
    report = UpdateReport()
    index = encode_tables(saved, refs, device, progress, strict, report.skipped, max_rows)
    report.added = list(index.names)
    _save(out, index, tables, model, saved, max_rows, fps)
    return report


def _subset(index: TableIndex, keep: list[str]) -> TableIndex:
    """The tables `keep` of an index, with their vectors, nodes and schemas."""
    pos = {n: i for i, n in enumerate(index.names)}
    rows = [pos[n] for n in keep]
    offsets = index.node_offsets()
    nv = ng = None
    if index.node_vectors is not None:
        spans = [np.arange(offsets[i], offsets[i] + len(index.nodes[i])) for i in rows]
        idx = np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)
        nv = index.node_vectors[idx]
        ng = np.concatenate([np.full(len(index.nodes[i]), k) for k, i in enumerate(rows)]) \
            if rows else np.zeros(0, dtype=np.int64)
    return TableIndex([index.names[i] for i in rows], index.vectors[rows],
                      [index.nodes[i] for i in rows], nv, ng,
                      [index.sources[i] for i in rows] if index.sources else [],
                      [index.profiles[i] for i in rows] if index.profiles else [],
                      documents=None if index.documents is None else index.documents[rows])


def merge_indexes(a: TableIndex, b: TableIndex) -> TableIndex:
    """Two indexes of disjoint tables as one, sorted by table name, with the join graph of all
    their schemas computed anew."""
    from tablegraph.tables.joins import join_graph

    names = sorted(a.names + b.names)
    src = {n: (a, i) for i, n in enumerate(a.names)} | {n: (b, i) for i, n in enumerate(b.names)}
    vec = np.stack([s.vectors[i] for s, i in (src[n] for n in names)]) if names else \
        np.zeros((0, a.vectors.shape[1]), dtype=np.float32)
    nodes = [s.nodes[i] for s, i in (src[n] for n in names)]
    nv = ng = None
    if a.node_vectors is not None and b.node_vectors is not None:
        parts, owners = [], []
        for k, n in enumerate(names):
            s, i = src[n]
            off = s.node_offsets()[i]
            parts.append(s.node_vectors[off:off + len(s.nodes[i])])
            owners.append(np.full(len(s.nodes[i]), k))
        nv = np.concatenate(parts) if parts else a.node_vectors[:0]
        ng = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    profiles = [s.profiles[i] for s, i in (src[n] for n in names)]
    docs = None
    if a.documents is not None and b.documents is not None:
        docs = np.stack([s.documents[i] for s, i in (src[n] for n in names)]) if names else \
            a.documents[:0]
    return TableIndex(names, vec.astype(np.float32), nodes, nv, ng,
                      [p.source for p in profiles], profiles, join_graph(profiles), docs)


def update_index(idx: str | os.PathLike[str], tables: str | None = None, device: str = "cpu",
                 progress: bool = False, strict: bool = False) -> UpdateReport:
    """Bring an index up to date with its tables: re-read the tables whose fingerprint
    changed (or cannot be told), add new tables, drop removed ones, keep the rest. `tables`:
    where to read them (default: where the index was built; give a PostgreSQL URL again, or
    set PGPASSWORD, for a password the index does not store)."""
    from tablegraph.tables.sources import discover

    info, saved, old = load_index(idx)
    spec = tables or info.tables
    refs = discover(spec)
    fps = _fingerprints(refs)
    report = UpdateReport()
    keep, todo = [], []
    for r in refs:
        if r.name in old.names and fps[r.name] is not None and \
                fps[r.name] == info.fingerprints.get(r.name):
            keep.append(r.name)
        else:
            todo.append(r)
            (report.reread if r.name in old.names else report.added).append(r.name)
    report.unchanged = keep
    now = {r.name for r in refs}
    report.removed = [n for n in old.names if n not in now]
    fresh = encode_tables(saved, todo, device, progress, strict, report.skipped,
                          info.max_rows) \
        if todo else _subset(old, [])
    merged = merge_indexes(_subset(old, keep), fresh)
    _save(idx, merged, spec, info.model, saved, info.max_rows, fps)
    return report


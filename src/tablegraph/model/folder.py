"""Model folders: a trained encoder with its settings and, optionally, an index of tables.

A saved model is a folder:
- `config.json`: format version, package version, feature schema (profile and graph
  versions, statistics width), text model name and dimension, every encoder and graph argument,
  the training settings and the sampling bound;
- `model.safetensors`: the encoder's weights;
- `join_stage.safetensors` (optional): the learned second stage over the join graph
  (`model.joinstage.JoinStage`);
- `index.safetensors` + `index.json` (`model.index.TableIndex`): the trained tables, so that
  questions are answered without re-reading them;
- `metrics.json`, `history.csv`, `curves.png` (written by training).

`save_model` writes everything into a temporary sibling folder and renames it into place, so an
existing model is never left half-written; it never replaces a path that is not a tablegraph
folder (`check_out`). `config.json` records a SHA-256 of every weight and index file, and
`load_model` refuses a folder whose files do not match, or of another format, feature schema or
text model, with one clear line. It builds nothing: the question side
(`question_head`) and the graph encoder (`encoder`, which imports PyTorch Geometric) are made
from the weights when asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from tablegraph import __version__
from tablegraph.graphs.nodes import GraphConfig, feature_schema
from tablegraph.model.config import EncoderConfig
from tablegraph.model.index import INDEX_ARRAYS, INDEX_META, TableIndex
from tablegraph.model.scoring import QuestionHead
from tablegraph.utils import TableGraphError, apply_umask, write_json

if TYPE_CHECKING:
    from tablegraph.model.encoder import ContrastiveGNNEncoder
    from tablegraph.model.joinstage import JoinStage
    from tablegraph.text.encoders import TextEncoder

FORMAT = "tablegraph-model"
FORMAT_VERSION = 4  # 2: attention pooling of question tokens, schema-linking weights;
# 3: partial-match linking features (7 link weights); 4: typed table nodes in the index
WEIGHTS = "model.safetensors"
STAGE_FILE = "join_stage.safetensors"  # the second stage (`model.joinstage`), when trained
FOLDER_FORMATS = (FORMAT, "tablegraph-index")  # what --out may replace


def check_out(out_dir: str | os.PathLike[str]) -> Path:
    """Refuse, before any work, an output path that exists and is not a tablegraph model or
    index folder (an empty folder is fine), or that cannot be written."""
    out = Path(out_dir)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise TableGraphError(f"refusing to replace {out}: it is not a tablegraph model or "
                              f"index folder (choose another --out)")
    if out.is_dir() and any(out.iterdir()):
        try:
            fmt = json.loads((out / "config.json").read_text("utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            fmt = None
        if fmt not in FOLDER_FORMATS:
            raise TableGraphError(f"refusing to replace {out}: it holds files and is not a "
                                  f"tablegraph model or index folder (choose another --out)")
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise TableGraphError(f"cannot write {out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK):
        raise TableGraphError(f"cannot write {out}: {parent} is not writable")
    return out


def sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class SavedModel:
    """A model folder's settings and weights, and its index of tables (None without)."""

    path: Path
    config: dict[str, Any]
    state: dict[str, torch.Tensor]
    index: TableIndex | None

    @property
    def text_model(self) -> str:
        return self.config["text_model"]["name"]

    @property
    def text_dim(self) -> int:
        return int(self.config["text_model"]["dim"])

    @property
    def encoder_config(self) -> EncoderConfig:
        return EncoderConfig.from_dict(self.config["encoder"])

    @property
    def graph_config(self) -> GraphConfig:
        return GraphConfig.from_dict(self.config["graph"])

    @property
    def sampling(self) -> dict[str, int]:
        return self.config.get("sampling", {})

    def text_encoder(self) -> "TextEncoder":
        """The frozen text model this model was trained with (loaded once per process),
        refused in one line when it gives vectors of another size."""
        from tablegraph.text.encoders import load_text_encoder

        text = load_text_encoder(self.text_model)
        if text.dim != self.text_dim:
            raise TableGraphError(f"text model {self.text_model!r} gives {text.dim}-d vectors, "
                                  f"the model expects {self.text_dim}")
        return text

    def join_stage(self) -> "JoinStage | None":
        """The learned second stage over the join graph (None: the folder has none)."""
        if STAGE_FILE not in self.config.get("checksums", {}):
            return None
        from safetensors.torch import load_file

        from tablegraph.model.joinstage import STAGE_FEATURES, JoinStage

        try:
            state = load_file(str(self.path / STAGE_FILE), device="cpu")
        except (OSError, RuntimeError, ValueError) as e:
            raise TableGraphError(f"{self.path}: damaged model folder ({_first_line(e)})") from e
        lo = state.get("members.0.lo", state.get("lo"))  # older folders: one member
        if lo is not None and lo.shape[0] != len(STAGE_FEATURES):
            raise TableGraphError(
                f"{self.path}: its second stage reads {lo.shape[0]} features, this "
                f"tablegraph reads {len(STAGE_FEATURES)}: the folder was made by another "
                f"version; make it again with the command that made it (tablegraph pretrain, "
                f"or tablegraph train from this version's shipped model)")
        try:
            return JoinStage.from_state(state)
        except (KeyError, RuntimeError, ValueError) as e:
            raise TableGraphError(f"{self.path}: damaged model folder ({_first_line(e)})") from e

    def question_head(self, device: str = "cpu") -> QuestionHead:
        """The trained question side alone (no graph network, no PyG)."""
        return QuestionHead.from_state(self.encoder_config, self.state).to(device)

    def encoder(self, device: str = "cpu") -> "ContrastiveGNNEncoder":
        """The whole trained encoder, in eval mode (imports PyTorch Geometric)."""
        from tablegraph.model.encoder import ContrastiveGNNEncoder

        enc = ContrastiveGNNEncoder(self.encoder_config)
        try:
            enc.load_state_dict(self.state)
        except RuntimeError as e:
            raise TableGraphError(f"{self.path}: the weights do not fit the encoder settings "
                                  f"({_first_line(e)})") from e
        return enc.to(device).eval()


@contextlib.contextmanager
def atomic_folder(out_dir: str | os.PathLike[str]):
    """Write a tablegraph folder atomically: yields a temporary sibling folder to fill, then
    renames it into place (replacing a tablegraph folder there; `check_out` refuses anything
    else). On an error nothing at `out_dir` changes."""
    out = check_out(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        apply_umask(tmp, folder=True)
        yield tmp
        for f in tmp.iterdir():  # safetensors writes its files 0600
            apply_umask(f)
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


def save_model(out_dir: str | os.PathLike[str], encoder: "ContrastiveGNNEncoder",
               config: dict[str, Any], index: TableIndex | None,
               extra_files: dict[str, bytes] | None = None,
               extra_json: dict[str, Any] | None = None,
               join_stage: "JoinStage | None" = None) -> Path:
    """Write a model folder atomically (temporary sibling folder, then rename)."""
    from safetensors.torch import save_file

    with atomic_folder(out_dir) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
        if index is not None:
            index.save(tmp)
        if join_stage is not None:
            save_file(join_stage.state(), str(tmp / STAGE_FILE))
        for name, obj in (extra_json or {}).items():
            write_json(tmp / name, obj)
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        checked = [WEIGHTS] + ([INDEX_ARRAYS, INDEX_META] if index is not None else []) \
            + ([STAGE_FILE] if join_stage is not None else [])
        full = {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
                "feature_schema": feature_schema(), **config,
                "encoder": encoder.cfg.to_dict(),
                "checksums": {name: sha256(tmp / name) for name in checked}}
        write_json(tmp / "config.json", full)
    return Path(out_dir)


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


def default_model_dir() -> Path:
    """The pretrained model shipped inside the package (`tablegraph pretrain` made it; see
    docs/model-card.md)."""
    return Path(__file__).resolve().parents[1] / "pretrained" / "default"


def load_model(model_dir: str | os.PathLike[str] | None = None) -> SavedModel:
    """Read a model folder (the shipped default when None), checking format, feature schema,
    checksums and text model dimension."""
    from safetensors.torch import load_file

    if model_dir is None:
        model_dir = default_model_dir()
        if not (model_dir / "config.json").is_file():
            raise TableGraphError("this installation ships no pretrained model: give --model")
    d = Path(model_dir)
    cfg = read_config(d)
    checksums = cfg.get("checksums")
    if not isinstance(checksums, dict) or WEIGHTS not in checksums:
        raise TableGraphError(f"{model_dir}: damaged model folder (config.json has no checksums)")
    for name, digest in checksums.items():
        if not (d / name).is_file():
            raise TableGraphError(f"{model_dir}: damaged model folder ({name} is missing)")
        if sha256(d / name) != digest:
            raise TableGraphError(f"{model_dir}: damaged model folder ({name} does not match "
                                  f"its checksum in config.json)")
    try:
        enc_cfg = EncoderConfig.from_dict(cfg["encoder"])
        state = load_file(str(d / WEIGHTS), device="cpu")
        index = TableIndex.load(d) if (d / INDEX_ARRAYS).is_file() else None
    except (OSError, KeyError, RuntimeError, ValueError) as e:
        raise TableGraphError(f"{model_dir}: damaged model folder ({_first_line(e)})") from e
    text = cfg.get("text_model", {})
    if int(text.get("dim", -1)) != enc_cfg.out_dim:
        raise TableGraphError(f"{model_dir}: text model dimension {text.get('dim')} does not "
                              f"match the encoder output {enc_cfg.out_dim}")
    return SavedModel(d, cfg, state, index)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__

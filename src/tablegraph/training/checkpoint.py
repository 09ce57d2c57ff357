"""Training checkpoints, so that an interrupted `train` continues where it stopped (`--resume`)
and ends with the same model as an uninterrupted run of the same seed.

A checkpoint is a folder written atomically at the end of every epoch: `state.safetensors`
(model, optimizer and best-checkpoint tensors, the random number generators' states, the
kept validation scores) and `state.json` (epoch, step, history, best metrics, the optimizer's
parameter groups and the settings it was made with, which resuming must match).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tablegraph.utils import TableGraphError, apply_umask, write_json

STATE = "state.safetensors"
META = "state.json"


@dataclass
class Checkpoint:
    """Everything the training loop needs to go on after `epoch`."""

    epoch: int
    step: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    loss: dict[str, torch.Tensor]
    rng: torch.Tensor  # torch's global generator (dropout)
    batches: torch.Tensor  # the generator that shuffles batches and draws schema pairs
    history: list[dict[str, float]]
    best: dict[str, float]
    best_epoch: int
    best_state: dict[str, torch.Tensor] | None
    val_scores: np.ndarray | None
    settings: dict[str, Any]


def save_checkpoint(folder: str | os.PathLike[str], c: Checkpoint) -> None:
    """Write `c` into `folder`, replacing an older checkpoint atomically."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f"{folder.name}.tmp-"))
    try:
        apply_umask(tmp, folder=True)
        tensors = {f"model/{k}": v for k, v in c.model.items()}
        tensors.update({f"loss/{k}": v for k, v in c.loss.items()})
        for idx, st in c.optimizer["state"].items():
            tensors.update({f"opt/{idx}/{k}": v for k, v in st.items()})
        if c.best_state is not None:
            tensors.update({f"best/{k}": v for k, v in c.best_state.items()})
        if c.val_scores is not None:
            tensors["val_scores"] = torch.from_numpy(np.ascontiguousarray(c.val_scores))
        tensors["rng"] = c.rng
        tensors["batches"] = c.batches
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                  str(tmp / STATE))
        write_json(tmp / META, {"epoch": c.epoch, "step": c.step, "history": c.history,
                                "best": c.best, "best_epoch": c.best_epoch,
                                "param_groups": c.optimizer["param_groups"],
                                "settings": c.settings})
        for f in tmp.iterdir():  # safetensors writes its files 0600
            apply_umask(f)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_checkpoint(folder: str | os.PathLike[str], settings: dict[str, Any]) -> Checkpoint:
    """Read a checkpoint made with the same `settings` (else one clear error)."""
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text("utf-8"))
        tensors = load_file(str(folder / STATE))
    except (OSError, ValueError) as e:
        raise TableGraphError(f"cannot resume from {folder}: damaged checkpoint ({e})") from e
    if meta.get("settings") != json.loads(json.dumps(settings)):
        raise TableGraphError(f"cannot resume from {folder}: it was made with other settings, "
                              f"tables or questions (train without --resume to start over)")

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in part("opt/").items():
        idx, name = k.split("/", 1)
        opt_state.setdefault(int(idx), {})[name] = v
    best = part("best/")
    return Checkpoint(int(meta["epoch"]), int(meta["step"]), part("model/"),
                      {"state": opt_state, "param_groups": meta["param_groups"]}, part("loss/"),
                      tensors["rng"], tensors["batches"], meta["history"], meta["best"],
                      int(meta["best_epoch"]), best or None,
                      tensors["val_scores"].numpy() if "val_scores" in tensors else None,
                      meta["settings"])

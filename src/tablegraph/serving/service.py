"""The one service behind every server: a retriever over a saved index (or tables read at
start), searched by many threads at once, refreshed in the background and swapped in
atomically.

Each call takes the current retriever once (`self.retriever`, a single reference read) and uses
only it, so a refresh that lands mid-request never mixes two indexes in one answer; the new
retriever is built completely before the reference is replaced. Nothing here executes SQL from
a request or returns a credential: sources are shown as `display_location` gives them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tablegraph.retrieval.retriever import TableRetriever
from tablegraph.utils import TableGraphError

MAX_K = 50
MAX_QUESTION_CHARS = 2000


@dataclass
class RefreshState:
    """The last refresh: running, when it finished, what changed, or why it failed."""

    running: bool = False
    started: float | None = None
    finished: float | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"running": self.running, "started": self.started, "finished": self.finished,
                "report": self.report, "error": self.error, "refreshes": self.count}


@dataclass
class SearchService:
    """A retriever and how to rebuild it: from a saved index (`index`, refreshed with
    `index --update` semantics, reading `tables` where given: a database URL given again with
    the password the index does not keep) or from `tables` with `model` (re-read on
    refresh)."""

    retriever: TableRetriever
    index: str | None = None
    tables: str | None = None
    model: str | None = None
    device: str | None = None
    refresh_state: RefreshState = field(default_factory=RefreshState)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, index: str | None = None, tables: str | None = None,
             model: str | None = None, device: str | None = None) -> "SearchService":
        if index is None and tables is None:
            raise TableGraphError("give --index (a saved index) or --tables")
        r = TableRetriever.load(model, tables=tables, device=device, index=index)
        service = cls(r, index, tables, model, device)
        service.warm()
        return service

    def warm(self) -> None:
        """Load the text model and schema linking's value index now, so that
        the first request does not wait for them (the linker over a database of dictionaries,
        200,000 values, takes a second or two to build)."""
        self.retriever.text.encode(["warm up"])
        _prepare(self.retriever)

    # answers ---------------------------------------------------------------------------------
    @staticmethod
    def check(question: str, k: int) -> None:
        if not isinstance(question, str) or not question.strip():
            raise TableGraphError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise TableGraphError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        if not 1 <= k <= MAX_K:
            raise TableGraphError(f"k must be between 1 and {MAX_K}")

    def search(self, question: str, k: int = 5) -> dict[str, Any]:
        """The result record of one question (see ROUND2's record)."""
        self.check(question, k)
        return self.retriever.search(question, k).to_dict()

    def sql_context(self, question: str, k: int = 5, values: bool = True) -> dict[str, Any]:
        """What an LLM needs to write the SQL: the set, its CREATE TABLE statements, joins."""
        self.check(question, k)
        r = self.retriever
        res = r.search(question, k)
        return {**res.to_dict(), "sql_context": r.sql_context(res, values)}

    def tables_list(self) -> list[dict[str, Any]]:
        """Every table: {"table", "columns" (how many), "rows"}, with its catalog's "comment"
        and, in a catalogue of several databases, its "database", where it has them."""
        index = self.retriever._require_index()
        return [{"table": n, "columns": len(p.columns) if p else None,
                 "rows": p.n_rows if p else None,
                 **({"comment": p.comment} if p and p.comment else {}),
                 **({"database": p.database} if p and p.database else {})}
                for n, p in zip(index.names, index.profiles or [None] * len(index.names))]

    def describe(self, table: str) -> dict[str, Any]:
        return self.retriever.describe(table)

    def join_path(self, tables: list[str]) -> dict[str, Any]:
        """The tables given plus the bridge tables that connect them, and the joins."""
        index = self.retriever._require_index()
        if not tables:
            raise TableGraphError("give at least one table")
        names = [index.profile(t).name for t in tables]  # unknown: an error naming the tables
        if index.joins is None:
            return {"tables": names, "joins": []}
        found, joins = index.joins.connect(names, {n: 1.0 for n in names}, max_bridges=4)
        return {"tables": found, "joins": [j.to_dict() for j in index.joins.with_parallel(joins)],
                "connected": len(joins) == len(found) - 1}

    def health(self) -> dict[str, Any]:
        r = self.retriever
        index = r._require_index()
        return {"status": "ok", "tables": len(index.names),
                "model": str(r.saved.path), "index": self.index,
                "refresh": self.refresh_state.to_dict()}

    # refresh ---------------------------------------------------------------------------------
    def _rebuild(self) -> tuple[dict[str, Any], TableRetriever]:
        if self.index is not None:
            from tablegraph.retrieval.indexes import update_index

            report = update_index(self.index, self.tables).to_dict()
            new = TableRetriever.load(index=self.index, device=self.device)
        else:
            new = TableRetriever.load(self.model, tables=self.tables, device=self.device)
            report = {"reread": new._require_index().names}
        _prepare(new)  # the text model is loaded once per process and shared
        return report, new

    def refresh(self, wait: bool = False) -> bool:
        """Rebuild the retriever in a background thread and swap it in when complete. False
        when a refresh is already running. A failed refresh keeps the current retriever and
        records why."""
        with self._lock:
            if self.refresh_state.running:
                return False
            self.refresh_state.running = True
            self.refresh_state.started = time.time()

        def work() -> None:
            try:
                report, new = self._rebuild()
                self.retriever = new  # one reference assignment: atomic for readers
                self.refresh_state.report, self.refresh_state.error = report, None
            except Exception as e:  # noqa: BLE001 - recorded and reported, never raised
                self.refresh_state.error = str(e).splitlines()[0] if str(e) else type(e).__name__
            finally:
                self.refresh_state.finished = time.time()
                self.refresh_state.count += 1
                self.refresh_state.running = False

        t = threading.Thread(target=work, name="tablegraph-refresh", daemon=True)
        t.start()
        if wait:
            t.join()
        return True


def _prepare(retriever: TableRetriever) -> None:
    """Build what a search reads from the index before any request: schema linking's value
    index."""
    if retriever.index is not None:
        retriever.index.linker()

"""tablegraph: which table holds this? Graph-encoded tables retrieved by questions.

The public entry point is `TableRetriever` (imported on first use, so that `import
tablegraph` and `tablegraph --help` stay fast):

    >>> from tablegraph import TableRetriever
    >>> TableRetriever.load("runs/model").search("last creatinine value?", k=5)

Packages, each importing only those before it: `tables` (sources, profiles, keys, questions)
-> `text` -> `graphs` -> `model` (encoder, loss, linking, scorer, index, folders) ->
`evaluation` -> `training`, `retrieval` -> `benchmarks` -> `cli`.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["TableRetriever", "SearchResult", "TableHit", "Match", "__version__"]

if TYPE_CHECKING:
    from tablegraph.retrieval.retriever import Match, SearchResult, TableHit, TableRetriever


def __getattr__(name: str) -> Any:
    if name in ("TableRetriever", "SearchResult", "TableHit", "Match"):
        from tablegraph.retrieval import retriever

        return getattr(retriever, name)
    raise AttributeError(f"module 'tablegraph' has no attribute {name!r}")

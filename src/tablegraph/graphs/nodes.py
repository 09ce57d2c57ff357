"""The nodes of a table's graph, typed, built once per table.

Node kinds are defined here and only here (`NodeKind`, `NUM_NODE_KINDS`). A table's nodes come
in graph order: one per column, then the table node, then value nodes (the most frequent
values of text-like columns, at most `GraphConfig.values_per_column` per column). Adding a node
kind means adding it to `NodeKind` and to `table_nodes`; the graph builder, the encoder's type
embedding, linking and explanations read kinds from `TableNodes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from tablegraph.config import TypedConfig
from tablegraph.tables.stats import PROFILE_VERSION, STATS_DIM
from tablegraph.text.words import name_to_words

if TYPE_CHECKING:  # the data layer is only read, never imported at run time
    from tablegraph.tables.records import TableProfile

MAX_VALUE_CHARS = 200  # characters of a value that its node embeds
COMMENT_CHARS = 120  # characters of a catalog comment that a name's node embeds with it
GRAPH_VERSION = 2  # bumped whenever nodes, node texts, node features or edges change
# (catalog comments joined the texts of names without a bump: no training database has any,
# so the texts a model learned from are unchanged)


def feature_schema() -> dict[str, int]:
    """What a model's node features are made of; a model folder records it and refuses to
    run with another."""
    return {"profile_version": PROFILE_VERSION, "graph_version": GRAPH_VERSION,
            "stats_dim": STATS_DIM}


class NodeKind(IntEnum):
    COLUMN = 0
    TABLE = 1
    VALUE = 2


NUM_NODE_KINDS = len(NodeKind)


@dataclass
class GraphConfig(TypedConfig):
    """Which node kinds and edges a table graph has."""

    table_node: bool = True
    value_nodes: bool = True
    values_per_column: int = 5
    column_edges: bool = True


# The dense prior embeds a table's document up to this many characters: on held-out databases
# as good as the whole of it, and a wide table's 256 word pieces cost the text model ~40 ms on
# one core, which doubled the time to read 750 tables (docs/experiments.md).
DOCUMENT_CHARS = 200


@dataclass(frozen=True)
class TableNodes:
    """One table's nodes in graph order (N nodes, C columns).

    - table: the table's name
    - columns: [C] column names
    - kinds: [N] `NodeKind` of each node
    - owners: [N] column index of each node (its own for a column, its column's for a value,
      -1 for the table node)
    - labels: [N] what a person reads: the column name, the table name in words, the value
    - texts: [N] what the text model embeds: the column name in words, the table name in
      words, the value (first 200 characters)
    - lexicon: distinct short values of the table's text-like columns beyond its value nodes
      (the columns' `ColumnProfile.lexicon`), not nodes: schema linking matches them
    - lexicon_owners: the column index of each lexicon value
    - renamed: the table carries another name than the one its nodes embed (a training
      corpus names a file as its questions do, `graphs.build.rename_table`): schema linking
      reads the new name
    """

    table: str
    columns: list[str]
    kinds: list[int]
    owners: list[int]
    labels: list[str]
    texts: list[str]
    lexicon: list[str] = field(default_factory=list)
    lexicon_owners: list[int] = field(default_factory=list)
    renamed: bool = False

    def __len__(self) -> int:
        return len(self.kinds)

    def of_kind(self, kind: NodeKind) -> list[int]:
        """Positions of the nodes of `kind`."""
        return [i for i, k in enumerate(self.kinds) if k == kind]

    @property
    def values(self) -> list[str]:
        """The value nodes' labels."""
        return [self.labels[i] for i in self.of_kind(NodeKind.VALUE)]

    def name_texts(self) -> list[str]:
        """The names in words as their nodes embed them (with the catalog's comments): one
        per column, then the table's (its name as it is now where it was renamed)."""
        tables = self.of_kind(NodeKind.TABLE)
        own = tables and not self.renamed
        return [self.texts[i] for i in self.of_kind(NodeKind.COLUMN)] + \
            [self.texts[tables[0]] if own else name_to_words(self.table, table=True)]

    def document(self, max_chars: int | None = None) -> str:
        """The table as one text: its name, column names and frequent values, in words (what
        BM25 and dense retrieval read), or its first `max_chars` characters (what the model's
        dense prior embeds: `DOCUMENT_CHARS`)."""
        cols = ", ".join(self.texts[i] for i in self.of_kind(NodeKind.COLUMN))
        tables = self.of_kind(NodeKind.TABLE)
        name = self.texts[tables[0]] if tables else self.table
        text = f"{name}. columns: {cols}. values: {'; '.join(self.values)}"
        return text if max_chars is None else text[:max_chars]

    def value_column(self, value: str) -> str | None:
        """The column a value node or lexicon value belongs to (the first, if several)."""
        for i in self.of_kind(NodeKind.VALUE):
            if self.labels[i] == value:
                return self.columns[self.owners[i]]
        o = self._lexicon_columns().get(value)
        return self.columns[o] if o is not None and 0 <= o < len(self.columns) else None

    def _lexicon_columns(self) -> dict[str, int]:
        """{lexicon value: its column index}, built once (a dictionary table's lexicon holds
        every title: 100,000 values and more)."""
        index = self.__dict__.get("_lexicon_index")
        if index is None:
            index = {}
            for v, o in zip(self.lexicon, self.lexicon_owners):
                index.setdefault(v, o)
            object.__setattr__(self, "_lexicon_index", index)  # a cache on a frozen record
        return index

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "columns": self.columns, "kinds": self.kinds,
                "owners": self.owners, "labels": self.labels, "texts": self.texts,
                "lexicon": self.lexicon, "lexicon_owners": self.lexicon_owners}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "TableNodes":
        n = len(d["kinds"])
        lexicon = [str(x) for x in d.get("lexicon", [])]
        owners = [int(o) for o in d.get("lexicon_owners", [-1] * len(lexicon))]
        if not (len(d["owners"]) == len(d["labels"]) == len(d["texts"]) == n) or \
                len(owners) != len(lexicon):
            raise ValueError(f"table {d.get('table')!r}: node lists of different lengths")
        return TableNodes(str(d["table"]), [str(c) for c in d["columns"]],
                          [int(NodeKind(k)) for k in d["kinds"]], [int(o) for o in d["owners"]],
                          [str(x) for x in d["labels"]], [str(x) for x in d["texts"]],
                          lexicon, owners)


def described(words: str, comment: str) -> str:
    """A name in words with the catalog's comment on it (its first `COMMENT_CHARS`
    characters), what its node embeds: "amt (refund amount in euros)"; the name alone where
    there is no comment, or one that only repeats the name ("customer id": "Customer ID.")."""
    comment = comment[:COMMENT_CHARS].strip()
    said = set(re.findall(r"[a-z0-9]+", comment.lower()))
    if not said or said <= set(re.findall(r"[a-z0-9]+", words.lower())):
        return words
    return f"{words} ({comment})"


def record_fields(dtype: str) -> str:
    """The fields of a record type, or of a list of records, in words, in order, as a
    column's node says what it holds where the catalog has no comment on it (`device`:
    "browser, operating system, is mobile"): a question asks for the fields, which the
    column's name alone does not say. The type is read by sqlglot (DuckDB's `STRUCT(...)`,
    BigQuery's `STRUCT<...>`, a record in a record). "" for any other type."""
    if "STRUCT" not in dtype.upper():  # the one family with fields; most columns end here
        return ""
    import sqlglot
    from sqlglot import exp

    try:
        kind = exp.DataType.build(dtype, dialect="duckdb")
    except (sqlglot.errors.ParseError, ValueError):
        return ""
    fields = kind.find_all(exp.ColumnDef, bfs=False)  # in the order the type writes them
    return ", ".join(dict.fromkeys(name_to_words(f.name) for f in fields))


def table_nodes(profile: "TableProfile", cfg: GraphConfig) -> TableNodes:
    """A table profile -> its nodes (see the module docstring for the order)."""
    columns = [c.name for c in profile.columns]
    kinds = [int(NodeKind.COLUMN)] * len(columns)
    owners = list(range(len(columns)))
    labels = list(columns)
    texts = [described(name_to_words(c.name), c.comment or record_fields(c.declared or c.dtype))
             for c in profile.columns]
    if cfg.table_node or not columns:
        words = name_to_words(profile.name, table=True)
        kinds.append(int(NodeKind.TABLE))
        owners.append(-1)
        labels.append(words)
        texts.append(described(words, profile.comment))
    if cfg.value_nodes:
        for i, c in enumerate(profile.columns):
            for v in c.top_values[: cfg.values_per_column]:
                kinds.append(int(NodeKind.VALUE))
                owners.append(i)
                labels.append(v[:MAX_VALUE_CHARS])
                texts.append(v[:MAX_VALUE_CHARS])
    shown = {labels[i] for i, k in enumerate(kinds) if k == NodeKind.VALUE}
    lexicon: dict[str, int] = {}  # value -> its first column
    for i, c in enumerate(profile.columns):
        for v in c.lexicon:
            if v not in shown and v not in lexicon:
                lexicon[v] = i
    return TableNodes(profile.name, columns, kinds, owners, labels, texts, list(lexicon),
                      list(lexicon.values()))

"""The data layer's records, plain data with no reader behind them: a table's profile (its
columns' statistics and frequent values, declared keys) as `profile_tables` makes it and as an
index stores it. No DuckDB here, so that a saved index loads without it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from tablegraph.tables.stats import STATS_DIM


@dataclass(frozen=True)
class ForeignKey:
    """columns of this table -> ref_columns of `table` (a table name as `TableRef.name`)."""

    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]

    def to_json(self) -> dict:
        return {"columns": list(self.columns), "table": self.table,
                "ref_columns": list(self.ref_columns)}

    @staticmethod
    def from_json(d: dict) -> "ForeignKey":
        return ForeignKey(tuple(d["columns"]), str(d["table"]), tuple(d["ref_columns"]))


@dataclass(frozen=True)
class TableKeys:
    """What a table's catalog declares: its keys, (SQLite, PostgreSQL, MySQL) each column's
    declared type as the database spells it, where DuckDB's reading of it loses detail
    (`DATETIME` -> TIMESTAMP, `varchar(20)` -> VARCHAR, PostgreSQL's `money` -> VARCHAR),
    and the comments of tables and columns (DuckDB's and PostgreSQL's `COMMENT ON`, MySQL's
    `COMMENT`, or a data dictionary's: `catalog.read_dictionary`)."""

    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    column_types: tuple[tuple[str, str], ...] = ()  # (column, declared type)
    comment: str = ""
    column_comments: tuple[tuple[str, str], ...] = ()  # (column, comment)


@dataclass
class ColumnProfile:
    """One column: its name, DuckDB type, `stats` [128], most frequent values (text), distinct
    count, bottom-k hashes of key-like values, the lexicon (the distinct values of up to
    100 characters of a text-like column, most frequent first, see `tables.profile.LEXICON_SIZE`)
    the type its catalog declares where that says more than the DuckDB type (SQLite's
    `DATETIME`, `varchar(20)`; "" elsewhere) and the comment its catalog holds ("" where
    none). `declared` is only shown (schema, sql-context), the model reads `dtype`; the comment
    is shown and joins the name's node text (`graphs.nodes.described`)."""

    name: str
    dtype: str
    stats: np.ndarray
    top_values: list[str] = field(default_factory=list)
    n_distinct: int = 0
    key_sketch: list[int] = field(default_factory=list)  # bottom-k hashes of key-like values
    lexicon: list[str] = field(default_factory=list)
    declared: str = ""
    comment: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        d["stats"] = [float(x) for x in self.stats]  # exact: float32 -> float round-trips
        return d

    @staticmethod
    def from_json(d: dict) -> "ColumnProfile":
        return ColumnProfile(d["name"], d["dtype"], np.asarray(d["stats"], dtype=np.float32),
                             list(d["top_values"]), int(d.get("n_distinct", 0)),
                             [int(h) for h in d.get("key_sketch", [])],
                             [str(v) for v in d.get("lexicon", [])], str(d.get("declared", "")),
                             str(d.get("comment", "")))


@dataclass
class TableProfile:
    """One table: name, where it came from, total and sampled rows, its column profiles,
    declared and found keys, and the comment its catalog holds ("" where none)."""

    name: str
    source: str
    n_rows: int
    n_sampled: int
    columns: list[ColumnProfile]
    primary_key: list[str] = field(default_factory=list)  # declared in the catalog
    foreign_keys: list[ForeignKey] = field(default_factory=list)  # declared in the catalog
    # column pairs unique over the rows read where the first column alone is nearly unique
    # (`icd_code`, `icd_version`): keys no catalog declared (`tables.profile.composite_keys`)
    unique_keys: list[list[str]] = field(default_factory=list)
    comment: str = ""
    # the database of a catalogue of several this table is one of (`TableRef.database`); ""
    # for one database. Joins are found within a database.
    database: str = ""
    # {record column: its DuckDB type} of a table whose records (JSON objects, Parquet's
    # groups) are read as their fields, each a column named by its path (`customer.city`)
    nested: dict[str, str] = field(default_factory=dict)

    def record_of(self, column: str) -> str | None:
        """The record column (`nested`) that `column` is a field of (`customer` for
        `customer.city`); None for a column of the table."""
        return next((r for r in self.nested if column.startswith(r + ".")), None)

    @property
    def stats(self) -> np.ndarray:
        """[n_columns, 128] float32."""
        if not self.columns:
            return np.zeros((0, STATS_DIM), dtype=np.float32)
        return np.stack([c.stats for c in self.columns]).astype(np.float32)

    def to_json(self) -> dict:
        return {"name": self.name, "source": self.source, "n_rows": self.n_rows,
                "n_sampled": self.n_sampled, "columns": [c.to_json() for c in self.columns],
                "primary_key": self.primary_key,
                "foreign_keys": [k.to_json() for k in self.foreign_keys],
                "unique_keys": self.unique_keys, "comment": self.comment,
                **({"database": self.database} if self.database else {}),
                **({"nested": self.nested} if self.nested else {})}

    @staticmethod
    def from_json(d: dict) -> "TableProfile":
        return TableProfile(d["name"], d["source"], int(d["n_rows"]), int(d["n_sampled"]),
                            [ColumnProfile.from_json(c) for c in d["columns"]],
                            list(d.get("primary_key", [])),
                            [ForeignKey.from_json(k) for k in d.get("foreign_keys", [])],
                            [list(k) for k in d.get("unique_keys", [])],
                            str(d.get("comment", "")), str(d.get("database", "")),
                            {str(k): str(v) for k, v in d.get("nested", {}).items()})


class TableNames:
    """Names of a database's tables matched as SQL names are: case-insensitively; `main.` and
    `public.` (the default schemas, whose tables are named without them) may lead a name; a
    name without its schema matches the one table of that name in another schema
    (`employee` for `humanresources.employee`); a qualifier that is no schema of the database
    is a database's name or another engine's default schema (`sakila.actor`, `dbo.Orders`,
    `mydb.main.t` read as `main.t`) and is passed over. The questions' gold tables and the
    serving API's table names (describe, join path) both resolve through it."""

    def __init__(self, tables: list[str]):
        self._exact = set(tables)
        self._folded = {t.lower(): t for t in tables}
        self._bare: dict[str, list[str]] = {}  # "orders" -> ["sales.orders", ...]
        self._schemas: set[str] = set()
        for t in tables:
            if "." in t:
                schema, bare = t.rsplit(".", 1)
                self._bare.setdefault(bare.lower(), []).append(t)
                self._schemas.add(schema.lower())

    def find(self, name: str) -> str | None:
        """The table `name` stands for, or None (no such table, or several)."""
        if name in self._exact:
            return name
        low = name.lower()
        if low in self._folded:
            return self._folded[low]
        if "." in low:
            schema, rest = low.rsplit(".", 1)[0], low.split(".", 1)[1]
            if schema in self._schemas:
                return None  # a schema of this database without such a table
            # the name without its first qualifier: a catalog or project (`proj.sales.t`),
            # or a schema this database does not have (`sakila.actor`)
            return self.find(rest) if rest not in ("", low) else None
        found = self._bare.get(low, [])
        return found[0] if len(found) == 1 else None

    def by_prefix(self, name: str) -> str | None:
        """The one table whose name (without its schema) begins with `name` and a separator
        (`_`, `-` or a space), case-insensitively: `chartevents` for
        `chartevents_reconstructed_from_meds`; None when no table or several do. A guess, for
        a gold table the database lacks under that name (`questions.resolve_tables`)."""
        low = name.lower().rsplit(".", 1)[-1]
        if not low:
            return None
        found = [t for t in self._exact
                 if any(t.lower().rsplit(".", 1)[-1].startswith(low + sep) for sep in "_- ")]
        return found[0] if len(found) == 1 else None

    def ambiguity(self, name: str) -> str:
        """For a name without its schema that several schemas (or a catalogue's databases)
        have, the end of an error naming their tables; else the empty string."""
        low = name.lower()
        if "." in low and low.rsplit(".", 1)[0] not in self._schemas:
            low = low.rsplit(".", 1)[1]
        several = sorted(self._bare.get(low, []))
        return (f" is in several schemas or databases ({', '.join(several)}): write it "
                f"with its schema or database"
                if len(several) > 1 else "")

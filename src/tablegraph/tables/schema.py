"""What a reader (or an LLM) needs of a schema: the describe record of a table and CREATE TABLE
statements of a set of tables with their joins.

`describe_table` is the one record behind `schema --json`, MCP `describe_table` and HTTP
`/tables/{name}`:

    {"table", "source", "rows", "comment": str | null, "primary_key": [str],
     "columns": [{"column", "type", "declared_type": str | null, "comment": str | null,
                  "primary_key": bool, "references": "t.col" | null,
                  "distinct": int, "sample_values": [str]}],
     "joins": [{"left", "right", "source", "confidence", "reason"}]}

`sql_context` writes CREATE TABLE statements through sqlglot in the source's dialect
(SQLite, PostgreSQL, MySQL or DuckDB; identifiers quoted; a column with its catalog's declared
type where it has one), each with its primary key and the foreign keys among the set, the
catalog's comments as `COMMENT ON` statements (MySQL: `COMMENT` clauses), sample values as
comments unless asked not to, the join conditions, and a line naming the parts of the set
that no join path connects.
"""

from __future__ import annotations

import re
from functools import cache

from tablegraph.tables.joins import Join, JoinGraph, identifies
from tablegraph.tables.records import TableProfile
from tablegraph.tables.sources import server_kind


def dialect_of(profile: TableProfile) -> str:
    """sqlglot's dialect for where the table came from (files: DuckDB, which reads them)."""
    src = profile.source.lower()
    if (server := server_kind(src)) is not None:
        return server
    if src.endswith((".sqlite", ".sqlite3", ".db")):
        return "sqlite"
    return "duckdb"


def _references(profile: TableProfile) -> dict[str, str]:
    out = {}
    for fk in profile.foreign_keys:
        for c, r in zip(fk.columns, fk.ref_columns):
            out[c] = f"{fk.table}.{r}"
    return out


def describe_table(profile: TableProfile, graph: JoinGraph | None = None,
                   samples: int = 3) -> dict:
    """The describe record of one table (see the module docstring)."""
    refs = _references(profile)
    pk = set(profile.primary_key)
    return {
        "table": profile.name, "source": profile.source, "rows": profile.n_rows,
        "comment": profile.comment or None, "primary_key": list(profile.primary_key),
        "columns": [{"column": c.name, "type": c.dtype, "declared_type": c.declared or None,
                     "comment": c.comment or None, "primary_key": c.name in pk,
                     "references": refs.get(c.name), "distinct": c.n_distinct,
                     "sample_values": list(c.top_values[:samples])} for c in profile.columns],
        "joins": [j.to_dict() for j in (graph.every() if graph else [])
                  if profile.name in (j.left, j.right)],
    }


def _quoted(name: str, dialect: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def _qualified(name: str, dialect: str) -> str:
    """A table's name as the statement writes it: `sales.orders` -> "sales"."orders"."""
    return ".".join(_quoted(p, dialect) for p in name.split("."))


@cache
def _reserved() -> frozenset[str]:
    """Words that SQL reserves (`select`, `order`, `user`, `group`), lower case: the reserved
    keywords of sqlglot's DuckDB (PostgreSQL's list and DuckDB's own) and MySQL dialects."""
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.dialects.mysql import MySQL

    return frozenset(DuckDB.Generator.RESERVED_KEYWORDS | MySQL.Generator.RESERVED_KEYWORDS)


def _plain(name: str, dialect: str) -> str:
    """A (schema-qualified) name as written in a join condition: as it is where each part is
    a plain identifier (`orders.customer_id`), quoted where not (`"Order Details"`, a word
    SQL reserves such as `"order"`, and PostgreSQL's `"Orders"`, which unquoted would be
    `orders`)."""
    reserved = _reserved()

    def plain(p: str) -> bool:
        return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p)) and \
            p.lower() not in reserved and (dialect != "postgres" or p == p.lower())
    return ".".join(p if plain(p) else _quoted(p, dialect) for p in name.split("."))


def _literal(text: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def enum_labels(dtype: str, declared: str | None) -> str | None:
    """A PostgreSQL enum column's labels as DuckDB reads its type `dtype` (`ENUM('a', 'b')`
    -> `'a', 'b'`), when the catalog names the type (`declared`: `sales.order_status`); else
    None. Takes a `ColumnProfile`'s `dtype` and `declared`, or the describe record's `type`
    and `declared_type`."""
    m = re.fullmatch(r"ENUM\((.*)\)", dtype.strip(), re.DOTALL)
    return m.group(1) if m and declared else None


def create_table(profile: TableProfile, joins: list[Join], values: bool = True,
                 samples: int = 3, referenced: dict[str, TableProfile] | None = None,
                 named: dict[str, list[str]] | None = None,
                 types_written: set[str] | None = None) -> str:
    """One CREATE TABLE statement in the source's dialect: columns and types, the primary
    key, foreign keys (declared ones, and the inferred joins given that start at this table
    and reach columns that identify the other table's rows, as far as `referenced`, the
    profiles by name, can tell), the catalog's comments of the table and its columns as
    `COMMENT ON` statements (MySQL: `COMMENT` clauses in the statement), and sample values as
    comments. An inferred join between two columns that repeat on both sides is no foreign
    key; `sql_context` lists it with the joins. `named` {column: values}: values of this
    table that the question names, written whole and first in their column's comment, as the
    literal a query compares with (no values at all without `values`). A PostgreSQL enum's
    `CREATE TYPE ... AS ENUM` comes first, unless it is in `types_written` (the types the
    statements before wrote; updated). The fields of a record (`customer.city`, columns of
    the profile) are written as the record column the source holds (`"customer"
    STRUCT(...)`)."""
    import sqlglot
    from sqlglot import exp

    dialect = dialect_of(profile)
    inline = dialect == "mysql"  # MySQL has no COMMENT ON: its comments go in the statement

    def column_def(name: str, dtype: str) -> str:
        try:
            kind = exp.DataType.build(dtype, dialect="duckdb")
        except (sqlglot.errors.ParseError, ValueError):
            kind = exp.DataType.build("TEXT")
        return exp.ColumnDef(this=exp.to_identifier(name, quoted=True),
                             kind=kind).sql(dialect=dialect)

    parts = []
    written: set[str] = set()  # the records whose fields are columns, as the source has them
    for c in profile.columns:
        record = profile.record_of(c.name)
        if record is not None:  # `customer.city`: the record column `customer` once
            if record not in written:
                written.add(record)
                parts.append(column_def(record, profile.nested[record]))
            continue
        if c.declared:  # the catalog's own words (SQLite: `DATETIME`, `varchar(20)`)
            part = f"{_quoted(c.name, dialect)} {c.declared}"
        else:
            part = column_def(c.name, c.dtype)
        parts.append(part + (f" COMMENT {_literal(c.comment)}" if inline and c.comment else ""))
    if profile.primary_key:
        parts.append("PRIMARY KEY (" + ", ".join(_quoted(k, dialect)
                                                 for k in profile.primary_key) + ")")
    fks: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = [
        (fk.columns, fk.table, fk.ref_columns) for fk in profile.foreign_keys]
    for j in joins:
        other = (referenced or {}).get(j.right)
        if j.left == profile.name and j.source != "declared" and (
                other is None or other.n_sampled <= 1 or identifies(other, j.right_columns)):
            fks.append((j.left_columns, j.right, j.right_columns))
    for columns, table, ref in dict.fromkeys(fks):
        if any(profile.record_of(c) is not None for c in columns):
            continue  # a record's field is no column a key can name: the joins list it
        parts.append("FOREIGN KEY (" + ", ".join(_quoted(c, dialect) for c in columns)
                     + ") REFERENCES " + _qualified(table, dialect) + " ("
                     + ", ".join(_quoted(c, dialect) for c in ref) + ")")
    table = _qualified(profile.name, dialect)
    body = ",\n  ".join(parts)
    note = f" COMMENT={_literal(profile.comment)}" if inline and profile.comment else ""
    written = types_written if types_written is not None else set()
    lines = []
    for c in profile.columns:
        labels = enum_labels(c.dtype, c.declared) if dialect == "postgres" else None
        if labels and c.declared not in written:
            written.add(c.declared)
            lines.append(f"CREATE TYPE {c.declared} AS ENUM ({labels});")
    lines.append(f"CREATE TABLE {table} (\n  {body}\n){note};")
    if profile.comment and not inline:
        lines.append(f"COMMENT ON TABLE {table} IS {_literal(profile.comment)};")
    lines += [f"COMMENT ON COLUMN {table}.{_quoted(c.name, dialect)} IS {_literal(c.comment)};"
              for c in profile.columns if c.comment and not inline]
    if values:
        for c in profile.columns:
            exact = (named or {}).get(c.name, [])
            shown = [f"{v!r} (named in the question)" for v in exact] + \
                [repr(v[:40]) for v in c.top_values[:samples] if v not in exact]
            if shown:
                lines.append(f"-- {c.name}: {', '.join(shown)}")
    return "\n".join(lines)


def unjoined(parts: list[list[str]]) -> str:
    """Parts of a set that no join connects, as a reader is told: "city and flight, fare"."""
    return " and ".join(", ".join(p) for p in parts)


def _database_file(where: str) -> str:
    """What a catalogue's database is, for a reader: its file; for one built in the cache
    from a description of it (a tables.json's), no cache path but what it is."""
    from pathlib import Path

    from tablegraph.utils import cache_root

    if Path(where).resolve().is_relative_to(cache_root().resolve()):
        return "a database its schema file describes (columns, types, keys; no rows)"
    return f"the database {where}"


def sql_context(profiles: list[TableProfile], joins: list[Join], values: bool = True,
                named: dict[str, dict[str, list[str]]] | None = None,
                parts: list[list[str]] | None = None) -> str:
    """CREATE TABLE statements of `profiles` (in order) and the join conditions among them;
    `named` {table: {column: values}}: the values the question names (`create_table`);
    `parts`: the set's tables grouped by what its joins connect (`TableSet.parts`): where
    there are several, a line says that no join path was found between them, so that a
    reader does not take its absence for an oversight. Tables of a catalogue of several
    databases (`TableProfile.database`) are preceded by a line naming each database's file."""
    by_name = {p.name: p for p in profiles}
    types: set[str] = set()  # a type two tables use is created once
    # a catalogue's tables are `<database>.<table>`: say which file each database is
    files = {p.database: p.source for p in profiles if p.database}
    head = "".join(f"-- {d}: {_database_file(where)}, attached as {d}\n"
                   for d, where in sorted(files.items()))
    out = [create_table(p, joins, values, referenced=by_name, named=(named or {}).get(p.name),
                        types_written=types) for p in profiles]
    if parts and len(parts) > 1:
        out.append(f"-- no join path found between {unjoined(parts)} among the declared and "
                   f"inferred joins near them")
    if joins:
        out.append("-- joins:")
        for j in joins:
            how = "declared" if j.source == "declared" else \
                f"inferred from {j.reason}, confidence {j.confidence:.2f}"
            dialect = dialect_of(by_name[j.left]) if j.left in by_name else "sqlite"
            out += [f"--   {_plain(j.left, dialect)}.{_plain(a, dialect)} = "
                    f"{_plain(j.right, dialect)}.{_plain(b, dialect)}  ({how})"
                    for a, b in zip(j.left_columns, j.right_columns)]
    return head + "\n\n".join(out[: len(profiles)]) + ("\n\n" + "\n".join(out[len(profiles):])
                                                 if len(out) > len(profiles) else "") + "\n"

"""Declared keys from a database's own catalog: each table's primary key and foreign keys,
composite keys included, for SQLite (its PRAGMAs, read-only), DuckDB (`duckdb_constraints()`),
PostgreSQL (`pg_constraint`, through the scanner's `postgres_query`) and MySQL
(`information_schema`, through `mysql_query`); and the comments of tables and columns where the
catalog holds them (DuckDB's and PostgreSQL's `COMMENT ON`, MySQL's `COMMENT`; SQLite has no
such statement) or a data dictionary beside a database file does
(`read_dictionary`: `database_description/<table>.csv`, BIRD's layout). Files carry none.

A schema-only database (declared types and keys, no rows) is a first-class case: its keys are
what tells which tables join.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import sqlite3

import duckdb

from tablegraph.tables.records import ForeignKey, TableKeys
from tablegraph.tables.sources import (DICTIONARY_KEY, SERVER_URLS, Reader, TableRef,
                                       dictionary_files, quote_literal)
from tablegraph.utils import TableGraphError


def read_keys(reader: Reader, refs: list[TableRef]) -> dict[str, TableKeys]:
    """Declared keys (the declared column types of SQLite, PostgreSQL and MySQL; DuckDB's,
    PostgreSQL's and MySQL's comments, a data dictionary's) of every table of `refs` (by
    table name); tables that declare none are absent.
    A catalog that cannot be read is an error naming the database."""
    out: dict[str, TableKeys] = {}
    by_source: dict[tuple[str, str], list[TableRef]] = {}
    by_folder: dict[str, list[TableRef]] = {}  # data files: their data dictionary's folder
    for r in refs:
        if r.kind in ("sqlite", "duckdb", *SERVER_URLS):
            by_source.setdefault((r.kind, r.location), []).append(r)
        elif r.kind == "file" and not r.parts:
            by_folder.setdefault(r.location, []).append(r)
    for location, group in by_folder.items():
        for name, (table, columns) in read_dictionary(location, group).items():
            out[name] = TableKeys(comment=table, column_comments=columns)
    for (kind, location), group in by_source.items():
        reader_fn = {"sqlite": _sqlite_keys, "duckdb": _duckdb_keys,
                     "postgres": _server_keys, "mysql": _server_keys}[kind]
        try:
            out.update(reader_fn(reader, location, group))
            notes_fn = {"duckdb": _duckdb_comments, "postgres": _server_comments,
                        "mysql": _server_comments}.get(kind)
            notes = notes_fn(reader, location, group) if notes_fn else {}
            if kind not in SERVER_URLS:  # the catalog's own comments first
                notes = _merge(notes, read_dictionary(location, group))
            for name, (table, columns) in notes.items():
                out[name] = dataclasses.replace(out.get(name, TableKeys()), comment=table,
                                                column_comments=columns)
        except (sqlite3.Error, duckdb.Error) as e:
            from tablegraph.tables.sources import display_location, redact

            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise TableGraphError(f"cannot read the keys of {display_location(location)}: "
                                  f"{redact(first, location)}") from e
    return out


def _names(group: list[TableRef]) -> dict[tuple[str, str], str]:
    """(schema, table) -> table name, case-folded, to resolve referenced tables."""
    return {(r.schema.lower(), r.table.lower()): r.name for r in group}


def _sqlite_keys(reader: Reader, location: str, group: list[TableRef]) -> dict[str, TableKeys]:
    names = {t: n for (_, t), n in _names(group).items()}
    out = {}
    con = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
    try:
        for r in group:
            table = r.table.replace('"', '""')
            try:
                info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
            except sqlite3.Error:  # a view that no longer binds: no keys (its reading says why)
                continue
            pk = tuple(c[1] for c in sorted((c for c in info if c[5]), key=lambda c: c[5]))
            fks: dict[int, list] = {}
            for fid, seq, ref_table, col, ref_col, *_ in con.execute(
                    f'PRAGMA foreign_key_list("{table}")').fetchall():
                fks.setdefault(fid, []).append((seq, ref_table, col, ref_col))
            keys = []
            for parts in fks.values():
                parts.sort()
                ref = names.get(parts[0][1].lower(), parts[0][1])
                ref_cols = [p[3] for p in parts]
                if any(c is None for c in ref_cols):  # REFERENCES t: its primary key
                    target = next((g for g in group if g.name == ref), None)
                    ref_cols = list(_sqlite_pk(con, target.table)) if target else ref_cols
                keys.append(ForeignKey(tuple(p[2] for p in parts), ref,
                                       tuple(c or "" for c in ref_cols)))
            types = tuple((c[1], " ".join(str(c[2]).split())) for c in info
                          if str(c[2] or "").strip())
            if pk or keys or types:
                out[r.name] = TableKeys(pk, tuple(keys), types)
    finally:
        con.close()
    return out


def _sqlite_pk(con: sqlite3.Connection, table: str) -> tuple[str, ...]:
    info = con.execute(f'PRAGMA table_info("{table.replace(chr(34), chr(34) * 2)}")').fetchall()
    return tuple(c[1] for c in sorted((c for c in info if c[5]), key=lambda c: c[5]))


def _duckdb_keys(reader: Reader, location: str, group: list[TableRef]) -> dict[str, TableKeys]:
    alias = reader._attach("duckdb", location)
    names = _names(group)
    rows = reader.con.execute(
        "SELECT schema_name, table_name, constraint_type, constraint_column_names, "
        "referenced_table, referenced_column_names FROM duckdb_constraints() "
        "WHERE database_name = ? AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') "
        "ORDER BY constraint_index", [alias]).fetchall()
    pks: dict[str, tuple[str, ...]] = {}
    fks: dict[str, list[ForeignKey]] = {}
    for schema, table, kind, cols, ref_table, ref_cols in rows:
        name = names.get((schema.lower(), table.lower()))
        if name is None:
            continue
        if kind == "PRIMARY KEY":
            pks[name] = tuple(cols)
        else:
            ref = names.get((schema.lower(), (ref_table or "").lower()), ref_table)
            fks.setdefault(name, []).append(ForeignKey(tuple(cols), ref, tuple(ref_cols or ())))
    return {n: TableKeys(pks.get(n, ()), tuple(fks.get(n, []))) for n in set(pks) | set(fks)}


_PG_KEYS = """
SELECT ns.nspname, cl.relname, con.contype,
       array_to_string(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
             ORDER BY k.i), chr(31)) AS cols,
       rns.nspname AS ref_schema, rcl.relname AS ref_table,
       array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
             ORDER BY k.i), chr(31)) AS ref_cols
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = cl.relnamespace
LEFT JOIN pg_class rcl ON rcl.oid = con.confrelid
LEFT JOIN pg_namespace rns ON rns.oid = rcl.relnamespace
WHERE con.contype IN ('p', 'f')
ORDER BY ns.nspname, cl.relname, con.conname
"""


# (schema, table, 'p' | 'f', columns, referenced schema, table, columns) as _PG_KEYS
_MYSQL_KEYS = """
SELECT k.table_schema, k.table_name,
       CASE WHEN k.constraint_name = 'PRIMARY' THEN 'p' ELSE 'f' END,
       group_concat(k.column_name ORDER BY k.ordinal_position SEPARATOR '\x1f'),
       k.referenced_table_schema, k.referenced_table_name,
       group_concat(k.referenced_column_name ORDER BY k.ordinal_position SEPARATOR '\x1f')
FROM information_schema.key_column_usage k
WHERE k.table_schema = DATABASE()
  AND (k.constraint_name = 'PRIMARY' OR k.referenced_table_name IS NOT NULL)
GROUP BY k.table_schema, k.table_name, k.constraint_name, k.referenced_table_schema,
         k.referenced_table_name
ORDER BY k.table_schema, k.table_name, k.constraint_name
"""
_SERVER_KEYS = {"postgres": _PG_KEYS, "mysql": _MYSQL_KEYS}

# (schema, table, column, declared type): PostgreSQL's own spelling (`numeric(10,2)`, `money`,
# `jsonb`, `text[]`, a domain's or an enum's name), which DuckDB's scanner reads as DOUBLE,
# VARCHAR, ENUM('a', 'b') ...
_PG_TYPES = """
SELECT ns.nspname, cl.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
JOIN pg_class cl ON cl.oid = a.attrelid
JOIN pg_namespace ns ON ns.oid = cl.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND cl.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND ns.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY ns.nspname, cl.relname, a.attnum
"""
# MySQL's and MariaDB's own spelling (`decimal(10,2)`, `tinyint(1)`, `enum('a','b')`, `set(...)`)
_MYSQL_TYPES = """
SELECT table_schema, table_name, column_name, column_type
FROM information_schema.columns
WHERE table_schema = DATABASE()
ORDER BY table_schema, table_name, ordinal_position
"""
_SERVER_TYPES = {"postgres": _PG_TYPES, "mysql": _MYSQL_TYPES}


def _server_keys(reader: Reader, location: str, group: list[TableRef]) -> dict[str, TableKeys]:
    """A PostgreSQL or MySQL database's primary and foreign keys and its columns' declared
    types, from its catalog."""
    kind = group[0].kind
    alias = reader._attach(kind, location)
    names = _names(group)
    rows = reader.con.execute(f"SELECT * FROM {kind}_query({quote_literal(alias)}, "
                              f"{quote_literal(_SERVER_KEYS[kind])})").fetchall()
    pks: dict[str, tuple[str, ...]] = {}
    fks: dict[str, list[ForeignKey]] = {}
    for schema, table, kind, cols, ref_schema, ref_table, ref_cols in rows:
        name = names.get((schema.lower(), table.lower()))
        if name is None:
            continue
        cols_t = tuple(cols.split("\x1f")) if cols else ()
        if kind == "p":
            pks[name] = cols_t
        else:
            ref = names.get(((ref_schema or "").lower(), (ref_table or "").lower()), ref_table)
            fks.setdefault(name, []).append(ForeignKey(
                cols_t, ref, tuple(ref_cols.split("\x1f")) if ref_cols else ()))
    types: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, declared in reader.con.execute(
            f"SELECT * FROM {group[0].kind}_query({quote_literal(alias)}, "
            f"{quote_literal(_SERVER_TYPES[group[0].kind])})").fetchall():
        name = names.get((schema.lower(), table.lower()))
        if name is not None and declared and declared.strip():
            types.setdefault(name, []).append((column, " ".join(declared.split())))
    return {n: TableKeys(pks.get(n, ()), tuple(fks.get(n, [])), tuple(types.get(n, ())))
            for n in set(pks) | set(fks) | set(types)}


Comments = dict[str, tuple[str, tuple[tuple[str, str], ...]]]  # name -> (table's, columns')


def _gather(names: dict[tuple[str, str], str], tables: list[tuple], columns: list[tuple]
            ) -> Comments:
    """(schema, table, comment) and (schema, table, column, comment) rows -> the comments of
    the tables of `names` that have any (blank ones left out, whitespace runs folded)."""
    out: dict[str, list] = {}
    for schema, table, text in tables:
        name = names.get((schema.lower(), table.lower()))
        if name is not None and text and text.strip():
            out.setdefault(name, ["", []])[0] = " ".join(text.split())
    for schema, table, column, text in columns:
        name = names.get((schema.lower(), table.lower()))
        if name is not None and text and text.strip():
            out.setdefault(name, ["", []])[1].append((column, " ".join(text.split())))
    return {n: (t, tuple(cs)) for n, (t, cs) in out.items()}


def _duckdb_comments(reader: Reader, location: str, group: list[TableRef]) -> Comments:
    notes = reader.comments(location)  # the same reading the table fingerprints use
    return _gather(_names(group),
                   [(s, t, text) for (s, t), cs in notes.items() for c, text in cs if not c],
                   [(s, t, c, text) for (s, t), cs in notes.items() for c, text in cs if c])


_PG_COMMENTS = """
SELECT ns.nspname, cl.relname, a.attname, obj_description(cl.oid, 'pg_class'),
       col_description(cl.oid, a.attnum)
FROM pg_class cl
JOIN pg_namespace ns ON ns.oid = cl.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE cl.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND (obj_description(cl.oid, 'pg_class') IS NOT NULL
       OR col_description(cl.oid, a.attnum) IS NOT NULL)
ORDER BY ns.nspname, cl.relname, a.attnum
"""


# (schema, table, column, table comment, column comment) as _PG_COMMENTS; a view's
# TABLE_COMMENT is the word VIEW
_MYSQL_COMMENTS = """
SELECT c.table_schema, c.table_name, c.column_name,
       CASE WHEN t.table_type = 'VIEW' THEN '' ELSE t.table_comment END, c.column_comment
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema
                                AND t.table_name = c.table_name
WHERE c.table_schema = DATABASE()
ORDER BY c.table_schema, c.table_name, c.ordinal_position
"""
_SERVER_COMMENTS = {"postgres": _PG_COMMENTS, "mysql": _MYSQL_COMMENTS}


def _server_comments(reader: Reader, location: str, group: list[TableRef]) -> Comments:
    """A PostgreSQL or MySQL database's comments on tables and columns."""
    kind = group[0].kind
    alias = reader._attach(kind, location)
    rows = reader.con.execute(f"SELECT * FROM {kind}_query({quote_literal(alias)}, "
                              f"{quote_literal(_SERVER_COMMENTS[kind])})").fetchall()
    tables = list({(s, t): (s, t, tc) for s, t, _, tc, _ in rows}.values())
    return _gather(_names(group), tables, [(s, t, c, cc) for s, t, c, _, cc in rows if c])


def _merge(first: Comments, then: Comments) -> Comments:
    """`first`'s comments, with `then`'s where `first` has none."""
    out = dict(first)
    for name, (table, columns) in then.items():
        mine, cols = out.get(name, ("", ()))
        have = {c.lower() for c, _ in cols}
        out[name] = (mine or table, cols + tuple(c for c in columns if c[0].lower() not in have))
    return out


def read_dictionary(location: str, group: list[TableRef]) -> Comments:
    """Column comments from the data dictionary beside the database or data file `location`:
    one CSV per table in `database_description/` (named as the table, any case), with the header
    `original_column_name, column_name, column_description, ...` (BIRD's layout; also
    `value_description`). A column's comment is its full name, its description and what its
    values mean, each where given and not a repeat: "district_name" for `A2`; a row without
    a column name is the table's own comment. UTF-8, else
    Windows-1252 text; a file of another shape, or for no table, says nothing."""
    tables = {(r.table or r.name).lower(): r.name for r in group
              if r.schema.lower() in ("", "main")}
    columns: list[tuple] = []
    described: list[tuple] = []
    for path in dictionary_files(location):
        name = tables.get(os.path.basename(path)[:-len(".csv")].lower())
        if name is None:
            continue
        try:
            raw = open(path, "rb").read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
            rows = list(csv.reader(io.StringIO(text.replace("\x00", "")), strict=True))
        except (OSError, csv.Error):
            continue  # a malformed description is no reason to refuse the database
        header = [h.strip().lower() for h in rows[0]] if rows else []
        if DICTIONARY_KEY not in header:
            continue
        at = {h: i for i, h in enumerate(header)}
        for row in rows[1:]:
            cell = {h: row[i].strip() if i < len(row) else "" for h, i in at.items()}
            column = cell[DICTIONARY_KEY]
            said: list[str] = []
            for key in ("column_name", "column_description", "value_description"):
                text = cell.get(key, "")
                if text and text.lower() not in {s.lower() for s in said} \
                        and text.lower() != column.lower():
                    said.append(text)
            if column and said:
                columns.append(("", name, column, "; ".join(said)))
            elif not column and said:  # a row for no column: the table's own comment
                described.append(("", name, "; ".join(said)))
    return _gather({("", n.lower()): n for n in tables.values()}, described, columns)

"""A schema written as SQL (`--tables schema.sql`): the CREATE TABLE statements that pg_dump
--schema-only, mysqldump --no-data, SQLite's `.schema` or a warehouse's DDL export write, read
as a schema-only database, with the rows of any INSERT statements; whole dumps too (pg_dump's
rows in `COPY ... FROM stdin` blocks, mysqldump's INSERT lines: `_take_rows`).

sqlglot parses the file (PostgreSQL, MySQL, SQLite, T-SQL, Snowflake, BigQuery, DuckDB: the
first dialect that parses all of it) and tablegraph writes what it declares into a SQLite file
in its cache (named by the file's digest, so an edited file is read again):

- each table with its columns and their types as written (`character varying(100)` ->
  `VARCHAR(100)`), its primary key and its foreign keys, declared in the table or added by
  `ALTER TABLE ... ADD [CONSTRAINT ...] PRIMARY KEY / FOREIGN KEY`;
- the comments (`COMMENT ON TABLE / COLUMN`, MySQL's `COMMENT '...'`, SQL Server's
  `sp_addextendedproperty` of `MS_Description`, BigQuery's `OPTIONS(description = ...)`) as a
  data dictionary
  beside it (`database_description/<table>.csv`, read by `catalog.read_dictionary`);
- the rows of `INSERT` statements and of pg_dump's `COPY` blocks (psql's commands between
  statements, such as pg_dump's `\\restrict`, are left out);
- each view (`CREATE [OR REPLACE] [MATERIALIZED] VIEW`), its query written in SQLite's dialect
  by sqlglot, read as a table is (its columns; rows where its tables have some). A view whose
  query SQLite cannot run (a function it lacks) is skipped when the database is read, with
  the reason, as any unreadable table is.

Schemas are dropped from names (`public.orders` -> `orders`); two tables or views of one name
in two schemas are an error. Other statements (indexes, sequences, grants, SET) say nothing
about which table holds what and are passed over.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tablegraph.tables.sources import DICTIONARY_FOLDER, DICTIONARY_KEY
from tablegraph.utils import TableGraphError, build_once, cache_root, decode_text

DDL_VERSION = 20  # bump when the database written from the same text changes
DIALECTS = ("postgres", "mysql", "sqlite", "tsql", "snowflake", "bigquery", "duckdb", "oracle",
            "redshift", "")
_QUOTED = r"""("(?:[^"]|"")*"|'(?:[^']|'')*')"""  # kept as they are, never searched
# clauses that say how a warehouse stores a table, not what it holds, which sqlglot does not
# parse where its exports write them: (the file's marks, the clauses, the dialect to try
# first). Oracle's (DBMS_METADATA, SQL Developer): physical attributes and constraint
# states; Redshift's: compression, distribution and sort keys, even after a column
_VENDOR_CLAUSES = [
    (re.compile(r"\b(?:N?VARCHAR2|SEGMENT\s+CREATION)\b|\bNUMBER\s*\(", re.IGNORECASE),
     re.compile(_QUOTED + r"|\bSTORAGE\s*\([^)]*\)"
                r"|\bSEGMENT\s+CREATION\s+(?:IMMEDIATE|DEFERRED)\b"
                r"|\b(?:PCTFREE|PCTUSED|INITRANS|MAXTRANS|FREELISTS|FREELIST\s+GROUPS)\s+\d+"
                r'|\bTABLESPACE\s+(?:"[^"]*"|\w+)|\bUSING\s+INDEX\b'
                r"|\b(?:NOCOMPRESS|COMPRESS|NOLOGGING|LOGGING|COMPUTE\s+STATISTICS|NOPARALLEL"
                r"|NOMONITORING|MONITORING|NOCACHE|ENABLE|DISABLE|NOVALIDATE|VALIDATE)\b"
                r"|\b(?:NO)?FORCE\s+(?=(?:(?:NON)?EDITIONABLE\s+)?VIEW\b)"
                r"|\b(?:NON)?EDITIONABLE\s+(?=VIEW\b)", re.IGNORECASE), "oracle"),
    (re.compile(r"\bENCODE\s+\w+|\bDISTSTYLE\s+\w+|\bSORTKEY\s*\(", re.IGNORECASE),
     re.compile(_QUOTED + r"|\bENCODE\s+\w+|\bDISTSTYLE\s+\w+"
                r"|\b(?:COMPOUND\s+|INTERLEAVED\s+)?SORTKEY\s*\([^)]*\)|\bDISTKEY\s*\([^)]*\)"
                r"|\b(?:DISTKEY|SORTKEY)\b|\bBACKUP\s+(?:YES|NO)\b", re.IGNORECASE), "redshift"),
]


@dataclass
class _Table:
    name: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # (name, declared type)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[tuple[list[str], str, list[str]]] = field(default_factory=list)
    comment: str = ""
    column_comments: dict[str, str] = field(default_factory=dict)
    view: str = ""  # a view's CREATE VIEW statement in SQLite's dialect; "" for a table
    # generated columns: name -> expression in SQLite's dialect; added after the rows, which
    # hold no values for them
    generated: dict[str, str] = field(default_factory=dict)
    partition_of: str = ""  # a PostgreSQL partition's parent table; its rows go there


def _bare(name: str) -> str:
    """A table's name without the dataset a dialect that took BigQuery's `project.dataset.t`
    for one quoted name left in it (`t`)."""
    return name.rsplit(".", 1)[-1] or name


def _parse(text: str, source: str) -> tuple[str, list]:
    """(dialect, statements) of the dialect that reads the most CREATE TABLE statements with
    the fewest it gives up on (sqlglot's `Command`: MySQL's table options in PostgreSQL, say)
    or misreads (`_phantoms`); none parsing the file is an error."""
    import logging

    import sqlglot
    from sqlglot import exp

    best, first = None, None
    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)  # its "falling back to a Command" warnings are ours to judge
    # backquoted names are MySQL's (mysqldump): try it first, so that a dump with rows is
    # parsed once or twice, not in every dialect; SQLite's own dump in SQLite's; otherwise
    # MySQL after SQLite, which reads double quotes as names, as the standard does (MySQL
    # reads "Unit Price" as a string)
    vendor = next(((clauses, d) for marks, clauses, d in _VENDOR_CLAUSES
                   if marks.search(text)), None)
    if vendor is not None:
        text = vendor[0].sub(lambda m: m.group(1) or "", text)
        order = sorted(DIALECTS, key=lambda d: d != vendor[1])
    elif "`" in text:
        order = sorted(DIALECTS, key=lambda d: d != "mysql")
    elif text.lstrip("\ufeff").startswith(SQLITE_DUMP_HEADERS):
        order = sorted(DIALECTS, key=lambda d: d != "sqlite")
    else:
        order = sorted(DIALECTS, key=lambda d: d == "mysql")
    try:
        for dialect in order:
            try:
                statements = [s for s in sqlglot.parse(text, read=dialect or None) if s]
            except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError) as e:
                first = first or e
                continue
            creates = sum(isinstance(s, exp.Create) and isinstance(s.this, exp.Schema)
                          for s in statements)
            score = (creates, -sum(isinstance(s, exp.Command) and not _harmless(s)
                                   for s in statements) - _phantoms(statements))
            if best is None or score > best[0]:
                best = (score, dialect, statements)
            if score[1] == 0 and creates:
                break  # everything read as what it is
    finally:
        log.setLevel(level)
    if best is None:
        why = (str(first).strip().splitlines() or ["?"])[0]
        raise TableGraphError(f"{source}: not SQL that sqlglot parses in any of "
                              f"{', '.join(d for d in DIALECTS if d)} ({why[:120]})")
    return best[1], best[2]


# words that begin a table's index or constraint, never a column (MySQL's `KEY idx (a)`,
# which PostgreSQL's and SQLite's readers take for a column named KEY)
_NOT_COLUMNS = {"KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "CONSTRAINT", "PRIMARY",
                "FOREIGN", "CHECK"}


def _phantoms(statements: list) -> int:
    """How many columns a dialect read that are an index or a constraint misread."""
    from sqlglot import exp

    return sum(c.name.upper() in _NOT_COLUMNS for s in statements
               if isinstance(s, exp.Create) and isinstance(s.this, exp.Schema)
               for c in s.this.expressions if isinstance(c, exp.ColumnDef))


def _names(node) -> list[str]:
    """Column names of a key's list (identifiers, columns, ordered columns)."""
    from sqlglot import exp

    out = []
    for e in node.expressions if node is not None else []:
        col = e.find(exp.Identifier)
        if col is not None:
            out.append(col.name)
    return out


def _reference(ref) -> tuple[str, list[str]] | None:
    """REFERENCES t (a, b) -> ("t", ["a", "b"]); the referenced key unnamed: []."""
    from sqlglot import exp

    target = ref.this
    if isinstance(target, exp.Schema):
        table = target.this
        return (_bare(table.name), _names(target)) if isinstance(table, exp.Table) else None
    return (_bare(target.name), []) if isinstance(target, exp.Table) else None


def _keys(t: _Table, nodes) -> None:
    """Primary and foreign keys among `nodes` (a table's definitions, or an ALTER's)."""
    from sqlglot import exp

    for node in nodes:
        for pk in node.find_all(exp.PrimaryKey):
            t.primary_key = _names(pk)
        for c in node.find_all(exp.Constraint):  # T-SQL: PRIMARY KEY [NON]CLUSTERED (a, b)
            if any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in c.expressions):
                for k in c.expressions:
                    if isinstance(k, (exp.ClusteredColumnConstraint,
                                      exp.NonClusteredColumnConstraint)):
                        cols = [o.find(exp.Identifier) for o in (k.this or [])]
                        t.primary_key = [i.name for i in cols if i is not None] or t.primary_key
        for fk in node.find_all(exp.ForeignKey):
            ref = _reference(fk.args["reference"]) if fk.args.get("reference") else None
            if ref is not None:
                t.foreign_keys.append((_names(fk), ref[0], ref[1]))


def _text(literal) -> str:
    return literal.name if literal is not None else ""


HARMLESS = ("LOCK", "UNLOCK", "GRANT", "REVOKE", "BEGIN", "COMMIT", "START", "ANALYZE",
            "VACUUM", "PRAGMA", "DELIMITER")  # statements no dialect needs to read


def _harmless(command) -> bool:
    """Whether a statement sqlglot kept as a `Command` says nothing of the schema in any
    dialect (mysqldump's `LOCK TABLES`, a `GRANT`, pg_dump's `ALTER TABLE ... OWNER TO`), so
    that it does not count against the dialect that read it."""
    words = str(command.this or "").upper().split()
    if words[:1] and words[0] in HARMLESS:
        return True
    text = f" {' '.join(command.sql().upper().split())} "
    # pg_dump's change of owner; SQL Server's (re-)enabling of a constraint's checks
    return words[:1] == ["ALTER"] and (" OWNER TO " in text or " CHECK CONSTRAINT " in text
                                       or " ATTACH PARTITION " in text  # read by read_ddl
                                       or text.endswith(" KEYS "))  # MySQL's DISABLE KEYS


# MySQL's versioned comments that hold a view (or a routine) as mysqldump writes it:
# `/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=... */ /*!50001 VIEW v AS ... */`;
# the others (SET, PARTITION BY, TABLESPACE) stay comments
_VERSIONED = re.compile(r"/\*!\d*\s?((?:CREATE|VIEW|DEFINER|SQL\s+SECURITY|DROP\s+VIEW)\b"
                        r".*?)\*/", re.DOTALL | re.IGNORECASE)
MYSQLDUMP_HEADERS = ("-- MySQL dump", "-- MariaDB dump")
SQLITE_DUMP_HEADERS = ("PRAGMA foreign_keys=OFF;", "BEGIN TRANSACTION;")  # .dump, iterdump
PG_DUMP_HEADER = "-- PostgreSQL database dump"
# what SQLite would read otherwise than MySQL does in a line of mysqldump: a backslash escape
# (mysqldump writes a quote inside a value as \', so in a line without one every quote opens
# or closes a string), and a value that is a hex or bit literal or a binary string
_NOT_PLAIN = re.compile(r"\\|[(,]\s*(?:0[xX]|[xXbB]'|_binary)")
PLAIN = "tablegraph_plain_insert_"  # the stand-in's table: no dump's


@dataclass
class _Copy:
    """The rows of one pg_dump `COPY t (a, b) FROM stdin;` block, as text (None: `\\N`)."""

    table: str
    columns: list[str]
    rows: list[tuple[str | None, ...]]
    line: int  # where the block starts, for errors
    where: str = ""  # where the rows come from, for errors, if not that line of the file


_NAME = r'(?:"(?:[^"]|"")*"|[^\s(."]+)'  # an identifier, quoted or not
_COPY = re.compile(rf"^COPY\s+(?P<table>{_NAME}(?:\.{_NAME})*)\s*\((?P<columns>[^)]*)\)\s+"
                   r"FROM\s+stdin;\s*$", re.IGNORECASE)
# psql's own commands, which pg_dump writes between statements (`\restrict` since 2025)
_PSQL = re.compile(r"^\\(?:restrict|unrestrict|connect|c|encoding|set|pset)\b")
_DELIMITER = re.compile(r"^\s*DELIMITER\s+(?P<d>\S+)\s*$", re.IGNORECASE)
_ROUTINE = re.compile(r"^\s*(?:/\*!\d*\s*)?CREATE\b[\s\S]*?\b(?:PROCEDURE|FUNCTION|TRIGGER|EVENT)\b",
                      re.IGNORECASE)
# pg_dump's `ALTER TABLE ONLY sales ATTACH PARTITION sales_2023 FOR VALUES ...`
_ATTACH = re.compile(rf"^ALTER TABLE (?:ONLY )?(?P<parent>{_NAME}(?:\.{_NAME})*) ATTACH "
                     rf"PARTITION (?P<child>{_NAME}(?:\.{_NAME})*)", re.IGNORECASE)
_GO = re.compile(r"^\s*GO\s*(?:\d+\s*)?$", re.IGNORECASE)
_TSQL_STATEMENT = re.compile(r"^(?:INSERT|SET|ALTER|CREATE|EXEC|EXECUTE|USE|PRINT|DROP|UPDATE"
                             r"|DELETE|GRANT|DENY)\b", re.IGNORECASE)
_TSQL_ROUTINE = re.compile(r"^\s*(?:CREATE|ALTER|CREATE\s+OR\s+ALTER)\s+"
                           r"(?:PROCEDURE|PROC|FUNCTION|TRIGGER)\b", re.IGNORECASE)
_PLSQL = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:NON)?EDITIONABLE\s+)?"
                    r"(?:PROCEDURE|FUNCTION|PACKAGE|TRIGGER|TYPE)\b", re.IGNORECASE)
# SSMS's `ALTER TABLE t WITH CHECK ADD CONSTRAINT ... FOREIGN KEY`: the check is the
# server's business, the key is ours
_WITH_CHECK = re.compile(r"^(ALTER\s+TABLE\s+.+?)\s+WITH\s+(?:NO)?CHECK\s+ADD\b", re.IGNORECASE)
_SLASH = re.compile(r"^\s*/\s*$")  # Oracle's SQL*Plus runs the statement above
_COPY_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")
_COPY_CHARS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def dump_dialect(text: str) -> str | None:
    """The tool that wrote a dump, by its first lines: "mysql" (mysqldump, MariaDB's),
    "sqlite" (`sqlite3 .dump`, Python's `iterdump`), "postgres" (pg_dump); else None."""
    head = text.lstrip("\ufeff")
    if head.startswith(MYSQLDUMP_HEADERS):
        return "mysql"
    if head.startswith(SQLITE_DUMP_HEADERS):
        return "sqlite"
    return "postgres" if PG_DUMP_HEADER in head[:200] else None


_PG_INSERT = re.compile(rf"^INSERT INTO (?:{_NAME}\.)*(?P<table>{_NAME})"
                        r"(?P<rest>\s*(?:\([^)]*\)\s*)?VALUES\s*\(.*\);)\s*$")


def _plain_row(line: str, dump: str, out: list[str]) -> str | None:
    """A dump's INSERT line that SQLite runs as the dump's tool means it, as SQLite is to run
    it; None for any other line. A whole statement on its line (its quotes closed, after a
    statement's end), and:
    - mysqldump's: backquoted names, no backslash escape, hex, bit or binary value
      (`_NOT_PLAIN`);
    - SQLite's own: any;
    - pg_dump's (`--inserts`): no cast (`::`), no E'' string and no backslash, its table's
      schema left out (the database is written without schemas)."""
    if not (line.startswith("INSERT INTO ") and line.rstrip().endswith(");")
            and line.count("'") % 2 == 0 and (not out or out[-1].rstrip().endswith(";"))):
        return None
    if dump == "mysql":
        return line.rstrip() if line.startswith("INSERT INTO `") and \
            not _NOT_PLAIN.search(line) else None
    if dump == "postgres":
        if "::" in line or "\\" in line or re.search(r"\bE'", line):
            return None
        m = _PG_INSERT.match(line)
        return f"INSERT INTO {m['table']}{m['rest']}" if m else None
    return line.rstrip()


def _copy_value(field: str) -> str | None:
    """One field of COPY's text format: `\\N` is NULL, backslash escapes decoded."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field

    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] == "x" and len(e) > 1:
            return chr(int(e[1:], 16))
        if e[0] in "01234567":
            return chr(int(e, 8))
        return _COPY_CHARS.get(e, e)
    return _COPY_ESCAPE.sub(one, field)


def _take_rows(text: str, source: str, dump: str | None) -> tuple[str, list[str | _Copy]]:
    """The rows of a dump (`dump`: its tool, `dump_dialect`), taken out of its text before
    sqlglot parses it, each in its place by a short stand-in (`INSERT INTO <PLAIN> VALUES
    (first, end)`: rows[first:end], one for lines in a row): (the text with the stand-ins,
    the rows). Parsing rows took most of a dump's reading time, and some are not SQL at all:

    - pg_dump's `COPY t (a, b) FROM stdin;` blocks, tab-separated lines up to `\\.`, each
      field in COPY's text format (`_copy_value`);
    - mysqldump's INSERT lines (a file that starts `-- MySQL dump` or `-- MariaDB dump`), one
      statement a line, that SQLite reads exactly as MySQL does (backquoted names, plain
      numbers and strings: nothing `_NOT_PLAIN` finds), to be run as written;
    - the INSERT lines of SQLite's own dump (`sqlite3 db .dump`, Python's `iterdump`: a file
      that starts `PRAGMA foreign_keys=OFF;` or `BEGIN TRANSACTION;`), each a whole
      statement on its line (its quotes closed, after a statement's end), as written;
    - pg_dump's `--inserts` lines that SQLite reads as PostgreSQL does, without their schema
      (`_plain_row`).

    On the way, what is no SQL statement goes: psql's commands between statements
    (`\\restrict ...`) are left out, SQL Server's `GO` lines and SQL*Plus's `/` lines end a
    statement, and MySQL's `DELIMITER ;;` blocks are split at their delimiter, their
    triggers and routines passed over (`_delimited`).
    """
    from sqlglot import exp

    if dump == "mysql":  # what mysqldump writes in MySQL's versioned comments, MySQL runs:
        text = _VERSIONED.sub(lambda m: m.group(1), text)  # its views
    lines = text.split("\n")
    batches = any(_GO.match(ln) for ln in lines)  # SQL Server's (sqlcmd, SSMS)
    slashes = not batches and any(_SLASH.match(ln) for ln in lines)  # Oracle's SQL*Plus
    run: tuple[int, int] | None = None  # (where in `out`, first row) of the last stand-in
    out: list[str] = []
    rows: list[str | _Copy] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        copy = _COPY.match(line.rstrip("\r"))
        if copy is not None:
            columns = [exp.to_column(c.strip(), dialect="postgres").name
                       for c in copy["columns"].split(",") if c.strip()]
            # its table as read by sqlglot (`public."Order Items"` -> Order Items)
            block = _Copy(exp.to_table(copy["table"], dialect="postgres").name, columns, [],
                          i + 1)
            i += 1
            while i < len(lines) and lines[i].rstrip("\r") != "\\.":
                fields = lines[i].rstrip("\r").split("\t")
                if len(fields) != len(columns):
                    raise TableGraphError(f"{source}, line {i + 1}: {len(fields)} field(s) in a "
                                          f"COPY of {len(columns)} column(s)")
                block.rows.append(tuple(_copy_value(f) for f in fields))
                i += 1
            if i == len(lines):
                raise TableGraphError(f"{source}, line {block.line}: a COPY block without its "
                                      f"end (a line \\.)")
            out.append(f"INSERT INTO {PLAIN} VALUES ({len(rows)}, {len(rows) + 1});")
            rows.append(block)
        elif (delimiter := _DELIMITER.match(line)) is not None:
            i = _delimited(lines, i, delimiter["d"], out)
            continue
        elif _PSQL.match(line):
            out.append("")
        elif _GO.match(line) or _SLASH.match(line):  # sqlcmd's, SQL*Plus's statement end
            out.append(";")
        elif dump and (plain := _plain_row(line, dump, out)) is not None:
            if run is not None and run[0] == len(out) - 1:  # one stand-in for lines in a row
                out[-1] = f"INSERT INTO {PLAIN} VALUES ({run[1]}, {len(rows) + 1});"
            else:
                run = (len(out), len(rows))
                out.append(f"INSERT INTO {PLAIN} VALUES ({len(rows)}, {len(rows) + 1});")
            rows.append(plain)
        elif (batches and _TSQL_ROUTINE.match(line)) or (slashes and _PLSQL.match(line)):
            # a procedure, function or trigger is its batch, up to the next GO (SQL Server)
            # or `/` (SQL*Plus); its body's statements are not the schema's (and sqlglot
            # reads on past its end, or not at all: PL/SQL's `%type`)
            end = _GO if batches else _SLASH
            while i < len(lines) and not end.match(lines[i]):
                out.append("")
                i += 1
            continue
        elif batches and _TSQL_STATEMENT.match(line):
            # SQL Server's scripts start a statement on its own line, without ending the one
            # before with a semicolon; sqlglot needs it ended
            last = next((k for k in range(len(out) - 1, -1, -1) if out[k].strip()), None)
            if last is not None and not out[last].rstrip().endswith(";"):
                out[last] = out[last].rstrip() + ";"
            out.append(_WITH_CHECK.sub(r"\1 ADD", line))
        else:
            out.append(line)
        i += 1
    return "\n".join(out), rows


def _delimited(lines: list[str], i: int, delimiter: str, out: list[str]) -> int:
    """MySQL's `DELIMITER ;;` ... `DELIMITER ;` block from line `i` (mysqldump writes triggers
    and routines in them, whose bodies hold semicolons): its statements, split at the
    delimiter, go to `out` ending in `;`, routines and triggers as blank lines (they say
    nothing of which table holds what), as many lines as the block had (an empty statement
    where a routine was). -> the line after."""
    out.append("")
    i += 1
    block: list[str] = []
    while i < len(lines) and not ((m := _DELIMITER.match(lines[i])) and m["d"] == ";"):
        block.append(lines[i])
        i += 1
    if delimiter != ";":  # each statement ends in ";", a routine's lines left blank
        body = ";".join("\n" * p.count("\n") if _ROUTINE.match(p) else p
                        for p in "\n".join(block).split(delimiter))
        block = body.split("\n")
    out.extend(block)
    if i < len(lines):
        out.append("")  # the closing DELIMITER ;
        i += 1
    return i


def read_ddl(text: str, source: str = "schema.sql"
             ) -> tuple[dict[str, _Table], list[tuple[str | _Copy, str | None]]]:
    """SQL text -> its tables (by lower-case name, in order of creation) and its rows in
    order: INSERT statements as SQLite runs them, each with the dialect of a dump line run as
    written (`_take_rows`: "mysql", "sqlite" or "postgres"; None: written by sqlglot), and
    COPY blocks."""
    from sqlglot import exp

    as_written = dump_dialect(text)
    text, plain = _take_rows(text, source, as_written)
    dialect, statements = _parse(text, source)
    tables: dict[str, _Table] = {}
    inserts: list[tuple[str | _Copy, str | None]] = []

    def table_of(node, what: str) -> _Table:
        t = tables.get(_bare(node.name).lower())
        if t is None:
            raise TableGraphError(f"{source}: {what} names the table {node.name!r}, which no "
                                  f"CREATE TABLE before it declares")
        return t

    def new(table, view: bool = False) -> _Table:
        name = _bare(table.name)
        key = name.lower()
        if key in tables and not (view and tables[key].view):  # a view may be made again:
            # mysqldump writes a stand-in for each view first, and the view at the end
            raise TableGraphError(f"{source}: the table {name!r} is created twice "
                                  f"(tablegraph reads schemas without their schema names)")
        t = tables[key] = _Table(name)
        return t

    for st in statements:
        kind = str(st.args.get("kind", "")).upper() if isinstance(st, exp.Create) else ""
        if kind == "VIEW" and isinstance(st.expression, exp.Query):
            name = st.this.this if isinstance(st.this, exp.Schema) else st.this
            for node in [name, *st.expression.find_all(exp.Table)]:
                node.set("db", None)
                node.set("catalog", None)
            st.set("properties", None)  # MATERIALIZED, DEFINER, SQL SECURITY: not SQLite's
            st.set("replace", False)
            new(name, view=True).view = st.sql(dialect="sqlite")
        elif kind == "TABLE" and isinstance(st.this, exp.Schema):
            t = new(st.this.this)
            for e in st.this.expressions:
                if isinstance(e, exp.ColumnDef):
                    kind = e.args.get("kind")
                    t.columns.append((e.name, kind.sql(dialect=dialect or None) if kind else ""))
                    for c in e.args.get("constraints") or []:
                        k = c.args.get("kind")
                        if isinstance(k, exp.PrimaryKeyColumnConstraint):
                            t.primary_key = [e.name]
                        elif isinstance(k, exp.Reference) and (ref := _reference(k)):
                            t.foreign_keys.append(([e.name], ref[0], ref[1]))
                        elif isinstance(k, exp.ComputedColumnConstraint):
                            t.generated[e.name] = k.this.sql(dialect="sqlite")
                        elif isinstance(k, exp.CommentColumnConstraint):
                            t.column_comments[e.name] = _text(k.this)
                        elif isinstance(k, exp.Properties) and \
                                (note := _description_option(k.expressions)) is not None:
                            t.column_comments[e.name] = note  # BigQuery's OPTIONS
            _keys(t, [e for e in st.this.expressions if not isinstance(e, exp.ColumnDef)])
            for p in (st.args.get("properties") or exp.Properties()).expressions:
                if isinstance(p, exp.SchemaCommentProperty):
                    t.comment = _text(p.this)
                elif (note := _description_option([p])) is not None:
                    t.comment = note
        elif isinstance(st, exp.Alter) and isinstance(st.this, exp.Table):
            actions = st.args.get("actions") or []
            if any(a.find(exp.PrimaryKey) or a.find(exp.ForeignKey) for a in actions):
                _keys(table_of(st.this, "ALTER TABLE"), actions)
        elif isinstance(st, exp.Comment):
            kind = str(st.args.get("kind", "")).upper()
            if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW") and isinstance(st.this, exp.Table):
                table_of(st.this, f"COMMENT ON {kind}").comment = _text(st.args.get("expression"))
            elif kind == "COLUMN" and isinstance(st.this, exp.Column):
                t = table_of(exp.to_table(st.this.table), "COMMENT ON COLUMN")
                t.column_comments[st.this.name] = _text(st.args.get("expression"))
        elif isinstance(st, exp.Command) and (attach := _ATTACH.match(
                " ".join(st.sql(comments=False).split()))) is not None:
            table_of(exp.to_table(attach["child"], dialect="postgres"),
                     "ATTACH PARTITION").partition_of = \
                table_of(exp.to_table(attach["parent"], dialect="postgres"),
                         "ALTER TABLE").name
        elif (described := _description(st)) is not None:  # SQL Server's MS_Description
            table, column, text_ = described
            t = table_of(exp.to_table(table), "sp_addextendedproperty")
            if column is None:
                t.comment = text_
            else:
                t.column_comments[column] = text_
        elif isinstance(st, exp.Insert) and plain and \
                getattr(st.find(exp.Table), "name", None) == PLAIN:  # rows taken out, in place
            first, end = (int(v.this) for v in st.expression.find_all(exp.Literal))
            inserts += [(row, None if isinstance(row, _Copy) else as_written)
                        for row in plain[first:end]]
        elif isinstance(st, exp.Insert):
            target = st.find(exp.Table)
            if target is not None:
                target.set("db", None)
                target.set("catalog", None)
            inserts.append((_sqlite_sql(st), None))
    if not tables:
        raise TableGraphError(f"{source}: no CREATE TABLE statement")
    return tables, inserts


_PROPERTY_ARGS = ("name", "value", "level0type", "level0name", "level1type", "level1name",
                  "level2type", "level2name")


def _description(st) -> tuple[str, str | None, str] | None:
    """SQL Server's comment: `EXEC sp_addextendedproperty @name = N'MS_Description', @value =
    N'...', ..., @level1type = N'TABLE', @level1name = N'Customer' [, @level2type =
    N'COLUMN', @level2name = N'PersonID']` (named or in order) -> (table, column or None,
    text); any other statement: None."""
    from sqlglot import exp

    if not (isinstance(st, exp.Execute) and isinstance(st.this, exp.Table)
            and st.this.name.lower() == "sp_addextendedproperty"):
        return None
    args: dict[str, str] = {}
    for i, e in enumerate(st.expressions):
        if isinstance(e, exp.EQ) and isinstance(e.this, exp.Parameter):
            key, value = e.this.name.lower(), e.expression
        elif i < len(_PROPERTY_ARGS):
            key, value = _PROPERTY_ARGS[i], e
        else:
            continue
        args[key] = value.name if isinstance(value, (exp.Literal, exp.National)) else ""
    if args.get("name", "").lower() != "ms_description" or \
            args.get("level1type", "").upper() not in ("TABLE", "VIEW") or \
            args.get("level2type", "").upper() not in ("", "COLUMN") or not args.get("level1name"):
        return None
    column = args.get("level2name") if args.get("level2type", "").upper() == "COLUMN" else None
    return args["level1name"], column, args.get("value", "")


def _description_option(properties: list) -> str | None:
    """BigQuery's `OPTIONS(description = "...")` among a table's or column's properties: its
    text, else None."""
    from sqlglot import exp

    for p in properties:
        if isinstance(p, exp.Property) and p.name.lower() == "description" and \
                isinstance(p.args.get("value"), exp.Literal):
            return _text(p.args["value"])
    return None


def _copy_into(con: sqlite3.Connection, block: _Copy, tables: dict[str, _Table],
               path: str) -> None:
    """A COPY block's rows into its table (text; SQLite's column affinity makes numbers of
    the numeric columns' text; a boolean column's `t` and `f` are 1 and 0, as an INSERT's
    true and false are)."""
    at = block.where or f"{path}, line {block.line}"
    t = tables.get(block.table.lower())
    if t is None:
        raise TableGraphError(f"{at}: rows for the table {block.table!r}, which no CREATE "
                              f"TABLE declares")
    cols = ", ".join(_q(c) for c in block.columns)
    marks = ", ".join("?" * len(block.columns))
    declared = {c.lower(): ty.upper() for c, ty in t.columns}
    flags = [i for i, c in enumerate(block.columns)
             if declared.get(c.lower(), "") in ("BOOLEAN", "BOOL")]
    rows = block.rows if not flags else [
        tuple({"t": 1, "f": 0}.get(v, v) if i in flags else v for i, v in enumerate(r))
        for r in block.rows]
    try:
        con.executemany(f"INSERT INTO {_q(t.name)} ({cols}) VALUES ({marks})", rows)
    except sqlite3.Error as e:
        raise TableGraphError(f"{at}: the rows of {t.name!r} cannot be written "
                              f"({e})") from e


def _sqlite_sql(tree) -> str:
    """A parsed statement written for SQLite, strings SQLite has no syntax for as plain ones:
    SQL Server's national strings (N'ALFKI'), which sqlglot writes as they are, and
    PostgreSQL's escape strings (E'it\\'s', read by sqlglot as byte strings), which it leaves
    out, values and all."""
    from sqlglot import exp

    return tree.transform(lambda n: exp.Literal.string(n.this) if isinstance(
        n, (exp.National, exp.ByteString)) else n).sql(dialect="sqlite")


def _as_sqlite(line: str, path: str, dialect: str) -> str:
    """A dump's INSERT line, in `dialect`, as sqlglot writes it for SQLite."""
    import sqlglot

    try:
        return ";".join(_sqlite_sql(t) for t in sqlglot.parse(line, read=dialect) if t)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError) as e:
        raise TableGraphError(f"{path}: an INSERT sqlglot cannot read ({e}): "
                              f"{line[:80]}") from e


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# a declared type SQLite takes: names and at most two numbers
_PLAIN_TYPE = re.compile(r"[A-Za-z_][\w ]*(?:\(\s*[+-]?\d+\s*(?:,\s*[+-]?\d+\s*)?\))?")


def _column(name: str, dtype: str, quote_types: bool) -> str:
    """A column's definition for SQLite (see `_create`)."""
    return f"{_q(name)} {_q(dtype) if quote_types and not _PLAIN_TYPE.fullmatch(dtype) else dtype}" \
        .rstrip()


def _add_generated(con: sqlite3.Connection, t: _Table, quote_types: bool) -> None:
    """`t`'s generated columns, added after its rows: computed as declared where SQLite can
    (a VIRTUAL column), else a plain column without values; either way the table has it."""
    for c, ty in t.columns:
        if c in t.generated:
            plain = f"ALTER TABLE {_q(t.name)} ADD COLUMN {_column(c, ty, quote_types)}"
            try:
                con.execute(f"{plain} GENERATED ALWAYS AS ({t.generated[c]}) VIRTUAL")
            except sqlite3.Error:
                con.execute(plain)


def _create(t: _Table, quote_types: bool = False) -> str:
    """The table's CREATE TABLE for SQLite (a view's CREATE VIEW). SQLite takes a declared type
    of names and at most two numbers; `quote_types` writes every other one (MySQL's
    `ENUM('G', 'PG')`, `public.year`, `STRUCT<a INT64>`) as one quoted name, which it takes
    as the column's declared type, as written."""
    if t.view:
        return t.view
    parts = [_column(c, ty, quote_types) for c, ty in t.columns if c not in t.generated]
    if t.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(map(_q, t.primary_key))})")
    for cols, ref, ref_cols in t.foreign_keys:
        to = f" ({', '.join(map(_q, ref_cols))})" if ref_cols else ""
        parts.append(f"FOREIGN KEY ({', '.join(map(_q, cols))}) REFERENCES {_q(ref)}{to}")
    return f"CREATE TABLE {_q(t.name)} ({', '.join(parts)})"


def _dictionary(t: _Table) -> str | None:
    """BIRD's layout, with the table's own comment on a row without a column name."""
    if not t.comment and not t.column_comments:
        return None
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([DICTIONARY_KEY, "column_name", "column_description"])
    if t.comment:
        w.writerow(["", "", t.comment])
    for c, text in t.column_comments.items():
        w.writerow([c, "", text])
    return buf.getvalue()


def ddl_database(path: str) -> str:
    """The SQLite file that the SQL file `path` declares (see the module docstring), built
    once in the cache and then reused while the file's text is the same."""
    try:
        raw = Path(path).read_bytes()
        if path.lower().endswith(".gz"):  # pg_dump | gzip
            raw = gzip.decompress(raw)
        text = decode_text(raw)  # SQL Server Management Studio saves UTF-16 by default
    except UnicodeDecodeError as e:
        raise TableGraphError(f"{path}: not UTF-8 or UTF-16 text") from e
    except (OSError, EOFError, zlib.error) as e:
        raise TableGraphError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    name = re.sub(r"\.sql(\.gz)?$", "", Path(path).name, flags=re.IGNORECASE) + ".sqlite"
    digest = hashlib.sha256(raw + f"|ddl{DDL_VERSION}|{name}".encode()).hexdigest()[:20]
    db = cache_root() / "ddl" / digest / name
    if db.is_file():
        return str(db)
    tables, inserts = read_ddl(text, path)
    return write_database(db, tables, inserts, path)


def write_database(db: Path, tables: dict[str, _Table],
                   inserts: list[tuple[str | _Copy, str | None]], path: str) -> str:
    """Write `read_ddl`'s tables and rows into the SQLite file `db`, in a cache folder of its
    own that is built once (`build_once`), with their comments as a data dictionary beside
    it; `path` names the source in errors."""
    with build_once(db.parent) as tmp:
        con = sqlite3.connect(tmp / db.name)
        for fn in ("STR_TO_DATE", "STR_TO_TIME"):  # sqlglot's reading of Oracle's to_date and
            # to_timestamp in INSERTs, which SQLite lacks: the date kept as the text written
            con.create_function(fn, -1, lambda v=None, *_: v, deterministic=True)
        try:
            quoted: set[str] = set()  # the tables written with their types quoted
            for t in tables.values():
                try:
                    con.execute(_create(t))
                except sqlite3.Error:
                    try:  # a type SQLite does not take as written, as one quoted name
                        con.execute(_create(t, quote_types=True))
                        quoted.add(t.name)
                    except sqlite3.Error as e:
                        raise TableGraphError(f"{path}: the table {t.name!r} cannot be written "
                                              f"as SQLite: {e}") from e
            for sql, as_written in inserts:  # as_written: the dialect of a dump's line
                if isinstance(sql, _Copy):
                    _copy_into(con, sql, tables, path)
                    continue
                try:
                    con.execute(sql)
                except sqlite3.Error as e:
                    if as_written:  # SQLite differs from the dump's dialect after all, or
                        # its line was no whole statement: as sqlglot writes it
                        sql = _as_sqlite(sql, path, as_written)
                        try:
                            con.execute(sql)
                            continue
                        except sqlite3.Error as again:
                            e = again
                    raise TableGraphError(f"{path}: an INSERT fails ({e}): {sql[:80]}") from e
            for t in tables.values():  # a partition's rows into its topmost parent
                if t.partition_of:
                    root, seen = t, {t.name}
                    while root.partition_of.lower() in tables and root.partition_of not in seen:
                        root = tables[root.partition_of.lower()]  # (a cycle stops the climb)
                        seen.add(root.name)
                    cols = ", ".join(_q(c) for c, _ in root.columns if c not in root.generated)
                    try:
                        con.execute(f"INSERT INTO {_q(root.name)} ({cols}) SELECT {cols} FROM "
                                    f"{_q(t.name)}")
                        con.execute(f"DROP TABLE {_q(t.name)}")
                    except sqlite3.Error as e:
                        raise TableGraphError(f"{path}: the partition {t.name!r} of "
                                              f"{root.name!r} cannot be read into it: {e}") from e
            for t in tables.values():
                if t.generated and not t.view:
                    try:
                        _add_generated(con, t, t.name in quoted)
                    except sqlite3.Error as e:
                        raise TableGraphError(f"{path}: the table {t.name!r} cannot be written "
                                              f"as SQLite: {e}") from e
            con.commit()
        finally:
            con.close()
        for t in tables.values():
            notes = None if t.partition_of else _dictionary(t)
            if notes is not None:
                (tmp / DICTIONARY_FOLDER).mkdir(exist_ok=True)
                (tmp / DICTIONARY_FOLDER / f"{t.name}.csv").write_text(notes, "utf-8")
    return str(db)

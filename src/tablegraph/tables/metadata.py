"""A database described by files rather than kept as one: a folder with a `DDL.csv` (a
CREATE TABLE statement per table) and beside it a JSON file per table with its column names,
types, descriptions and a few sample rows. This is how Spider 2.0 keeps what it knows of its
SQLite, BigQuery and Snowflake databases (`databases/<db>/[<dataset>/]DDL.csv`), and how a
warehouse whose data stays in the cloud can be handed over.

`metadata_database(folder)` reads every DDL.csv under the folder (columns `table_name`,
`DDL` and, where present, `description`) as one schema (`ddl.read_ddl`: types, keys and
comments such as BigQuery's `OPTIONS(description = ...)`). Each table's description in the CSV
and each column's in its JSON count where the DDL gives none; a JSON's `sample_rows` are the
table's rows. SQLite's own tables (`sqlite_sequence`, `sqlite_stat1`) are left out. The
SQLite file is written once in the cache, named by the digest of those files (an edited file
is read again), as a `.sql` schema's is.

`catalogue_databases(path)` reads the `tables.json` that Spider, BIRD and the benchmarks built
on them ship (a list of databases, each with `db_id`, `table_names_original`,
`column_names_original`, `column_types`, `primary_keys` and `foreign_keys`): a schema-only
SQLite file per database, with its keys, Spider's coarse types as SQL's (`number` ->
NUMERIC, `time` -> DATETIME, `others` -> TEXT) and each readable name (`column_names`:
"driver reference name" for `driverRef`) as the column's comment where it says more than the
name itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from pathlib import Path

from tablegraph.tables.ddl import DDL_VERSION, _Copy, _Table, read_ddl, write_database
from tablegraph.tables.sources import _files_under
from tablegraph.utils import TableGraphError, cache_root, decode_text

DDL_FILE = "ddl.csv"  # its name, in any case
METADATA_VERSION = 2  # bump when the database written from the same files changes
CATALOGUE_KEYS = ("table_names_original", "column_names_original")  # a tables.json's
SPIDER_TYPES = {"number": "NUMERIC", "time": "DATETIME", "others": "TEXT", "boolean": "BOOLEAN"}


def ddl_files(folder: str, files: list[str] | None = None) -> list[str]:
    """The DDL.csv files under `folder` (any depth, any case of the name) whose header names a
    `table_name` and a `DDL` column, sorted; [] for anything but such a folder. `files`: the
    folder's files when already listed (`sources._files_under`)."""
    if files is None:
        files = _files_under(folder) if os.path.isdir(folder) else []
    return sorted(f for f in files if os.path.basename(f).lower() == DDL_FILE
                  and _header(f) >= {"table_name", "ddl"})


def _header(path: str) -> set[str]:
    """The lower-case field names of a CSV file's first line (empty if unreadable)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return {h.strip().lower() for h in next(csv.reader(f), [])}
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()


def _rows(path: str) -> list[dict[str, str]]:
    """A DDL.csv's rows, keys in lower case."""
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a DDL with its descriptions
    try:
        text = decode_text(Path(path).read_bytes())
        return [{(k or "").strip().lower(): (v or "") for k, v in row.items()}
                for row in csv.DictReader(io.StringIO(text))]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise TableGraphError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e


def _described(path: Path) -> dict | None:
    """A table's JSON (`table_name`, `column_names`, ...), None for any other JSON file."""
    try:
        data = json.loads(decode_text(path.read_bytes()))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise TableGraphError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    if isinstance(data, dict) and isinstance(data.get("table_name"), str) \
            and isinstance(data.get("column_names"), list):
        return data
    return None


def _value(v: object) -> object:
    """A sample row's JSON value as SQLite keeps it (nested records and lists as JSON)."""
    if v is None or isinstance(v, (int, float, str)):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def metadata_database(folder: str, csvs: list[str] | None = None) -> str:
    """The SQLite file that the DDL.csv files under `folder` (`csvs`: `ddl_files(folder)`, when
    already found) and their tables' JSON files describe (see the module docstring), built
    once in the cache. Each DDL.csv is a dataset
    (BigQuery's `project.dataset`, Snowflake's schema); a table name that two of them share is
    qualified by its dataset's (`PDC_metadata.studies`, as SQL that names the dataset reads)."""
    csvs = ddl_files(folder) if csvs is None else csvs
    if not csvs:
        raise TableGraphError(f"{folder}: no DDL.csv with the columns table_name and DDL")
    jsons = {c: sorted(p for p in Path(c).parent.iterdir()
                       if p.is_file() and p.suffix.lower() == ".json") for c in csvs}
    digest = hashlib.sha256(f"metadata{METADATA_VERSION}|ddl{DDL_VERSION}".encode())
    for p in [*map(Path, csvs), *(p for ps in jsons.values() for p in ps)]:
        digest.update(f"|{os.path.relpath(p, folder)}|".encode())
        digest.update(p.read_bytes())
    name = (Path(folder).resolve().name or "database") + ".sqlite"
    db = cache_root() / "ddl" / digest.hexdigest()[:20] / name
    if db.is_file():
        return str(db)
    datasets = [(c, *_dataset(c, jsons[c])) for c in csvs]
    seen: dict[str, int] = {}
    for _, tables, _ in datasets:
        for key in tables:
            seen[key] = seen.get(key, 0) + 1
    merged: dict[str, _Table] = {}
    inserts: list[tuple[str | _Copy, str | None]] = []
    for c, tables, rows in datasets:
        qualifier = Path(c).parent.name.split(".")[-1]
        renamed = {key: f"{qualifier}.{t.name}" for key, t in tables.items() if seen[key] > 1}
        for key, t in tables.items():
            t.name = renamed.get(key, t.name)
            t.foreign_keys = [(cols, renamed.get(ref.lower(), ref), ref_cols)
                              for cols, ref, ref_cols in t.foreign_keys]
            if t.name.lower() in merged:  # two datasets of one name, in two projects
                raise TableGraphError(f"{folder}: two datasets hold the table {t.name!r}")
            merged[t.name.lower()] = t
        for sql, dialect in rows:
            if isinstance(sql, _Copy):
                sql.table = renamed.get(sql.table.lower(), sql.table)
            inserts.append((sql, dialect))
    return write_database(db, merged, inserts, folder)


def _dataset(path: str, jsons: list[Path]
             ) -> tuple[dict[str, _Table], list[tuple[str | _Copy, str | None]]]:
    """One DDL.csv and the JSON files beside it -> its tables (by lower-case name) and rows
    (`read_ddl`'s, with each JSON's sample rows)."""
    statements, notes = [], {}
    for row in _rows(path):
        table, ddl = row.get("table_name", "").strip(), row.get("ddl", "").strip()
        if not ddl or table.split(".")[-1].lower().startswith("sqlite_"):
            continue
        statements.append(ddl.rstrip().rstrip(";"))
        if row.get("description", "").strip():
            notes[table.split(".")[-1].lower()] = row["description"].strip()
    if not statements:
        return {}, []
    tables, inserts = read_ddl(";\n".join(statements) + ";\n", path)
    for key, note in notes.items():
        if key in tables and not tables[key].comment:
            tables[key].comment = note
    for p in jsons:
        data = _described(p)
        t = None if data is None else tables.get(data["table_name"].split(".")[-1].lower())
        if t is None or t.view:
            continue
        declared = {c.lower(): c for c, _ in t.columns if c not in t.generated}
        for c, note in zip(data["column_names"], data.get("description") or []):
            col = declared.get(str(c).lower())
            if col and isinstance(note, str) and note.strip() and col not in t.column_comments:
                t.column_comments[col] = note.strip()
        samples = [r for r in data.get("sample_rows") or [] if isinstance(r, dict)]
        keys = {str(k).lower(): k for r in samples for k in r}
        cols = [declared[k] for k in declared if k in keys]
        if cols and samples:
            rows = [tuple(_value(r.get(keys[c.lower()])) for c in cols) for r in samples]
            inserts.append((_Copy(t.name, cols, rows, 0, where=str(p)), None))
    return tables, inserts


def is_catalogue(path: str) -> bool:
    """Whether `path` is a JSON file that reads as Spider's `tables.json` (by its first MB)."""
    if not (path.lower().endswith(".json") and os.path.isfile(path)):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20).decode("utf-8", "ignore")
    except OSError:
        return False
    return all(f'"{k}"' in head for k in CATALOGUE_KEYS)


def catalogue_databases(path: str) -> dict[str, str]:
    """Each database of a `tables.json` (see the module docstring) -> its schema-only SQLite
    file, built once in the cache: {db_id in lower case: file}."""
    try:
        raw = Path(path).read_bytes()
        data = json.loads(decode_text(raw))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise TableGraphError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    entries = data if isinstance(data, list) else [data]
    out: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if not (isinstance(entry, dict) and all(k in entry for k in CATALOGUE_KEYS)):
            raise TableGraphError(f"{path}: entry {i + 1} has no {' and '.join(CATALOGUE_KEYS)}")
        db_id = str(entry.get("db_id") or Path(path).stem)
        digest = hashlib.sha256(raw + f"|catalogue{METADATA_VERSION}|ddl{DDL_VERSION}|"
                                      f"{db_id}".encode()).hexdigest()[:20]
        db = cache_root() / "ddl" / digest / f"{db_id}.sqlite"
        out[db_id.lower()] = str(db) if db.is_file() else \
            write_database(db, _catalogue_tables(entry, f"{path} ({db_id})"), [], path)
    return out


def _catalogue_tables(entry: dict, where: str) -> dict[str, _Table]:
    """One `tables.json` database -> its tables (by lower-case name) with columns, types,
    keys and readable names as comments."""
    def plain(name: str) -> list[str]:  # `driverId`, `driver_id` and "driver id" alike
        return re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower())

    try:
        tables = [_Table(str(t)) for t in entry["table_names_original"]]
        readable = entry.get("table_names") or []
        columns = []  # (table index, column) per column index; -1 for Spider's "*"
        types = entry.get("column_types") or []
        said = entry.get("column_names") or []
        for j, (ti, name) in enumerate(entry["column_names_original"]):
            columns.append((int(ti), str(name)))
            if ti < 0:
                continue
            ty = str(types[j]) if j < len(types) else ""
            tables[ti].columns.append((str(name), SPIDER_TYPES.get(ty.lower(), ty.upper())))
            note = str(said[j][1]) if j < len(said) else ""
            if note and plain(note) != plain(str(name)):
                tables[ti].column_comments[str(name)] = note
        for ti, t in enumerate(tables):
            if ti < len(readable) and plain(str(readable[ti])) != plain(t.name):
                t.comment = str(readable[ti])
        for key in entry.get("primary_keys") or []:
            cols = [columns[int(c)] for c in (key if isinstance(key, list) else [key])]
            for ti in {ti for ti, _ in cols}:
                tables[ti].primary_key += [c for t, c in cols if t == ti]
        for pair in entry.get("foreign_keys") or []:
            (ti, col), (ri, ref) = columns[int(pair[0])], columns[int(pair[1])]
            tables[ti].foreign_keys.append(([col], tables[ri].name, [ref]))
    except (IndexError, KeyError, TypeError, ValueError) as e:
        raise TableGraphError(f"{where}: not a schema as tables.json writes one "
                              f"({type(e).__name__}: {e})") from e
    out: dict[str, _Table] = {}
    for t in tables:
        if t.name.lower() in out:
            raise TableGraphError(f"{where}: the table {t.name!r} is named twice")
        out[t.name.lower()] = t
    return out

"""Where tables come from: files, folders, SQLite / DuckDB databases, PostgreSQL.

Everything is read through DuckDB. `discover(spec)` turns a `--tables` argument into
`TableRef`s; `Reader` opens one DuckDB connection, attaches databases read-only and draws a
bounded, reproducible sample of each table into a temporary DuckDB table that the profiler
queries.

Supported `spec`s:
- a folder, searched recursively for `*.csv`, `*.tsv`, `*.parquet`, `*.json`, `*.jsonl` and
  `*.ndjson` files (CSV, TSV and JSON also gzipped, `.csv.gz`) (table = file name
  without those endings; the same name twice is an error naming both files). Files of a
  partitioned dataset are one table named for its folder (`partitioned_tables`): files under
  Hive partition folders (`orders/year=2024/...`) or named as Spark, Hive and DuckDB name
  their parts (`part-00000-....parquet`, `000000_0.csv`, `data_0.parquet`), and files of one
  name under partition folders (`day=1/orders.csv`, `day=2/orders.csv`); partition keys
  become columns;
- one such file;
- a folder described by a DDL.csv and a JSON file per table, as Spider 2.0 keeps its
  databases (`tables.metadata`), when it holds no database file;
- Spider's `tables.json` (schemas of databases, `tables.metadata`): its one database, or of
  several, a catalogue of them as a folder of several database files is;
- a SQLite or DuckDB database file (recognised by its header bytes);
- a folder of several such files, read as one catalogue (`_catalogue_tables`): each table
  named `<database>.<table>` by its file's name, joins found within a database only;
- a PostgreSQL URL `postgresql://user:pass@host:port/db` (every base table of every
  non-system schema; tables outside `public` are named `schema.table`);
- a MySQL or MariaDB URL `mysql://user:pass@host:port/db` (`mariadb://` too; the tables and
  views of that database).

SQLite, PostgreSQL and MySQL are read with DuckDB's scanner extensions, loaded from the PyPI
packages `duckdb-extension-{sqlite,postgres,mysql}-scanner` (no download at run time); their
version must equal DuckDB's.
"""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import os
import re
import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import duckdb

from tablegraph.utils import TableGraphError, build_once, cache_root

# file endings read as tables, and the format of each (longest endings first)
FILE_FORMATS = {".csv.gz": "csv", ".tsv.gz": "tsv", ".jsonl.gz": "json", ".ndjson.gz": "json",
                ".json.gz": "json", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet",
                ".jsonl": "json", ".ndjson": "json", ".json": "json"}
FILE_SUFFIXES = tuple(FILE_FORMATS)
# DuckDB's errors for SQLite values that do not fit their declared type
SQLITE_TYPE_ERRORS = ("Mismatch Type", "Conversion Error")
# a control character other than tab, line feed and carriage return (RE2, as a SQL literal)
_CONTROL = r"'[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]'"
# database servers by their URLs' schemes: PostgreSQL and MySQL (or MariaDB)
SERVER_URLS = {"postgres": ("postgresql://", "postgres://"), "mysql": ("mysql://", "mariadb://")}
DEFAULT_MAX_ROWS = 20_000
# a record's fields are columns down to records this deep (`customer.address.city`)
RECORD_DEPTH = 3
DEFAULT_SAMPLE_SEED = 42
# what SQLite's virtual tables keep beside them: FTS3/4, FTS5, R*Tree
SQLITE_SHADOW_PARTS = ("content", "segments", "segdir", "docsize", "stat", "data", "idx",
                       "config", "node", "rowid", "parent")
# endings of database files that a folder may hold (read when it holds one, and nothing else)
SQL_SUFFIXES = (".sql", ".sql.gz")  # a schema or a dump as SQL (`tables.ddl`)
DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".db3", ".s3db", ".sl3", ".duckdb", ".ddb")
# a database file's data dictionary: one CSV per table beside it, in BIRD's layout
# (`tables.catalog.read_dictionary`)
DICTIONARY_FOLDER = "database_description"
DICTIONARY_KEY = "original_column_name"  # the first header field of a dictionary's file


def is_dictionary_file(path: str) -> bool:
    """A CSV file of a data dictionary (in `DICTIONARY_FOLDER`, its header naming
    `DICTIONARY_KEY`), which describes a table instead of being one."""
    if os.path.basename(os.path.dirname(os.path.abspath(path))) != DICTIONARY_FOLDER or \
            not path.lower().endswith(".csv"):
        return False
    with open(path, "rb") as f:
        return DICTIONARY_KEY.encode() in f.readline().lower()


def dictionary_files(location: str) -> list[str]:
    """The data dictionary CSV files beside the database or data file `location` (none:
    [])."""
    folder = os.path.join(os.path.dirname(os.path.abspath(location)), DICTIONARY_FOLDER)
    return sorted(glob.glob(os.path.join(folder, "*.csv"))) if os.path.isdir(folder) else []


def _files_digest(files: list[str], n: int = 32) -> str:
    """A digest of the files' absolute paths, sizes and mtimes (`n` hex characters): what
    changes when any of them changes."""
    stats = [(os.path.abspath(f), os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:n]


def _dictionary_stamp(location: str) -> str:
    """What changes when the data dictionary beside `location` changes ("" without one);
    of a database tablegraph built in its cache, its content (`_built_in_cache`)."""
    files = dictionary_files(location)
    if not files:
        return ""
    if _built_in_cache(location):
        digest = hashlib.sha256(b"".join(Path(f).read_bytes() for f in files)).hexdigest()
        return f":dictionary {digest[:16]}"
    return f":dictionary {_files_digest(files, 16)}"


def _built_in_cache(location: str) -> bool:
    """Whether `location` is a database tablegraph built in its cache, in a folder named for
    what it was built from (the SQLite file of a `.sql` file, `tables.ddl`; the DuckDB file of
    a DuckDB export, `imported_database`): a new one for every edit, so a table's fingerprint
    names the file, not that folder, and an index re-reads only what changed."""
    path = os.path.abspath(location)
    return any(path.startswith(os.path.join(str(cache_root()), d) + os.sep)
               for d in ("ddl", "imports"))


EXPORT_FILES = ("schema.sql", "load.sql")  # what DuckDB's EXPORT DATABASE writes


def is_export(folder: str) -> bool:
    """Whether `folder` is what DuckDB's `EXPORT DATABASE` writes: schema.sql, load.sql and
    a data file per table."""
    return all(os.path.isfile(os.path.join(folder, f)) for f in EXPORT_FILES)


def imported_database(folder: str) -> str:
    """The DuckDB file that `IMPORT DATABASE` makes of a DuckDB export (tables with their
    schemas, keys, comments and rows), built once in the cache, in a folder named for the
    export's files (paths, sizes, times: an edited export is imported again)."""
    files = sorted(str(p) for p in Path(folder).iterdir() if p.is_file())

    def fill(con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute(f"IMPORT DATABASE {quote_literal(os.path.abspath(folder))}")
        except duckdb.Error as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise TableGraphError(f"{folder}: DuckDB cannot import this export ({first})") from e
    return _cached_duckdb(cache_root() / "imports" / _files_digest(files, 20),
                          (Path(folder).resolve().name or "export") + ".duckdb", fill)


def _cached_duckdb(target: Path, name: str, fill) -> str:
    """The DuckDB file `target/name` in the cache: built once by `fill(connection)` (through
    `build_once`: an error leaves nothing behind), then reused."""
    db = target / name
    if not db.is_file():
        with build_once(target) as tmp:
            con = duckdb.connect(str(tmp / name))
            try:
                fill(con)
            finally:
                con.close()
    return str(db)


WORKBOOK_SUFFIX = ".xlsx"
WORKBOOK_VERSION = 1  # bump when the database read from the same workbook changes


def workbook_sheets(path: str) -> list[str]:
    """The names of an Excel workbook's sheets, in order (from its `xl/workbook.xml`)."""
    import xml.etree.ElementTree as ET
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            root = ET.fromstring(z.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError) as e:
        raise TableGraphError(f"{path}: not an Excel workbook (.xlsx) that can be read "
                              f"({e})") from e
    return [el.get("name", "") for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "sheet"
            and el.get("name")]


def workbook_database(path: str) -> str:
    """The DuckDB file that an Excel workbook is read as, a table per sheet (its first row the
    column names, types as DuckDB's excel extension infers them, or every column as text
    where a column's values do not keep to one type), built once in the cache, in a folder
    named for the file (path, size, time: an edited workbook is read again). A sheet with no
    table in it (empty, or a chart) is left out; a workbook with none is an error."""
    sheets = workbook_sheets(path)

    def fill(con: duckdb.DuckDBPyConnection) -> None:
        made, why = 0, ""
        _load_scanner(con, "duckdb_extension_excel")
        for sheet in sheets:
            for text in ("false", "true"):  # as inferred, else every column as text
                try:
                    con.execute(f"CREATE TABLE {quote_ident(sheet)} AS SELECT * FROM "
                                f"read_xlsx(?, sheet = ?, header = true, "
                                f"all_varchar = {text})", [os.path.abspath(path), sheet])
                    _whole_numbers(con, sheet)
                    made += 1
                    break
                except duckdb.Error as e:
                    why = why or _first_line(e)
        if not made:
            raise TableGraphError(f"{path}: no sheet holds a table ({why or 'no sheets'})")
    return _cached_duckdb(
        cache_root() / "imports" / (f"xlsx{WORKBOOK_VERSION}-" + _files_digest([path], 20)),
        Path(path).name.rsplit(".", 1)[0] + ".duckdb", fill)


def _whole_numbers(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Excel keeps every number as a double: a column of `table` whose values are all whole
    numbers (ids, counts, years) becomes BIGINT, as the database it came from had it."""
    cols = [c for c, t in con.execute(f"SELECT column_name, data_type FROM "
                                      f"information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall() if t == "DOUBLE"]
    if not cols:
        return
    probes = ", ".join(f"count({quote_ident(c)}) = count(CASE WHEN {quote_ident(c)} = "
                       f"trunc({quote_ident(c)}) AND abs({quote_ident(c)}) < 9e15 THEN 1 END)"
                       for c in cols)
    whole = con.execute(f"SELECT {probes} FROM {quote_ident(table)}").fetchone()
    for c, ok in zip(cols, whole):
        if ok:
            con.execute(f"ALTER TABLE {quote_ident(table)} ALTER {quote_ident(c)} TYPE BIGINT")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB SQL (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def server_kind(location: str) -> str | None:
    """"postgres" or "mysql" for a database server's URL, None for anything else."""
    return next((k for k, prefixes in SERVER_URLS.items() if location.startswith(prefixes)),
                None)


def mysql_secret(url: str) -> str:
    """A `mysql://user:pass@host:port/db` URL as the parameters of a DuckDB secret of TYPE
    mysql (port 3306 unless given; a password of any characters, and none at all when the URL
    has none: MYSQL_PWD then); a URL without a database is an error."""
    try:
        parts = urlsplit(url)
        port = parts.port or 3306
    except ValueError as e:
        raise TableGraphError(f"{display_location(url)} is no URL that reads as "
                              f"mysql://user:password@host:port/database") from e
    database = unquote(parts.path.strip("/"))
    if not database:
        raise TableGraphError(f"{display_location(url)} names no database: "
                              f"mysql://user@host:port/database")
    pairs = {"HOST": parts.hostname or "localhost", "DATABASE": database,
             "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or "")}
    return ", ".join(["TYPE mysql", f"PORT {int(port)}"] + [
        f"{k} {quote_literal(v)}" for k, v in pairs.items() if v])


@dataclass(frozen=True)
class TableRef:
    """A table to read. `kind` is file | delta | sqlite | duckdb | postgres | mysql."""

    name: str
    kind: str
    location: str  # file path, database path or URL
    table: str = ""  # table inside a database ("schema"."table" parts joined by '.')
    schema: str = ""
    parts: tuple[str, ...] = ()  # the files of a partitioned dataset (location: its folder)
    # in a folder of several database files, read as one catalogue, the name of the database
    # file this table is in (its tables are named `<database>.<table>`); "" for one database
    database: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        """The files a file table reads: its parts, else its one file."""
        return self.parts or (self.location,)

    @property
    def fingerprint(self) -> str | None:
        """Identity of the data for caching: path, size and mtime (of every part of a
        partitioned dataset, of a Delta table's log files, and of a database file's data
        dictionary); None for servers."""
        if self.kind in SERVER_URLS:
            return None
        if self.kind == "delta":  # a new commit is a new log file
            log = os.path.join(self.location, DELTA_LOG)
            files = sorted(os.path.join(log, f) for f in os.listdir(log))
            return f"delta:{self.location}:log {_files_digest(files)}"
        if self.parts:
            return (f"{self.kind}:{os.path.abspath(self.location)}:parts {len(self.parts)} "
                    f"{_files_digest(list(self.parts))}")
        st = os.stat(self.location)
        stamp = _dictionary_stamp(self.location)
        return f"{self.kind}:{os.path.abspath(self.location)}:{st.st_size}:{st.st_mtime_ns}:" \
               f"{self.schema}.{self.table}{stamp}"


def file_format(path: str) -> str:
    """csv | tsv | parquet | json, by the file's ending."""
    low = path.lower()
    return next(f for suf, f in FILE_FORMATS.items() if low.endswith(suf))


def table_name_of(path: str | os.PathLike[str]) -> str:
    base = os.path.basename(str(path))
    for suf in FILE_SUFFIXES:
        if base.lower().endswith(suf):
            return base[: -len(suf)]
    return base


_HIVE_FOLDER = re.compile(r"^[^=]+=[^=]*$")  # year=2024
# how Spark (part-00000-<uuid>.snappy), Hive (000000_0) and DuckDB (data_0) name the files of
# a dataset they write
_PART_FILE = re.compile(r"^(part-\d+([-_.].*)?|data_\d{1,3}|\d{6}_\d+)$", re.IGNORECASE)


def partitioned_tables(files: list[str]) -> tuple[dict[tuple[str, str], list[str]], list[str]]:
    """Split data files into partitioned datasets and single files. A file named as a part
    belongs to the dataset of its nearest folder that is not a Hive partition folder
    (`key=value`), named for that folder; another file under partition folders belongs with the
    files of its name under the same folder (`snapshots/day=1/orders.csv`,
    `snapshots/day=2/orders.csv`: table `orders`). -> ({(folder (absolute), table name): [its
    files]}, [single files])."""
    datasets: dict[tuple[str, str], list[str]] = {}
    single = []
    for f in files:
        parent = os.path.abspath(os.path.dirname(f))
        part = bool(_PART_FILE.match(table_name_of(f)))
        if not (part or _HIVE_FOLDER.match(os.path.basename(parent))):
            single.append(f)
            continue
        while _HIVE_FOLDER.match(os.path.basename(parent)):
            parent = os.path.dirname(parent)
        name = Path(parent).name if part else table_name_of(f)
        datasets.setdefault((parent, name), []).append(f)
    return datasets, single


def _dataset_ref(folder: str, name: str, files: list[str]) -> TableRef:
    """A partitioned dataset's table: its parts of one format, empty files left out."""
    kinds = {file_format(f).replace("tsv", "csv") for f in files}
    if len(kinds) > 1:
        raise TableGraphError(f"the partitioned table {name} ({folder}) mixes "
                              f"{' and '.join(sorted(k.upper() for k in kinds))} files")
    parts = tuple(sorted(f for f in files if os.path.getsize(f) > 0)) or tuple(sorted(files))
    return TableRef(name=name, kind="file", location=folder, parts=parts)


DELTA_LOG = "_delta_log"


def delta_table(folder: str) -> TableRef:
    """A Delta Lake table (a folder with `_delta_log/`), read by DuckDB's delta extension
    (`delta_scan`, from the PyPI package `duckdb-extension-delta`): the rows its log keeps,
    never the files that later commits removed."""
    return TableRef(name=os.path.basename(os.path.abspath(folder)), kind="delta",
                    location=os.path.abspath(folder))


def _db_kind(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head[8:12] == b"DUCK":
        return "duckdb"
    return None


def _files_under(folder: str) -> list[str]:
    return [f for f in glob.glob(os.path.join(folder, "**", "*"), recursive=True)
            if os.path.isfile(f)]


def _database_files(files: list[str]) -> list[str]:
    """The SQLite and DuckDB files among `files` (by their first bytes), sorted."""
    return sorted(f for f in files if f.lower().endswith(DATABASE_SUFFIXES)
                  and _db_kind(Path(f)) is not None)


def database_file(location: str) -> str | None:
    """The one SQLite or DuckDB file that `location` reads (itself, the only one in its
    folder, or the one a .sql schema, a folder of DDL.csv or a tables.json of one database
    declares); None for a URL, data files or several databases."""
    if location.lower().endswith(SQL_SUFFIXES) and os.path.isfile(location):
        from tablegraph.tables.ddl import ddl_database

        return ddl_database(location)
    if os.path.isdir(location) and is_export(location):
        return imported_database(location)
    if (described := _catalogue(location)) is not None:
        return next(iter(described.values())) if len(described) == 1 else None
    if os.path.isdir(location):
        found = _database_files(_files_under(location))
        return found[0] if len(found) == 1 else (
            _metadata_database(location) if not found else None)
    return location if os.path.isfile(location) and _db_kind(Path(location)) else None


def _catalogue(path: str) -> dict[str, str] | None:
    """The databases of Spider's `tables.json` at `path` (`tables.metadata`) by lower-case
    db_id, None for any other path."""
    from tablegraph.tables.metadata import catalogue_databases, is_catalogue

    return catalogue_databases(path) if is_catalogue(path) else None


def _metadata_database(folder: str, files: list[str] | None = None) -> str | None:
    """The SQLite file built from the DDL.csv files under `folder` and their tables' JSON files
    (`tables.metadata`), None without such a file (`files`: the folder's, when listed)."""
    from tablegraph.tables.metadata import ddl_files, metadata_database

    csvs = ddl_files(folder, files)
    return metadata_database(folder, csvs) if csvs else None


def database_of(found: dict[str, str], db_id: str, folder: str) -> str:
    """The database file of `db_id` among `found` (`databases_in(folder)`); none is an error
    naming it and what is there."""
    if db_id.lower() not in found:
        raise TableGraphError(f"no database file for db_id {db_id!r} under "
                              f"{display_location(folder)} ({len(found)} there: "
                              f"{', '.join(sorted(found)[:5])}"
                              f"{', ...' if len(found) > 5 else ''})")
    return found[db_id.lower()]


def databases_in(folder: str) -> dict[str, str]:
    """The database files under `folder` by the name a benchmark's `db_id` gives them, in
    lower case: the file's (`database_name`: `dev_databases/financial/financial.sqlite` ->
    "financial"), and that of the folder holding it alone; with no database file, the folders
    of `folder` that hold a DDL.csv (Spider 2.0's `databases/<db>/`, read as their files
    describe them when named); of Spider's `tables.json`, its databases by db_id; {} for
    anything but a folder or file of two or more."""
    if (described := _catalogue(folder)) is not None:
        return described if len(described) > 1 else {}
    if not os.path.isdir(folder):
        return {}
    found = _database_files(_files_under(folder))
    if not found:
        from tablegraph.tables.metadata import ddl_files

        described = {d.name.lower(): str(d) for d in sorted(Path(folder).iterdir())
                     if d.is_dir() and ddl_files(str(d))}
        return described if len(described) > 1 else {}
    if len(found) < 2:
        return {}
    out = {database_name(f).lower(): f for f in found}
    parents: dict[str, list[str]] = {}
    for f in found:
        parents.setdefault(os.path.basename(os.path.dirname(os.path.abspath(f))).lower(),
                           []).append(f)
    for name, files in parents.items():
        if len(files) == 1:
            out.setdefault(name, files[0])
    return out


def discover(spec: str | os.PathLike[str]) -> list[TableRef]:
    """Turn a `--tables` argument into table references, sorted by name. Two tables whose
    names differ only by case are an error naming both (questions name tables in any case)."""
    refs = _discover(str(spec))
    seen: dict[str, TableRef] = {}
    for r in refs:
        other = seen.setdefault(r.name.lower(), r)
        if other is not r:
            raise TableGraphError(f"tables {other.name!r} and {r.name!r} differ only by case: "
                                  f"questions could not tell them apart")
    return refs


FILE_URLS = ("sqlite://", "duckdb://", "file://")  # a URL that names a local file
# a server's URL with SQLAlchemy's driver (postgresql+psycopg2://, mysql+pymysql://)
_DRIVER_URL = re.compile(r"^(postgresql|postgres|mysql|mariadb)\+\w+://", re.IGNORECASE)


def resolved_location(spec: str) -> str:
    """`spec` as it is read: a server's URL without SQLAlchemy's driver
    (`postgresql+psycopg2://...` -> `postgresql://...`); a local file's URL as SQLAlchemy
    writes them (`sqlite:///shop.db`, `sqlite:////abs/shop.db`, `duckdb:///x.duckdb`,
    `file:///data`) as its path; a URL of any other kind (`mssql://`, `https://`, `s3://`) is
    an error that says what is read, never its credentials."""
    if (m := _DRIVER_URL.match(spec)) is not None:
        spec = m.group(1).lower() + "://" + spec[m.end():]
    if "://" not in spec or server_kind(spec) is not None:
        return spec
    if spec.lower().startswith(FILE_URLS):
        rest = spec.split("://", 1)[1]
        if spec.lower().startswith("file://"):  # file:///abs/path
            path = rest if rest.startswith("/") else ""
        else:  # sqlite:///relative/path, sqlite:////absolute/path
            path = rest[1:] if rest.startswith("/") else ""
        path = unquote(path.split("?", 1)[0])  # options (?mode=ro) choose no tables
        if not path:
            raise TableGraphError(f"{display_location(spec)} names no file: give its path "
                                  f"(sqlite:///shop.db, sqlite:////abs/path/shop.db)")
        return path
    scheme = spec.split("://", 1)[0]
    raise TableGraphError(f"{scheme}:// is not read: tablegraph reads files, folders, SQLite "
                          f"and DuckDB databases, and postgresql:// or mysql:// URLs "
                          f"({display_location(spec)})")


def _discover(spec: str) -> list[TableRef]:
    spec = resolved_location(spec)
    if (server := server_kind(spec)) is not None:
        with Reader() as reader:
            return reader.list_database_tables(server, spec)
    path = Path(spec)
    if not path.exists():
        raise TableGraphError(f"no such file or folder: {spec}")
    if path.is_dir() and is_export(spec):  # DuckDB's EXPORT DATABASE: the database it was
        return _discover(imported_database(spec))
    if path.is_dir():
        everything = _files_under(spec)
        databases = _database_files(everything)
        beside = {os.path.abspath(d) for db in databases for d in dictionary_files(db)}
        files = sorted(f for f in everything if f.lower().endswith(FILE_SUFFIXES)
                       and os.path.abspath(f) not in beside and not is_dictionary_file(f))
        if not databases and (described := _metadata_database(spec, everything)) is not None:
            return _discover(described)  # DDL.csv and a JSON per table (Spider 2.0's)
        if databases:  # a database's folder (Spider's, BIRD's): the database, if only it
            if files:
                raise TableGraphError(f"{spec} holds {len(databases)} database file(s) "
                                      f"({databases[0]}, ...) and {len(files)} data file(s) "
                                      f"({files[0]}, ...): give a database file, a folder of "
                                      f"databases, or a folder of data files")
            if len(databases) > 1:
                return _catalogue_tables(databases)
            return _discover(databases[0])
        deltas = sorted({os.path.dirname(os.path.dirname(os.path.abspath(f))) for f in everything
                         if os.path.basename(os.path.dirname(f)) == DELTA_LOG
                         and f.endswith(".json")})  # folders with a Delta log
        refs = [delta_table(d) for d in deltas]
        iceberg = sorted({os.path.dirname(os.path.dirname(f)) for f in everything
                          if os.path.basename(os.path.dirname(f)) == "metadata"
                          and f.endswith(".metadata.json")})
        if iceberg:  # its files alone are every snapshot at once, and its log is Avro
            raise TableGraphError(f"{iceberg[0]} is an Apache Iceberg table, which tablegraph "
                                  f"does not read: export it to Parquet, or give a database")
        files = [f for f in files  # a Delta table's files are read as its log says
                 if not any(os.path.abspath(f).startswith(d + os.sep) for d in deltas)]
        workbooks = sorted(f for f in everything if f.lower().endswith(WORKBOOK_SUFFIX)
                           and not os.path.basename(f).startswith("~$"))  # not Excel's lock
        if not files and not refs and not workbooks:
            raise TableGraphError(f"no *.csv, *.tsv, *.parquet, *.json(l) (or .gz) or *.xlsx "
                                  f"files, and no database file, under {spec}")
        datasets, single = partitioned_tables(files)
        refs += [_dataset_ref(d, name, parts) for (d, name), parts in datasets.items()]
        refs += [TableRef(name=table_name_of(f), kind="file", location=f) for f in single]
        refs += [r for f in workbooks for r in _workbook_refs(f)]
        seen: dict[str, str] = {}
        for r in refs:
            if r.name in seen:
                raise TableGraphError(f"table name {r.name!r} appears twice: {seen[r.name]} "
                                      f"and {r.location}")
            seen[r.name] = r.location
        return sorted(refs, key=lambda r: r.name)
    if (found := _catalogue(spec)) is not None:  # Spider's tables.json: its one database,
        if len(found) > 1:  # or a catalogue of its several
            return _catalogue_tables(list(found.values()))
        return _discover(next(iter(found.values())))
    if path.name.lower().endswith(FILE_SUFFIXES):
        return [TableRef(name=table_name_of(path), kind="file", location=str(path))]
    if path.suffix.lower() == WORKBOOK_SUFFIX:  # an Excel workbook: a table per sheet
        return _discover(workbook_database(str(path)))
    if path.suffix.lower() == ".xls":
        raise TableGraphError(f"{spec} is an Excel 97-2003 workbook: save it as .xlsx")
    if path.name.lower().endswith(SQL_SUFFIXES):  # a schema as DDL: the SQLite file it declares
        from tablegraph.tables.ddl import ddl_database

        return _discover(ddl_database(str(path)))
    kind = _db_kind(path)
    if kind is None and path.is_file() and path.stat().st_size == 0:
        raise TableGraphError(f"{spec} is an empty file: no tables to read")
    if kind is None:
        raise TableGraphError(
            f"{spec} is not a folder, CSV/TSV/Parquet/JSON file, Excel workbook, SQLite or "
            f"DuckDB database, or .sql schema")
    with Reader() as reader:
        return reader.list_database_tables(kind, str(path))


def _catalogue_tables(databases: list[str]) -> list[TableRef]:
    """The tables of several database files (a folder's, or those a tables.json describes,
    each named as its db_id) read as one catalogue: each named `<database>.<table>`
    (`database_name`: `shop/shop.sqlite` -> `shop.orders`), as SQLite and DuckDB name the
    tables of an attached database; two files of one name are an error naming both. One
    connection lists them all (one each took 0.1 s a database)."""
    seen: dict[str, str] = {}
    refs: list[TableRef] = []
    with Reader() as reader:
        for path in databases:
            name = database_name(path)
            if (other := seen.setdefault(name.lower(), path)) != path:
                raise TableGraphError(f"two databases named {name!r}: {other} and {path}: "
                                      f"give one of them, or a folder where their names differ")
            refs += [replace(r, name=f"{name}.{r.name}", database=name)
                     for r in reader.list_database_tables(_db_kind(Path(path)), path)]
    return sorted(refs, key=lambda r: r.name)


def _workbook_refs(path: str) -> list[TableRef]:
    """The tables of an Excel workbook in a folder of data files: a workbook of one sheet is
    one table named as the file; of several, `<file>.<sheet>` each."""
    with Reader() as reader:
        refs = reader.list_database_tables("duckdb", workbook_database(path))
    stem = table_name_of(path).rsplit(".", 1)[0]
    return [replace(r, name=stem if len(refs) == 1 else f"{stem}.{r.name}") for r in refs]


def _load_scanner(con: duckdb.DuckDBPyConnection, package: str) -> None:
    """LOAD a scanner extension shipped as a PyPI package, checking its DuckDB version."""
    import importlib

    try:
        mod = importlib.import_module(package)
    except ImportError as e:
        raise TableGraphError(f"the package {package} is not installed") from e
    folder = os.path.join(os.path.dirname(mod.__file__ or ""), "extensions")
    want = f"v{duckdb.__version__}"
    paths = glob.glob(os.path.join(folder, want, "*.duckdb_extension"))
    if not paths:
        found = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        raise TableGraphError(f"{package} carries {found}, but DuckDB is {want}: "
                              f"install the matching version")
    con.execute(f"LOAD {quote_literal(paths[0])}")


class Reader:
    """One DuckDB connection that reads tables and keeps bounded samples of them.

    `sample(ref)` creates a temporary table holding at most `max_rows` rows of `ref`, drawn
    with reservoir sampling under a fixed seed, and returns its name and the table's total
    row count.
    """

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, seed: int = DEFAULT_SAMPLE_SEED,
                 threads: int | None = None) -> None:
        self.max_rows = max_rows
        self.seed = seed
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._attached: dict[tuple[str, str], str] = {}
        self._loaded: set[str] = set()
        self._n = 0
        self._relations: dict[str, tuple[str, int]] = {}  # sample -> (its relation, rows)
        self._records: dict[str, dict[str, str]] = {}  # sample -> its records (`nested_of`)
        self._notes: dict[str, dict] = {}  # DuckDB file -> its comments (`comments`)

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # databases ---------------------------------------------------------------------------
    def _attach(self, kind: str, location: str) -> str:
        key = (kind, location)
        if key in self._attached:
            return self._attached[key]
        alias = f"src{len(self._attached)}"
        options = "READ_ONLY"
        target = location
        try:
            if kind in ("sqlite", "postgres", "mysql"):
                if kind not in self._loaded:
                    _load_scanner(self.con, f"duckdb_extension_{kind}_scanner")
                    self._loaded.add(kind)
                options = f"TYPE {kind}, READ_ONLY"
            if kind == "mysql":  # its connection string takes no quoted values: a secret does
                self.con.execute(f"CREATE TEMPORARY SECRET {alias}_secret "
                                 f"({mysql_secret(location)})")
                target, options = "", f"TYPE mysql, SECRET {alias}_secret, READ_ONLY"
            self.con.execute(f"ATTACH {quote_literal(target)} AS {alias} ({options})")
        except duckdb.Error as e:
            why = redact(_first_line(e), location)
            if kind in ("postgres", "mysql") and "password" in why.lower() \
                    and urlsplit(location).password is None:  # as an index keeps the URL
                why += (" (the URL has no password: give it in the URL, or set "
                        + ("PGPASSWORD or use ~/.pgpass)" if kind == "postgres"
                           else "MYSQL_PWD)"))
            raise TableGraphError(f"cannot open {kind} database {display_location(location)}: "
                                  f"{why}") from e
        self._attached[key] = alias
        return alias

    def _shadow_tables(self, location: str) -> set[str]:
        """The tables (lower case) in which a SQLite file's virtual tables keep their data:
        a full-text index's `docs_fts_data`, `docs_fts_idx`, ... and an R*Tree's nodes. The
        virtual table is read; these are its inner workings, not the user's tables."""
        try:
            virtual = self.con.execute(
                "SELECT name FROM sqlite_scan(?, 'sqlite_master') WHERE type = 'table' AND "
                "upper(ltrim(sql)) LIKE 'CREATE VIRTUAL TABLE%'", [location]).fetchall()
        except duckdb.Error:
            return set()
        return {f"{v.lower()}_{part}" for (v,) in virtual for part in SQLITE_SHADOW_PARTS}

    def _partitions(self, alias: str) -> set[tuple[str, str]]:
        """(schema, table) of a PostgreSQL database's partitions (`sales_2024` of a table
        partitioned by date): the parent table reads all their rows, and as tables of their
        own they would crowd a ranking with copies of it."""
        try:
            return set(self.con.execute(
                "SELECT * FROM postgres_query(?, 'SELECT n.nspname::text, c.relname::text FROM "
                "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relispartition')", [alias]).fetchall())
        except duckdb.Error:
            return set()

    def list_database_tables(self, kind: str, location: str) -> list[TableRef]:
        alias = self._attach(kind, location)

        def unreadable(e: duckdb.Error) -> TableGraphError:
            return TableGraphError(f"cannot read the {kind} database "
                                   f"{display_location(location)}: "
                                   f"{redact(_first_line(e), location)}")

        try:
            rows = self.con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
                "UNION SELECT schema_name, view_name FROM duckdb_views() "
                "WHERE database_name = ? AND NOT internal ORDER BY 1, 2",
                [alias, alias]).fetchall()
        except duckdb.Error as e:
            if kind != "sqlite":
                raise unreadable(e) from e
            rows = None
        if rows is None:  # a SQLite view that no longer binds (its table is gone) fails the
            # listing of views; list them from the catalog: each is read, or skipped, alone
            try:
                rows = self.con.execute(
                    "SELECT 'main', name FROM sqlite_scan(?, 'sqlite_master') "
                    "WHERE type IN ('table', 'view') ORDER BY 2", [location]).fetchall()
            except duckdb.Error as e:
                raise unreadable(e) from e
        shadows = self._shadow_tables(location) if kind == "sqlite" else \
            self._partitions(alias) if kind == "postgres" else set()
        refs = []
        own = database_name(location).lower() if kind == "mysql" else None  # not the others
        for schema, table in rows:  # on its server
            if schema in ("information_schema", "pg_catalog") or \
                    (own is not None and schema.lower() != own):
                continue
            if kind == "sqlite" and (table.lower().startswith("sqlite_")
                                     or table.lower() in shadows):
                continue  # SQLite's own bookkeeping (sqlite_sequence, sqlite_stat1)
            if kind == "postgres" and (schema, table) in shadows:
                continue  # a partition: its rows are read with its parent's
            name = table if schema in ("main", "public") or own else f"{schema}.{table}"
            refs.append(TableRef(name=name, kind=kind, location=location, table=table,
                                 schema=schema))
        if not refs:
            raise TableGraphError(f"the {kind} database {display_location(location)} has no tables")
        return sorted(refs, key=lambda r: r.name)

    # reading -----------------------------------------------------------------------------
    def relation_sql(self, ref: TableRef, encoding: str = "utf-8",
                     delimiter: str = ",", strict: bool = True) -> str:
        """A DuckDB FROM-expression that reads `ref` (a CSV file with `encoding` and
        `delimiter`, as `check_csv` found them; `strict=False`: DuckDB's `strict_mode` off,
        for a file `check_csv` has read whole that DuckDB's sniffer refuses)."""
        if ref.kind == "delta":
            if "delta" not in self._loaded:
                _load_scanner(self.con, "duckdb_extension_delta")
                self._loaded.add("delta")
            return f"delta_scan({quote_literal(ref.location)})"
        if ref.kind == "file":
            loc = quote_literal(ref.location)
            parts = ""
            if ref.parts:  # partition keys become columns; parts may add columns
                loc = "[" + ", ".join(quote_literal(f) for f in ref.parts) + "]"
                parts = ", hive_partitioning = true, union_by_name = true"
            fmt = file_format(ref.files[0])
            if fmt == "parquet":
                return f"read_parquet({loc}{parts})"
            if fmt == "json":  # an array of records or one record a line
                return f"read_json({loc}, format = 'auto'{parts})"
            enc = "" if encoding == "utf-8" else f", encoding = {quote_literal(encoding)}"
            lenient = "" if strict else ", strict_mode = false"
            return (f"read_csv({loc}, header = true, delim = {quote_literal(delimiter)}"
                    f"{enc}{lenient}{parts})")
        alias = self._attach(ref.kind, ref.location)
        return f"{alias}.{quote_ident(ref.schema)}.{quote_ident(ref.table)}"

    def sample(self, ref: TableRef) -> tuple[str, int]:
        """Materialise a bounded sample of `ref`; return (temp table name, total rows).

        A CSV file is first read through once (`check_csv`): a malformed or truncated file is
        an error naming its line, never a silent misreading. A SQLite table with values that
        do not fit their declared types (SQLite allows that: text in an INTEGER column,
        "04/12/2005" or "0000-00-00" in a DATE column) is read with those columns as text and
        the others as declared; a SQLite column without a declared type is read as what it
        holds (`_read_as_held`).
        """
        encoding, delimiter = "utf-8", ","
        if ref.kind == "file":
            if all(os.path.getsize(f) == 0 for f in ref.files):
                raise TableGraphError(f"cannot read table {ref.name}: {ref.location} " +
                                      ("holds only empty files" if ref.parts else
                                       "is an empty file"))
            fmt = file_format(ref.files[0])
            if fmt in ("csv", "tsv"):
                delimiter = "\t" if fmt == "tsv" else csv_delimiter(ref.files[0])
                encodings = {f: check_csv(f, delimiter) for f in ref.files}
                encoding = encodings[ref.files[0]]
                for f, e in encodings.items():
                    if e != encoding:
                        raise TableGraphError(
                            f"cannot read table {ref.name}: {ref.files[0]} is {encoding} "
                            f"text but {f} is {e}")
        raw = self.relation_sql(ref, encoding, delimiter)
        if ref.kind == "file" and file_format(ref.files[0]) in ("csv", "tsv"):
            # DuckDB's sniffer refuses some files that are whole and regular, such as one
            # whose lines end in CRLF but its last, appended later, in LF; check_csv has read
            # every record, so nothing is guessed without its strict mode. Other errors are
            # left to the reading, which names them.
            try:
                described = self.con.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()
            except duckdb.Error as e:
                described = None
                if "sniffing" in str(e):
                    raw = self.relation_sql(ref, encoding, delimiter, strict=False)
            raw = self._decimal_commas(raw, described)
        declared: list[tuple[str, str]] = []
        records: dict[str, str] = {}
        if ref.kind == "sqlite":
            try:
                declared = [(r[0], r[1]) for r in self.con.execute(f"DESCRIBE {raw}").fetchall()]
            except duckdb.Error:
                pass  # what cannot be read is reported below
        else:
            described = None
            if ref.kind == "file" and file_format(ref.files[0]) == "json":
                raw, described = self._wrapped_records(raw)
            raw, records = self._fields_as_columns(raw, described)
        # a column without a declared type comes through the scanner as bytes (BLOB)
        rel = self._read_as_held(raw, [(c, "BLOB") for c, t in declared if t == "BLOB"],
                                 blobs=True)
        self._n += 1
        tmp = f"tg_sample_{self._n}"
        self._records[tmp] = records
        try:
            return tmp, self._materialise(rel, tmp)
        except duckdb.Error as e:
            if ref.kind != "sqlite" or not any(k in str(e) for k in SQLITE_TYPE_ERRORS):
                raise TableGraphError(f"cannot read table {ref.name} from "
                                      f"{display_location(ref.location)}: "
                                      f"{redact(_first_line(e), ref.location)}") from e
        try:  # values of another type than declared: read the columns as text, then each
            # one whose every value fits its declared type as that type
            self.con.execute("SET sqlite_all_varchar = true")
            rel = self._read_as_held(raw, [(c, t) for c, t in declared if t != "VARCHAR"],
                                     blobs=False)
            return tmp, self._materialise(rel, tmp)
        except duckdb.Error as e:
            raise TableGraphError(f"cannot read table {ref.name} from "
                                  f"{display_location(ref.location)}: "
                                  f"{redact(_first_line(e), ref.location)}") from e
        finally:
            self.con.execute("SET sqlite_all_varchar = false")

    def _wrapped_records(self, rel: str) -> tuple[str, list | None]:
        """`rel` (JSON) as the records of its one list of records where it is one object
        that wraps them, as APIs export (`{"data": [{...}, ...], "meta": {...}}`,
        `{"results": [...]}`, GeoJSON's `features`): one row of a list is no table; its
        records are. `rel` as it is otherwise. With the `DESCRIBE` of what it returns (None
        where it could not be read)."""
        try:
            described = self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
            lists = [name for name, t, *_ in described
                     if str(t).endswith("[]") and _record_type(str(t)[:-2])]
            if len(lists) != 1 or \
                    self.con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {rel} LIMIT 2)"
                                     ).fetchone()[0] != 1:
                return rel, described
            wrapped = f"(SELECT unnest(r) FROM (SELECT unnest({quote_ident(lists[0])}) AS r " \
                      f"FROM {rel}))"
            return wrapped, self.con.execute(f"DESCRIBE SELECT * FROM {wrapped}").fetchall()
        except duckdb.Error:
            return rel, None  # what cannot be read is reported where the sample is drawn

    def _fields_as_columns(self, rel: str, described: list | None = None
                           ) -> tuple[str, dict[str, str]]:
        """`rel` with each record column (`STRUCT`: a JSON object, Parquet's group) read as
        its fields, each a column named by its path (`customer.city`; a record in a record:
        `customer.address.city`, up to `RECORD_DEPTH` deep), where the record stood; and
        {record column: its type} for the CREATE TABLE statements (`schema.create_table`).
        A list of records stays one column. `rel` as it is where it has no record.
        `described`: `DESCRIBE` of `rel`, when already read."""
        try:
            if described is None:
                described = self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        except duckdb.Error:
            return rel, {}  # what cannot be read is reported where the sample is drawn
        if not any(_record_type(str(t)) for _, t, *_ in described):
            return rel, {}
        records: dict[str, str] = {}

        def fields(path: list[str], expr: str, dtype: str, depth: int
                   ) -> list[tuple[str, str]]:  # [(expression, column name)]
            if not _record_type(dtype) or depth > RECORD_DEPTH:
                return [(expr, ".".join(path))]
            if depth == 1:
                records[path[0]] = dtype
            inner = self.con.execute(f"DESCRIBE SELECT unnest({expr}) FROM {rel}").fetchall()
            return [x for name, t, *_ in inner
                    for x in fields(path + [name], f"struct_extract({expr}, "
                                    f"{quote_literal(name)})", str(t), depth + 1)]

        try:
            columns = [x for name, t, *_ in described
                       for x in fields([name], quote_ident(name), str(t), 1)]
        except duckdb.Error:
            return rel, {}
        if len({n.lower() for _, n in columns}) < len(columns):
            return rel, {}  # a field's path is another column's name: the records stay
        listed = ", ".join(f"{e} AS {quote_ident(n)}" for e, n in columns)
        return f"(SELECT {listed} FROM {rel})", records

    def nested_of(self, tmp: str) -> dict[str, str]:
        """{record column: its DuckDB type} of the table sampled in `tmp`, whose fields are
        its columns (`_fields_as_columns`)."""
        return self._records.get(tmp, {})

    def _decimal_commas(self, rel: str, described: list | None = None) -> str:
        """`rel` (a CSV file) with each text column whose every value is a number written
        with a decimal comma, and thousands dots or none (`1.234,50`, `99,90`, `5`; one at
        least with a comma that is surely a decimal one: not before three digits), read as
        the number it is (DOUBLE): a European export's amounts are numbers, not text. Other
        columns (`1,000` and `2,500` alone may be English thousands), and `rel` when none is
        such, as they are. `described`: `DESCRIBE` of `rel`, when already read."""
        try:
            if described is None:
                described = self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
            cols = [c for c, t, *_ in described if t == "VARCHAR"]
            if not cols:
                return rel
            pattern = quote_literal(r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?\s*$")
            # a comma before other than three digits is a decimal one (1,000 may be a
            # thousand, as in English)
            decimal = quote_literal(r",(\d{1,2}|\d{4,})\s*$")

            def probe(names: list[str], rows: str, whole: bool) -> list[str]:
                """The columns of `names` whose values in `rows` all are such numbers (and,
                `whole`, some with a decimal comma)."""
                checks = [f"count({q}) = count(CASE WHEN regexp_full_match({q}, {pattern}) "
                          f"THEN 1 END)" + (f" AND count({q}) > 0 AND count(CASE WHEN "
                                            f"regexp_matches({q}, {decimal}) THEN 1 END) > 0"
                                            if whole else "")
                          for q in map(quote_ident, names)]
                found = self.con.execute(f"SELECT {', '.join(checks)} FROM {rows}").fetchone()
                return [c for c, yes in zip(names, found) if yes]

            # the first rows rule out most columns at once; the rest are read whole
            cols = probe(cols, f"(SELECT * FROM {rel} LIMIT 1000)", whole=False)
            numbers = probe(cols, rel, whole=True) if cols else []
        except duckdb.Error:
            return rel  # what cannot be read is reported where the sample is drawn
        if not numbers:
            return rel
        replace = ", ".join(f"CAST(replace(replace(trim({q}), '.', ''), ',', '.') AS DOUBLE) "
                            f"AS {q}" for q in map(quote_ident, numbers))
        return f"(SELECT * REPLACE ({replace}) FROM {rel})"

    def _read_as_held(self, rel: str, columns: list[tuple[str, str]], blobs: bool) -> str:
        """`rel` with each of `columns` [(name, declared DuckDB type)] read as what its values
        hold, judged over the whole table (one query for them all):
        - a BLOB column (SQLite without a declared type: `CREATE TABLE t (a, b)`, whose values
          the scanner gives as bytes no statistic or value node reads) whose every value is
          UTF-8 text (control characters aside: tab and line breaks): integers, other
          numbers or text; bytes that are no text stay BLOB;
        - with `blobs` False, the columns are text (`sqlite_all_varchar`, for a table whose
          values do not all fit their declared types): each column whose every value casts
          to its declared type is read as that type, a numeric one whose values are all
          numbers as DOUBLE, the rest stay text.
        Columns not named, and `rel` when nothing changes, are read as they are."""
        if not columns:
            return rel
        numeric = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
        probes, plans = [], []
        for c, t in columns:
            q = quote_ident(c)
            text = f"try(decode({q}))" if blobs else q
            held = t == "BLOB"
            first = "BIGINT" if held else t
            then = "DOUBLE" if held or t in numeric or t.startswith("DECIMAL") else None
            # an integer only where the text is one: a cast would round "0.946" to 1
            exact = f"CAST(TRY_CAST({text} AS {first}) AS VARCHAR) = {text}" \
                if held or first in numeric[:5] else f"TRY_CAST({text} AS {first}) IS NOT NULL"
            # bytes are text where they decode as UTF-8 without control characters (but tab
            # and line breaks): b"\x00\x01" decodes, yet is an image's or a hash's bytes
            texts = f"count(CASE WHEN NOT regexp_matches({text}, {_CONTROL}) THEN 1 END)" \
                if blobs else f"count({text})"
            probes += [f"count({q})", texts, f"count(CASE WHEN {exact} THEN 1 END)",
                       f"count(TRY_CAST({text} AS {then or 'VARCHAR'}))"]
            plans.append((q, f"decode({q})" if blobs else q, first, then))
        try:
            counts = self.con.execute(f"SELECT {', '.join(probes)} FROM {rel}").fetchone()
        except duckdb.Error:
            return rel
        replace = []
        for i, (q, source, first, then) in enumerate(plans):
            n, n_text, n_first, n_then = counts[4 * i:4 * i + 4]
            if n == 0 or n_text < n:
                continue  # no values to tell by, or bytes that are no text
            kind = first if n_first == n else then if then and n_then == n else "VARCHAR"
            if blobs or kind != "VARCHAR":
                replace.append(f"CAST({source} AS {kind}) AS {q}")
        if not replace:
            return rel
        return f"(SELECT * REPLACE ({', '.join(replace)}) FROM {rel})"

    def _materialise(self, rel: str, tmp: str) -> int:
        """Copy a bounded, seeded sample of the relation `rel` into the temp table `tmp`;
        return the relation's total row count."""
        try:
            total = self.con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
        except duckdb.Error as e:
            if "ROWID" not in str(e):
                raise
            # a SQLite table WITHOUT ROWID: the scanner counts rows by their ROWID unless
            # the query reads a column
            first = quote_ident(self.con.execute(f"DESCRIBE {rel}").fetchone()[0])
            total = self.con.execute(f"SELECT count({first} IS NULL) FROM {rel}").fetchone()[0]
        clause = ""
        if total > self.max_rows:
            clause = f" USING SAMPLE reservoir({self.max_rows} ROWS) REPEATABLE ({self.seed})"
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp} AS SELECT * FROM {rel}{clause}")
        self._relations[tmp] = (rel, int(total))
        return int(total)

    def relation_of(self, tmp: str) -> tuple[str, int]:
        """The whole table that the sample `tmp` was drawn from: (FROM-expression, rows)."""
        return self._relations[tmp]

    def fingerprint(self, ref: TableRef) -> str | None:
        """What changes when `ref`'s content changes, for the profile cache: a file's path,
        size and mtime; a PostgreSQL table's row count, write counters, columns, their declared
        types and comments; a MySQL table's row count, checksum, columns, declared types and
        comments (never the password); None when it cannot be told."""
        if ref.kind not in SERVER_URLS:
            return ref.fingerprint
        alias = self._attach(ref.kind, ref.location)
        rel = f"{alias}.{quote_ident(ref.schema)}.{quote_ident(ref.table)}"
        try:
            rows = self.con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
            cols = self.con.execute(f"DESCRIBE {rel}").fetchall()
            if ref.kind == "postgres":
                ident = quote_literal(f"{quote_ident(ref.schema)}.{quote_ident(ref.table)}")
                query = ("SELECT s.n_tup_ins, s.n_tup_upd, s.n_tup_del, "
                         "obj_description(c.oid, 'pg_class'), (SELECT string_agg(a.attname || ' ' "
                         "|| format_type(a.atttypid, a.atttypmod) || ': ' || "
                         "coalesce(col_description(c.oid, a.attnum), ''), chr(31) ORDER BY "
                         "a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND "
                         "a.attnum > 0 AND NOT a.attisdropped) "
                         "FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid "
                         f"WHERE c.oid = {ident}::regclass")
            else:  # its column types and comments
                query = ("SELECT t.table_comment, group_concat(concat(c.column_name, ' ', "
                         "c.column_type, ': ', c.column_comment) ORDER BY c.ordinal_position) "
                         "FROM "
                         "information_schema.tables t JOIN information_schema.columns c ON "
                         "c.table_schema = t.table_schema AND c.table_name = t.table_name WHERE "
                         "t.table_schema = DATABASE() AND t.table_name = "
                         f"{quote_literal(ref.table)} GROUP BY t.table_comment")
            stats = self.con.execute(f"SELECT * FROM {ref.kind}_query(?, ?)",
                                     [alias, query]).fetchall()
            if ref.kind == "mysql":  # InnoDB keeps no write counters: the rows' checksum
                stats += self.con.execute("SELECT * FROM mysql_query(?, ?)", [
                    alias, f"CHECKSUM TABLE {_mysql_ident(ref.table)}"]).fetchall()
        except duckdb.Error:
            return None
        return (f"{ref.kind}:{display_location(ref.location)}:{ref.schema}.{ref.table}:{rows}:"
                f"{stats}:{[(c[0], c[1]) for c in cols]}")

    def table_fingerprint(self, ref: TableRef) -> str | None:
        """What changes when one table's content changes, per table even inside a database
        file (an index re-reads only the tables whose fingerprint changed): a file's path, size
        and mtime; a SQLite or DuckDB table's row count, columns and a checksum of its rows
        (one scan in DuckDB), a DuckDB table's comments and the database's data dictionary;
        PostgreSQL as `fingerprint`. None when it cannot be told."""
        if ref.kind in ("file", "delta", *SERVER_URLS):
            return self.fingerprint(ref)
        try:
            rel = self.relation_sql(ref)
            rows, checksum = self.con.execute(
                f"SELECT count(*), sum(hash(t)) FROM {rel} AS t").fetchone()
            cols = self.con.execute(f"DESCRIBE {rel}").fetchall()
            notes = self.comments(ref.location).get((ref.schema, ref.table), []) \
                if ref.kind == "duckdb" else []
        except duckdb.Error:
            return None
        where = os.path.basename(ref.location) if _built_in_cache(ref.location) else \
            os.path.abspath(ref.location)
        return (f"{ref.kind}:{where}:{ref.schema}.{ref.table}:{rows}:"
                f"{checksum}:{[(c[0], c[1]) for c in cols]}" + (f":{notes}" if notes else "")
                + _dictionary_stamp(ref.location))

    def comments(self, location: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """A DuckDB file's comments on tables, views and columns, read once per reader:
        (schema, table) -> [(column, comment)], the table's own first under column "", then
        its columns' in column order."""
        if location not in self._notes:
            alias = self._attach("duckdb", location)
            rows = self.con.execute(
                "SELECT schema_name, table_name, column_name, comment, column_index "
                "FROM duckdb_columns() WHERE database_name = ? AND comment IS NOT NULL "
                "UNION ALL SELECT schema_name, table_name, '', comment, -1 FROM duckdb_tables() "
                "WHERE database_name = ? AND comment IS NOT NULL "
                "UNION ALL SELECT schema_name, view_name, '', comment, -1 FROM duckdb_views() "
                "WHERE database_name = ? AND comment IS NOT NULL ORDER BY 1, 2, 5",
                [alias, alias, alias]).fetchall()
            notes: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for schema, table, column, text, _ in rows:
                notes.setdefault((schema, table), []).append((column, text))
            self._notes[location] = notes
        return self._notes[location]

    def columns(self, tmp: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of a sampled table, in order."""
        return [(r[0], r[1]) for r in self.con.execute(f"DESCRIBE {tmp}").fetchall()]

    def drop(self, tmp: str) -> None:
        self._relations.pop(tmp, None)
        self._records.pop(tmp, None)
        self.con.execute(f"DROP TABLE IF EXISTS {tmp}")


def _record_type(dtype: str) -> bool:
    """A DuckDB type that is a record (`STRUCT(...)`), not a list of them (`STRUCT(...)[]`)."""
    return dtype.startswith("STRUCT(") and dtype.endswith(")")


def _mysql_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def display_location(location: str) -> str:
    """A location safe to print: a URL (a database server's, or any) without its user and
    password."""
    if "://" in location:
        scheme, rest = location.split("://", 1)
        return scheme + "://" + rest.rsplit("@", 1)[-1]
    return location


def database_name(location: str) -> str:
    """What a benchmark's `db_id` would call the database at `location`: a URL's database,
    a file's name without its extension (`concert_singer.sqlite` -> `concert_singer`), a
    folder's name."""
    if server_kind(location):
        return unquote(urlsplit(location).path.strip("/"))
    p = Path(location.rstrip("/\\"))
    return p.name if p.is_dir() else p.name.split(".", 1)[0]


def without_password(location: str) -> str:
    """A location safe to save: a database URL keeps its user but not its password (which
    comes back from the URL given again, PGPASSWORD or ~/.pgpass; MYSQL_PWD for MySQL); so
    does any other URL (`postgresql+psycopg2://`)."""
    if "://" not in location:
        return location
    try:
        parts = urlsplit(location)
        password = parts.password
    except ValueError:  # not a URL urllib can split: keep nothing that could be a password
        return display_location(location)
    if password is None:
        return location
    host = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))


_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]*@")
_KEY_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str, location: str = "") -> str:
    """`text` without credentials: user:password@ of any URL, password=... pairs, and the
    password of `location` wherever it appears."""
    password = None
    if "://" in location:
        try:
            password = urlsplit(location).password
        except ValueError:
            password = None
    if password:
        text = text.replace(password, "***")
        text = text.replace(quote(password, safe=""), "***")
    text = _URL_CREDENTIALS.sub(r"\1", text)
    return _KEY_PASSWORD.sub(r"\1***", text)


DELIMITERS = (",", "\t", ";", "|")


def csv_delimiter(path: str) -> str:
    """The delimiter of a CSV file: the candidate that occurs most often in its header line
    (a comma when none does). DuckDB's sniffer, which looks at the rows too, can take a ragged
    or tiny file for a one-column file with another delimiter."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            header = f.readline(1 << 20)
    except (OSError, EOFError, zlib.error):
        return ","
    counts = [header.count(d.encode()) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))] if max(counts) else ","


def check_csv(path: str, delimiter: str = ",") -> str:
    """Read a CSV (or gzipped CSV) file through once and return the encoding that reads it
    (utf-8, else latin-1). Every record must have the header's number of fields and every
    quote must close; a gzip file must be whole. Otherwise: one line naming the file, the line
    and what is wrong."""
    csv.field_size_limit(sys.maxsize)
    for encoding in ("utf-8", "latin-1"):
        opener = gzip.open if path.lower().endswith(".gz") else open
        try:
            with opener(path, "rt", encoding=encoding, newline="") as f:
                reader = csv.reader(f, delimiter=delimiter, strict=True)
                width = None
                start = 1  # the line where the current record starts
                for row in reader:
                    if row and width is None:
                        width = len(row)
                    elif row and len(row) != width:
                        raise TableGraphError(
                            f"{path}, line {start}: {len(row)} field(s) where the header has "
                            f"{width}")
                    start = reader.line_num + 1
            return encoding
        except UnicodeDecodeError:
            continue
        except csv.Error as e:
            raise TableGraphError(f"{path}, line {start}: {e} (a quote that never closes?)") \
                from e
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise TableGraphError(f"{path} is truncated or not a whole gzip file ({e})") from e
    raise TableGraphError(f"{path}: cannot be decoded")  # pragma: no cover - latin-1 reads all


def _first_line(e: BaseException | None) -> str:
    text = str(e or "unknown error").strip()
    return text.splitlines()[0] if text else type(e).__name__

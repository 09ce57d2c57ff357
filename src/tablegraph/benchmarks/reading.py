"""Reading time of a large database: `TableRetriever.load(tables=DB)` with the shipped model
and an empty cache, in a fresh process (imports, text model, profiling, embedding, encoder).

The databases are built from `text2sql-train`: Spider tables with their rows first, then
BIRD's schema-only tables, copied into one DuckDB file, `n` tables in all.

`python -m tablegraph.benchmarks.reading DB` prints {"tables": n, "seconds": s} as JSON; the
bench runs it with `TABLEGRAPH_CACHE` pointing at an empty folder and one torch thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build_database(root: Path, n: int, out: Path) -> int:
    """Copy the first `n` tables of `root`/text2sql-train (Spider, then BIRD; databases in
    name order) into the DuckDB file `out` as `<database>__<table>`; returns the count."""
    import duckdb

    from tablegraph.tables.sources import _load_scanner

    files = sorted((root / "text2sql-train" / "spider").glob("*/tables/*.sqlite")) + \
        sorted((root / "text2sql-train" / "bird").glob("*/tables/*.sqlite"))
    con = duckdb.connect(str(out))
    _load_scanner(con, "duckdb_extension_sqlite_scanner")
    con.execute("SET sqlite_all_varchar = true")  # SQLite values need not fit their types
    k = 0
    try:
        for db in files:
            if k >= n:
                break
            name = db.parent.parent.name
            con.execute(f"ATTACH '{db}' AS src (TYPE sqlite, READ_ONLY)")
            try:
                for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_catalog = 'src' ORDER BY 1").fetchall():
                    if k >= n:
                        break
                    try:
                        con.execute(f'CREATE TABLE "{name}__{t}" AS SELECT * FROM src."{t}"')
                        k += 1
                    except duckdb.Error:
                        pass  # a table SQLite itself cannot read whole
            finally:
                con.execute("DETACH src")
    finally:
        con.close()
    return k


def reading_timing(root: Path, sizes: tuple[int, ...] = (175, 750)) -> dict[str, dict]:
    """For each size: seconds of a fresh process loading a database of that many tables with
    an empty cache, one torch thread."""
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tg-reading-") as tmp:
        for n in sizes:
            db = Path(tmp) / f"db{n}.duckdb"
            tables = build_database(root, n, db)
            cache = Path(tmp) / f"cache{n}"
            env = {**os.environ, "TABLEGRAPH_CACHE": str(cache), "TABLEGRAPH_THREADS": "1"}
            run = subprocess.run([sys.executable, "-m", "tablegraph.benchmarks.reading", str(db)],
                                 capture_output=True, text=True, env=env, check=True)
            out[str(n)] = {**json.loads(run.stdout.strip().splitlines()[-1]),
                           "built_tables": tables}
    return out


def _main(db: str) -> None:
    t0 = time.perf_counter()
    from tablegraph.utils import set_threads

    set_threads()
    from tablegraph.retrieval.retriever import TableRetriever

    r = TableRetriever.load(tables=db)
    print(json.dumps({"tables": len(r.index.names), "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    _main(sys.argv[1])

import duckdb
import json
import numpy as np
import pytest
import sqlite3
from pathlib import Path

from tablegraph.tables.profile import FEATURES, profile_tables
from tablegraph.tables.stats import FEATURE_INDEX, STATS_DIM
from tablegraph.tables.sources import Reader, discover
from tablegraph.utils import TableGraphError


def test_folder_discovery_and_duplicate_names(tmp_path, tiny_tables):
    refs = discover(tiny_tables)
    assert [r.name for r in refs] == ["labevents", "patients", "prescriptions"]
    (tiny_tables / "sub").mkdir()
    (tiny_tables / "sub" / "patients.csv.gz").write_bytes(b"")
    with pytest.raises(TableGraphError, match="appears twice"):
        discover(tiny_tables)


def test_partitioned_datasets_are_one_table_each(tmp_path):
    """Spark-style part files and Hive partition folders are one table named for the
    dataset's folder, read whole with the partition key as a column; a changed part changes
    the fingerprint; a single file beside them stays its own table."""
    con = duckdb.connect()
    lake = tmp_path / "lake"
    (lake / "orders").mkdir(parents=True)
    for k in range(3):
        con.execute(f"COPY (SELECT range * 3 + {k} AS order_id, 'paid' AS status FROM range(10))"
                    f" TO '{lake / 'orders' / f'part-0000{k}-1b2c.snappy.parquet'}' (FORMAT parquet)")
    (lake / "orders" / "_SUCCESS").write_bytes(b"")
    con.execute(f"COPY (SELECT range AS customer_id, ['Rome', 'Oslo'][range % 2 + 1] AS city "
                f"FROM range(8)) TO '{lake / 'customers'}' (FORMAT csv, PARTITION_BY (city))")
    (lake / "notes.csv").write_text("id,text\n1,hello\n")
    for day in (1, 2):  # daily snapshots of two tables: one table each, the day a column
        (lake / "snap" / f"day={day}").mkdir(parents=True)
        (lake / "snap" / f"day={day}" / "stock.csv").write_text(f"item,qty\na,{day}\nb,5\n")
        (lake / "snap" / f"day={day}" / "price.csv").write_text("item,eur\na,1.5\n")
    refs = discover(lake)
    assert [r.name for r in refs] == ["customers", "notes", "orders", "price", "stock"]
    assert len(refs[0].parts) == 2 and len(refs[2].parts) == 3 and refs[1].parts == ()
    customers, notes, orders, price, stock = profile_tables(refs, progress=False,
                                                           use_cache=False)
    assert stock.n_rows == 4 and [c.name for c in stock.columns] == ["item", "qty", "day"]
    assert price.n_rows == 2
    assert orders.n_rows == 30 and [c.name for c in orders.columns] == ["order_id", "status"]
    assert customers.n_rows == 8 and {c.name for c in customers.columns} == {"customer_id", "city"}
    assert notes.n_rows == 1
    # a folder of one dataset, given directly, is that table; a new part changes it
    (ref,) = discover(lake / "orders")
    before = ref.fingerprint
    con.execute(f"COPY (SELECT 99 AS order_id, 'paid' AS status) TO "
                f"'{lake / 'orders' / 'part-00003-1b2c.snappy.parquet'}' (FORMAT parquet)")
    (ref,) = discover(lake / "orders")
    assert ref.name == "orders" and len(ref.parts) == 4 and ref.fingerprint != before
    (lake / "customers" / "city=Rome" / "data_1.parquet").write_bytes(b"PAR1")
    with pytest.raises(TableGraphError, match="customers .* mixes CSV and PARQUET"):
        discover(lake)


def test_tsv_and_json_files(tmp_path):
    """TSV is read by its tabs (a comma in a header does not make it CSV); JSON as an array of
    records or one record a line, gzipped too."""
    import gzip

    (tmp_path / "stock.tsv").write_text("item, name\tqty\na, b\t3\nc\t4\n")
    (tmp_path / "orders.json").write_text('[{"id": 1, "city": "Oslo"}, {"id": 2, "city": "Rome"}]')
    with gzip.open(tmp_path / "events.jsonl.gz", "wt") as f:
        f.write('{"id": 1, "kind": "refund"}\n{"id": 2, "kind": "sale"}\n{"id": 3, "kind": "sale"}\n')
    refs = discover(tmp_path)
    assert [r.name for r in refs] == ["events", "orders", "stock"]
    events, orders, stock = profile_tables(refs, progress=False, use_cache=False)
    assert [c.name for c in stock.columns] == ["item, name", "qty"] and stock.n_rows == 2
    assert orders.n_rows == 2 and [c.name for c in orders.columns] == ["id", "city"]
    assert events.n_rows == 3 and "refund" in events.columns[1].top_values


def test_the_elements_of_lists_of_text_are_a_columns_values(tmp_path):
    """A JSON array of strings (Parquet's list<string>) is a column of tags or categories:
    its elements are its values and its lexicon, so that "orders sent express" finds it; a
    list of numbers or of records has none, and the statistics stay a nested column's."""
    from tablegraph.model.linking import SchemaLinker

    rows = [{"id": i, "tags": [["gift", "express", "fragile"][i % 3], "gift"] if i % 4 else
             None, "sizes": [i, i + 1], "items": [{"sku": f"S{i}"}]} for i in range(12)]
    (tmp_path / "orders.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (p,) = profile_tables(discover(tmp_path), progress=False, use_cache=False)
    c = {c.name: c for c in p.columns}
    assert c["tags"].dtype == "VARCHAR[]"
    assert c["tags"].top_values[0] == "gift" and set(c["tags"].top_values) == {
        "gift", "express", "fragile"}
    assert set(c["tags"].lexicon) == {"gift", "express", "fragile"}
    assert c["sizes"].top_values == c["items"].top_values == [] == c["items"].lexicon
    assert c["tags"].stats[FEATURE_INDEX["type_nested"]] == 1.0
    linker = SchemaLinker([(p.name, [x.name for x in p.columns], c["tags"].top_values,
                            c["tags"].lexicon)])
    assert 0 in linker.found_values("orders sent express")


def test_a_records_fields_are_columns_and_sql_context_writes_the_record(tmp_path):
    """A JSON object (Parquet's group) is read as its fields, each a column named by its
    path, so that "orders shipped to Rome" finds `customer.address.city`'s value and
    `customer.id` joins `customers.id`; a list of records stays one column; the CREATE TABLE
    statement writes the record as the source holds it, and the join as DuckDB reads it."""
    from tablegraph.tables.joins import join_graph
    from tablegraph.tables.schema import sql_context

    (tmp_path / "orders.jsonl").write_text("".join(json.dumps(
        {"id": i, "customer": {"id": i % 5 + 1, "address": {"city": ["Oslo", "Rome"][i % 2]}},
         "items": [{"sku": "S1"}], "total": i * 1.5}) + "\n" for i in range(20)))
    (tmp_path / "customers.jsonl").write_text("".join(json.dumps({"id": i, "name": f"C{i}"})
                                                      + "\n" for i in range(1, 6)))
    customers, orders = profile_tables(discover(tmp_path), progress=False, use_cache=False)
    assert [(c.name, c.dtype) for c in orders.columns] == [
        ("id", "BIGINT"), ("customer.id", "BIGINT"), ("customer.address.city", "VARCHAR"),
        ("items", "STRUCT(sku VARCHAR)[]"), ("total", "DOUBLE")]
    assert set(orders.columns[2].top_values) == {"Oslo", "Rome"}
    assert orders.nested == {"customer": "STRUCT(id BIGINT, address STRUCT(city VARCHAR))"}
    assert type(orders).from_json(orders.to_json()).nested == orders.nested
    assert "nested" not in customers.to_json()  # a profile without records as it was
    g = join_graph([customers, orders])
    assert [j.conditions() for j in g.joins] == [["orders.customer.id = customers.id"]]
    text = sql_context([orders, customers], g.joins)
    assert '"customer" STRUCT(id BIGINT, address STRUCT(city TEXT)),\n  "items"' in text
    assert text.count('"customer"') == 1 and "FOREIGN KEY" not in text
    assert "-- customer.address.city: " in text
    assert "--   orders.customer.id = customers.id  (inferred" in text
    # a field's path that is another column's name: the record stays one column
    (tmp_path / "customers.jsonl").unlink()
    (tmp_path / "orders.jsonl").write_text('{"customer.id": 1, "customer": {"id": 2}}\n')
    (orders,) = profile_tables(discover(tmp_path), progress=False, use_cache=False)
    assert [c.name for c in orders.columns] == ["customer.id", "customer"] and not orders.nested


def test_a_json_object_that_wraps_a_list_of_records_is_read_as_the_records(tmp_path):
    """An API's export (`{"data": [...], "meta": {...}}`) is one row of a list: the records
    are the table, each field a column; a file of several records keeps its lists."""
    (tmp_path / "cities.json").write_text(json.dumps(
        {"data": [{"id": i, "city": ["Oslo", "Rome"][i % 2], "geo": {"lat": i}}
                  for i in range(10)], "meta": {"count": 10}, "next": None}))
    (tmp_path / "orders.json").write_text(json.dumps(
        [{"id": i, "items": [{"sku": "S1"}, {"sku": "S2"}]} for i in range(3)]))
    cities, orders = profile_tables(discover(tmp_path), progress=False, use_cache=False)
    assert (cities.n_rows, [c.name for c in cities.columns]) == (10, ["id", "city", "geo.lat"])
    assert set(cities.columns[1].top_values) == {"Oslo", "Rome"}
    assert (orders.n_rows, [c.name for c in orders.columns]) == (3, ["id", "items"])


def test_a_broken_sqlite_view_is_skipped_not_the_database(tmp_path):
    """A SQLite view whose table is gone made DuckDB's listing of views fail, and with it the
    whole database; now that view alone is skipped, with why."""
    from tablegraph.tables.profile import Skipped

    db = tmp_path / "v.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL)")
    con.execute("INSERT INTO items VALUES (1, 2.5)")
    con.execute("CREATE TABLE gone (a INTEGER)")
    con.execute("CREATE VIEW broken AS SELECT a FROM gone")
    con.execute("CREATE VIEW cheap AS SELECT id FROM items WHERE price < 3")
    con.commit()
    con.execute("DROP TABLE gone")
    con.commit()
    con.close()
    assert [r.name for r in discover(db)] == ["broken", "cheap", "items"]
    skipped: list[Skipped] = []
    cheap, items = profile_tables(discover(db), progress=False, use_cache=False, skipped=skipped)
    assert (cheap.name, cheap.n_rows, items.primary_key) == ("cheap", 1, ["id"])
    assert [s.table for s in skipped] == ["broken"] and "no such table: gone" in skipped[0].why


def test_a_duckdb_export_reads_as_the_database_it_was(tmp_path, monkeypatch):
    """DuckDB's EXPORT DATABASE writes schema.sql, load.sql and a CSV per table: read as
    data files, the tables lost their schemas and keys. IMPORT DATABASE builds the database
    again (once, in the cache); an export that cannot be imported is one error."""
    from tablegraph.tables.sources import database_file

    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path / "cache"))
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.execute("CREATE SCHEMA sales; CREATE TABLE sales.people (id INT PRIMARY KEY, name TEXT);"
                "CREATE TABLE sales.orders (id INT, person_id INT REFERENCES sales.people (id));"
                "INSERT INTO sales.people VALUES (1, 'Ann'), (2, 'Bo');"
                f"EXPORT DATABASE '{tmp_path / 'export'}'")
    con.close()
    refs = discover(str(tmp_path / "export"))
    assert [r.name for r in refs] == ["sales.orders", "sales.people"]
    p = {x.name: x for x in profile_tables(refs, progress=False)}
    assert p["sales.people"].n_rows == 2 and p["sales.people"].primary_key == ["id"]
    assert [k.table for k in p["sales.orders"].foreign_keys] == ["sales.people"]
    assert database_file(str(tmp_path / "export")) == refs[0].location  # built once
    (tmp_path / "export" / "load.sql").write_text("COPY sales.people FROM 'missing.csv';")
    with pytest.raises(TableGraphError, match="DuckDB cannot import this export"):
        discover(str(tmp_path / "export"))


def test_missing_path_and_unknown_file(tmp_path):
    with pytest.raises(TableGraphError, match="no such file"):
        discover(tmp_path / "nope")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01garbage")
    with pytest.raises(TableGraphError, match="not a folder"):
        discover(tmp_path / "x.bin")
    sqlite3.connect(tmp_path / "new.sqlite").close()  # a file sqlite3 made, still empty
    with pytest.raises(TableGraphError, match=r"new.sqlite is an empty file: no tables"):
        discover(tmp_path / "new.sqlite")


def test_local_file_urls_read_as_their_files_and_other_urls_are_refused(tmp_path, monkeypatch,
                                                                      sqlite_file):
    """sqlite:///relative, sqlite:////absolute, duckdb:/// and file:/// URLs (as SQLAlchemy
    and others write them) read the file; a URL of a kind not read says so without its
    password."""
    db = tmp_path / "shop.sqlite"
    sqlite_file(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite:///shop.sqlite", f"sqlite:///{db}", f"file://{db}",
                "sqlite:///shop.sqlite?mode=ro"):
        assert [r.name for r in discover(url)] == ["orders"], url
    import duckdb

    duckdb.connect(str(tmp_path / "w.duckdb")).execute("CREATE TABLE t (x INT)").close()
    assert [r.name for r in discover("duckdb:///w.duckdb")] == ["t"]
    for url, text in (("mssql://sa:s3cret@host/db", "mssql:// is not read"),
                      ("https://me:s3cret@example.com/x.csv", "https:// is not read"),
                      ("sqlite://", "names no file")):
        with pytest.raises(TableGraphError, match=text) as e:
            discover(url)
        assert "s3cret" not in str(e.value)


def test_sqlite_without_rowid_and_full_text_index_tables(tmp_path):
    """A table WITHOUT ROWID was skipped (the scanner counted its rows by ROWID); the tables
    in which a full-text index keeps its data (`notes_fts_data`, ...) are no tables of the
    user's, while the index itself and the rest read as they are."""
    db = tmp_path / "w.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE tags (tag TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID")
    con.executemany("INSERT INTO tags VALUES (?, ?)", [(f"t{i}", f"tag {i}") for i in range(40)])
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO notes VALUES (1, 'hello')")
    try:
        con.execute("CREATE VIRTUAL TABLE notes_fts USING fts5(body)")
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no FTS5")
    con.commit()
    con.close()
    assert [r.name for r in discover(db)] == ["notes", "notes_fts", "tags"]
    skipped: list = []
    profiles = profile_tables(discover(db), max_rows=10, progress=False, use_cache=False,
                              skipped=skipped)
    assert not skipped
    tags = profiles[-1]
    assert (tags.name, tags.n_rows, tags.n_sampled, tags.primary_key) == ("tags", 40, 10, ["tag"])


def test_sqlite_duckdb_and_parquet(tmp_path):
    db = tmp_path / "a.sqlite"
    con = sqlite3.connect(db)
    con.execute('CREATE TABLE "my table" ("select" INTEGER, name TEXT)')
    con.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY AUTOINCREMENT)")  # sqlite_sequence
    con.execute("INSERT INTO counter DEFAULT VALUES")
    con.executemany('INSERT INTO "my table" VALUES (?, ?)', [(i, f"n{i}") for i in range(10)])
    con.commit()
    con.close()
    assert [r.name for r in discover(db)] == ["counter", "my table"]
    (_, p) = profile_tables(discover(db), progress=False)
    assert p.name == "my table" and p.n_rows == 10 and [c.name for c in p.columns] == ["select", "name"]
    ddb = tmp_path / "b.duckdb"
    dcon = duckdb.connect(str(ddb))
    dcon.execute("CREATE TABLE t AS SELECT range AS id, 'x' || range AS v FROM range(7)")
    dcon.execute(f"COPY t TO '{tmp_path / 'c.parquet'}' (FORMAT parquet)")
    dcon.close()
    assert profile_tables(discover(ddb), progress=False)[0].n_rows == 7
    assert profile_tables(discover(tmp_path / "c.parquet"), progress=False)[0].n_rows == 7


def test_sample_is_bounded_and_reproducible(tmp_path):
    f = tmp_path / "big.csv"
    f.write_text("a,b\n" + "".join(f"{i},{i * 3 % 17}\n" for i in range(5000)))
    (ref,) = discover(f)
    outs = []
    for _ in range(2):
        with Reader(max_rows=300, seed=7) as r:
            tmp, total = r.sample(ref)
            outs.append(sorted(r.con.execute(f"SELECT a FROM {tmp}").fetchall()))
            assert total == 5000 and len(outs[-1]) == 300
    assert outs[0] == outs[1]


BAD_INPUTS = {
    "header_only.csv": b"a,b,c\n",
    "all_null.csv": b"a,b\n1,\n2,\n3,\n",
    "nan_inf.csv": b"x,y\nnan,1\ninf,2\n-inf,3\n1e308,4\n",
    "mixed.csv": b"m\n1\nabc\n2.5\n2150-01-01\nTrue\n",
    "long.csv": b"s\n" + b"x" * 100_000 + b"\nshort\n",
    "latin1.csv": b"name,v\ncaf\xe9,1\n\xff\xfe,2\n",
    "dup_cols.csv": b"a,a,,\n1,2,3,4\n5,6,7,8\n",
    "semicolons.csv": b"a;b;c\n1;x;2.5\n2;y;3.5\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_inputs_profile_finite(tmp_path, name):
    f = tmp_path / name
    f.write_bytes(BAD_INPUTS[name])
    (p,) = profile_tables(discover(f), progress=False, use_cache=False)
    assert p.columns, name
    if name == "semicolons.csv":
        assert [c.name for c in p.columns] == ["a", "b", "c"]
    assert p.stats.shape == (len(p.columns), STATS_DIM)
    assert np.isfinite(p.stats).all()
    assert np.abs(p.stats).max() <= 1.0


def test_a_ragged_file_is_an_error_naming_its_line(tmp_path):
    f = tmp_path / "ragged.csv"
    f.write_bytes(b"a,b\n1,2\n3\n4,5,6\n")
    with pytest.raises(TableGraphError, match=r"ragged.csv, line 3: 1 field\(s\) where the header has 2"):
        profile_tables(discover(f), use_cache=False)


def test_a_whole_file_that_duckdbs_sniffer_refuses_is_read(tmp_path):
    """Lines ending in CRLF, the last (appended later) in LF, a quoted field with commas:
    DuckDB's sniffer gave up on such a file (the MIMIC-IV demo's MANIFEST.csv); it is whole
    and regular, so it is read, every row and value as written."""
    f = tmp_path / "manifest.csv"
    f.write_bytes(b"file,bytes,status\r\na.csv.gz,11072,ok\r\nb.csv.gz,510070,ok\r\n"
                  b'c.csv.gz,,"MISSING: absent (>=4 MiB), see d.csv.gz"\n')
    p = profile_tables(discover(f), progress=False, use_cache=False)[0]
    assert p.n_rows == 3 and [(c.name, c.dtype) for c in p.columns] == [
        ("file", "VARCHAR"), ("bytes", "BIGINT"), ("status", "VARCHAR")]
    r = Reader()
    tmp, n = r.sample(discover(f)[0])
    assert n == 3 and r.con.execute(f"SELECT status FROM {tmp} ORDER BY file").fetchall()[-1] \
        == ("MISSING: absent (>=4 MiB), see d.csv.gz",)


def test_empty_file_is_a_clear_error(tmp_path):
    f = tmp_path / "empty.csv"
    f.write_bytes(b"")
    with pytest.raises(TableGraphError) as e:
        profile_tables(discover(f), progress=False, use_cache=False)
    assert "empty.csv is an empty file" in str(e.value) and "\n" not in str(e.value)


def test_zero_row_table_in_database(tmp_path):
    db = tmp_path / "z.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE empty_t (a INTEGER, b VARCHAR, c TIMESTAMP, d BLOB, e INTEGER[])")
    con.close()
    (p,) = profile_tables(discover(db), progress=False)
    assert p.n_rows == 0 and len(p.columns) == 5 and np.isfinite(p.stats).all()


def test_features_are_documented_once():
    assert len(FEATURES) == STATS_DIM == 128
    assert len({n for n, _ in FEATURES}) == 128
    assert all(d for _, d in FEATURES)


def test_a_cached_profile_is_not_recomputed(tmp_path, tiny_tables, profiled):
    calls = profiled
    refs = discover(tiny_tables)
    a = profile_tables(refs, progress=False)
    assert sorted(calls) == ["labevents", "patients", "prescriptions"]
    b = profile_tables(refs, progress=False)
    assert len(calls) == 3  # every profile came from the cache
    assert [x.to_json() for x in a] == [x.to_json() for x in b]
    (tiny_tables / "patients.csv").write_text("subject_id,gender\n1,F\n")
    profile_tables(discover(tiny_tables), progress=False)
    assert calls[3:] == ["patients"]  # only the changed file is read again


def test_profiles_from_several_threads_at_once(tiny_tables):
    import threading

    refs = discover(tiny_tables)
    want = [p.to_json() for p in profile_tables(refs, progress=False, use_cache=False)]
    got, errors = [], []

    def work():
        try:
            got.append([p.to_json() for p in profile_tables(refs, progress=False)])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 4
    assert all(g == want for g in got)


def test_tables_differing_only_by_case_are_an_error_naming_both(tmp_path):
    (tmp_path / "Orders.csv").write_text("a\n1\n")
    (tmp_path / "orders.csv").write_text("b\n2\n")
    with pytest.raises(TableGraphError, match="'Orders' and 'orders' differ only by case"):
        discover(tmp_path)


def _wide_table(con, name: str, order: list[str]) -> None:
    kinds = {"n": "INTEGER", "t": "VARCHAR", "z": "VARCHAR", "d": "DATE", "f": "DOUBLE"}
    cols = ", ".join(f"{c} {kinds[c]}" for c in order)
    con.execute(f"CREATE TABLE {name} ({cols})")
    rows = {"n": "i", "t": "'v' || (i % 7)", "z": "NULL", "d": "DATE '2020-01-01' + CAST(i AS INTEGER)",
            "f": "i / 3.0 - 5"}
    con.execute(f"INSERT INTO {name} SELECT {', '.join(rows[c] for c in order)} "
                f"FROM range(50) t(i)")


def test_columns_profiled_together_keep_their_own_statistics(tmp_path):
    """A table is profiled in one query over its stacked columns: each column's statistics must
    stay its own, whatever the column order (position features aside)."""
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    _wide_table(con, "aa", ["n", "t", "z", "d", "f"])
    _wide_table(con, "bb", ["f", "d", "z", "t", "n"])
    con.close()
    a, b = profile_tables(discover(db), progress=False, use_cache=False)
    position = [FEATURES.index(k) for k in
                [(n, d) for n, d in FEATURES if n in ("column_position", "is_first_column")]]
    keep = np.ones(STATS_DIM, dtype=bool)
    keep[position] = False
    by_name = {c.name: c for c in b.columns}
    for col in a.columns:
        other = by_name[col.name]
        np.testing.assert_allclose(col.stats[keep], other.stats[keep], atol=1e-6)
        assert col.top_values == other.top_values and col.n_distinct == other.n_distinct
        assert col.key_sketch == other.key_sketch
    stats = {c.name: dict(zip([n for n, _ in FEATURES], c.stats)) for c in a.columns}
    assert stats["z"]["all_null"] == 1 and stats["n"]["all_null"] == 0
    assert stats["n"]["unique"] == 1 and stats["t"]["low_cardinality"] == 1
    assert abs(stats["n"]["num_skewness"]) < 1e-6  # centred on its own mean
    assert stats["d"]["temporal_share"] == 1 and stats["n"]["temporal_share"] == 0
    assert {c.name: c.n_distinct for c in a.columns} == {"n": 50, "t": 7, "z": 0, "d": 50,
                                                         "f": 50}
    assert set(a.columns[1].top_values) == {f"v{i}" for i in range(7)}


def test_a_wide_table_takes_a_few_queries_not_a_few_per_column(tmp_path, monkeypatch):
    """Planning dominated profiling: one query per column made a 175-table database take
    twice as long to read."""
    from tablegraph.tables import profile as profile_mod

    db = tmp_path / "wide.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE wide AS SELECT " + ", ".join(f"i + {k} AS c{k}_id" for k in range(40))
                + " FROM range(30) t(i)")
    con.close()
    count = {"n": 0}
    real = profile_mod.profile_sample

    def counting(reader, *args, **kwargs):
        class Counted:
            def __init__(self, con):
                self._con = con

            def execute(self, *a, **k):
                count["n"] += 1
                return self._con.execute(*a, **k)

            def __getattr__(self, name):
                return getattr(self._con, name)

        reader.con = Counted(reader.con)
        try:
            return real(reader, *args, **kwargs)
        finally:
            reader.con = reader.con._con

    monkeypatch.setattr(profile_mod, "profile_sample", counting)
    (p,) = profile_tables(discover(db), progress=False, use_cache=False)
    assert len(p.columns) == 40 and all(c.key_sketch for c in p.columns)  # 40 key-like columns
    assert count["n"] <= 12


def test_a_text_column_keeps_a_lexicon_of_its_short_values(tmp_path):
    """Beyond the few frequent values that become nodes, a text-like column keeps its short
    distinct values (most frequent first) for schema linking; numbers and long texts do not."""
    p = _profile_one(tmp_path, "CREATE TABLE drugs AS SELECT i AS id, "
                     "CASE WHEN i < 40 THEN 'Heparin' ELSE 'drug ' || i END AS drug, "
                     "repeat('long text ', 10) || i AS note FROM range(300) t(i)")
    cols = {c.name: c for c in p.columns}
    lexicon = cols["drug"].lexicon
    assert lexicon[0] == "Heparin" and "drug 299" in lexicon and len(lexicon) == 261
    assert "drug 299" not in cols["drug"].top_values
    assert cols["id"].lexicon == [] and cols["note"].lexicon == []  # a number, > 100 characters


def test_a_dictionary_table_keeps_every_value_beyond_the_sample(tmp_path, monkeypatch):
    """A dictionary table holds each title once: its lexicon is read from the whole table, not
    from the bounded sample, so a question can name any title (up to 100 characters); a
    table beyond `LEXICON_FULL_ROWS` rows keeps the sample's values only."""
    import tablegraph.tables.profile as profile_mod

    create = ("CREATE TABLE d_diagnoses AS SELECT i AS code, 'diagnosis number ' || i || "
              "' of a rather long and precise clinical description' AS title "
              "FROM range(1000) t(i)")
    p = _profile_one(tmp_path / "a", create, max_rows=100)
    assert p.n_rows == 1000 and p.n_sampled == 100
    title = {c.name: c for c in p.columns}["title"]
    assert len(title.lexicon) == 1000 and max(map(len, title.lexicon)) > 60
    assert "diagnosis number 777 of a rather long and precise clinical description" \
        in title.lexicon
    monkeypatch.setattr(profile_mod, "LEXICON_FULL_ROWS", 999)
    p = _profile_one(tmp_path / "b", create, max_rows=100)
    assert len({c.name: c for c in p.columns}["title"].lexicon) == 100


def _profile_one(folder, create: str, **kwargs):
    """The profile of the one table that `create` makes in a new DuckDB file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "one.duckdb"
    con = duckdb.connect(str(db))
    con.execute(create)
    con.close()
    (p,) = profile_tables(discover(db), progress=False, use_cache=False, **kwargs)
    return p


def _delta(root, commits):
    """A Delta table `root/orders` as a Delta writer leaves one: Parquet files under `day=`
    folders and a log of `commits` (lists of ("add" | "remove", day), one file per version)
    after a first commit with the protocol and the table's schema."""
    import json

    import duckdb

    table = root / "orders"
    (table / "_delta_log").mkdir(parents=True)
    con = duckdb.connect()
    for day in (1, 2, 3):
        (table / f"day={day}").mkdir()
        con.execute(f"COPY (SELECT {day} * 10 + i AS id, 'x' AS note FROM range(5) t(i)) TO "
                    f"'{table}/day={day}/part-0000{day}.snappy.parquet' (FORMAT parquet)")
    con.close()
    fields = [{"name": n, "type": t, "nullable": True, "metadata": {}}
              for n, t in (("id", "long"), ("note", "string"), ("day", "long"))]
    first = [{"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
             {"metaData": {"id": "5e1f0a4c-0000-4000-8000-000000000000",
                           "format": {"provider": "parquet", "options": {}},
                           "schemaString": json.dumps({"type": "struct", "fields": fields}),
                           "partitionColumns": ["day"], "configuration": {},
                           "createdTime": 0}}]

    def action(kind, day):
        path = f"day={day}/part-0000{day}.snappy.parquet"
        if kind == "remove":
            return {"remove": {"path": path, "deletionTimestamp": 0, "dataChange": True}}
        return {"add": {"path": path, "partitionValues": {"day": str(day)},
                        "size": (table / path).stat().st_size, "modificationTime": 0,
                        "dataChange": True}}

    for v, actions in enumerate(commits):
        lines = (first if v == 0 else []) + [action(k, d) for k, d in actions]
        (table / "_delta_log" / f"{v:020d}.json").write_text(
            "".join(json.dumps(a) + "\n" for a in lines))
    return table


def test_a_delta_table_reads_the_rows_its_log_keeps(tmp_path):
    table = _delta(tmp_path, [[("add", 1), ("add", 2)], [("remove", 1), ("add", 3)]])
    (tmp_path / "customers.csv").write_text("id,name\n1,Ann\n")
    refs = discover(tmp_path)  # the log's files and the removed Parquet file are no tables
    assert [(r.name, r.kind) for r in refs] == [("customers", "file"), ("orders", "delta")]
    prof = {p.name: p for p in profile_tables(refs, use_cache=False)}
    assert prof["orders"].n_rows == 10  # day=1's file was removed: not read
    assert sorted(c.name for c in prof["orders"].columns) == ["day", "id", "note"]
    assert [r.name for r in discover(table)] == ["orders"]  # the table's own folder
    # a new commit is a change for the profile cache
    before = refs[1].fingerprint
    (table / "_delta_log" / f"{2:020d}.json").write_text(
        '{"remove": {"path": "day=2/part-00002.snappy.parquet", "deletionTimestamp": 0, '
        '"dataChange": true}}\n')
    assert discover(tmp_path)[1].fingerprint != before
    assert profile_tables(discover(tmp_path))[1].n_rows == 5


def test_a_delta_table_that_cannot_be_read_is_skipped_with_why(tmp_path):
    table = _delta(tmp_path, [[("add", 1)]])
    (table / "_delta_log" / f"{1:020d}.json").write_text("{not json\n")
    (tmp_path / "customers.csv").write_text("id,name\n1,Ann\n")
    skipped = []
    profs = profile_tables(discover(tmp_path), use_cache=False, skipped=skipped)
    assert [p.name for p in profs] == ["customers"]
    assert [s.table for s in skipped] == ["orders"] and "\n" not in skipped[0].why


def test_an_iceberg_table_is_refused_not_misread(tmp_path):
    table = tmp_path / "events"
    (table / "metadata").mkdir(parents=True)
    (table / "data").mkdir()
    (table / "metadata" / "v1.metadata.json").write_text('{"format-version": 2}')
    duckdb.connect().execute(f"COPY (SELECT 1 AS a) TO '{table}/data/00000-0-x.parquet' "
                             "(FORMAT parquet)")
    with pytest.raises(TableGraphError, match="Apache Iceberg table"):
        discover(tmp_path)


def _workbook(path, sheets: dict[str, str]):
    """An .xlsx of several sheets, each written by DuckDB's excel extension from a query
    (`{sheet: SELECT ...}`), joined into one workbook as Excel keeps them."""
    import re
    import zipfile

    from tablegraph.tables.sources import _load_scanner

    con = duckdb.connect()
    _load_scanner(con, "duckdb_extension_excel")
    parts = []
    for i, (sheet, query) in enumerate(sheets.items()):
        one = path.parent / f"one{i}.xlsx"
        con.execute(f"COPY ({query}) TO '{one}' (FORMAT xlsx, HEADER true, SHEET '{sheet}')")
        with zipfile.ZipFile(one) as z:
            parts.append({n: z.read(n) for n in z.namelist()})
    con.close()
    out = dict(parts[0])
    book, rels = out["xl/workbook.xml"].decode(), out["xl/_rels/workbook.xml.rels"].decode()
    types = out["[Content_Types].xml"].decode()
    for i, sheet in enumerate(list(sheets)[1:], 2):
        out[f"xl/worksheets/sheet{i}.xml"] = parts[i - 1]["xl/worksheets/sheet1.xml"]
        book = book.replace("</sheets>", f'<sheet name="{sheet}" state="visible" '
                                         f'sheetId="{i}" r:id="rIdS{i}"/></sheets>')
        rels = rels.replace("</Relationships>", f'<Relationship Id="rIdS{i}" Type="http://'
                            'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                            f'worksheet" Target="worksheets/sheet{i}.xml"/></Relationships>')
        types = types.replace("</Types>", f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                              'ContentType="application/vnd.openxmlformats-officedocument.'
                              'spreadsheetml.worksheet+xml"/></Types>')
    out["xl/workbook.xml"], out["xl/_rels/workbook.xml.rels"] = book.encode(), rels.encode()
    out["[Content_Types].xml"] = types.encode()
    assert re.search("sheet2", rels) or len(sheets) == 1
    with zipfile.ZipFile(path, "w") as z:
        for n, data in out.items():
            z.writestr(n, data)
    return path


def test_an_excel_workbook_is_a_database_of_its_sheets(tmp_path, monkeypatch):
    """A workbook's sheets are its tables (the first row their columns), joined as any
    database's; in a folder of data files, a workbook of several sheets gives
    `<file>.<sheet>`. An .xls or a file that is no workbook: one line saying so."""
    from tablegraph.tables.joins import join_graph
    from tablegraph.tables.sources import workbook_sheets

    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path / "cache"))
    book = _workbook(tmp_path / "shop.xlsx", {
        "Customers": "SELECT i AS customer_id, 'name ' || i AS name FROM range(1, 40) t(i)",
        "Orders": "SELECT 100 + i AS order_id, 1 + i % 39 AS customer_id, 2.5 AS total "
                  "FROM range(60) t(i)"})
    assert workbook_sheets(str(book)) == ["Customers", "Orders"]
    profiles = profile_tables(discover(book), progress=False)
    assert [(p.name, p.n_rows) for p in profiles] == [("Customers", 39), ("Orders", 60)]
    # Excel's doubles that are whole numbers are integers again; 2.5 stays a double
    assert [c.dtype for c in profiles[1].columns] == ["BIGINT", "BIGINT", "DOUBLE"]
    assert join_graph(profiles).between("Orders", "Customers").conditions() == [
        "Orders.customer_id = Customers.customer_id"]
    folder = tmp_path / "data"
    folder.mkdir()
    book.rename(folder / "shop.xlsx")
    (folder / "notes.csv").write_text("id,text\n1,hello\n")
    assert [r.name for r in discover(folder)] == ["notes", "shop.Customers", "shop.Orders"]
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(TableGraphError, match="Excel 97-2003 workbook: save it as .xlsx"):
        discover(tmp_path / "old.xls")
    (tmp_path / "fake.xlsx").write_text("not a zip")
    with pytest.raises(TableGraphError, match="not an Excel workbook"):
        discover(tmp_path / "fake.xlsx")


def test_amounts_with_decimal_commas_are_numbers(tmp_path):
    """A European export's `1.234,50` and `99,90` were text; a column whose every value is
    such a number reads as one. A column of lists ("1,2,3") or of words stays text."""
    path = tmp_path / "umsatz.csv"
    path.write_bytes("\ufeffKunde;Betrag;Menge;Ids;Dose\r\nMüller;1.234,50;3;1,2,3;1,000\r\n"
                     "Schmidt;99,90;12;4;2,500\r\nWeber;-5;7;5,6;500\r\n".encode())
    p = profile_tables(discover(path), progress=False, use_cache=False)[0]
    assert [(c.name, c.dtype) for c in p.columns] == [  # Dose: perhaps English thousands
        ("Kunde", "VARCHAR"), ("Betrag", "DOUBLE"), ("Menge", "BIGINT"), ("Ids", "VARCHAR"),
        ("Dose", "VARCHAR")]
    from tablegraph.tables.stats import FEATURE_INDEX

    assert p.columns[1].stats[FEATURE_INDEX["type_float"]] == 1.0  # numbers, not text


def test_a_folder_holding_a_database_under_another_ending(tmp_path, sqlite_file):
    """SQLite files named .db3, .s3db or .sl3 (and DuckDB's .ddb) are the database of their
    folder, as .sqlite and .db are: the folder had "no ... files, and no database file"."""
    sqlite_file(tmp_path / "shop.s3db", "CREATE TABLE customers (id INTEGER PRIMARY KEY, "
                "name TEXT)")
    assert [r.name for r in discover(tmp_path)] == ["customers"]

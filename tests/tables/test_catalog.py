import sqlite3

import duckdb
import pytest

from tablegraph.tables.catalog import read_keys
from tablegraph.tables.records import ForeignKey
from tablegraph.tables.sources import Reader, discover

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
    "CREATE TABLE orders (oid INTEGER, line INTEGER, customer_id INTEGER REFERENCES "
    "customers(id), PRIMARY KEY (oid, line))",
    "CREATE TABLE shipments (sid INTEGER PRIMARY KEY, oid INTEGER, line INTEGER, "
    "FOREIGN KEY (oid, line) REFERENCES orders(oid, line))",
    "CREATE TABLE notes (body TEXT)",
]


def _check(keys):
    keyed = {t for t, k in keys.items() if k.primary_key or k.foreign_keys}
    assert keyed == {"customers", "orders", "shipments"}  # notes declares no key
    assert keys["customers"].primary_key == ("id",)
    assert keys["orders"].primary_key == ("oid", "line")
    assert keys["orders"].foreign_keys == (ForeignKey(("customer_id",), "customers", ("id",)),)
    assert keys["shipments"].foreign_keys == (
        ForeignKey(("oid", "line"), "orders", ("oid", "line")),)


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_declared_keys_composite_ones_too(tmp_path, kind):
    path = tmp_path / f"k.{kind}"
    con = sqlite3.connect(path) if kind == "sqlite" else duckdb.connect(str(path))
    for stmt in SCHEMA:
        con.execute(stmt)
    if kind == "sqlite":
        con.commit()
    con.close()
    with Reader() as r:
        _check(read_keys(r, discover(path)))


def test_a_reference_without_columns_means_the_primary_key(tmp_path):
    path = tmp_path / "k.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
    con.execute("CREATE TABLE b (a_id INTEGER REFERENCES a)")
    con.close()
    with Reader() as r:
        keys = read_keys(r, discover(path))
    assert keys["b"].foreign_keys == (ForeignKey(("a_id",), "a", ("id",)),)


def test_sqlite_declared_types_reach_the_schema_and_sql_context(tmp_path):
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.schema import describe_table, sql_context

    path = tmp_path / "t.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoice (id INTEGER PRIMARY KEY, at DATETIME, "
                "city varchar(40), total decimal(10, 2), misc)")
    con.execute("INSERT INTO invoice VALUES (1, '2020-01-02 03:04:05', 'Oslo', 3.5, 'x')")
    con.commit()
    con.close()
    (p,) = profile_tables(discover(path), use_cache=False)
    assert [c.declared for c in p.columns] == ["INTEGER", "DATETIME", "varchar(40)",
                                               "decimal(10, 2)", ""]
    assert p.columns[1].dtype == "TIMESTAMP"  # what DuckDB reads, and what the model sees
    assert [c["declared_type"] for c in describe_table(p)["columns"]][1:3] == \
        ["DATETIME", "varchar(40)"]
    ctx = sql_context([p], [], values=False)
    for line in ('"at" DATETIME', '"city" varchar(40)', '"total" decimal(10, 2)'):
        assert line in ctx, ctx
    assert "TIMESTAMPNTZ" not in ctx and '"misc" TEXT' in ctx


def test_files_declare_no_keys(tiny_tables):
    with Reader() as r:
        assert read_keys(r, discover(tiny_tables)) == {}


def test_profiles_carry_declared_keys_and_profile_prints_them(tmp_path):
    import json

    from typer.testing import CliRunner

    from tablegraph.cli import app
    from tablegraph.tables.profile import profile_tables

    path = tmp_path / "k.sqlite"
    con = sqlite3.connect(path)
    for stmt in SCHEMA:
        con.execute(stmt)
    con.commit()
    con.close()
    profiles = {p.name: p for p in profile_tables(discover(path))}
    assert profiles["orders"].primary_key == ["oid", "line"]
    cached = {p.name: p for p in profile_tables(discover(path))}
    assert cached["shipments"].foreign_keys == profiles["shipments"].foreign_keys != []
    r = CliRunner().invoke(app, ["profile", "--tables", str(path), "-q"])
    assert "primary key (oid, line); (customer_id) -> customers(id)" in r.output
    r = CliRunner().invoke(app, ["profile", "--tables", str(path), "--json", "-q"])
    rows = {t["table"]: t for t in json.loads(r.output)["tables"]}
    assert rows["shipments"]["foreign_keys"] == [
        {"columns": ["oid", "line"], "table": "orders", "ref_columns": ["oid", "line"]}]


def test_sqlite_columns_without_a_type_are_read_as_what_they_hold(tmp_path):
    from tablegraph.tables.profile import profile_tables

    path = tmp_path / "u.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE film (title, rating, length, score, cover BLOB, poster BLOB, "
                "thumb)")
    con.executemany("INSERT INTO film VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(f"Film {i}", ["PG", "R", "NC-17"][i % 3], 90 + i, i / 4,
                      b"\xff\xd8" + bytes([i]), "a poster" if i else None,
                      b"\x00\x01" + bytes([65 + i])) for i in range(30)])
    con.commit()
    con.close()
    (p,) = profile_tables(discover(path), use_cache=False)
    c = {c.name: c for c in p.columns}
    assert (c["rating"].dtype, set(c["rating"].top_values)) == ("VARCHAR", {"PG", "R", "NC-17"})
    assert "Film 7" in c["title"].lexicon
    assert (c["length"].dtype, c["score"].dtype) == ("BIGINT", "DOUBLE")
    assert c["cover"].dtype == "BLOB"  # bytes that are no text stay bytes
    # bytes that decode as UTF-8 but hold control characters are no text either
    assert (c["thumb"].dtype, c["thumb"].top_values) == ("BLOB", [])
    assert c["poster"].dtype == "VARCHAR" and c["poster"].declared == "BLOB"


def test_a_column_declared_integer_holding_fractions_is_not_rounded(tmp_path):
    from tablegraph.tables.profile import profile_tables

    path = tmp_path / "r.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE m (id INTEGER, pct INTEGER, flag INTEGER, at DATE)")
    con.executemany("INSERT INTO m VALUES (?, ?, ?, ?)",
                    [(i, i / 7, "T" if i % 2 else 1, f"2020-01-{i + 1:02d}") for i in range(20)])
    con.commit()
    con.close()
    (p,) = profile_tables(discover(path), use_cache=False)  # flag's "T" makes it text
    assert [c.dtype for c in p.columns] == ["BIGINT", "DOUBLE", "VARCHAR", "DATE"]


def test_duckdb_comments_reach_the_schema_and_sql_context(tmp_path):
    import sqlglot

    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.schema import describe_table, sql_context

    path = tmp_path / "c.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE rfnd (id INTEGER, amt DECIMAL(10, 2), note TEXT)")
    con.execute("INSERT INTO rfnd VALUES (1, 3.5, 'x'), (2, 4.25, 'y')")
    con.execute("COMMENT ON TABLE rfnd IS 'Money given back for returned goods'")
    con.execute("COMMENT ON COLUMN rfnd.amt IS 'refund amount,  in euros\n(O''Brien''s rule)'")
    con.execute("CREATE VIEW big_refunds AS SELECT * FROM rfnd WHERE amt > 4")
    con.execute("COMMENT ON VIEW big_refunds IS 'refunds over four euros'")
    con.close()
    ref = next(r for r in discover(path) if r.name == "rfnd")
    with Reader() as r:
        before = r.table_fingerprint(ref)
        keys = read_keys(r, discover(path))
    assert keys["rfnd"].comment == "Money given back for returned goods"
    assert keys["rfnd"].column_comments == (("amt", "refund amount, in euros (O'Brien's rule)"),)
    assert keys["big_refunds"].comment == "refunds over four euros"
    profs = {p.name: p for p in profile_tables(discover(path), use_cache=False)}
    p = profs["rfnd"]
    assert p.comment == "Money given back for returned goods"
    assert [c.comment for c in p.columns] == ["", "refund amount, in euros (O'Brien's rule)", ""]
    record = describe_table(p)
    assert record["comment"] == p.comment
    assert [c["comment"] for c in record["columns"]] == [None, p.columns[1].comment, None]
    ctx = sql_context([p], [], values=False)
    assert "COMMENT ON TABLE \"rfnd\" IS 'Money given back for returned goods';" in ctx
    assert "COMMENT ON COLUMN \"rfnd\".\"amt\" IS 'refund amount, in euros (O''Brien''s rule)';" \
        in ctx
    assert len(sqlglot.parse(ctx, read="duckdb")) == 3  # CREATE TABLE and two COMMENT ON
    # a new comment is a change an index update sees
    con = duckdb.connect(str(path))
    con.execute("COMMENT ON COLUMN rfnd.note IS 'why it was refunded'")
    con.close()
    with Reader() as r:
        assert r.table_fingerprint(ref) != before


def _bird_folder(root):
    """A database's folder as BIRD ships one: the SQLite file and its data dictionary."""
    db = root / "finance"
    (db / "database_description").mkdir(parents=True)
    con = sqlite3.connect(db / "finance.sqlite")
    con.execute("CREATE TABLE district (district_id INTEGER PRIMARY KEY, A2 TEXT, A3 TEXT)")
    con.execute("CREATE TABLE Account (account_id INTEGER, district_id INTEGER "
                "REFERENCES district(district_id), frequency TEXT)")
    con.execute("INSERT INTO district VALUES (1, 'Praha', 'Prague')")
    con.commit()
    con.close()
    (db / "database_description" / "District.csv").write_bytes(
        "original_column_name,column_name,column_description,data_format,value_description\n"
        "district_id,location of branch,location of branch,integer,\n"
        "a2,district_name,,text,\n"
        "A3,region,r\u00e9gion of the district,text,\n".encode("cp1252"))
    (db / "database_description" / "account.csv").write_text(
        "\ufefforiginal_column_name,column_name,column_description,data_format,value_description\n"
        "account_id,account id,the id of the account,integer,\n"
        "frequency,frequency,frequency of the account,text,"
        "\"\"\"POPLATEK MESICNE\"\" stands for monthly issuance\"\n", encoding="utf-8")
    (db / "database_description" / "notes.csv").write_text("a,b\n1,2\n")  # no table's
    (db / "schema.sql").write_text("-- how it was made\n")
    return db


def test_a_databases_folder_reads_the_database_and_its_data_dictionary(tmp_path):
    from tablegraph.tables.profile import profile_tables

    db = _bird_folder(tmp_path)
    refs = discover(db)  # the folder: its one database, not the dictionary's CSV files
    assert [r.name for r in refs] == ["Account", "district"] and refs[0].kind == "sqlite"
    assert [r.name for r in discover(db / "finance.sqlite")] == ["Account", "district"]
    with Reader() as r:
        keys = read_keys(r, refs)
    assert keys["district"].column_comments == (
        ("district_id", "location of branch"), ("a2", "district_name"),
        ("A3", "region; r\u00e9gion of the district"))
    assert keys["Account"].column_comments[1] == (
        "frequency", 'frequency of the account; "POPLATEK MESICNE" stands for monthly issuance')
    assert keys["district"].primary_key == ("district_id",)  # the keys stay
    prof = {p.name: p for p in profile_tables(refs, use_cache=False)}
    assert [c.comment for c in prof["district"].columns] == [
        "location of branch", "district_name", "region; r\u00e9gion of the district"]
    # a changed dictionary is a changed table, for the profile cache and index updates
    before = (refs[1].fingerprint, Reader().table_fingerprint(refs[1]))
    (db / "database_description" / "District.csv").write_text(
        "original_column_name,column_name,column_description\nA2,name of the district,\n")
    after = (discover(db)[1].fingerprint, Reader().table_fingerprint(discover(db)[1]))
    assert before[0] != after[0] and before[1] != after[1]


def test_a_folder_of_a_database_and_data_files_is_an_error(tmp_path):
    from tablegraph.utils import TableGraphError

    db = _bird_folder(tmp_path)
    (db / "extra.csv").write_text("a\n1\n")
    with pytest.raises(TableGraphError, match="holds 1 database file.* and 1 data file"):
        discover(db)


def test_a_folder_of_several_databases_is_one_catalogue_joined_within_each(tmp_path,
                                                                          sqlite_file):
    """Each table named `<database>.<table>`, its keys resolved within its own file, and
    joins inferred only between tables of one database: `shop.orders.customer_id` finds
    `shop.customers`, never `crm.customers`."""
    from tablegraph.tables.joins import join_graph
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.schema import sql_context
    from tablegraph.utils import TableGraphError

    for db, ddl in {"shop": ["CREATE TABLE customers (id INTEGER, name TEXT)",
                             "CREATE TABLE orders (id INTEGER, customer_id INTEGER)"],
                    "crm": ["CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
                            "CREATE TABLE calls (id INTEGER, customer_id INTEGER REFERENCES "
                            "customers(id))", "CREATE TABLE visits (id INTEGER, "
                            "customer_id INTEGER)"]}.items():
        sqlite_file(tmp_path / db / f"{db}.sqlite", ";".join(ddl))
    refs = discover(tmp_path)
    assert [(r.name, r.table, r.database) for r in refs] == [
        ("crm.calls", "calls", "crm"), ("crm.customers", "customers", "crm"),
        ("crm.visits", "visits", "crm"), ("shop.customers", "customers", "shop"),
        ("shop.orders", "orders", "shop")]
    profiles = profile_tables(refs, use_cache=False)
    assert [p.database for p in profiles] == ["crm"] * 3 + ["shop"] * 2
    assert profiles[0].foreign_keys == [ForeignKey(("customer_id",), "crm.customers", ("id",))]
    joins = {(j.left, j.right) for j in join_graph(profiles).every()}
    assert ("crm.calls", "crm.customers") in joins
    assert ("shop.orders", "shop.customers") in joins  # inferred, where none is declared
    assert all(a.split(".")[0] == b.split(".")[0] for a, b in joins), joins
    # an LLM's context says which file each database is, as the statements name its tables
    context = sql_context(profiles[:2], [])
    assert context.startswith(f"-- crm: the database {tmp_path / 'crm' / 'crm.sqlite'}, "
                              f"attached as crm\nCREATE TABLE \"crm\".\"calls\"")
    # a second file of the same name is no second database of that name
    (tmp_path / "old").mkdir()
    sqlite3.connect(tmp_path / "old" / "shop.db").execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(TableGraphError, match="two databases named 'shop'"):
        discover(tmp_path)


def test_a_folder_of_data_files_reads_its_data_dictionary_too(tmp_path):
    from tablegraph.tables.profile import profile_tables

    (tmp_path / "database_description").mkdir()
    (tmp_path / "district.csv").write_text("district_id,A2\n1,Praha\n2,Brno\n")
    (tmp_path / "database_description" / "district.csv").write_text(
        "original_column_name,column_name,column_description\nA2,district_name,\n")
    refs = discover(tmp_path)
    assert [r.name for r in refs] == ["district"]  # the dictionary's file is no table
    (p,) = profile_tables(refs, use_cache=False)
    assert [c.comment for c in p.columns] == ["", "district_name"]
    before = refs[0].fingerprint
    (tmp_path / "database_description" / "district.csv").write_text(
        "original_column_name,column_name,column_description\nA2,name of the district,\n")
    assert discover(tmp_path)[0].fingerprint != before


def test_a_broken_dictionary_file_says_nothing_and_breaks_nothing(tmp_path):
    db = _bird_folder(tmp_path)
    (db / "database_description" / "account.csv").write_bytes(  # a quote never closed
        b'original_column_name,column_name\nfrequency,"how often\n')
    (db / "database_description" / "District.csv").write_bytes(
        b"original_column_name,column_name\nA2,dis\x00trict name\n")
    with Reader() as r:
        keys = read_keys(r, discover(db))
    assert keys["district"].column_comments == (("A2", "district name"),)
    assert keys["Account"].column_comments == ()

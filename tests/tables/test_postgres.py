"""PostgreSQL through DuckDB's postgres scanner, against a real server.

`.ci/run` installs Debian's PostgreSQL and starts it; elsewhere these tests skip unless a server
answers at $TABLEGRAPH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

import os

import numpy as np
import pytest

from tablegraph.tables.profile import profile_tables
from tablegraph.tables.sources import discover
from tablegraph.utils import TableGraphError

URL = os.environ.get("TABLEGRAPH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _connect():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(URL, connect_timeout=3, autocommit=True)
    except Exception as e:  # no server here
        pytest.skip(f"no PostgreSQL server at {URL}: {e}")


def test_postgres_tables_profile():
    con = _connect()
    con.execute('DROP SCHEMA IF EXISTS tg_test CASCADE')
    con.execute('CREATE SCHEMA tg_test')
    con.execute('CREATE TABLE tg_test."Admissions" (subject_id int, "weird ""name""" text, '
                'admittime timestamp)')
    con.execute("INSERT INTO tg_test.\"Admissions\" SELECT g, 'x' || g, "
                "timestamp '2150-01-01' + g * interval '1 hour' FROM generate_series(1, 50) g")
    con.execute('CREATE TABLE tg_test.empty_t (a int)')
    # a partitioned table: the parent is the table; its partitions are no tables of their own
    con.execute("CREATE TABLE tg_test.sales (d date, amount int) PARTITION BY RANGE (d)")
    for y in (2023, 2024):
        con.execute(f"CREATE TABLE tg_test.sales_{y} PARTITION OF tg_test.sales "
                    f"FOR VALUES FROM ('{y}-01-01') TO ('{y + 1}-01-01')")
    con.execute("INSERT INTO tg_test.sales VALUES ('2023-05-01', 1), ('2024-05-01', 2)")
    try:
        refs = [r for r in discover(URL) if r.name.startswith("tg_test.")]
        assert [r.name for r in refs] == ["tg_test.Admissions", "tg_test.empty_t",
                                          "tg_test.sales"]
        profs = profile_tables(refs, progress=False)
        assert profs[0].n_rows == 50 and [c.name for c in profs[0].columns][1] == 'weird "name"'
        assert profs[1].n_rows == 0 and profs[2].n_rows == 2
        assert all(np.isfinite(p.stats).all() for p in profs)
    finally:
        con.execute('DROP SCHEMA tg_test CASCADE')


def test_unreachable_server_is_one_clear_line():
    with pytest.raises(TableGraphError) as e:
        discover("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot open postgres database" in str(e.value) and "\n" not in str(e.value)


def _with_password(url: str, password: str | None) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    user = parts.username or "postgres"
    auth = f"{user}:{password}@" if password else f"{user}@"
    return urlunsplit(parts._replace(netloc=auth + parts.netloc.rsplit("@", 1)[-1]))


def test_a_wrong_password_is_never_printed_and_pgpassword_is_used(monkeypatch):
    from urllib.parse import urlsplit

    con = _connect()
    with pytest.raises(TableGraphError) as e:
        discover(_with_password(URL, "wrong-s3cret-pw"))
    assert "wrong-s3cret-pw" not in str(e.value) and "\n" not in str(e.value)
    password = urlsplit(URL).password
    if not password:
        pytest.skip("the test server takes no password")
    monkeypatch.setenv("PGPASSWORD", password)
    con.execute("DROP SCHEMA IF EXISTS tg_pw CASCADE")
    con.execute("CREATE SCHEMA tg_pw")
    con.execute("CREATE TABLE tg_pw.t (a int)")
    try:  # the password comes from PGPASSWORD
        assert "tg_pw.t" in [r.name for r in discover(_with_password(URL, None))]
    finally:
        con.execute("DROP SCHEMA tg_pw CASCADE")


def test_postgres_profiles_are_cached_until_the_table_changes(profiled):
    calls = profiled
    con = _connect()
    con.execute("DROP SCHEMA IF EXISTS tg_cache CASCADE")
    con.execute("CREATE SCHEMA tg_cache")
    con.execute("CREATE TABLE tg_cache.t AS SELECT g AS id, 'v' || g AS name "
                "FROM generate_series(1, 20) g")
    try:
        refs = [r for r in discover(URL) if r.name == "tg_cache.t"]
        assert profile_tables(refs)[0].n_rows == 20 and calls == ["tg_cache.t"]
        assert profile_tables(refs)[0].n_rows == 20 and len(calls) == 1  # from the cache
        con.execute("INSERT INTO tg_cache.t VALUES (21, 'v21')")
        assert profile_tables(refs)[0].n_rows == 21 and len(calls) == 2  # read again
    finally:
        con.execute("DROP SCHEMA tg_cache CASCADE")


def test_postgres_declared_keys():
    from tablegraph.tables.catalog import read_keys
    from tablegraph.tables.records import ForeignKey
    from tablegraph.tables.sources import Reader

    con = _connect()
    con.execute("DROP SCHEMA IF EXISTS tg_keys CASCADE")
    con.execute("CREATE SCHEMA tg_keys")
    con.execute("CREATE TABLE tg_keys.customers (id int PRIMARY KEY)")
    con.execute("CREATE TABLE tg_keys.orders (oid int, line int, customer_id int REFERENCES "
                "tg_keys.customers, PRIMARY KEY (oid, line))")
    try:
        refs = [r for r in discover(URL) if r.name.startswith("tg_keys.")]
        with Reader() as r:
            keys = read_keys(r, refs)
        assert keys["tg_keys.orders"].primary_key == ("oid", "line")
        assert keys["tg_keys.orders"].foreign_keys == (
            ForeignKey(("customer_id",), "tg_keys.customers", ("id",)),)
    finally:
        con.execute("DROP SCHEMA tg_keys CASCADE")


def _settled(con, table: str, inserted: int) -> None:
    """Wait until PostgreSQL's statistics show the rows inserted into `table`: a backend
    reports its counters up to seconds later, and the fingerprint reads them, so an index
    built before they arrive would see the table change afterwards."""
    import time

    con.execute("SELECT pg_stat_force_next_flush()")
    for _ in range(100):
        con.execute("SELECT 1")  # a transaction's end, where the flush happens
        n = con.execute("SELECT n_tup_ins FROM pg_stat_all_tables WHERE relid = %s::regclass",
                        (table,)).fetchone()[0]
        if n >= inserted:
            return
        time.sleep(0.2)
    raise AssertionError(f"{table}: statistics never showed its {inserted} rows")


def test_a_postgres_index_keeps_no_password_and_updates_one_table(trained, tmp_path,
                                                                  monkeypatch, profiled):
    from urllib.parse import urlsplit

    from tablegraph.retrieval.indexes import build_index, update_index

    model, *_ = trained
    con = _connect()
    con.execute("DROP SCHEMA IF EXISTS tg_idx CASCADE")
    con.execute("CREATE SCHEMA tg_idx")
    con.execute("CREATE TABLE tg_idx.a AS SELECT g AS id, 'v' || g AS name "
                "FROM generate_series(1, 20) g")
    con.execute("CREATE TABLE tg_idx.b AS SELECT g AS id FROM generate_series(1, 5) g")
    _settled(con, "tg_idx.a", 20)
    _settled(con, "tg_idx.b", 5)
    try:
        idx = tmp_path / "idx"
        # as SQLAlchemy writes the URL, with its driver
        build_index(URL.replace("postgresql://", "postgresql+psycopg://", 1), idx, str(model))
        saved = "".join(p.read_text(errors="replace") for p in idx.iterdir())
        password = urlsplit(URL).password
        if password:
            assert f":{password}@" not in saved
            monkeypatch.delenv("PGPASSWORD", raising=False)
            monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
            with pytest.raises(TableGraphError, match="the URL has no password: give it in "
                               "the URL, or set PGPASSWORD"):
                update_index(idx)
            monkeypatch.setenv("PGPASSWORD", password)  # the index does not keep it
        con.execute("INSERT INTO tg_idx.b VALUES (6)")
        profiled.clear()
        report = update_index(idx)
        assert "tg_idx.b" in report.reread and "tg_idx.a" not in report.reread
        assert "tg_idx.a" not in profiled
    finally:
        con.execute("DROP SCHEMA tg_idx CASCADE")


def test_postgres_comments_are_read_and_a_new_one_is_a_change():
    from tablegraph.tables.catalog import read_keys
    from tablegraph.tables.sources import Reader

    con = _connect()
    con.execute("DROP SCHEMA IF EXISTS tg_notes CASCADE")
    con.execute("CREATE SCHEMA tg_notes")
    con.execute("CREATE TABLE tg_notes.rfnd (id int, amt numeric(10, 2))")
    con.execute("CREATE VIEW tg_notes.v AS SELECT id FROM tg_notes.rfnd")
    con.execute("COMMENT ON TABLE tg_notes.rfnd IS 'money given back'")
    con.execute("COMMENT ON COLUMN tg_notes.rfnd.amt IS 'refund amount, in euros'")
    con.execute("COMMENT ON COLUMN tg_notes.v.id IS 'the refund'")
    try:
        refs = [r for r in discover(URL) if r.name.startswith("tg_notes.")]
        with Reader() as r:
            keys = read_keys(r, refs)
            before = r.fingerprint(refs[0])
        assert keys["tg_notes.rfnd"].comment == "money given back"
        assert keys["tg_notes.rfnd"].column_comments == (("amt", "refund amount, in euros"),)
        assert keys["tg_notes.v"].comment == "" and \
            keys["tg_notes.v"].column_comments == (("id", "the refund"),)
        (p, _) = profile_tables(refs, use_cache=False)
        assert p.comment == "money given back" and p.columns[1].comment.startswith("refund")
        con.execute("COMMENT ON COLUMN tg_notes.rfnd.id IS 'its number'")
        with Reader() as r:
            assert r.fingerprint(refs[0]) != before  # the profile cache reads it again
    finally:
        con.execute("DROP SCHEMA tg_notes CASCADE")


def test_postgres_declared_types_are_shown_as_the_server_spells_them():
    from tablegraph.tables.schema import create_table, describe_table
    from tablegraph.tables.sources import Reader

    con = _connect()
    con.execute("DROP SCHEMA IF EXISTS tg_types CASCADE")
    con.execute("CREATE SCHEMA tg_types")
    con.execute("CREATE TYPE tg_types.mood AS ENUM ('sad', 'ok')")
    con.execute("CREATE TABLE tg_types.t (id serial PRIMARY KEY, total money, "
                "price numeric(10, 2), tags text[], prefs jsonb, code varchar(20), "
                "mood tg_types.mood)")
    con.execute("INSERT INTO tg_types.t (total, price, tags, prefs, code, mood) VALUES "
                "(4.5, 9.99, '{a,b}', '{}', 'X1', 'ok')")
    try:
        refs = [r for r in discover(URL) if r.name == "tg_types.t"]
        (p,) = profile_tables(refs, use_cache=False)
        assert [c.declared for c in p.columns] == [
            "integer", "money", "numeric(10,2)", "text[]", "jsonb", "character varying(20)",
            "tg_types.mood"]
        assert describe_table(p)["columns"][1]["declared_type"] == "money"
        ddl = create_table(p, [], values=False)
        assert '"total" money' in ddl and '"price" numeric(10,2)' in ddl
        assert ddl.startswith("CREATE TYPE tg_types.mood AS ENUM ('sad', 'ok');")
        # `schema` shows the enum's name and its labels
        from typer.testing import CliRunner

        from tablegraph.cli import app

        out = CliRunner().invoke(app, ["schema", "--tables", URL, "-q"])
        assert out.exit_code == 0, out.output
        line = next(x for x in out.output.splitlines() if x.strip().startswith("mood "))
        assert line.split()[1:] == ["tg_types.mood", "ENUM('sad',", "'ok')"], line
        code = next(x for x in out.output.splitlines() if x.strip().startswith("code "))
        assert code.split()[1:3] == ["character", "varying(20)"], code
        # the statements are PostgreSQL's own: a server takes them
        con.execute("DROP SCHEMA IF EXISTS tg_types_copy CASCADE")
        con.execute("CREATE SCHEMA tg_types_copy")
        try:
            con.execute(ddl.replace("tg_types.", "tg_types_copy.")
                        .replace('"tg_types".', '"tg_types_copy".'))
        finally:
            con.execute("DROP SCHEMA tg_types_copy CASCADE")
        with Reader() as r:
            before = r.fingerprint(refs[0])
        con.execute("ALTER TABLE tg_types.t ALTER COLUMN code TYPE varchar(40)")
        with Reader() as r:  # DuckDB reads both as VARCHAR: the declared type tells
            assert r.fingerprint(refs[0]) != before
    finally:
        con.execute("DROP SCHEMA tg_types CASCADE")

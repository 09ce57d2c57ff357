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
    try:
        refs = [r for r in discover(URL) if r.name.startswith("tg_test.")]
        assert [r.name for r in refs] == ["tg_test.Admissions", "tg_test.empty_t"]
        profs = profile_tables(refs, progress=False)
        assert profs[0].n_rows == 50 and [c.name for c in profs[0].columns][1] == 'weird "name"'
        assert profs[1].n_rows == 0
        assert all(np.isfinite(p.stats).all() for p in profs)
    finally:
        con.execute('DROP SCHEMA tg_test CASCADE')


def test_unreachable_server_is_one_clear_line():
    with pytest.raises(TableGraphError) as e:
        discover("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot open postgres database" in str(e.value) and "\n" not in str(e.value)

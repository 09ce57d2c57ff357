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
    assert set(keys) == {"customers", "orders", "shipments"}  # notes declares no key
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

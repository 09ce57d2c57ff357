"""MySQL and MariaDB through DuckDB's mysql scanner, against a real server.

`.ci/run` installs Debian's MariaDB and starts it; elsewhere the server tests skip unless one
answers at $TABLEGRAPH_MYSQL_URL (default mysql://tg:tg@127.0.0.1:3306/tg_test; the user
must be able to create that database). The database is made anew for each test.
"""

import os
from urllib.parse import quote, urlsplit, urlunsplit

import duckdb
import pytest

from tablegraph.tables.catalog import read_keys
from tablegraph.tables.profile import profile_tables
from tablegraph.tables.records import ForeignKey
from tablegraph.tables.sources import (Reader, _load_scanner, discover, display_location,
                                       mysql_secret, quote_literal, without_password)
from tablegraph.utils import TableGraphError

URL = os.environ.get("TABLEGRAPH_MYSQL_URL", "mysql://tg:tg@127.0.0.1:3306/tg_test")
DATABASE = urlsplit(URL).path.strip("/")
OTHER = DATABASE + "_other"  # another database on the same server: never listed


@pytest.fixture
def server():
    """Run SQL on the server (in DATABASE, made anew); skip without a server."""
    con = duckdb.connect(":memory:")
    _load_scanner(con, "duckdb_extension_mysql_scanner")
    admin = urlunsplit(urlsplit(URL)._replace(path="/mysql"))
    try:
        con.execute(f"CREATE TEMPORARY SECRET admin ({mysql_secret(admin)})")
        con.execute("ATTACH '' AS m (TYPE mysql, SECRET admin)")
    except duckdb.Error as e:
        pytest.skip(f"no MySQL server at {display_location(URL)}: {str(e).splitlines()[0]}")

    def run(*statements: str) -> None:
        for sql in statements:
            con.execute(f"CALL mysql_execute('m', {quote_literal(sql)})")

    run(f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}",
        f"DROP DATABASE IF EXISTS {OTHER}", f"CREATE DATABASE {OTHER}",
        f"CREATE TABLE {OTHER}.elsewhere (a INT)")
    run(f"USE {DATABASE}",
        f"CREATE TABLE {DATABASE}.customers (id INT PRIMARY KEY, name VARCHAR(50) COMMENT "
        f"'full name', city VARCHAR(30)) COMMENT='people who buy'",
        f"CREATE TABLE {DATABASE}.orders (order_id INT PRIMARY KEY, customer_id INT, "
        f"amount DECIMAL(10,2), FOREIGN KEY (customer_id) REFERENCES {DATABASE}.customers(id))",
        f"CREATE TABLE {DATABASE}.line (order_id INT, n INT, sku VARCHAR(9), "
        f"PRIMARY KEY (order_id, n), FOREIGN KEY (order_id) REFERENCES "
        f"{DATABASE}.orders(order_id))",
        f"INSERT INTO {DATABASE}.customers VALUES (1, 'Ann Lee', 'Paris'), (2, 'Bo Chen', 'Oslo')",
        f"INSERT INTO {DATABASE}.orders VALUES (10, 1, 9.5), (11, 2, 20)",
        f"CREATE VIEW {DATABASE}.big AS SELECT * FROM {DATABASE}.orders WHERE amount > 10")
    yield run
    run(f"DROP DATABASE IF EXISTS {DATABASE}", f"DROP DATABASE IF EXISTS {OTHER}")
    con.close()


def test_mysql_tables_keys_comments_and_rows(server):
    refs = discover(URL)
    assert [r.name for r in refs] == ["big", "customers", "line", "orders"]  # not `elsewhere`
    p = {x.name: x for x in profile_tables(refs, progress=False)}
    assert (p["customers"].n_rows, p["big"].n_rows, p["line"].n_rows) == (2, 1, 0)
    assert p["customers"].comment == "people who buy" and p["big"].comment == ""
    assert [c.comment for c in p["customers"].columns] == ["", "full name", ""]
    assert p["line"].primary_key == ["order_id", "n"]
    assert p["orders"].foreign_keys == [ForeignKey(("customer_id",), "customers", ("id",))]
    with Reader() as reader:
        assert read_keys(reader, refs)["line"].foreign_keys == (
            ForeignKey(("order_id",), "orders", ("order_id",)),)


def test_mysql_profiles_are_cached_until_a_table_changes(server):
    refs = {r.name: r for r in discover(URL)}
    with Reader() as reader:
        before = {n: reader.fingerprint(r) for n, r in refs.items()}
    server(f"UPDATE {DATABASE}.customers SET city = 'Rome' WHERE id = 1",
           f"ALTER TABLE {DATABASE}.orders COMMENT = 'what was bought'")
    with Reader() as reader:
        after = {n: reader.fingerprint(r) for n, r in refs.items()}
    assert before["customers"] != after["customers"]  # same count, other rows
    assert before["orders"] != after["orders"]  # a new comment
    assert before["line"] == after["line"]
    assert all(v is not None and "tg:" not in v for v in after.values())


def test_mysql_declared_types_are_shown_as_the_server_spells_them(server):
    from tablegraph.tables.schema import create_table, describe_table

    server(f"CREATE TABLE {DATABASE}.flags (id INT PRIMARY KEY, ok TINYINT(1) COMMENT "
           f"'it''s fine', size ENUM('s','m','l'), price DECIMAL(10,2), at DATETIME) "
           f"COMMENT='feature flags'",
           f"INSERT INTO {DATABASE}.flags VALUES (1, 1, 'm', 2.5, '2024-01-02 03:04:05')")
    refs = [r for r in discover(URL) if r.name == "flags"]
    (p,) = profile_tables(refs, use_cache=False)
    assert [c.declared.lower() for c in p.columns][1:] == [  # `int` or MariaDB's `int(11)`
        "tinyint(1)", "enum('s','m','l')", "decimal(10,2)", "datetime"]
    assert describe_table(p)["columns"][2]["declared_type"].lower() == "enum('s','m','l')"
    ddl = create_table(p, [], values=False)
    assert "`size` enum('s','m','l')" in ddl.lower() and "COMMENT 'it''s fine'" in ddl
    # MySQL has no COMMENT ON: the statement is MySQL's own, and the server takes it
    assert "COMMENT ON" not in ddl and ddl.endswith(") COMMENT='feature flags';")
    server(ddl.replace("CREATE TABLE `flags`", f"CREATE TABLE `{OTHER}`.`flags`"))
    with Reader() as reader:
        before = reader.fingerprint(refs[0])
    server(f"ALTER TABLE {DATABASE}.flags MODIFY at DATE")  # DuckDB reads both as a date
    with Reader() as reader:
        assert reader.fingerprint(refs[0]) != before


def test_a_wrong_mysql_password_is_never_printed_and_mysql_pwd_is_used(server, monkeypatch):
    parts = urlsplit(URL)
    secret = "wr0ng p'w=x"
    bad = urlunsplit(parts._replace(netloc=f"{parts.username}:{quote(secret, safe='')}@"
                                           f"{parts.hostname}:{parts.port or 3306}"))
    with pytest.raises(TableGraphError) as e:
        discover(bad)
    assert "wr0ng" not in str(e.value) and "\n" not in str(e.value)
    if not parts.password:
        pytest.skip("the test server takes no password")
    monkeypatch.setenv("MYSQL_PWD", parts.password)
    assert [r.name for r in discover(without_password(URL))] == ["big", "customers", "line",
                                                                 "orders"]


def test_mysql_urls_need_a_database_and_keep_no_password():
    with pytest.raises(TableGraphError, match="names no database"):
        discover("mysql://me:pw@127.0.0.1:3306")
    url = "mariadb://me:s%27cret@db.example.com:3307/shop"
    assert without_password(url) == "mariadb://me@db.example.com:3307/shop"
    assert display_location(url) == "mariadb://db.example.com:3307/shop"
    assert mysql_secret(url) == ("TYPE mysql, PORT 3307, HOST 'db.example.com', DATABASE "
                                 "'shop', USER 'me', PASSWORD 's''cret'")
    with pytest.raises(TableGraphError) as e:
        discover("mysql://me:s3cretpw@127.0.0.1:1/shop")  # nothing listens on port 1
    assert "cannot open mysql database" in str(e.value) and "s3cretpw" not in str(e.value)

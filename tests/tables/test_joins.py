import sqlite3

import duckdb
import numpy as np

from tablegraph.evaluation.metrics import set_metrics
from tablegraph.model.sets import SetConfig, TableSet, select_set, set_first, sets_first
from tablegraph.tables.joins import GUESSED_KEY, Join, JoinGraph, join_graph
from tablegraph.tables.profile import profile_tables
from tablegraph.tables.schema import describe_table, sql_context
from tablegraph.tables.sources import discover


def shop(path, rows=True):
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL);
        CREATE TABLE order_items (order_id INTEGER REFERENCES orders(order_id),
                                  product_id INTEGER, qty INTEGER);
        CREATE TABLE products (product_id INTEGER PRIMARY KEY, label TEXT);
        CREATE TABLE "order" (warehouse_id INTEGER, note TEXT);
    """)
    if rows:
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}") for i in range(1, 30)])
        con.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                        [(100 + i, 1 + i % 29, 9.5) for i in range(60)])
        con.executemany("INSERT INTO order_items VALUES (?, ?, ?)",
                        [(100 + i % 60, 1000 + i, 1) for i in range(90)])
        con.executemany("INSERT INTO products VALUES (?, ?)",
                        [(i, "thing") for i in range(1, 8)])  # ids that never match
    con.commit()
    con.close()
    return path


def insert(table: str, values) -> str:
    """An INSERT of `values` (SQL tuples as text) into `table`."""
    return f"INSERT INTO {table} VALUES " + ", ".join(values) + ";"


def sqlite_join_graph(path, script: str) -> JoinGraph:
    """The join graph of a SQLite file made by `script` (no rows, no cache)."""
    con = sqlite3.connect(path)
    con.executescript(script)
    con.commit()
    con.close()
    return join_graph(profile_tables(discover(str(path)), progress=False, use_cache=False))


def test_join_graph_declared_and_inferred(tmp_path):
    profiles = profile_tables(discover(str(shop(tmp_path / "shop.sqlite"))), progress=False)
    g = join_graph(profiles)
    declared = g.between("order_items", "orders")
    assert declared.source == "declared" and declared.confidence == 1.0
    assert declared.conditions() == ["order_items.order_id = orders.order_id"]
    inferred = g.between("orders", "customers")  # customer_id -> customers.id, values agree
    assert inferred.source == "inferred" and inferred.reason == "name pattern"
    assert inferred.conditions() == ["orders.customer_id = customers.id"]
    assert inferred.confidence > 0.8
    # same column name, disjoint values: the rows refute the guess
    assert g.between("order_items", "products") is None
    assert g.between("order", "customers") is None
    assert JoinGraph.from_json(g.to_json()) == g


def test_a_table_own_key_does_not_point_to_its_namesake_in_another_schema(tmp_path):
    db = tmp_path / "multi.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.orders AS SELECT range AS order_id, range % 5 AS "
                "employee_id FROM range(20)")
    con.execute("CREATE TABLE orders AS SELECT range AS id FROM range(3)")
    con.execute("CREATE TABLE employees AS SELECT range AS id FROM range(5)")
    con.close()
    g = join_graph(profile_tables(discover(str(db)), progress=False, use_cache=False))
    assert g.between("sales.orders", "orders") is None
    assert g.between("sales.orders", "employees").conditions() == [
        "sales.orders.employee_id = employees.id"]


def test_plurals_in_es_and_singulars_in_s_are_found_by_name(tmp_path):
    """`employee_id` names `employees`, `type_id` names `types`, `status_id` names
    `statuses`: the plural's `s` stripped gave `employe`, `typ`, `statuse` before, which no
    column stem matched, so these joins were missing where no key was declared."""
    g = sqlite_join_graph(tmp_path / "hr.sqlite", """
        CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE types (id INTEGER PRIMARY KEY, label TEXT);
        CREATE TABLE statuses (id INTEGER PRIMARY KEY, label TEXT);
        CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, employee_id INTEGER,
                              type_id INTEGER, status_id INTEGER);
    """)
    for table, column in (("employees", "employee_id"), ("types", "type_id"),
                          ("statuses", "status_id")):
        j = g.between("tickets", table)
        assert j is not None and j.reason == "name pattern", table
        assert j.conditions() == [f"tickets.{column} = {table}.id"]


def test_a_warehouse_prefix_does_not_hide_the_table_a_key_names(tmp_path):
    g = sqlite_join_graph(tmp_path / "dw.sqlite", """
        CREATE TABLE dim_customer (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE tbl_stores (store_key INTEGER PRIMARY KEY, city TEXT);
        CREATE TABLE fact_sales (sale_id INTEGER PRIMARY KEY, customer_id INTEGER,
                                 store_key INTEGER, amount REAL);
    """)
    assert g.between("fact_sales", "dim_customer").conditions() == [
        "fact_sales.customer_id = dim_customer.id"]
    assert g.between("fact_sales", "tbl_stores").reason == "name pattern"


TPC = """
    CREATE TABLE nation (n_nationkey INTEGER PRIMARY KEY, n_name TEXT, n_comment TEXT);
    CREATE TABLE customer (c_custkey INTEGER PRIMARY KEY, c_name TEXT, c_nationkey INTEGER,
                           c_current_addr_sk INTEGER);
    CREATE TABLE customer_address (ca_address_sk INTEGER PRIMARY KEY, ca_city TEXT,
                                   ca_state TEXT);
    CREATE TABLE orders (o_orderkey INTEGER PRIMARY KEY, o_custkey INTEGER, o_total REAL);
    CREATE TABLE partsupp (ps_partkey INTEGER, ps_suppkey INTEGER, ps_cost REAL);
    CREATE TABLE part (p_partkey INTEGER PRIMARY KEY, p_name TEXT, p_brand TEXT);
    CREATE TABLE date_dim (d_date_sk INTEGER PRIMARY KEY, d_year INTEGER, d_moy INTEGER);
    CREATE TABLE store_sales (ss_sold_date_sk INTEGER, ss_customer_sk INTEGER, ss_qty INTEGER);
    CREATE TABLE d_icd_codes (icd_code TEXT PRIMARY KEY, icd_version INT, icd_title TEXT);
    CREATE TABLE codes (icd_code TEXT, note TEXT, seq INTEGER);
    CREATE TABLE pubs__titleauthor (au_id INTEGER, title_id INTEGER, royaltyper INTEGER);
    CREATE TABLE pubs__roysched (title_id INTEGER, lorange INTEGER, royalty INTEGER);
"""


def test_keys_behind_a_column_prefix_of_their_table(tmp_path):
    """TPC-H's and TPC-DS's columns begin with their table's letters (`o_custkey` in
    `orders` is `c_custkey` of `customer`; `ss_sold_date_sk` is `date_dim.d_date_sk`,
    `c_current_addr_sk` is `customer_address.ca_address_sk`),
    where no foreign key is declared; a prefix that does not come from the table's name
    (`icd_` of `d_icd_codes`) stays part of the column's."""
    g = sqlite_join_graph(tmp_path / "tpc.sqlite", TPC)
    for a, b, on in [("orders", "customer", "orders.o_custkey = customer.c_custkey"),
                     ("customer", "nation", "customer.c_nationkey = nation.n_nationkey"),
                     ("partsupp", "part", "partsupp.ps_partkey = part.p_partkey"),
                     ("store_sales", "date_dim", "store_sales.ss_sold_date_sk = "
                                                 "date_dim.d_date_sk"),
                     ("customer", "customer_address",  # an abbreviation: addr, address
                      "customer.c_current_addr_sk = customer_address.ca_address_sk")]:
        assert g.between(a, b).conditions() == [on]
    # "title" begins `titleauthor`, but its title_id does not identify its rows
    assert g.between("pubs__roysched", "pubs__titleauthor") is None
    assert g.between("codes", "d_icd_codes").conditions() == [
        "codes.icd_code = d_icd_codes.icd_code"]
    declared = sqlite_join_graph(tmp_path / "declared.sqlite", TPC + """
        CREATE TABLE lineitem (l_orderkey INTEGER REFERENCES orders (o_orderkey), l_qty INT);
    """)  # a schema that declares its keys has said what joins
    assert declared.between("orders", "customer") is None
    assert declared.between("lineitem", "orders").source == "declared"


def test_keys_name_their_table_without_the_prefix_most_tables_share(tmp_path):
    """WordPress' `wp_postmeta.post_id` is `wp_posts.ID`: the `wp_` that most of the
    database's tables begin with is no part of what a key names."""
    g = sqlite_join_graph(tmp_path / "wp.sqlite", """
        CREATE TABLE wp_posts (ID INTEGER PRIMARY KEY, post_title TEXT);
        CREATE TABLE wp_users (ID INTEGER PRIMARY KEY, user_login TEXT);
        CREATE TABLE wp_postmeta (meta_id INTEGER PRIMARY KEY, post_id INTEGER, meta_key TEXT);
        CREATE TABLE wp_comments (comment_ID INTEGER PRIMARY KEY, comment_post_ID INTEGER,
                                  user_id INTEGER);
        CREATE TABLE notes (id INTEGER PRIMARY KEY, post_id INTEGER);
    """)
    assert g.between("wp_postmeta", "wp_posts").conditions() == ["wp_postmeta.post_id = wp_posts.ID"]
    assert g.between("wp_comments", "wp_posts").conditions() == [
        "wp_comments.comment_post_ID = wp_posts.ID"]
    assert g.between("wp_comments", "wp_users").conditions() == [
        "wp_comments.user_id = wp_users.ID"]


def test_keys_named_by_number_role_or_the_table_itself(tmp_path):
    """`orderNumber` names `orders`, `start_station_id` names `station`, `economy.country`
    names `country` (its primary key `code`); a phone number, a plural count, a key of
    another type and a column whose table has a column of its name are left alone."""
    g = sqlite_join_graph(tmp_path / "s.sqlite", """
        CREATE TABLE orders (orderNumber INTEGER PRIMARY KEY, phone_number TEXT);
        CREATE TABLE orderdetails (orderNumber INTEGER, qty INTEGER, phone_number TEXT);
        CREATE TABLE station (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE trip (id INTEGER PRIMARY KEY, start_station_id INTEGER);
        CREATE TABLE parking (id INTEGER PRIMARY KEY, home_station_code TEXT);
        CREATE TABLE country (code TEXT PRIMARY KEY, name TEXT);
        CREATE TABLE economy (country TEXT PRIMARY KEY, gdp REAL, words INTEGER);
        CREATE TABLE words (wid INTEGER PRIMARY KEY, word TEXT);
        CREATE TABLE regions (statecode TEXT PRIMARY KEY, region TEXT);
        CREATE TABLE team (id INTEGER PRIMARY KEY, region TEXT);
    """)
    assert g.between("orderdetails", "orders").conditions() == [
        "orderdetails.orderNumber = orders.orderNumber"]
    assert g.between("trip", "station").conditions() == ["trip.start_station_id = station.id"]
    assert g.between("parking", "station") is None  # a text code is no integer key
    assert g.between("economy", "country").conditions() == ["economy.country = country.code"]
    assert g.between("economy", "words") is None  # a count, not a key
    assert all("phone_number" not in c for j in g.joins for c in j.conditions())
    assert g.between("team", "regions") is None or \
        g.between("team", "regions").conditions() == ["team.region = regions.region"]


def test_keys_where_no_table_declares_one(tmp_path):
    """A CSV folder or a DuckDB copy declares no keys: `recorded_by_staff_id` joins
    `staff.staff_id` (the column named for its table that identifies its rows) at the
    confidence of a guess on a guess, `club_id_1` and `club_id_2` join `club`, `company_id`
    joins `operate_company`, and a key kept as a float (1.0, or NULL) joins its integer
    column."""
    staff = ", ".join(f"({i}, 'Staff {i}')" for i in range(1, 21))
    clubs = ", ".join(f"({i}, 'Club {i}')" for i in range(1, 11))
    script = f"""
        CREATE TABLE staff (staff_id INTEGER, name TEXT);
        CREATE TABLE fault_log (fault_id INTEGER, recorded_by_staff_id INTEGER, note TEXT);
        CREATE TABLE club (club_id INTEGER, name TEXT);
        CREATE TABLE competition_result (result_id INTEGER, club_id_1 INTEGER,
                                         club_id_2 INTEGER, score TEXT);
        CREATE TABLE operate_company (id INTEGER, name TEXT);
        CREATE TABLE flight (flight_id INTEGER, company_id INTEGER);
        CREATE TABLE vendor (vendor_id REAL, name TEXT);
        CREATE TABLE supply (vendor_id INTEGER, years INTEGER);
        CREATE TABLE parties (party_id INTEGER, name TEXT);
        CREATE TABLE accounts (account_id INTEGER, manager_staff_id REAL);
        CREATE TABLE asset_parts (asset_id INTEGER, part_id INTEGER);
        INSERT INTO staff VALUES {staff};
        INSERT INTO fault_log VALUES {", ".join(f"({i}, {1 + i % 20}, 'x')" for i in range(40))};
        INSERT INTO club VALUES {clubs};
        INSERT INTO competition_result VALUES
            {", ".join(f"({i}, {1 + i % 10}, {1 + (i + 3) % 10}, '1-0')" for i in range(30))};
        INSERT INTO operate_company VALUES {clubs};
        INSERT INTO flight VALUES {", ".join(f"({i}, {1 + i % 10})" for i in range(30))};
        INSERT INTO vendor VALUES {", ".join(f"({i}.0, 'V{i}')" for i in range(1, 8))};
        INSERT INTO supply VALUES {", ".join(f"({1 + i % 7}, {i})" for i in range(20))};
        INSERT INTO parties VALUES {staff};
        INSERT INTO accounts VALUES
            {", ".join(f"({i}, {'NULL' if i % 5 == 0 else f'{1 + i % 20}.0'})" for i in range(40))};
        INSERT INTO asset_parts VALUES {", ".join(f"({i}, {1 + i % 20})" for i in range(40))};
    """
    g = sqlite_join_graph(tmp_path / "nokeys.sqlite", script)
    j = g.between("fault_log", "staff")
    assert j is not None and j.conditions() == ["fault_log.recorded_by_staff_id = staff.staff_id"]
    assert j.confidence == GUESSED_KEY
    both = [j for j in g.every() if {j.left, j.right} == {"competition_result", "club"}]
    assert sorted(c for j in both for c in j.conditions()) == [
        "competition_result.club_id_1 = club.club_id",
        "competition_result.club_id_2 = club.club_id"]
    assert g.between("flight", "operate_company").conditions() == [
        "flight.company_id = operate_company.id"]
    assert g.between("supply", "vendor").conditions() == ["supply.vendor_id = vendor.vendor_id"]
    # whole numbers kept as floats, some missing (pandas' ids), are an integer key's type
    assert g.between("accounts", "staff").conditions() == [
        "accounts.manager_staff_id = staff.staff_id"]
    # "part" is no short form of `parties`: no key declared says so
    assert g.between("asset_parts", "parties") is None


def test_a_column_named_as_a_table_joins_its_one_key_named_column_where_values_fit(tmp_path):
    """No key declared anywhere (a CSV folder): `undergoes.physician` joins
    `physician.employee_id`, the one column of that table named as a key that identifies its
    rows, and the role `PrepNurse` joins `nurse`; `undergoes.patient` joins nothing: the one
    key-named column of `patient` (`insurance_id`) holds other numbers than the patients'
    (`ssn`), and nor `ward`, which has two key-named columns to choose from
    and none named for it."""
    script = f"""
        CREATE TABLE physician (employee_id INTEGER, name TEXT, ssn INTEGER);
        CREATE TABLE nurse (employee_id INTEGER, name TEXT);
        CREATE TABLE patient (ssn INTEGER, name TEXT, insurance_id INTEGER);
        CREATE TABLE ward (bed_id INTEGER, room_code INTEGER, name TEXT);
        CREATE TABLE undergoes (patient INTEGER, physician INTEGER, "PrepNurse" INTEGER,
                                ward INTEGER, note TEXT);
        INSERT INTO physician VALUES
            {", ".join(f"({i}, 'Dr {i}', {555000 + i})" for i in range(1, 11))};
        INSERT INTO nurse VALUES {", ".join(f"({100 + i}, 'Nurse {i}')" for i in range(1, 8))};
        INSERT INTO patient VALUES
            {", ".join(f"({100000 + i}, 'P{i}', {70000 + 3 * i})" for i in range(1, 21))};
        INSERT INTO ward VALUES {", ".join(f"({i}, {10 + i}, 'W{i}')" for i in range(1, 6))};
        INSERT INTO undergoes VALUES {", ".join(
            f"({100000 + 1 + i % 20}, {1 + i % 10}, {101 + i % 7}, {1 + i % 5}, 'x')"
            for i in range(40))};
    """
    g = sqlite_join_graph(tmp_path / "hospital.sqlite", script)
    j = g.between("undergoes", "physician")
    assert j is not None and j.conditions() == ["undergoes.physician = physician.employee_id"]
    assert j.confidence == GUESSED_KEY  # a key read from names, where none is declared
    assert g.between("undergoes", "nurse").conditions() == [
        "undergoes.PrepNurse = nurse.employee_id"]
    assert g.between("undergoes", "patient") is None
    assert g.between("undergoes", "ward") is None


def test_a_text_column_joins_the_table_whose_text_key_holds_its_values_whatever_its_name(
        tmp_path, monkeypatch):
    """No key declared (GeoQuery's layout): `river.traverse` holds state names, so it joins
    `state.state_name`; `border_info.border` and `state.capital` are second joins of pairs
    already joined (`also`); `lake.area_name`, whose values lie in two tables' keys alike,
    joins neither, and `river.river_name`, in none, nothing."""
    states = ["texas", "ohio", "iowa", "utah", "maine", "idaho", "nevada", "oregon"]
    capitals = ["austin", "columbus", "des moines", "salt lake city", "augusta", "boise",
                "carson city", "salem"]
    areas = ["north", "south", "east", "west"]
    q = lambda *vs: "(" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v)  # noqa: E731
                                    for v in vs) + ")"
    script = f"""
        CREATE TABLE state (state_name TEXT, population INTEGER, capital TEXT);
        CREATE TABLE city (city_name TEXT, population INTEGER, state_name TEXT);
        CREATE TABLE river (river_name TEXT, length INTEGER, traverse TEXT);
        CREATE TABLE border_info (state_name TEXT, border TEXT);
        CREATE TABLE district (district_name TEXT, size INTEGER);
        CREATE TABLE zone (zone_name TEXT, size INTEGER);
        CREATE TABLE lake (lake_name TEXT, area_name TEXT);
        INSERT INTO state VALUES {", ".join(q(s, i, c) for i, (s, c) in
                                            enumerate(zip(states, capitals)))};
        INSERT INTO city VALUES {", ".join(q(c, i, s) for i, (s, c) in
                                           enumerate(zip(states, capitals)))},
            {", ".join(q(f"town{i}", i, s) for i, s in enumerate(states))};
        INSERT INTO river VALUES {", ".join(q(f"river{i % 7}", i, states[i % 8])
                                            for i in range(20))};
        INSERT INTO border_info VALUES {", ".join(q(states[i % 8], states[(i * 3 + 1) % 8])
                                                  for i in range(16))};
        INSERT INTO district VALUES {", ".join(q(a, i) for i, a in enumerate(areas))};
        INSERT INTO zone VALUES {", ".join(q(a, i) for i, a in enumerate(areas))};
        INSERT INTO lake VALUES {", ".join(q(f"lake{i}", areas[i % 4]) for i in range(12))};
    """
    g = sqlite_join_graph(tmp_path / "geo.sqlite", script)
    j = g.between("river", "state")
    assert j is not None and j.conditions() == ["river.traverse = state.state_name"]
    assert j.source == "inferred" and j.reason == "same values"
    every = {c for j in g.every() for c in j.conditions()}
    assert "border_info.border = state.state_name" in every
    assert "state.capital = city.city_name" in every
    assert not any("lake" in c for c in every)
    assert not any("river_name" in c for c in every)
    # a column of more values than a text key others name holds is no home (8 states > 5)
    import tablegraph.tables.joins as joins
    monkeypatch.setattr(joins, "TEXT_JOIN_MAX_VALUES", 5)
    assert sqlite_join_graph(tmp_path / "geo2.sqlite", script).between("river", "state") is None


def test_a_role_before_a_tables_name_joins_its_key_where_the_values_lie_in_it(tmp_path):
    """`flight.from_airport` (no key suffix, text codes without a key sketch) joins
    `airport.airport_code` because its values are airport codes; `home_city`, whose values
    are no city codes, and a schema without rows, join nothing. (Codes of letters and digits,
    which profiles keep no values of, are not told.)"""
    codes = [a + b + "X" for a in "BDLM" for b in "AEIOU"]  # letters, as IATA codes are
    rows = ", ".join(f"('{c}', 'Airport {c}')" for c in codes)
    flights = ", ".join(f"({i}, '{codes[i % 20]}', '{codes[(i * 7 + 3) % 20]}', 'Town {i}')"
                        for i in range(60))
    script = f"""
        CREATE TABLE airport (airport_code TEXT, airport_name TEXT);
        CREATE TABLE city (city_code TEXT, city_name TEXT);
        CREATE TABLE flight (flight_number INT, from_airport TEXT, to_airport TEXT,
                             home_city TEXT);
        INSERT INTO airport VALUES {rows};
        INSERT INTO city VALUES {rows.replace("X'", "Y'")};
        INSERT INTO flight VALUES {flights};
    """
    g = sqlite_join_graph(tmp_path / "atis.sqlite", script)
    j = g.between("flight", "airport")
    assert j is not None and j.conditions() == ["flight.from_airport = airport.airport_code"]
    assert j.source == "inferred" and j.reason == "name pattern"
    assert g.between("flight", "city") is None
    bare = sqlite_join_graph(tmp_path / "bare.sqlite", script.split("INSERT")[0])
    assert bare.between("flight", "airport") is None


def test_a_natural_key_joins_the_table_it_names_where_the_values_lie_in_it(tmp_path):
    """GeoQuery's layout: `state_name` in five tables, unique in `state` and in `highlow`;
    the others join `state`, the table the name names (a star, not a clique), and a column
    whose values are no state's (`river.state_name` here) joins nothing."""
    states = ["texas", "alaska", "ohio", "utah", "iowa", "maine", "idaho", "kansas"]
    script = f"""
        CREATE TABLE state (state_name TEXT, capital TEXT);
        CREATE TABLE highlow (state_name TEXT, highest_point TEXT);
        CREATE TABLE city (city_name TEXT, state_name TEXT);
        CREATE TABLE lake (lake_name TEXT, state_name TEXT);
        CREATE TABLE river (river_name TEXT, state_name TEXT);
        INSERT INTO state VALUES {", ".join(f"('{s}', '{s}ville')" for s in states)};
        INSERT INTO highlow VALUES {", ".join(f"('{s}', 'peak {s}')" for s in states)};
        INSERT INTO city VALUES {", ".join(f"('c{i}', '{states[i % 5]}')" for i in range(20))};
        INSERT INTO lake VALUES {", ".join(f"('l{i}', '{states[i % 3]}')" for i in range(9))};
        INSERT INTO river VALUES {", ".join(f"('r{i}', 'land {i % 4}')" for i in range(9))};
    """
    g = sqlite_join_graph(tmp_path / "geo.sqlite", script)
    assert sorted(" AND ".join(j.conditions()) for j in g.joins) == [
        "city.state_name = state.state_name", "highlow.state_name = state.state_name",
        "lake.state_name = state.state_name"]
    assert {j.reason for j in g.joins} == {"same values"}


def test_schema_only_database_keeps_name_guesses_at_lower_confidence(tmp_path):
    profiles = profile_tables(discover(str(shop(tmp_path / "s.sqlite", rows=False))),
                              progress=False)
    g = join_graph(profiles)
    assert g.between("orders", "customers").confidence < 0.8
    guess = g.between("order_items", "products")
    assert guess.reason == "name pattern" and guess.confidence < 0.8


def test_a_schema_without_rows_or_keys_reads_each_tables_key_from_its_name(tmp_path):
    """DDL without constraints and no rows (a warehouse's schema): a table's key is the
    column named for it (`keys_by_name`), so a column of the same name elsewhere joins it:
    `book.language_id` -> `book_language`, `violation.point_id` -> `inspection_point`
    (the last word of its name), `rootbeer.BrandID` -> `rootbeerbrand` (the end of it),
    `City.CountryCode` -> `Country.Code` (its one bare key), TPC-H's `c_nationkey` ->
    `nation.n_nationkey` (behind the column prefix), `titles.pub_id` -> `publishers` (its
    key abbreviates its name). A table of pairs is keyed by neither of its keys:
    `player_match.match_id` stays the `match` table's, not a second home; nor is a table
    whose first word is another's (`ProductCostHistory.ProductID`)."""
    g = sqlite_join_graph(tmp_path / "ddl.sqlite", """
        CREATE TABLE book_language (language_id INTEGER, language_code TEXT,
                                    language_name TEXT);
        CREATE TABLE book (book_id INTEGER, title TEXT, language_id INTEGER);
        CREATE TABLE inspection_point (point_id INTEGER, description TEXT, fine INTEGER);
        CREATE TABLE violation (inspection_id INTEGER, point_id INTEGER, fine INTEGER);
        CREATE TABLE rootbeerbrand (BrandID INTEGER, BrandName TEXT);
        CREATE TABLE rootbeer (RootBeerID INTEGER, BrandID INTEGER);
        CREATE TABLE Country (Code TEXT, Name TEXT, Continent TEXT);
        CREATE TABLE City (ID INTEGER, Name TEXT, CountryCode TEXT);
        CREATE TABLE nation (n_nationkey INTEGER, n_name TEXT, n_comment TEXT);
        CREATE TABLE customer (c_custkey INTEGER, c_name TEXT, c_nationkey INTEGER);
        CREATE TABLE match (match_id INTEGER, played DATE);
        CREATE TABLE player (player_id INTEGER, name TEXT);
        CREATE TABLE player_match (match_id INTEGER, player_id INTEGER, role TEXT);
        CREATE TABLE ball_by_ball (match_id INTEGER, over_id INTEGER, runs INTEGER);
        CREATE TABLE publishers (pub_id INTEGER, pub_name TEXT, city TEXT);
        CREATE TABLE titles (title_id INTEGER, title TEXT, pub_id INTEGER);
        CREATE TABLE Product (ProductID INTEGER, Name TEXT);
        CREATE TABLE ProductCostHistory (ProductID INTEGER, StartDate DATE, Cost REAL);
        CREATE TABLE WorkOrder (WorkOrderID INTEGER, ProductID INTEGER);
    """)
    assert g.between("book", "book_language").conditions() == [
        "book.language_id = book_language.language_id"]
    assert g.between("violation", "inspection_point").conditions() == [
        "violation.point_id = inspection_point.point_id"]
    assert g.between("rootbeer", "rootbeerbrand").conditions() == [
        "rootbeer.BrandID = rootbeerbrand.BrandID"]
    assert g.between("City", "Country").conditions() == ["City.CountryCode = Country.Code"]
    assert g.between("customer", "nation").conditions() == [
        "customer.c_nationkey = nation.n_nationkey"]
    assert g.between("ball_by_ball", "match").conditions() == [
        "ball_by_ball.match_id = match.match_id"]
    assert g.between("ball_by_ball", "player_match") is None
    # the key's stem abbreviates the table's last word; a first word is no abbreviation
    assert g.between("titles", "publishers").conditions() == [
        "titles.pub_id = publishers.pub_id"]
    assert g.between("WorkOrder", "Product") is not None
    assert g.between("WorkOrder", "ProductCostHistory") is None


def test_a_table_that_declares_no_key_beside_tables_that_do_is_not_keyed_by_its_name(tmp_path):
    """Where other tables declare keys, one that declares none is keyless on purpose
    (`ratings_users` holds a user once per rating): its `user_id` is no home."""
    g = sqlite_join_graph(tmp_path / "partial.sqlite", """
        CREATE TABLE movies (movie_id INTEGER PRIMARY KEY, title TEXT);
        CREATE TABLE ratings_users (user_id INTEGER, rating_date TEXT);
        CREATE TABLE lists (list_id INTEGER PRIMARY KEY, user_id INTEGER);
    """)
    assert g.between("lists", "ratings_users") is None


def test_a_role_before_another_tables_key_joins_it_where_the_values_lie_in_it(tmp_path):
    """No key declared (a CSV folder), no table named by the column: `routes.src_apid`
    and `dst_apid` join `airports.apid`, the key their names end with; `routes.alt_apid`,
    whose numbers are no airport's, joins nothing, nor does `visits.home_site_id`, whose
    values two tables' `site_id` hold alike."""
    def rows(n, start=1):
        return ", ".join(f"({i}, 'x{i}')" for i in range(start, start + n))
    g = sqlite_join_graph(tmp_path / "roles.sqlite", f"""
        CREATE TABLE airports (apid INTEGER, name TEXT);
        CREATE TABLE routes (route_no INTEGER, src_apid INTEGER, dst_apid INTEGER,
                             alt_apid INTEGER);
        CREATE TABLE shops (site_id INTEGER, label TEXT);
        CREATE TABLE depots (site_id INTEGER, label TEXT);
        CREATE TABLE visits (visit INTEGER, home_site_id INTEGER);
        INSERT INTO airports VALUES {rows(30)};
        INSERT INTO routes VALUES
            {", ".join(f"({i}, {1 + i % 30}, {1 + (i * 7) % 30}, {500 + i})" for i in range(40))};
        INSERT INTO shops VALUES {rows(10)};
        INSERT INTO depots VALUES {rows(10)};
        INSERT INTO visits VALUES {", ".join(f"({i}, {1 + i % 10})" for i in range(20))};
    """)
    both = sorted(c for j in g.every() if {j.left, j.right} == {"routes", "airports"}
                  for c in j.conditions())
    assert both == ["routes.dst_apid = airports.apid", "routes.src_apid = airports.apid"]
    assert g.between("visits", "shops") is None and g.between("visits", "depots") is None


def test_a_key_unique_over_a_few_sample_rows_is_no_home_beside_the_table_it_names(tmp_path):
    """Five sample rows a table (Spider 2.0's), no keys: `results.driverId` holds five
    distinct drivers by chance, but `lapTimes` and `pitStops` join `drivers`, the table the
    key is named for, not `results`."""
    g = sqlite_join_graph(tmp_path / "sample.sqlite", "\n".join([
        "CREATE TABLE drivers (driverId INTEGER, surname TEXT);",
        "CREATE TABLE results (resultId INTEGER, driverId INTEGER, points REAL);",
        "CREATE TABLE lapTimes (raceId INTEGER, driverId INTEGER, lap INTEGER);",
        "CREATE TABLE pitStops (raceId INTEGER, driverId INTEGER, stop INTEGER);",
        insert("drivers", [f"({i + 1}, 'D{i}')" for i in range(5)]),
        insert("results", [f"({100 + i}, {i + 1}, 1.0)" for i in range(5)]),
        insert("lapTimes", [f"({i % 2}, {1 + i % 3}, {i})" for i in range(5)]),
        insert("pitStops", [f"({i % 2}, {1 + i % 2}, {i})" for i in range(5)]),
    ]))
    assert g.between("lapTimes", "drivers") is not None
    assert g.between("pitStops", "drivers") is not None
    assert g.between("lapTimes", "results") is None and g.between("pitStops", "results") is None


def test_sample_rows_that_do_not_meet_do_not_refute_a_join(tmp_path):
    """Every table a sample of five rows (Spider 2.0's): the orders sampled name customers
    that the customers sampled do not hold, and `orders.customer_id` still joins
    `customers`; with every row (more than `SAMPLE_ROWS` in a table) the same disjoint
    values refute it."""
    def db(path, n_orders):
        return sqlite_join_graph(path, "\n".join([
            "CREATE TABLE customers (customer_id INTEGER, name TEXT);",
            "CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, total REAL);",
            insert("customers", [f"({i}, 'c{i}')" for i in range(1, 6)]),
            insert("orders", [f"({i}, {40 + i % 5}, 1.0)" for i in range(n_orders)]),
        ]))
    assert db(tmp_path / "sample.sqlite", 5).between("orders", "customers") is not None
    assert db(tmp_path / "whole.sqlite", 50).between("orders", "customers") is None


def test_a_key_unique_over_many_rows_stays_a_home_beside_the_table_it_names(tmp_path):
    """Two code systems of one column name, each read whole (MIMIC's `d_items` and
    `d_labitems`): `labevents.itemid` joins `d_labitems`, though `itemid` names `d_items`."""
    g = sqlite_join_graph(tmp_path / "codes.sqlite", "\n".join([
        "CREATE TABLE d_items (itemid INTEGER, label TEXT);",
        "CREATE TABLE d_labitems (itemid INTEGER, label TEXT);",
        "CREATE TABLE chartevents (stay INTEGER, itemid INTEGER, value REAL);",
        "CREATE TABLE labevents (stay INTEGER, itemid INTEGER, value REAL);",
        insert("d_items", [f"({220000 + i}, 'chart {i}')" for i in range(40)]),
        insert("d_labitems", [f"({50800 + i}, 'lab {i}')" for i in range(40)]),
        insert("chartevents", [f"({i % 7}, {220000 + i % 40}, 1.0)" for i in range(80)]),
        insert("labevents", [f"({i % 7}, {50800 + i % 40}, 1.0)" for i in range(80)]),
    ]))
    assert g.between("labevents", "d_labitems") is not None
    assert g.between("chartevents", "d_items") is not None


def test_connect_lists_joins_from_the_first_table_outward_in_every_process():
    def fk(a, b):
        return Join(a, ("id",), b, ("id",), "declared", 1.0, "foreign key")

    g = JoinGraph(["orders", "customers", "products", "order_items", "refunds", "stores"],
                  [fk("orders", "customers"), fk("order_items", "orders"),
                   fk("order_items", "products"), fk("refunds", "orders"), fk("orders", "stores")])
    tables, joins = g.connect(["refunds", "products", "customers", "stores"],
                              {"refunds": 1.0, "products": 0.9})
    assert tables == ["refunds", "products", "customers", "stores", "order_items", "orders"]
    assert [(j.left, j.right) for j in joins] == [  # networkx gives its tree in its own order
        ("refunds", "orders"), ("order_items", "products"), ("orders", "customers"),
        ("orders", "stores"), ("order_items", "orders")]


def test_connect_joins_what_it_can_when_one_table_is_too_far():
    """sakila: "how much did each customer in Canada pay for rentals" seeds `payment`,
    `rental` and `country`; `country` is three tables from the others (customer, address,
    city), more bridges than allowed. It stays in the set alone, and `payment` and `rental`
    keep their join (before, the set came without any join)."""
    def fk(a, b, col):
        return Join(a, (col,), b, (col,), "declared", 1.0, "foreign key")

    g = JoinGraph(["payment", "rental", "customer", "address", "city", "country"],
                  [fk("payment", "rental", "rental_id"), fk("payment", "customer", "customer_id"),
                   fk("rental", "customer", "customer_id"), fk("customer", "address", "address_id"),
                   fk("address", "city", "city_id"), fk("city", "country", "country_id")])
    weight = {"payment": 1.0, "rental": 1.0, "country": 0.8, "customer": 0.3}
    tables, joins = g.connect(["payment", "rental", "country"], weight, max_bridges=2)
    assert tables == ["payment", "rental", "country"]
    assert [j.conditions() for j in joins] == [["payment.rental_id = rental.rental_id"]]
    tables, joins = g.connect(["payment", "rental", "country"], weight, max_bridges=3)
    assert tables == ["payment", "rental", "country", "customer", "address", "city"]
    assert len(joins) == 5


def test_connect_adds_bridge_tables_and_respects_the_limit():
    j = [Join("labevents", ("hadm_id",), "admissions", ("hadm_id",), "declared", 1.0, "fk"),
         Join("admissions", ("subject_id",), "patients", ("subject_id",), "declared", 1.0, "fk"),
         Join("labevents", ("itemid",), "d_labitems", ("itemid",), "inferred", 0.6, "same")]
    g = JoinGraph(["labevents", "admissions", "patients", "d_labitems", "notes"], j)
    tables, joins = g.connect(["labevents", "patients"], {"labevents": 1.0, "patients": 0.5})
    assert tables == ["labevents", "patients", "admissions"] and len(joins) == 2
    assert g.connect(["labevents", "patients"], max_bridges=0)[1] == []
    assert g.connect(["labevents", "notes"])[0] == ["labevents", "notes"]  # no path: both kept

    scores = np.array([0.9, 0.2, 0.86, 0.1, 0.0])
    s = select_set(scores, g.tables, g, SetConfig(seed_weight=0.3))
    assert s.tables == ["labevents", "patients", "admissions"] and s.bridges == ["admissions"]
    assert select_set(scores, g.tables, g, SetConfig(seed_weight=2.0)).tables == ["labevents"]
    assert s.to_dict()["joins"][0]["source"] == "declared"
    order = np.argsort(-set_first(scores, g.tables, s.tables))
    assert [g.tables[i] for i in order[:3]] == s.tables
    rows = sets_first(np.stack([scores, scores[::-1]]), g.tables, [s.tables, ["patients"]])
    assert [[g.tables[i] for i in np.argsort(-r)] for r in rows] == [
        s.tables + ["d_labitems", "notes"], ["patients", "notes", "d_labitems", "admissions",
                                             "labevents"]]
    no_questions = np.zeros((0, 5))
    assert sets_first(no_questions, g.tables, []) is no_questions


def test_a_first_stage_set_stays_in_the_part_of_the_schema_its_best_table_joins():
    j = [Join("labevents", ("hadm_id",), "admissions", ("hadm_id",), "declared", 1.0, "fk"),
         Join("orders", ("customer_id",), "customers", ("id",), "declared", 1.0, "fk")]
    g = JoinGraph(["labevents", "admissions", "orders", "customers", "notes"], j)
    assert g.component("labevents") == {"labevents", "admissions"}
    assert g.component("notes") == {"notes"}
    scores = np.array([0.9, 0.85, 0.88, 0.1, 0.87])
    # `orders` and `notes` score high, but no join reaches them from `labevents`
    assert select_set(scores, g.tables, g, SetConfig(seed_weight=0.3)).tables == \
        ["labevents", "admissions"]
    # a best table that joins nothing: the join graph says nothing, every seed stays
    alone = np.array([0.1, 0.2, 0.88, 0.1, 0.9])
    assert select_set(alone, g.tables, g, SetConfig(seed_weight=0.3)).tables == \
        ["notes", "orders"]
    # with the second stage, a table it finds needed stays though no join reaches it (an
    # inferred join may be missing): `orders` alone, beside the joined pair
    needed = np.array([0.0, 0.9, 0.9, 0.0, 0.0])
    s = select_set(scores, g.tables, g, SetConfig(), needed)
    assert s.tables == ["labevents", "admissions", "orders"] and s.bridges == [] and \
        [(j.left, j.right) for j in s.joins] == [("labevents", "admissions")]

    assert s.parts() == [["labevents", "admissions"], ["orders"]]


def test_a_set_keeps_to_one_database_of_a_catalogue():
    """In a catalogue of several databases, a table the second stage finds needed in another
    database leaves the set: no query joins across database files. The graph keeps which
    table is in which database through its JSON and a renaming."""
    j = [Join("shop.orders", ("customer_id",), "shop.customers", ("id",), "declared", 1.0,
              "fk")]
    g = JoinGraph(["crm.customers", "shop.customers", "shop.orders"], j,
                  databases={"crm.customers": "crm", "shop.customers": "shop",
                             "shop.orders": "shop"})
    scores, needed = np.array([0.8, 0.7, 0.9]), np.array([0.9, 0.9, 0.9])
    assert select_set(scores, g.tables, g, SetConfig(), needed).tables == \
        ["shop.orders", "shop.customers"]
    assert select_set(scores, g.tables, g, SetConfig(seed_weight=0.01)).tables == \
        ["shop.orders", "shop.customers"]
    assert JoinGraph.from_json(g.to_json()) == g
    assert g.renamed({"crm.customers": "crm.clients"}).databases["crm.clients"] == "crm"
    one = JoinGraph(g.tables, j)  # one database (or a PostgreSQL one's schemas): as before
    assert set(select_set(scores, one.tables, one, SetConfig(), needed).tables) == \
        {"shop.orders", "shop.customers", "crm.customers"}
    assert "databases" not in one.to_json()


def test_a_sets_parts_are_what_its_joins_connect_and_sql_context_names_the_gap(tmp_path):
    def join(a: str, b: str) -> Join:
        return Join(a, ("k",), b, ("k",), "inferred", 0.7, "name pattern")

    assert TableSet(["a", "b", "c", "d"], [join("c", "b"), join("d", "a")]).parts() == [
        ["a", "d"], ["b", "c"]]
    assert TableSet(["a", "b", "c"], [join("c", "b"), join("a", "c")]).parts() == [
        ["a", "b", "c"]]
    assert TableSet([]).parts() == []
    profiles = profile_tables(discover(str(shop(tmp_path / "shop.sqlite"))), progress=False)
    by = {p.name: p for p in profiles}
    g = join_graph(profiles)
    joined = [g.between("orders", "customers")]
    apart = TableSet(["order", "orders", "customers"], joined).parts()
    assert apart == [["order"], ["orders", "customers"]]
    text = sql_context([by["order"], by["orders"], by["customers"]], joined, parts=apart)
    assert "-- no join path found between order and orders, customers among" in text
    assert "no join path" not in sql_context([by["orders"], by["customers"]], joined,
                                            parts=[["orders", "customers"]])


def test_set_metrics():
    m = set_metrics([{0, 1}, {2}, set()], [{0}, {2}, {1}])
    assert np.allclose(m["set_precision"], [0.5, 1, 0]) and np.allclose(m["set_recall"], [1, 1, 0])
    assert np.allclose(m["set_f1"], [2 / 3, 1, 0]) and np.allclose(m["exact_set"], [0, 1, 0])


def test_sql_context_quotes_names_and_shows_joins(tmp_path):
    profiles = profile_tables(discover(str(shop(tmp_path / "shop.sqlite"))), progress=False)
    g = join_graph(profiles)
    by = {p.name: p for p in profiles}
    text = sql_context([by["orders"], by["customers"], by["order"]],
                       [g.between("orders", "customers")])
    assert 'CREATE TABLE "order" (' in text and 'PRIMARY KEY ("order_id")' in text
    assert 'FOREIGN KEY ("customer_id") REFERENCES "customers" ("id")' in text
    assert "orders.customer_id = customers.id  (inferred from name pattern" in text
    assert "-- name: 'c1'" in text or "-- name: " in text
    assert "-- name" not in sql_context([by["customers"]], [], values=False)
    d = describe_table(by["order_items"], g)
    assert d["columns"][0] == {"column": "order_id", "type": "BIGINT",
                               "declared_type": "INTEGER", "comment": None, "primary_key": False,
                               "references": "orders.order_id", "distinct": 60,
                               "sample_values": d["columns"][0]["sample_values"]}
    assert any(j["source"] == "declared" for j in d["joins"])



def test_sql_context_quotes_join_names_that_are_no_plain_identifiers(tmp_path):
    """`"Order Details"."Order ID" = Orders."Order ID"`: written bare, the names with
    spaces were no SQL an LLM could copy."""
    db = tmp_path / "nw.sqlite"
    g = sqlite_join_graph(db, """
        CREATE TABLE Orders ("Order ID" INTEGER PRIMARY KEY, Customer TEXT);
        CREATE TABLE "Order Details" ("Order ID" INTEGER, Quantity INTEGER);
    """)
    by = {p.name: p for p in profile_tables(discover(str(db)), progress=False)}
    text = sql_context([by["Order Details"], by["Orders"]], g.joins)
    assert '--   "Order Details"."Order ID" = Orders."Order ID"  (inferred' in text
    from tablegraph.tables.schema import _plain
    assert _plain("sales.Orders", "postgres") == 'sales."Orders"'  # else it reads sales.orders
    assert _plain("sales.Orders", "duckdb") == "sales.Orders"


def test_sql_context_quotes_join_names_that_sql_reserves(tmp_path):
    """`order.user = user.id` is no SQL: `order` and `user` are reserved words."""
    db = tmp_path / "r.sqlite"
    g = sqlite_join_graph(db, """
        CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE "order" (id INTEGER PRIMARY KEY, "user" INTEGER REFERENCES user(id),
                              total REAL);
    """)
    by = {p.name: p for p in profile_tables(discover(str(db)), progress=False)}
    text = sql_context([by["order"], by["user"]], g.joins, values=False)
    assert '--   "order"."user" = "user".id  (declared)' in text


def test_a_key_column_in_many_tables_joins_the_table_it_identifies():
    from tablegraph.tables.records import ColumnProfile, TableProfile

    def col(n_distinct, sketch):
        return ColumnProfile("subject_id", "BIGINT", np.zeros(128, np.float32), [], n_distinct,
                             sketch)

    # patients has one row per subject; six event tables repeat subjects
    tables = [TableProfile("patients", "x", 10, 10, [col(10, list(range(10)))])] + \
        [TableProfile(f"events{i}", "x", 50, 50, [col(10, list(range(10)))]) for i in range(6)]
    g = join_graph(tables)
    assert len(g.joins) == 6 and all(j.right == "patients" for j in g.joins)  # a star
    assert {j.confidence for j in g.joins} == {0.8} and g.between("events0", "events1") is None


def test_a_code_joins_the_dictionary_whose_name_it_shares():
    from tablegraph.tables.records import ColumnProfile, TableProfile

    def table(name, rows, n_distinct):
        c = ColumnProfile("icd_code", "VARCHAR", np.zeros(128, np.float32), [], n_distinct, [])
        return TableProfile(name, "x", rows, rows, [c])

    # two dictionaries, whose codes repeat now and then across code versions (99.5% distinct),
    # and two event tables, each coding against one of them
    g = join_graph([table("d_icd_diagnoses", 1000, 995), table("d_icd_procedures", 800, 800),
                    table("diagnoses_icd", 300, 120), table("procedures_icd", 200, 90)])
    assert g.between("diagnoses_icd", "d_icd_diagnoses") is not None
    assert g.between("procedures_icd", "d_icd_procedures") is not None
    assert g.between("diagnoses_icd", "d_icd_procedures") is None
    assert g.between("procedures_icd", "d_icd_diagnoses") is None
    assert g.between("diagnoses_icd", "d_icd_diagnoses").right == "d_icd_diagnoses"
    # two code systems that share a column name, each used by its own tables: not joined
    assert g.between("d_icd_diagnoses", "d_icd_procedures") is None
    assert len(g.joins) == 2


def test_sql_context_writes_a_schema_qualified_reference_as_two_names(tmp_path):
    """A table in a schema other than the default is `"sales"."people"` wherever the
    statements name it, its foreign keys' REFERENCES too (not one name with a dot in it)."""
    db = tmp_path / "two.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA sales; CREATE TABLE sales.people (id INT PRIMARY KEY, name TEXT);"
                "CREATE TABLE sales.orders (id INT, person_id INT REFERENCES sales.people (id));"
                "INSERT INTO sales.people VALUES (1, 'Ann'); INSERT INTO sales.orders VALUES (1, 1)")
    con.close()
    profiles = profile_tables(discover(str(db)), progress=False)
    by = {p.name: p for p in profiles}
    text = sql_context([by["sales.orders"], by["sales.people"]], [], values=False)
    assert 'CREATE TABLE "sales"."orders" (' in text
    assert 'REFERENCES "sales"."people" ("id")' in text, text


def test_sql_context_writes_a_foreign_key_only_where_the_other_side_identifies_rows():
    from tablegraph.tables.records import ColumnProfile, TableProfile
    from tablegraph.tables.stats import STATS_DIM

    def table(name, distinct, sampled):
        col = ColumnProfile("customer_id", "BIGINT", np.zeros(STATS_DIM, dtype=np.float32),
                            n_distinct=distinct)
        return TableProfile(name, "shop.sqlite", sampled, sampled, [col])

    join = Join("orders", ("customer_id",), "returns", ("customer_id",), "inferred", 0.5,
                "same key column")
    for distinct, sampled, key in ((10, 100, False), (100, 100, True), (0, 0, True)):
        text = sql_context([table("orders", 10, 100), table("returns", distinct, sampled)],
                           [join])
        fk = 'FOREIGN KEY ("customer_id") REFERENCES "returns" ("customer_id")'
        assert (fk in text) is key, (distinct, sampled, text)
        assert "orders.customer_id = returns.customer_id  (inferred from same key column" \
            in text


def test_a_code_beside_its_version_joins_on_both(tmp_path):
    """A dictionary whose codes repeat across versions (ICD-9 and ICD-10 share a few) is
    keyed by code and version together, also when the sample happens to hold each code once:
    the inferred join and the sql-context foreign key use both columns."""
    db = tmp_path / "codes.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE d_codes (icd_code TEXT, icd_version INTEGER, title TEXT);
        CREATE TABLE coded (stay INTEGER, icd_code TEXT, icd_version INTEGER);
    """)
    rows = [(f"C{i:04d}", 9 if i < 1500 else 10, f"title {i}") for i in range(3000)]
    rows += [("C0007", 10, "title 7 in version 10")]  # one code in both versions
    con.executemany("INSERT INTO d_codes VALUES (?, ?, ?)", rows)
    con.executemany("INSERT INTO coded VALUES (?, ?, ?)",
                    [(i, f"C{i % 300:04d}", 9) for i in range(400)])
    con.commit()
    con.close()
    for max_rows in (20_000, 200):  # the whole table, and a sample that misses the repeat
        profiles = profile_tables(discover(str(db)), max_rows=max_rows, progress=False,
                                  use_cache=False)
        by = {p.name: p for p in profiles}
        assert by["d_codes"].unique_keys == [["icd_code", "icd_version"]], max_rows
        assert by["coded"].unique_keys == []
        j = join_graph(profiles).between("coded", "d_codes")
        assert (j.left, j.left_columns, j.right_columns) == \
            ("coded", ("icd_code", "icd_version"), ("icd_code", "icd_version")), max_rows
        text = sql_context([by["coded"], by["d_codes"]], [j])
        assert 'FOREIGN KEY ("icd_code", "icd_version") REFERENCES "d_codes" ("icd_code", "icd_version")' in text
        assert "coded.icd_version = d_codes.icd_version" in text


def test_a_column_named_for_a_table_and_more_joins_its_own_key_not_the_others(tmp_path):
    """`order_id` begins the name of `order_items`, whose key is `order_item_id`: the key of
    an order's lines, not of orders. The column joins `order_items` on its own `order_id`
    (or nowhere), never `order_id = order_item_id`; nor does `staff_id` join
    `staff_roles.role_code`. A column that names a table whose key has another name
    (`sales_person_id` -> `sales_person.business_entity_id`) still joins that key."""
    g = sqlite_join_graph(tmp_path / "d.sqlite", """
        CREATE TABLE customer_orders (order_id INTEGER PRIMARY KEY, placed TEXT);
        CREATE TABLE order_items (order_item_id INTEGER PRIMARY KEY, order_id INTEGER,
                                  qty INTEGER);
        CREATE TABLE invoices (invoice_id INTEGER PRIMARY KEY, order_id INTEGER,
                               order_item_id INTEGER);
        CREATE TABLE staff_roles (role_code TEXT PRIMARY KEY, label TEXT);
        CREATE TABLE project_staff (staff_id INTEGER PRIMARY KEY, role_code TEXT);
        CREATE TABLE sales_person (business_entity_id INTEGER PRIMARY KEY, quota REAL);
        CREATE TABLE sales_order (id INTEGER PRIMARY KEY, sales_person_id INTEGER);
    """)
    conditions = {c for j in g.every() for c in j.conditions()}
    assert not {c for c in conditions if c.endswith("= order_items.order_item_id")
                and ".order_id " in c}
    assert "invoices.order_item_id = order_items.order_item_id" in conditions
    assert "project_staff.staff_id = staff_roles.role_code" not in conditions
    assert "project_staff.role_code = staff_roles.role_code" in conditions
    assert g.between("sales_order", "sales_person").conditions() == \
        ["sales_order.sales_person_id = sales_person.business_entity_id"]


def test_every_join_a_query_may_need_is_kept_beside_the_one_per_pair(tmp_path):
    """Two declared keys to one table (a wedding's two people), a table's key to itself (a
    manager) and two inferred joins to one table (a flight's two airports): the graph keeps
    one join per pair for completing sets, the others in `also`; a set that joins two such
    tables lists both joins, `schema` and the describe record list all, and an index saved
    before `also` existed reads as having none."""
    g = sqlite_join_graph(tmp_path / "d.sqlite", """
        CREATE TABLE people (people_id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE wedding (male_id INTEGER REFERENCES people(people_id),
                              female_id INTEGER REFERENCES people(people_id), year INTEGER);
        CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT,
                                manager_id INTEGER REFERENCES employees(id));
        CREATE TABLE airports (id INTEGER PRIMARY KEY, code TEXT);
        CREATE TABLE flights (id INTEGER PRIMARY KEY, origin_airport_id INTEGER,
                              dest_airport_id INTEGER);
    """)
    assert len(g.joins) == 2 and g.between("wedding", "people") is not None
    also = {c for j in g.also for c in j.conditions()}
    assert "employees.manager_id = employees.id" in also
    pair = {c for j in g.every() if {j.left, j.right} == {"wedding", "people"}
            for c in j.conditions()}
    assert pair == {"wedding.male_id = people.people_id", "wedding.female_id = people.people_id"}
    flights = {c for j in g.every() if {j.left, j.right} == {"flights", "airports"}
               for c in j.conditions()}
    assert flights == {"flights.origin_airport_id = airports.id",
                       "flights.dest_airport_id = airports.id"}
    scores = np.array([{"flights": 1.0, "airports": 0.99}.get(t, 0.0) for t in g.tables])
    chosen = select_set(scores, g.tables, g, SetConfig(seed_weight=0.5))
    assert set(chosen.tables) == {"airports", "flights"} and len(chosen.joins) == 2
    assert chosen.parts() == [chosen.tables]
    profiles = {p.name: p for p in profile_tables(discover(str(tmp_path / "d.sqlite")),
                                                  progress=False, use_cache=False)}
    assert [j["left"] for j in describe_table(profiles["employees"], g)["joins"]] == \
        ["employees.manager_id"]  # its join to itself
    assert len(describe_table(profiles["people"], g)["joins"]) == 2
    assert JoinGraph.from_json(g.to_json()) == g
    old = {k: v for k, v in g.to_json().items() if k != "also"}
    assert JoinGraph.from_json(old).also == []

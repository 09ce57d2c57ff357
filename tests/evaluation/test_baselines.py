import numpy as np

from tablegraph.evaluation.baselines import (BM25Scorer, ClassifierScorer, DenseScorer,
                                            dense_fk_sets, fuse, hop_set)
from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.graphs.nodes import GraphConfig, table_nodes
from tablegraph.tables.profile import profile_tables
from tablegraph.tables.questions import Question
from tablegraph.tables.sources import discover
from tablegraph.text.encoders import HashEncoder


def test_baselines_are_scorers_for_the_one_evaluator(tiny_tables):
    nodes = [table_nodes(p, GraphConfig()) for p in
             profile_tables(discover(tiny_tables), progress=False)]
    names = [n.table for n in nodes]
    assert nodes[2].document().startswith("prescriptions. columns: subject id, drug, route")
    qs = [Question("heparin route", ("prescriptions",)), Question("value unit", ("labevents",)),
          Question("gender and age", ("patients",))]
    ev = RetrievalEvaluator(qs, names)
    enc = HashEncoder(64)
    for scorer in (BM25Scorer(nodes), DenseScorer(enc, nodes)):
        m = ev(scorer)
        assert m["hit@1"] == 1.0, (scorer.name, m)
    clf = ClassifierScorer(enc, names, qs)
    assert ev(clf)["hit@1"] == 1.0
    s = fuse(BM25Scorer(nodes)(ev.texts), DenseScorer(enc, nodes)(ev.texts))
    assert s.shape == (3, 3) and np.allclose(s.mean(axis=1), 0, atol=1e-6)


def test_a_baselines_hop_follows_its_own_scores_not_the_order_it_was_listed_in():
    names = ["admissions", "d_items", "labevents", "patients"]
    scores = np.array([0.2, 0.9, 0.5, 0.7])
    # listed alphabetically (dense+fk's neighbours) or in a set's order (schema-search's)
    for hop in (["admissions", "d_items", "patients"], ["patients", "admissions", "d_items"]):
        assert hop_set(scores, names, "labevents", hop + ["labevents"]) == [
            "labevents", "d_items", "patients", "admissions"]
    assert hop_set(np.zeros(4), names, "d_items", ["patients", "admissions"]) == [
        "d_items", "admissions", "patients"]  # ties by name
    assert hop_set(scores, names, "patients", []) == ["patients"]


def test_dense_fk_sets_are_the_best_table_and_its_join_neighbours_by_score():
    from tablegraph.tables.joins import Join, JoinGraph

    names = ["admissions", "d_labitems", "labevents", "patients", "notes"]
    g = JoinGraph(names, [Join(a, ("id",), b, ("id",), "declared", 1.0, "fk") for a, b in
                          [("labevents", "admissions"), ("labevents", "d_labitems"),
                           ("admissions", "patients")]])
    scores = np.array([[0.1, 0.6, 0.9, 0.3, 0.8],    # labevents best
                       [0.2, 0.1, 0.3, 0.1, 0.95]])  # notes best: joins nothing
    assert dense_fk_sets(scores, names, g) == [["labevents", "d_labitems", "admissions"],
                                               ["notes"]]
    assert dense_fk_sets(scores, names, None) == [["labevents"], ["notes"]]


def test_schema_search_ranks_tables_of_a_sqlite_file(tmp_path):
    import sqlite3

    import pytest

    pytest.importorskip("schema_search")
    from tablegraph.evaluation.baselines import SchemaSearchScorer
    from tablegraph.text.encoders import load_text_encoder

    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, full_name TEXT, email TEXT);
        CREATE TABLE orders (order_id INTEGER PRIMARY KEY, placed_at TEXT, total REAL);
        CREATE TABLE refunds (refund_id INTEGER PRIMARY KEY, customer_id INTEGER
            REFERENCES customers(customer_id), order_id INTEGER REFERENCES orders(order_id),
            refund_amount REAL, reason TEXT);
        CREATE TABLE warehouses (warehouse_id INTEGER PRIMARY KEY, city TEXT, capacity INTEGER);
    """)
    con.close()
    names = ["customers", "orders", "refunds", "warehouses"]
    peer = SchemaSearchScorer(str(db), names, load_text_encoder().path, "semantic")
    try:
        ranked = peer.ranked("how much money was refunded and why")
        assert ranked[0][0] == "refunds" and "customers" in ranked[0][2]  # a foreign-key hop
        s, sets = peer.run(["how much money was refunded and why", "storage capacity per city"])
        assert sets[0][0] == "refunds" and set(sets[0][1:]) == {"customers", "orders"}
        # the hop in the peer's own order
        assert sets[0] == hop_set(s[0], names, "refunds", ["orders", "customers"])
        assert (peer(["storage capacity per city"]) == s[1:]).all()
        assert s.shape == (2, 4) and s[0].argmax() == 2 and s[1].argmax() == 3
    finally:
        peer.close()
    # any other source: the tables as tablegraph reads them, copied into a schema-only SQLite
    folder = tmp_path / "shop_csv"
    folder.mkdir()
    for t, header in (("customers", "customer_id,full_name,email"),
                      ("orders", "order_id,placed_at,total"),
                      ("refunds", "refund_id,customer_id,order_id,refund_amount,reason"),
                      ("warehouses", "warehouse_id,city,capacity")):
        (folder / f"{t}.csv").write_text(header + "\n" + ",".join("1" for _ in
                                                                  header.split(",")) + "\n")
    peer = SchemaSearchScorer(str(folder), names, load_text_encoder().path, "semantic")
    try:
        s, sets = peer.run(["how much money was refunded and why", "storage capacity per city"])
        assert s[0].argmax() == 2 and s[1].argmax() == 3
        assert sets[0] == ["refunds"]  # no declared keys in CSV files: no hop
    finally:
        peer.close()
    with pytest.raises(Exception, match="schema-search needs the tables: give --tables"):
        SchemaSearchScorer(None, names, "unused")


def test_schema_copy_declares_what_the_catalog_would(tmp_path):
    """Columns with their declared type (else the type read; TEXT where SQLite cannot spell
    it), the declared primary and foreign keys, no rows."""
    import sqlite3
    from types import SimpleNamespace as NS

    from tablegraph.evaluation.baselines import schema_copy
    from tablegraph.tables.records import ForeignKey

    def col(name, declared="", dtype="VARCHAR"):
        return NS(name=name, declared=declared, dtype=dtype)

    profiles = [NS(name="Customer Accounts", columns=[col("id", "INTEGER"), col("tags", "",
                                                                               "VARCHAR[]")],
                   primary_key=["id"], foreign_keys=[]),
                NS(name="sales.orders", columns=[col("id", "", "BIGINT"), col("account_id"),
                                                 col("total", "", "DECIMAL(10,2)"),
                                                 col("mood", "", "ENUM('a', 'b')")],
                   primary_key=[], foreign_keys=[ForeignKey(("account_id",),
                                                            "Customer Accounts", ("id",))])]
    path = schema_copy(profiles, tmp_path / "s.sqlite")
    con = sqlite3.connect(path)
    cols = {t: [(r[1], r[2], r[5]) for r in con.execute(f'PRAGMA table_info("{t}")')]
            for t in ("Customer Accounts", "sales.orders")}
    assert cols == {"Customer Accounts": [("id", "INTEGER", 1), ("tags", "TEXT", 0)],
                    "sales.orders": [("id", "BIGINT", 0), ("account_id", "VARCHAR", 0),
                                     ("total", "DECIMAL(10,2)", 0), ("mood", "TEXT", 0)]}
    fk = con.execute('PRAGMA foreign_key_list("sales.orders")').fetchall()
    assert [(r[2], r[3], r[4]) for r in fk] == [("Customer Accounts", "account_id", "id")]
    assert con.execute('SELECT count(*) FROM "sales.orders"').fetchone() == (0,)

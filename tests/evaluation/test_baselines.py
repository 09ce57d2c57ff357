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
    with pytest.raises(Exception, match="SQLite files and PostgreSQL"):
        SchemaSearchScorer(str(tmp_path), names, "unused")

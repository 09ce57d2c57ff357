import numpy as np

from tablegraph.evaluation.baselines import (BM25Scorer, ClassifierScorer, DenseScorer, fuse,
                                             table_text)
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
    assert table_text(nodes[2]).startswith("prescriptions. columns: subject id, drug, route")
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

import numpy as np
import pytest

from tablegraph.evaluation.metrics import ranks_of_gold, retrieval_metrics


def test_single_gold_rankings():
    # 3 questions, 4 tables; gold ranks 1, 2 and 4.
    s = np.array([[0.9, 0.1, 0.0, 0.2],
                  [0.5, 0.6, 0.1, 0.0],
                  [0.9, 0.8, 0.7, 0.1]])
    gold = [{0}, {0}, {3}]
    assert ranks_of_gold(s, gold) == [[1], [2], [4]]
    m = retrieval_metrics(s, gold, ks=(1, 2))
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@2"] == pytest.approx(2 / 3)
    assert m["recall@2"] == m["hit@2"] and m["all@2"] == m["hit@2"]
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 4) / 3)
    assert m["n"] == 3


def test_multi_gold_hit_recall_all():
    # gold {0, 2}; ranking 0 > 1 > 2 > 3: gold at ranks 1 and 3.
    s = np.array([[0.9, 0.8, 0.7, 0.1]])
    m = retrieval_metrics(s, [{0, 2}], ks=(1, 2, 3))
    assert (m["hit@1"], m["recall@1"], m["all@1"]) == (1.0, 0.5, 0.0)
    assert (m["hit@2"], m["recall@2"], m["all@2"]) == (1.0, 0.5, 0.0)
    assert (m["hit@3"], m["recall@3"], m["all@3"]) == (1.0, 1.0, 1.0)
    assert m["mrr"] == 1.0


def test_ties_break_by_table_order():
    s = np.zeros((1, 3))
    assert ranks_of_gold(s, [{2}]) == [[3]]


def test_per_question_and_bootstrap():
    from tablegraph.evaluation.metrics import bootstrap_ci, per_question

    s = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])
    pq = per_question(s, [{0, 2}, {0}])
    assert pq["hit@1"].tolist() == [1.0, 0.0]
    assert pq["recall@5"].tolist() == [1.0, 1.0]
    assert pq["mrr"].tolist() == [1.0, 0.25]
    lo, hi = bootstrap_ci(np.array([1.0] * 10))
    assert lo == hi == 1.0
    lo, hi = bootstrap_ci(np.array([0.0, 1.0] * 50))
    assert 0.35 < lo < 0.5 < hi < 0.65
    m = retrieval_metrics(s, [{0, 2}, {0}])
    assert m["hit@1"] == pq["hit@1"].mean() and m["mrr"] == pq["mrr"].mean()


def test_no_questions_gives_zeros_not_nan():
    m = retrieval_metrics(np.zeros((0, 3)), [])
    assert m["n"] == 0 and all(v == 0.0 for v in m.values())


def test_coverage_depth_is_the_share_of_tables_read_to_see_every_gold_one():
    from tablegraph.evaluation.metrics import coverage_depth

    s = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])
    assert coverage_depth(s, [{0, 2}, {3}]).tolist() == [0.75, 0.25]

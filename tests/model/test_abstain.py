import numpy as np
import pytest

from tablegraph.model.abstain import (ABSTAIN_FEATURES, AbstainHead, abstain_features,
                                      fit_abstain_head)
from tablegraph.model.linking import SchemaLinker
from tablegraph.utils import TableGraphError

LINKER = SchemaLinker([(f"t{i}", ["patient_id", f"col{i}", "admit_time"], ["Emergency"])
                       for i in range(12)])


def test_abstention_separates_peaked_from_flat_scores():
    rng = np.random.default_rng(0)
    peaked = rng.normal(0.1, 0.05, (200, 12))
    peaked[:, 0] += 0.5  # one table stands out: someone answers this
    flat = rng.normal(0.1, 0.05, (200, 12))  # nothing stands out
    qs = ["when was the patient admitted?"] * 200
    x = abstain_features(peaked, qs, LINKER)
    assert x.shape == (200, len(ABSTAIN_FEATURES))
    assert (x[:, ABSTAIN_FEATURES.index("margin")] > 0.2).mean() > 0.9
    head = fit_abstain_head(x, abstain_features(flat, qs, LINKER))
    assert (head.confidence(peaked, qs, LINKER) > 0.5).mean() > 0.95
    assert (head.confidence(flat, qs, LINKER) < 0.5).mean() > 0.95
    assert AbstainHead.from_dict(head.to_dict()) == head
    assert AbstainHead.from_dict({**head.to_dict(), "features": ["max"]}) is None
    one = abstain_features(np.array([[0.3]]), ["x"], SchemaLinker([("t", ["a"], [])]),
                           dense=np.array([[0.4]]))
    assert np.isfinite(one).all()  # a database of one table: finite


def test_words_the_schema_does_not_hold_lower_the_confidence():
    """Same scores, different words: a question about what no table holds ("operating
    system", "airport") leaves its words unmatched, and the head learns to doubt it."""
    rng = np.random.default_rng(1)
    scores = rng.normal(0.1, 0.05, (400, 12))
    known = ["which patient had an emergency admit time?"] * 200
    unknown = ["which operating system do airport pilots use?"] * 200
    x = abstain_features(scores, known + unknown, LINKER)
    # the scorer's linking features, passed in, give the same features as computing them
    np.testing.assert_array_equal(
        abstain_features(scores, known + unknown, LINKER,
                         link=LINKER.features(known + unknown)), x)
    share = ABSTAIN_FEATURES.index("word_share")
    assert x[0, share] == 1.0 and x[-1, share] == 0.0
    head = fit_abstain_head(x[:200], x[200:])
    assert (head.confidence(scores[:200], known, LINKER) >
            head.confidence(scores[200:], unknown, LINKER)).all()


def test_the_meaning_a_question_shares_with_a_table_counts_without_its_words():
    """Neither kind of question shares a word with the schema and their scores look alike,
    but the text model finds the first close to a table's document (dense_max), the others
    near none: the head fitted with dense_max keeps the first. A head fitted without
    documents (all NaN) reads the other features only, as a saved one from before does; one
    that reads dense_max refuses scores without them."""
    rng = np.random.default_rng(2)
    scores = rng.normal(0.1, 0.05, (400, 12))
    qs = ["where do buyers live"] * 400
    dense = rng.normal(0.1, 0.05, (400, 12))
    dense[:200, 3] = rng.normal(0.55, 0.05, 200)  # close in meaning to table 3
    x = abstain_features(scores, qs, LINKER, dense=dense)
    best = x[:, ABSTAIN_FEATURES.index("dense_max")]
    np.testing.assert_allclose(best, dense.max(axis=1))
    head = fit_abstain_head(x[:200], x[200:])
    assert head.features == ABSTAIN_FEATURES
    p = head.confidence(scores, qs, LINKER, dense=dense)
    assert (p[:200] > 0.5).mean() > 0.95 and (p[200:] < 0.5).mean() > 0.95
    with pytest.raises(TableGraphError, match="documents"):
        head.confidence(scores, qs, LINKER)
    blind = abstain_features(scores, qs, LINKER)  # no documents: dense_max is NaN
    old = fit_abstain_head(blind[:200], blind[200:])
    assert old.features == ABSTAIN_FEATURES[:-1] and len(old.coef) == len(ABSTAIN_FEATURES) - 1
    assert AbstainHead.from_dict(old.to_dict()) == old  # a model saved before dense_max
    np.testing.assert_allclose(old.predict(x), old.predict(blind))
    with pytest.raises(ValueError, match="lack"):
        fit_abstain_head(x[:200], blind[200:])

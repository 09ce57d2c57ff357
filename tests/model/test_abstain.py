import numpy as np

from tablegraph.model.abstain import (ABSTAIN_FEATURES, AbstainHead, abstain_features,
                                      fit_abstain_head)
from tablegraph.model.linking import SchemaLinker

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
    one = abstain_features(np.array([[0.3]]), ["x"], SchemaLinker([("t", ["a"], [])]))
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

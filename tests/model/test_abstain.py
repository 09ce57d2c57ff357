import numpy as np

from tablegraph.model.abstain import (ABSTAIN_FEATURES, AbstainHead, abstain_features,
                                      fit_abstain_head)


def test_abstention_separates_peaked_from_flat_scores():
    rng = np.random.default_rng(0)
    peaked = rng.normal(0.1, 0.05, (200, 12))
    peaked[:, 0] += 0.5  # one table stands out: someone answers this
    flat = rng.normal(0.1, 0.05, (200, 12))  # nothing stands out
    x = abstain_features(peaked)
    assert x.shape == (200, len(ABSTAIN_FEATURES))
    assert (x[:, ABSTAIN_FEATURES.index("margin")] > 0.2).mean() > 0.9
    head = fit_abstain_head(x, abstain_features(flat))
    assert (head.confidence(peaked) > 0.5).mean() > 0.95
    assert (head.confidence(flat) < 0.5).mean() > 0.95
    assert AbstainHead.from_dict(head.to_dict()) == head
    assert AbstainHead.from_dict({**head.to_dict(), "features": ["max"]}) is None
    one = abstain_features(np.array([[0.3]]))  # a database of one table: finite
    assert np.isfinite(one).all()

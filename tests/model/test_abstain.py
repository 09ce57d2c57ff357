import numpy as np
import pytest

from tablegraph.model.abstain import (ABSTAIN_FEATURES, ABSTAIN_TERMS, AbstainHead,
                                      abstain_features, fit_abstain_head)
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
    assert old.features == tuple(f for f in ABSTAIN_FEATURES if f != "dense_max")
    f = len(ABSTAIN_FEATURES) - 1  # each feature, the others times names_unread, squares
    assert len(old.coef) == len(old.mean) == f + (f - 1) + f
    assert AbstainHead.from_dict(old.to_dict()) == old  # a model saved before dense_max
    np.testing.assert_allclose(old.predict(x), old.predict(blind))
    with pytest.raises(ValueError, match="lack"):
        fit_abstain_head(x[:200], blind[200:])


def test_a_schema_whose_names_say_little_is_not_taken_for_one_that_answers_nothing():
    """An abbreviated schema (`cstm`, `ordr_ttl`) scores its own questions as low as a
    readable one scores questions it cannot answer. The share of its name words that are no
    common word (`names_unread`) tells the two apart, and the head keeps both kinds of
    answerable question and catches both kinds of other."""
    plain = SchemaLinker([("customers", ["id", "name", "city"], []),
                          ("orders", ["id", "customer_id", "total"], [])])
    short = SchemaLinker([("cstm", ["id", "nm", "cty"], []),
                          ("ordr", ["id", "cstm_id", "ttl"], [])])
    assert plain.names_unread == 0.0 and short.names_unread == 1.0
    rng = np.random.default_rng(3)

    def rows(linker, best):
        scores = rng.normal(0.1, 0.03, (200, 2))
        scores[:, 0] += best
        return abstain_features(scores, ["what is it"] * 200, linker,
                                dense=rng.normal(0.3, 0.03, (200, 2)))
    a = np.concatenate([rows(plain, 0.5), rows(short, 0.2)])  # answerable
    u = np.concatenate([rows(plain, 0.2), rows(short, 0.0)])  # answerable nowhere there
    unread = ABSTAIN_FEATURES.index("names_unread")
    assert set(a[:, unread]) == {0.0, 1.0}
    head = fit_abstain_head(a, u)
    assert (head.predict(a) > 0.5).mean() > 0.95 and (head.predict(u) < 0.5).mean() > 0.95


def test_rows_weigh_as_told():
    """A row of weight 0 is as good as absent; without weights every row weighs 1."""
    rng = np.random.default_rng(4)
    qs = ["when was the patient admitted?"] * 100
    a = abstain_features(rng.normal(0.4, 0.1, (100, 12)), qs, LINKER)
    u = abstain_features(rng.normal(0.1, 0.1, (100, 12)), qs, LINKER)
    noise = abstain_features(rng.normal(0.1, 0.1, (50, 12)), qs[:50], LINKER)  # "answerable"
    alone = fit_abstain_head(a, u)
    muted = fit_abstain_head(np.concatenate([a, noise]), u,
                             weights=(np.r_[np.ones(100), np.zeros(50)], np.ones(100)))
    loud = fit_abstain_head(np.concatenate([a, noise]), u)
    x = np.concatenate([a, u])
    np.testing.assert_allclose(muted.predict(x), alone.predict(x), atol=0.05)
    assert np.abs(loud.predict(x) - alone.predict(x)).max() > 0.1


def test_a_signal_that_means_more_in_one_kind_of_schema_is_read_so():
    """In a readable schema the best score tells the two kinds of question apart; in an
    abbreviated one (`names_unread` 1) it says little and the margin over the second table
    does. A model of the features alone must weigh each the same for both schemas; with
    each feature times `names_unread` among its terms it reads each where it speaks. Its
    terms are saved with it, and a model saved before them (no "terms") stays linear."""
    rng = np.random.default_rng(5)
    n = 400
    x = np.zeros((4 * n, len(ABSTAIN_FEATURES)))
    unread = np.repeat([0.0, 0.0, 1.0, 1.0], n)
    y = np.tile(np.repeat([1, 0], n), 2).astype(bool)
    best, margin = ABSTAIN_FEATURES.index("max"), ABSTAIN_FEATURES.index("margin")
    x[:, ABSTAIN_FEATURES.index("names_unread")] = unread
    x[:, best] = np.where(unread == 0, np.where(y, 0.6, 0.2), 0.3) + rng.normal(0, .15, 4 * n)
    x[:, margin] = np.where(unread == 1, np.where(y, 0.3, 0.0), 0.15) + \
        rng.normal(0, .08, 4 * n)
    x[:, ABSTAIN_FEATURES.index("dense_max")] = rng.normal(0.3, 0.05, 4 * n)

    def accuracy(head):
        return ((head.predict(x) >= 0.5) == y).mean()
    linear = fit_abstain_head(x[y], x[~y], terms=("linear",))
    full = fit_abstain_head(x[y], x[~y])
    assert full.terms == ABSTAIN_TERMS and len(full.coef) > len(ABSTAIN_FEATURES)
    assert accuracy(full) > accuracy(linear) + 0.04 and accuracy(full) > 0.93
    assert AbstainHead.from_dict(full.to_dict()) == full
    saved = linear.to_dict()
    del saved["terms"]  # as a config written before the terms
    np.testing.assert_allclose(AbstainHead.from_dict(saved).predict(x), linear.predict(x))
    assert AbstainHead.from_dict({**full.to_dict(), "terms": ["linear"]}) is None


def test_a_feature_whose_middle_says_more_than_its_ends():
    """Answerable questions with a middling entropy, unanswerable ones at either end: no
    single weight on the feature separates them; its square does."""
    rng = np.random.default_rng(6)
    x = np.zeros((600, len(ABSTAIN_FEATURES)))
    ent = ABSTAIN_FEATURES.index("entropy")
    x[:, ent] = np.r_[rng.normal(0.5, 0.05, 300), rng.normal(0.15, 0.05, 150),
                      rng.normal(0.85, 0.05, 150)]
    x[:, ABSTAIN_FEATURES.index("dense_max")] = rng.normal(0.3, 0.05, 600)
    head = fit_abstain_head(x[:300], x[300:])
    assert (head.predict(x[:300]) >= 0.5).mean() > 0.95
    assert (head.predict(x[300:]) < 0.5).mean() > 0.95

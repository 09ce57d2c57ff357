"""The second stage over the join graph: its messages, what it learns, how it is saved and used."""

import numpy as np
import pytest
import torch

from tablegraph.model.joinstage import (STAGE_FEATURES, JoinStage, StageExample,
                                        fit_join_stage, stage_features)
from tablegraph.model.linking import NUM_FEATURES
from tablegraph.model.sets import SetConfig, final_ranking, select_set
from tablegraph.tables.joins import INFERRED, Join, JoinGraph

# facts references items (its dictionary); other and spare join nothing the question needs
NAMES = ["facts", "items", "other", "spare"]
GRAPH = JoinGraph(NAMES, [Join("facts", ("itemid",), "items", ("itemid",), INFERRED, 0.8,
                               "same key column"),
                          Join("other", ("id",), "spare", ("id",), INFERRED, 0.8,
                               "same key column")])
COL = {f: i for i, f in enumerate(STAGE_FEATURES)}


def test_messages_follow_the_joins_by_direction():
    scores = np.array([0.9, 0.5, 0.5, 0.2])
    x = stage_features(scores, None, NAMES, GRAPH, temperature=0.1)
    assert x.shape == (4, len(STAGE_FEATURES)) and x.dtype == np.float32
    w_facts = 1.0  # the best table's weight
    # items is referenced by the best table: it hears it, scaled by the join's confidence
    assert x[1, COL["from_referrer"]] == pytest.approx(w_facts * 0.8)
    assert x[1, COL["from_referenced"]] == 0
    # facts references items: it hears items' weight exp((0.5 - 0.9) / 0.1)
    assert x[0, COL["from_referenced"]] == pytest.approx(np.exp(-4.0) * 0.8, rel=1e-5)
    # other has the same score as items but no join to the best table
    assert x[2, COL["from_referrer"]] == 0 and x[2, COL["neighbour"]] < 0.01
    assert x[0, COL["top"]] == 1 and x[1:, COL["top"]].sum() == 0


def test_a_gap_bridge_joins_two_tables_that_do_not_join_each_other():
    """film - inventory - rental: inventory is the way between the two best tables; in a
    triangle, where they also join directly, no table is."""
    names = ["film", "inventory", "rental", "actor"]

    def join(a, b):
        return Join(a, (f"{b}_id",), b, ("id",), INFERRED, 0.9, "x_id names y")
    chain = JoinGraph(names, [join("inventory", "film"), join("rental", "inventory"),
                              join("actor", "film")])
    scores = np.array([0.9, 0.3, 0.85, 0.2])
    x = stage_features(scores, None, names, chain, temperature=0.1)
    w_rental = np.exp(-0.5)
    assert x[1, COL["gap_bridge"]] == pytest.approx(w_rental * 0.9, rel=1e-5)
    assert x[0, COL["gap_bridge"]] == pytest.approx(np.exp(-7.0) * 0.9, rel=1e-4)
    triangle = JoinGraph(names, chain.joins + [join("rental", "film")])
    y = stage_features(scores, None, names, triangle, temperature=0.1)
    assert y[1, COL["gap_bridge"]] == 0 and y[1, COL["bridge"]] == x[1, COL["bridge"]]


def _examples(rng: np.random.Generator, n: int) -> list[StageExample]:
    """facts is best; items and other score alike; the question needs items (the dictionary
    of facts), never other: only the join tells them apart."""
    scores = np.zeros((n, 4))
    scores[:, 0] = 0.8 + 0.05 * rng.random(n)
    scores[:, 1] = scores[:, 2] = 0.5 + 0.1 * rng.random(n)
    scores[:, 3] = 0.3 * rng.random(n)
    link = np.zeros((n, 4, NUM_FEATURES))
    return [StageExample(scores, link, NAMES, GRAPH, [{0, 1}] * n)]


def test_the_stage_learns_that_a_dictionary_comes_with_its_fact_table():
    stage = fit_join_stage(_examples(np.random.default_rng(0), 200), temperature=0.1,
                           epochs=30, batch_size=64)
    test = _examples(np.random.default_rng(1), 20)[0]
    for s in test.scores:
        p = stage.needed(s, None, NAMES, GRAPH, temperature=0.1)
        assert p[0] > 0.5 and p[1] > 0.5 and p[2] < 0.5 and p[3] < 0.5
        chosen = select_set(s, NAMES, GRAPH, SetConfig(), p)
        assert set(chosen.tables) == {"facts", "items"}
        assert [j.to_dict()["left"] for j in chosen.joins] == ["facts.itemid"]
    # swap the joins: now other is the dictionary of facts, and it is other that is needed
    swapped = JoinGraph(NAMES, [Join("facts", ("itemid",), "other", ("itemid",), INFERRED, 0.8,
                                     "same key column"),
                                Join("items", ("id",), "spare", ("id",), INFERRED, 0.8,
                                     "same key column")])
    for s in test.scores:
        p = stage.needed(s, None, NAMES, swapped, temperature=0.1)
        assert p[2] > 0.5 and p[1] < 0.5


def test_noise_adds_one_perturbed_copy_of_each_question(monkeypatch):
    """With noise, each question is fitted as scored and once with noisy scores (what a
    database the encoder never saw looks like); without, as scored only."""
    import tablegraph.model.joinstage as js

    seen = []
    real = js.stage_features

    def spy(scores, *args, **kwargs):
        seen.append(np.array(scores))
        return real(scores, *args, **kwargs)

    monkeypatch.setattr(js, "stage_features", spy)
    ex = _examples(np.random.default_rng(0), 3)
    fit_join_stage(ex, temperature=0.1, epochs=1, noise=0.0, members=1)
    assert len(seen) == 3
    seen.clear()
    fit_join_stage(ex, temperature=0.1, epochs=1, noise=0.05, members=1)
    assert len(seen) == 6
    assert np.array_equal(seen[0], ex[0].scores[0])
    assert 0 < np.abs(seen[1] - ex[0].scores[0]).max() < 0.5
    # several members: the questions as scored once for all, each member its own noise
    seen.clear()
    fit_join_stage(ex, temperature=0.1, epochs=1, noise=0.05, members=2)
    assert len(seen) == 3 + 2 * 3
    first, second = seen[3:6], seen[6:9]
    assert not any(np.array_equal(a, b) for a, b in zip(first, second))


def test_final_ranking_keeps_the_first_stage_best_table_first():
    scores = np.array([0.2, 0.9, 0.5])
    needed = np.array([0.95, 0.7, 0.1])
    r = final_ranking(scores, needed)
    assert list(np.argsort(-r)) == [1, 0, 2]
    assert r[0] == 0.95 and r[2] == 0.1
    assert final_ranking(scores, None).tolist() == scores.tolist()


def test_final_ranking_puts_the_set_before_every_other_table():
    scores = np.array([0.9, 0.2, 0.3, 0.1, 0.4])
    needed = np.array([0.8, 0.9, 0.6, 0.05, 0.7])
    # the set: the best table, a seed and a bridge the stage thought unlikely (3)
    r = final_ranking(scores, needed, [0, 1, 3])
    assert list(np.argsort(-r, kind="stable")) == [0, 1, 3, 4, 2]
    # raised just above the best table outside the set, the others keep their probability
    assert r[3] == pytest.approx(0.7 + 1e-6) and r[4] == 0.7 and r[2] == 0.6
    assert r[1] == 0.9 and r[0] == pytest.approx(0.9 + 1e-6)
    # a set of one is the first stage's best table alone
    assert np.array_equal(final_ranking(scores, needed, [0]), final_ranking(scores, needed))


def test_the_stage_is_saved_with_the_model_and_checked(tmp_path):
    from tablegraph.model.config import EncoderConfig
    from tablegraph.model.encoder import ContrastiveGNNEncoder
    from tablegraph.model.folder import STAGE_FILE, load_model, save_model
    from tablegraph.utils import TableGraphError

    torch.manual_seed(0)
    stage = JoinStage()
    cfg = EncoderConfig(in_dim=200, out_dim=384)
    config = {"text_model": {"name": "x", "dim": 384}, "graph": {}}
    save_model(tmp_path / "m", ContrastiveGNNEncoder(cfg), config, None, join_stage=stage)
    back = load_model(tmp_path / "m").join_stage()
    s = np.array([0.9, 0.5, 0.5, 0.2])
    assert np.allclose(back.needed(s, None, NAMES, GRAPH), stage.needed(s, None, NAMES, GRAPH))
    save_model(tmp_path / "n", ContrastiveGNNEncoder(cfg), config, None)
    assert load_model(tmp_path / "n").join_stage() is None
    # a stage of another version, fitted on another list of features, is named as such
    older = JoinStage()
    older.members[0].lo = torch.zeros(len(STAGE_FEATURES) - 1)
    save_model(tmp_path / "o", ContrastiveGNNEncoder(cfg), config, None, join_stage=older)
    with pytest.raises(TableGraphError, match="another version.*tablegraph train"):
        load_model(tmp_path / "o").join_stage()
    (tmp_path / "m" / STAGE_FILE).write_bytes(b"damaged")
    with pytest.raises(TableGraphError, match="checksum"):
        load_model(tmp_path / "m")


def test_the_stage_reads_the_scores_without_what_naming_a_table_adds(tmp_path):
    """A question that names `facts` as the schema writes it puts it first by the first
    stage's `table_name` weight; the stage reads the scores without that weight, so the
    tables it needs beside `facts` keep the weight they would have had, in fitting as in
    use, and the weight travels with the saved stage."""
    from tablegraph.model.linking import FEATURE_NAMES

    link = np.zeros((4, NUM_FEATURES))
    link[0, FEATURE_NAMES.index("table_name")] = 1.0
    scores = np.array([0.9, 0.5, 0.5, 0.2])
    named = scores + 0.5 * link[:, 0]  # 0.5: a weight float32 holds exactly
    torch.manual_seed(0)
    stage = JoinStage(name_weight=0.5).eval()
    assert np.allclose(stage.stage_scores(named, link), scores)
    plain = JoinStage.from_state({k: v for k, v in stage.state().items() if k != "name_weight"})
    assert float(plain.name_weight) == 0.0  # a stage saved before the weight: none taken out
    # the stage reads the named question as the same stage without the weight reads the
    # scores the question would have had without the mention
    assert np.allclose(stage.needed(named, link, NAMES, GRAPH),
                       plain.needed(scores, link, NAMES, GRAPH))
    assert not np.allclose(plain.needed(named, link, NAMES, GRAPH),
                           plain.needed(scores, link, NAMES, GRAPH))
    back = JoinStage.from_state(stage.state())
    assert float(back.name_weight) == pytest.approx(0.5)
    # fitted with the weight, the stage is fitted on the scores without it
    ex = _examples(np.random.default_rng(0), 30)
    ex[0].link[:, 0, 0] = 1.0  # every question names facts
    bumped = [StageExample(ex[0].scores + 0.5 * ex[0].link[..., 0], ex[0].link, NAMES, GRAPH,
                           ex[0].gold)]
    a = fit_join_stage(ex, temperature=0.1, epochs=2, members=1)
    b = fit_join_stage(bumped, temperature=0.1, epochs=2, members=1, name_weight=0.5)
    c = fit_join_stage(bumped, temperature=0.1, epochs=2, members=1)
    assert float(b.name_weight) == pytest.approx(0.5)
    assert np.allclose(a.needed(scores, link, NAMES, GRAPH), b.needed(named, link, NAMES, GRAPH))
    assert not np.allclose(a.needed(scores, link, NAMES, GRAPH),
                           c.needed(named, link, NAMES, GRAPH))


def test_features_outside_the_training_range_are_clamped_to_its_edge():
    stage = fit_join_stage(_examples(np.random.default_rng(0), 50), temperature=0.1, epochs=2)
    x = torch.from_numpy(stage_features(np.array([0.9, 0.5, 0.5, 0.2]), None, NAMES, GRAPH, 0.1))
    far = x.clone()
    far[:, COL["log_tables"]] = 10.0  # a database far larger than any it was fitted on
    assert torch.allclose(stage(far), stage(x))
    assert all(float(m.hi[COL["log_tables"]]) == pytest.approx(np.log(4)) for m in stage.members)


def test_new_words_are_what_a_table_accounts_for_beyond_the_best_table():
    scores = np.array([0.9, 0.5, 0.5, 0.2])
    # the question's three words: the best table accounts for the first, items for the
    # first two, other for the third at half weight
    cover = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    x = stage_features(scores, None, NAMES, GRAPH, 0.1, cover)
    assert x[:, COL["new_words"]] == pytest.approx([0.0, 1 / 3, 0.5 / 3, 0.0])
    assert x[:, COL["words_left"]] == pytest.approx([2 / 3] * 4)
    # without a cover (or without content words) both are 0, the rest unchanged
    y = stage_features(scores, None, NAMES, GRAPH, 0.1)
    z = stage_features(scores, None, NAMES, GRAPH, 0.1, np.zeros((4, 0)))
    assert not y[:, [COL["new_words"], COL["words_left"]]].any() and np.array_equal(y, z)
    keep = [i for i in range(len(STAGE_FEATURES)) if i not in (COL["new_words"],
                                                               COL["words_left"])]
    assert np.array_equal(x[:, keep], y[:, keep])


def test_token_features_say_what_one_word_points_at_beyond_the_best_table():
    scores = np.array([0.9, 0.5, 0.5, 0.2])
    # two tokens; cosines with the tables' vectors [L, M] and with their best nodes [L, M]
    table = np.array([[0.8, 0.1, 0.2, 0.0], [0.3, 0.7, 0.1, 0.0]])
    node = np.array([[0.9, 0.2, 0.1, -1.0], [0.2, 0.6, 0.4, -1.0]])
    x = stage_features(scores, None, NAMES, GRAPH, 0.1, tokens=np.stack([table, node]))
    assert x[:, COL["token_node"]] == pytest.approx([0.9, 0.6, 0.4, -1.0])
    # the second token points at items (0.7) where the best table, facts, has 0.3
    assert x[:, COL["token_gain"]] == pytest.approx([0.0, 0.4, -0.2, -0.3])
    assert x[:, COL["token_node_gain"]] == pytest.approx([0.0, 0.4, 0.2, -1.2])
    # without tokens (or a question of none) all three are 0
    for tokens in (None, np.zeros((2, 0, 4))):
        y = stage_features(scores, None, NAMES, GRAPH, 0.1, tokens=tokens)
        assert not y[:, [COL["token_node"], COL["token_gain"], COL["token_node_gain"]]].any()


def test_rank_and_set_ranks_the_bridge_of_the_set_before_likelier_tables_outside_it():
    from tablegraph.model.sets import rank_and_set

    names = ["film", "inventory", "rental", "actor"]
    chain = JoinGraph(names, [Join("inventory", ("film_id",), "film", ("film_id",), INFERRED,
                                   0.9, "x_id names y"),
                              Join("rental", ("inventory_id",), "inventory",
                                   ("inventory_id",), INFERRED, 0.9, "x_id names y")])

    class Stage:  # the stage's probabilities, fixed: the bridge itself looks unlikely
        def needed(self, *args):
            return np.array([0.9, 0.01, 0.8, 0.3])
    ranking, chosen = rank_and_set(np.array([0.9, 0.1, 0.5, 0.4]), None, names, chain,
                                   SetConfig(), Stage())
    assert set(chosen.tables) == {"film", "inventory", "rental"}
    assert [names[j] for j in np.argsort(-ranking, kind="stable")] == \
        ["film", "rental", "inventory", "actor"]


def test_fitting_reads_each_questions_word_cover_token_similarities_and_entities(monkeypatch):
    import tablegraph.model.joinstage as js

    seen = []
    real = js.stage_features

    def spy(scores, link, names, graph, temperature, cover=None, tokens=None, entity=None):
        seen.append((cover, tokens, entity))
        return real(scores, link, names, graph, temperature, cover, tokens, entity)

    monkeypatch.setattr(js, "stage_features", spy)
    ex = _examples(np.random.default_rng(0), 2)[0]
    cover = [np.full((4, 3), float(i)) for i in range(2)]
    tokens = [np.full((2, 5, 4), float(i)) for i in range(2)]
    entity = [np.full((4, 3), float(i)) for i in range(2)]
    with_inputs = StageExample(ex.scores, ex.link, ex.names, ex.graph, ex.gold, cover, tokens,
                               entity)
    fit_join_stage([with_inputs], temperature=0.1, epochs=1, noise=0.0, members=1)
    assert [c is cover[i] and t is tokens[i] and e is entity[i]
            for i, (c, t, e) in enumerate(seen)] == [True, True]


def test_entity_flags_are_read_per_table_and_for_the_question():
    scores = np.array([0.9, 0.5, 0.5, 0.2])
    named = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    x = stage_features(scores, None, NAMES, GRAPH, 0.1, entity=named)
    y = stage_features(scores, None, NAMES, GRAPH, 0.1)
    col = {f: STAGE_FEATURES.index(f) for f in ("entity", "literal", "entity*neighbour")}
    assert list(x[:, col["entity"]]) == [0, 1, 0, 1]
    assert list(x[:, col["literal"]]) == [1, 1, 1, 1]
    assert x[1, col["entity*neighbour"]] > 0 and x[0, col["entity*neighbour"]] == 0
    assert not y[:, list(col.values())].any()
    others = [i for i in range(len(STAGE_FEATURES)) if i not in col.values()]
    assert np.array_equal(x[:, others], y[:, others])
    # the table named right before the value, and right before a number
    flags = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    z = stage_features(scores, None, NAMES, GRAPH, 0.1, entity=flags)
    new = [STAGE_FEATURES.index("typed"), STAGE_FEATURES.index("by_id")]
    assert z[:, new].tolist() == [[0, 1], [1, 0], [0, 0], [0, 0]]
    assert not x[:, new].any()
    assert np.array_equal(np.delete(z, new, axis=1), np.delete(x, new, axis=1))


def test_the_stage_averages_members_fitted_with_their_own_seeds():
    ex = _examples(np.random.default_rng(0), 40)
    stage = fit_join_stage(ex, temperature=0.1, epochs=2, members=3)
    assert len(stage.members) == 3
    s = np.array([0.9, 0.5, 0.5, 0.2])
    x = torch.from_numpy(stage_features(s, None, NAMES, GRAPH, 0.1))
    with torch.no_grad():
        each = [torch.sigmoid(m(x)).numpy() for m in stage.members]
        mean = torch.sigmoid(stage(x)).numpy()
    assert not np.allclose(each[0], each[1])  # another seed, another network
    assert np.allclose(stage.needed(s, None, NAMES, GRAPH, 0.1), np.mean(each, axis=0),
                       atol=1e-6)
    assert np.allclose(mean, np.mean(each, axis=0), atol=1e-5)
    # member j is what one member fitted with seed + j gives
    alone = fit_join_stage(ex, temperature=0.1, epochs=2, members=1, seed=1)
    assert np.allclose(stage.needed(s, None, NAMES, GRAPH, 0.1),
                       np.mean([each[0], alone.needed(s, None, NAMES, GRAPH, 0.1), each[2]],
                               axis=0), atol=1e-6)


def test_a_stage_saved_before_members_loads_as_one_member():
    one = fit_join_stage(_examples(np.random.default_rng(0), 20), temperature=0.1, epochs=1,
                         members=1)
    legacy = {k.removeprefix("members.0."): v for k, v in one.state().items()}
    back = JoinStage.from_state(legacy)
    s = np.array([0.9, 0.5, 0.5, 0.2])
    assert len(back.members) == 1
    assert np.allclose(back.needed(s, None, NAMES, GRAPH), one.needed(s, None, NAMES, GRAPH))
    three = JoinStage.from_state(fit_join_stage(_examples(np.random.default_rng(0), 20),
                                                temperature=0.1, epochs=1).state())
    assert len(three.members) == 3

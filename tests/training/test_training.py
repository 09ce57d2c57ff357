import json

import numpy as np
import pytest
import torch

from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.model.encoder import ContrastiveGNNEncoder
from tablegraph.model.index import build_index
from tablegraph.model.scoring import Scorer
from tablegraph.retrieval.retriever import TableRetriever
from tablegraph.tables.questions import Question, read_questions, stratified_split
from tablegraph.training.trainer import cosine_lr


def test_cosine_schedule():
    assert cosine_lr(0, 100, 5e-4, 1e-6) == pytest.approx(5e-4)
    assert cosine_lr(50, 100, 5e-4, 1e-6) == pytest.approx((5e-4 + 1e-6) / 2)
    assert cosine_lr(100, 100, 5e-4, 1e-6) == pytest.approx(1e-6)


def _validation(trained):
    _, tables, questions, result = trained
    return stratified_split(read_questions(questions), 0.25, 0)[1]


def test_training_raises_validation_recall_over_the_untrained_model(trained):
    from tablegraph.graphs.build import load_table_graphs
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.text.encoders import load_text_encoder

    _, tables, _, result = trained
    val = _validation(trained)
    text = load_text_encoder("hash:64")
    _, graphs = load_table_graphs(str(tables), text, GraphConfig(), progress=False)
    torch.manual_seed(0)
    untrained = ContrastiveGNNEncoder(result.model.cfg).eval()

    def metrics(model):
        index = build_index(model, graphs)
        return RetrievalEvaluator(val, index.names)(lambda t: Scorer(model, text)(t, index))

    before, after = metrics(untrained), metrics(result.model)
    assert after["recall@1"] >= before["recall@1"] + 0.3, (before, after)
    assert after["mrr"] > before["mrr"]
    assert result.best["recall@1"] == pytest.approx(after["recall@1"])


def test_query_time_scores_equal_the_scores_training_validated_with(trained):
    model, tables, _, result = trained
    texts = [q.text for q in _validation(trained)]
    assert result.val_scores is not None and result.val_scores.shape == (len(texts), 3)
    saved = TableRetriever.load(str(model))
    assert np.allclose(saved.scores(texts), result.val_scores, atol=1e-5)
    reread = TableRetriever.load(str(model), tables=str(tables))
    assert np.allclose(reread.scores(texts), result.val_scores, atol=1e-5)
    # the schema-linking features take part: the scores differ without them
    assert np.abs(saved.saved.question_head().link_weight.detach().numpy()).max() > 0


def test_schema_pairs_label_columns_with_their_table(tiny_tables):
    from tablegraph.graphs.nodes import GraphConfig, table_nodes
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.sources import discover
    from tablegraph.training.pairs import schema_pairs

    nodes = [table_nodes(p, GraphConfig()) for p in
             profile_tables(discover(tiny_tables), progress=False)]
    asked = [Question("q1", ("labevents",)), Question("q2", ("prescriptions", "patients"))]
    pairs = schema_pairs(nodes, asked)
    assert any(q.text == "value number" and q.tables == ("labevents",) for q in pairs)
    assert any(q.text.startswith("drug ") and q.tables == ("prescriptions",) for q in pairs)
    only_labs = schema_pairs(nodes, asked[:1])
    assert only_labs and {q.tables for q in only_labs} == {("labevents",)}


def test_init_pretrained_starts_from_the_shipped_weights(tmp_path, tiny_tables):
    from tablegraph.model.folder import load_model
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig

    q = tmp_path / "questions.csv"
    result = train_model(str(tmp_path / "m"), str(tiny_tables), str(q),
                         TrainConfig(epochs=1, batch_size=4, lr=1e-12, init="pretrained"),
                         progress=False)
    shipped = load_model().state
    got = result.model.state_dict()
    assert all(torch.allclose(got[k], shipped[k], atol=1e-4) for k in shipped)  # min_lr steps
    scratch = train_model(str(tmp_path / "s"), str(tiny_tables), str(q),
                          TrainConfig(epochs=1, batch_size=4, lr=1e-12, init="scratch"), progress=False)
    assert not torch.allclose(scratch.model.state_dict()["input.weight"], shipped["input.weight"])
    # the fine-tuned folder keeps the pretrained second stage and set settings; scratch has none
    tuned = load_model(tmp_path / "m")
    stage, shipped_stage = tuned.join_stage(), load_model().join_stage()
    assert stage is not None and all(torch.equal(v, shipped_stage.state()[k]) for k, v in
                                      stage.state().items() if k != "name_weight")
    # with the encoder's weight of a table named as the schema writes it, which the stage
    # takes out of the scores it reads (`test_the_stage_takes_out_the_fine_tuned_name_weight`)
    assert float(stage.name_weight) == float(result.model.link_weight[0]) > 0
    assert tuned.config["set"] == load_model().config["set"]
    # and its abstention, which holds after fine-tuning (docs/experiments.md); scratch: none
    assert tuned.config["abstain"] == load_model().config["abstain"]
    assert load_model(tmp_path / "s").config.get("abstain") is None
    assert load_model(tmp_path / "s").join_stage() is None
    # and the pretrained settings, its dense prior included; scratch keeps the seed's (none)
    assert tuned.encoder_config.dense_weight == load_model().encoder_config.dense_weight > 0
    assert load_model(tmp_path / "s").encoder_config.dense_weight == 0
    # but scores with its encoder's cosines whole: the shipped model weighs them below 1 for
    # databases it never saw, and this one has learnt the database's questions
    assert load_model().encoder_config.encoder_weight < 1
    assert tuned.encoder_config.encoder_weight == 1.0


def test_the_stage_takes_out_the_fine_tuned_name_weight(tmp_path, tiny_tables):
    """Fine-tuning moves the encoder's `table_name` weight; the second stage it keeps reads
    the scores without that weight, the fine-tuned one, not the pretrained one."""
    from tablegraph.model.folder import load_model
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig

    (tiny_tables / "lab_items.csv").write_text(
        "itemid,label\n" + "".join(f"{50900 + i},{w}\n" for i, w in
                                   enumerate(["Glucose", "Sodium", "Potassium", "Calcium"])))
    q = tmp_path / "named.csv"
    q.write_text((tmp_path / "questions.csv").read_text() + "".join(
        f"lab_items,lab_items rows for {w}\n" for w in ["glucose", "sodium", "potassium"] * 4))
    result = train_model(str(tmp_path / "m"), str(tiny_tables), str(q),
                         TrainConfig(epochs=2, batch_size=4, lr=1e-2, init="pretrained"),
                         progress=False)
    tuned = float(result.model.link_weight[0])
    shipped = float(load_model().join_stage().name_weight)
    assert abs(tuned - shipped) > 1e-5
    assert float(load_model(tmp_path / "m").join_stage().name_weight) == pytest.approx(tuned)


def test_init_pretrained_needs_the_pretrained_settings(tmp_path, tiny_tables):
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig
    from tablegraph.utils import TableGraphError

    with pytest.raises(TableGraphError, match="use --init scratch"):
        train_model(str(tmp_path / "m"), str(tiny_tables), str(tmp_path / "questions.csv"),
                    TrainConfig(epochs=1, init="pretrained"), text_model="hash:64",
                    progress=False)
    with pytest.raises(TableGraphError, match="unknown --init"):
        train_model(str(tmp_path / "m"), str(tiny_tables), str(tmp_path / "questions.csv"),
                    TrainConfig(epochs=1, init="elsewhere"), text_model="hash:64",
                    progress=False)


def test_few_questions_fine_tune_without_validation_and_gently():
    from tablegraph.training.run import no_validation_config
    from tablegraph.training.trainer import TrainConfig

    cfg, note = no_validation_config(TrainConfig(init="pretrained"), 50)
    assert (cfg.epochs, cfg.lr) == (40, 1e-4)
    assert cfg.negatives == "all-tables" and "fewer than 100" in note and "40 epochs" in note
    few, _ = no_validation_config(TrainConfig(init="pretrained"), 19)
    assert (few.epochs, few.lr) == (20, 1e-4)
    given, _ = no_validation_config(TrainConfig(init="pretrained", epochs=7), 50, schedule=False)
    assert (given.epochs, given.lr) == (7, TrainConfig().lr)  # --epochs / --lr win
    assert no_validation_config(TrainConfig(init="pretrained"), 100) is None
    assert no_validation_config(TrainConfig(init="scratch"), 50) is None  # scratch: 20
    scratch, _ = no_validation_config(TrainConfig(init="scratch"), 10)
    assert (scratch.epochs, scratch.negatives) == (TrainConfig().epochs, "all-tables")


def test_train_on_a_few_questions_uses_the_fine_tuning_schedule(tmp_path, tiny_tables):
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig

    result = train_model(str(tmp_path / "m"), str(tiny_tables), str(tmp_path / "questions.csv"),
                         TrainConfig(init="pretrained"), progress=False, auto_schedule=True)
    m = result.extra["metrics"]
    assert m["n_val"] == 0 and "too few to validate" in m["note"]
    assert len(result.history) == 40  # 31 questions
    saved = json.loads((tmp_path / "m" / "config.json").read_text())["train"]
    assert (saved["epochs"], saved["lr"]) == (40, 1e-4)


def test_refit_keeps_the_model_trained_on_every_question(tmp_path, tiny_tables):
    from safetensors.torch import load_file

    from tablegraph.graphs.build import load_table_graphs
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.tables.questions import read_questions
    from tablegraph.text.encoders import load_text_encoder
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig, fit

    q = str(tmp_path / "questions.csv")
    assert TrainConfig(init="pretrained").refits() and not TrainConfig(init="scratch").refits()
    cfg = TrainConfig(epochs=4, batch_size=4, seed=3, val_fraction=0.25, init="scratch",
                      refit=True)
    args = dict(tables=str(tiny_tables), questions=q, text_model="hash:64", progress=False)
    refit = train_model(str(tmp_path / "refit"), cfg=cfg, **args).extra["metrics"]
    kept = train_model(str(tmp_path / "kept"), cfg=TrainConfig.from_dict(
        {**cfg.to_dict(), "refit": False}), **args).extra["metrics"]
    # the same validation run measures both
    assert refit["best"] == kept["best"] and refit["n_val"] == kept["n_val"] > 0
    assert kept["refit"] is None
    assert refit["refit"] == {"n_train": refit["n_train"] + refit["n_val"], "epochs": 4,
                              "seconds": refit["refit"]["seconds"]}
    # the model saved is a run of the whole schedule on every question, in the file's order
    text = load_text_encoder("hash:64")
    _, graphs = load_table_graphs(str(tiny_tables), text, GraphConfig(), progress=False)
    full = fit(graphs, read_questions(q), [], text, cfg, None, "cpu", False).model.state_dict()
    saved = load_file(str(tmp_path / "refit" / "model.safetensors"))
    best = load_file(str(tmp_path / "kept" / "model.safetensors"))
    assert all(torch.equal(saved[k], full[k]) for k in full)
    assert not all(torch.equal(saved[k], best[k]) for k in full)

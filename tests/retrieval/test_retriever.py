import json

import pytest

from typer.testing import CliRunner

from tablegraph import TableRetriever
from tablegraph.cli import app

runner = CliRunner()


def test_evaluate_with_and_without_tables_gives_equal_metrics(trained):
    model, tables, questions, _ = trained

    def metrics(*extra):
        r = runner.invoke(app, ["evaluate", "--model", str(model), "--questions", str(questions),
                                "--json", *extra], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return json.loads(r.output.strip().splitlines()[-1])

    saved, reread = metrics(), metrics("--tables", str(tables))
    assert saved["n"] == reread["n"] == 25
    assert saved.keys() == reread.keys() == {"hit@1", "hit@5", "recall@5", "all@5", "mrr", "n",
                                             "coverage", "set_precision", "set_recall",
                                             "set_f1", "exact_set", "n_unanswerable"}
    for k in saved:
        assert abs(saved[k] - reread[k]) < 1e-9, k
    assert saved["hit@1"] > 0.5


def test_search_ranks_explains_and_gives_the_result_record(trained):
    model, *_ = trained
    r = TableRetriever.load(str(model))
    res = r.search("heparin medication for every person", k=3)
    assert [h.rank for h in res.hits] == [1, 2, 3]
    assert res.hits[0].table == "prescriptions"
    assert res.hits[0].score >= res.hits[1].score >= res.hits[2].score
    # "heparin" is named exactly: that value comes first, with score 1.0
    assert (res.hits[0].values[0].column, res.hits[0].values[0].value,
            res.hits[0].values[0].score) == ("drug", "Heparin", 1.0)
    values = {(m.column, m.value) for m in res.hits[0].values}
    assert values <= {("drug", v) for v in ("Heparin", "Insulin", "Aspirin")} | \
        {("route", v) for v in ("IV", "SC", "PO")}
    assert len(values) == 3
    assert {m.column for m in res.hits[0].columns} <= {"subject_id", "drug", "route",
                                                       "dose_val_rx"}
    d = res.to_dict()
    assert set(d) == {"question", "read_as", "hits", "set", "answerable", "confidence",
                      "withheld"} and d["read_as"] is None
    # a mistyped value is read as the database's word: the same ranking, the value named
    typo = r.search("heprain medication for every person", k=3)
    assert typo.question == "heprain medication for every person"
    assert typo.read_as == "heparin medication for every person"
    assert [h.table for h in typo.hits] == [h.table for h in res.hits]
    assert typo.hits[0].values[0].value == "Heparin"
    assert typo.to_dict()["read_as"] == typo.read_as
    # a request wrapped around the question is read as the question
    asked = r.search("Which tables do I need? heparin medication for every person", k=3)
    assert asked.read_as == "heparin medication for every person"
    assert [h.table for h in asked.hits] == [h.table for h in res.hits]
    ranked: list = []  # evaluate reads it so too, and its records keep the question as asked
    from tablegraph.tables.questions import Question

    r.evaluate([Question("heparin medication for every person", ("prescriptions",)),
                Question("heprain medication for every person", ("prescriptions",))],
               rankings=ranked)
    assert ranked[1]["question"] == "heprain medication for every person"
    assert (ranked[0]["read_as"], ranked[1]["read_as"]) == (
        None, "heparin medication for every person")
    assert ranked[1]["ranking"] == ranked[0]["ranking"]
    first = res.hits[0].values[0]
    assert d["hits"][0]["values"][0] == {"column": first.column, "value": first.value,
                                         "score": round(first.score, 4)}


def test_columns_the_question_names_come_first(trained):
    model, *_ = trained
    r = TableRetriever.load(str(model))
    res = r.search("by which route was heparin given to each person", k=3)
    hit = next(h for h in res.hits if h.table == "prescriptions")
    # "route" is named: that column first, with score 1.0, then the closest others, once each
    assert (hit.columns[0].column, hit.columns[0].score) == ("route", 1.0)
    assert len({m.column for m in hit.columns}) == len(hit.columns) == 3
    # a column none of whose rare words is said is not named
    res = r.search("heparin for every person", k=3)
    hit = next(h for h in res.hits if h.table == "prescriptions")
    assert all(m.column != "route" or m.score < 1.0 for m in hit.columns)


def test_the_other_columns_and_values_follow_by_their_likeness_to_the_question(trained):
    """After what the question names, a hit's columns and values are ranked by the cosine of
    the question's sentence embedding with the text of the column's name or the value."""
    import numpy as np

    model, *_ = trained
    r = TableRetriever.load(str(model))
    question = "heparin for every person"
    res = r.search(question, k=3, explain=10)
    said = r.text.encode([question])[0]
    for hit in res.hits:
        nodes = r.index.nodes[r.index.names.index(hit.table)]
        cos = {label: float(v @ said)
               for label, v in zip(nodes.labels, r.text.encode(nodes.texts))}
        others = [m for m in hit.columns if m.score < 1.0]
        assert len(others) >= 2
        assert [m.score for m in others] == pytest.approx([cos[m.column] for m in others],
                                                          abs=1e-5)
        assert [m.score for m in others] == sorted((m.score for m in others), reverse=True)
        for m in (m for m in hit.values if m.score < 1.0):
            assert m.score == pytest.approx(cos[m.value], abs=1e-5)
    assert np.isfinite([m.score for h in res.hits for m in h.columns + h.values]).all()


def test_rankings_file_and_case_insensitive_table_names(trained, tmp_path):
    model, tables, _, _ = trained
    q = tmp_path / "q.csv"
    q.write_text("table,question\nPRESCRIPTIONS,heparin medication for every person\n"
                 "LabEvents|patients,blood values of each person\n")
    out = tmp_path / "rankings.jsonl"
    r = runner.invoke(app, ["evaluate", "--model", str(model), "--questions", str(q), "--json",
                            "--rankings", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["n"] == 2
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["gold"] for x in lines] == [["prescriptions"], ["labevents", "patients"]]
    assert [x["line"] for x in lines] == [2, 3]  # where each question stands in its file
    first = lines[0]
    assert first["question"] == "heparin medication for every person"
    assert first["set"]["tables"][0] == "prescriptions"  # the set, with the joins it uses
    assert all(j["source"] in ("declared", "inferred") for x in lines for j in x["set"]["joins"])
    assert sorted(x["table"] for x in first["ranking"]) == ["labevents", "patients",
                                                            "prescriptions"]
    scores = [x["score"] for x in first["ranking"]]
    assert scores == sorted(scores, reverse=True)


def test_abstention_empties_the_set_and_says_so(trained):
    from tablegraph.model.abstain import ABSTAIN_FEATURES, AbstainHead

    model, *_ = trained
    r = TableRetriever.load(str(model))
    res = r.search("heparin medication for every person", k=2)
    assert res.answerable is None and res.to_dict()["confidence"] is None  # none trained
    n = len(ABSTAIN_FEATURES)
    r.abstain = AbstainHead([0.0] * n, 0.0, [0.0] * n, [1.0] * n, threshold=0.9)  # p = 0.5
    res = r.search("heparin medication for every person", k=2)
    assert res.answerable is False and res.confidence == 0.5 and res.set.tables == []
    assert res.to_dict()["set"] == {"tables": [], "joins": []} and len(res.hits) == 2
    context = r.sql_context(res)  # a warning, then the set it withheld
    assert context.startswith("-- no table of this database seems to answer the question "
                              "(confidence 0.50, below the threshold 0.90)")
    assert context.count("CREATE TABLE") == len(res.withheld.tables) >= 1
    assert res.to_dict()["withheld"] == res.withheld.to_dict()  # for a caller to judge
    r.abstain.threshold = 0.4
    assert r.search("heparin medication for every person").set.tables[0] == "prescriptions"


def test_evaluate_counts_unanswerable_questions_by_the_abstention_alone(trained, tmp_path):
    from tablegraph.model.abstain import ABSTAIN_FEATURES, AbstainHead
    from tablegraph.tables.questions import read_questions
    from tablegraph.utils import TableGraphError

    model, *_ = trained
    q = tmp_path / "q.csv"
    q.write_text("table,question\nprescriptions,heparin medication for every person\n"
                 ",what is the weather in Paris\n")
    qs = read_questions(q, unanswerable=True)
    assert [x.tables for x in qs] == [("prescriptions",), ()]
    r = TableRetriever.load(str(model))
    with pytest.raises(TableGraphError, match="1 question.*no abstention model"):
        r.evaluate(qs)
    n = len(ABSTAIN_FEATURES)
    coef = [0.0] * n
    coef[ABSTAIN_FEATURES.index("max")] = 1.0  # p rises with the best score
    r.abstain = AbstainHead(coef, 0.0, [0.0] * n, [1.0] * n, threshold=0.5)
    ranked: list = []
    m = r.evaluate(qs, rankings=ranked)
    assert m["n"] == 1 and m["n_unanswerable"] == 1 and m["hit@1"] == 1.0  # answerable only
    assert m["set_f1"] > 0 and m["threshold"] == 0.5
    assert [x["gold"] for x in ranked] == [["prescriptions"], []]
    p = [x["confidence"] for x in ranked]
    assert m["abstention_auroc"] == (1.0 if p[0] > p[1] else 0.0 if p[0] < p[1] else 0.5)
    assert m["answerable_kept"] == float(p[0] >= 0.5) and \
        m["unanswerable_caught"] == float(p[1] < 0.5)
    assert [x["answerable"] for x in ranked] == [c >= 0.5 for c in p]


def test_sql_context_writes_the_values_the_question_names_first(trained):
    """A value the question names is the literal a query compares with: sql-context writes it
    whole and first in its column's comment, in the database's spelling; `values=False`
    writes no values at all."""
    model, *_ = trained
    r = TableRetriever.load(str(model))
    res = r.search("how much heparin was given?", k=2)
    assert r.named_values(res.question, ["prescriptions", "patients"]) == \
        {"prescriptions": {"drug": ["Heparin"]}}
    text = r.sql_context(res)
    assert "-- drug: 'Heparin' (named in the question)" in text
    assert text.count("'Heparin'") == 1
    assert "Heparin" not in r.sql_context(res, values=False)


def test_evaluate_prints_what_the_abstention_keeps_and_catches(trained, tmp_path):
    import shutil

    from tablegraph.model.abstain import ABSTAIN_FEATURES, AbstainHead

    model, *_ = trained
    folder = tmp_path / "model"
    shutil.copytree(model, folder)
    config = json.loads((folder / "config.json").read_text())
    n = len(ABSTAIN_FEATURES)
    config["abstain"] = AbstainHead([0.0] * n, 0.0, [0.0] * n, [1.0] * n, 0.4).to_dict()
    (folder / "config.json").write_text(json.dumps(config))  # p = 0.5 for every question
    q = tmp_path / "q.csv"
    q.write_text("table,question\nprescriptions,heparin medication for every person\n"
                 ",what is the weather in Paris\n")
    r = runner.invoke(app, ["evaluate", "--model", str(folder), "--questions", str(q)],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == ("abstention (threshold 0.40): kept 1.000 of the "
                                         "answerable questions, caught 0.000 of 1 "
                                         "unanswerable, AUROC 0.500")


def test_questions_are_read_with_the_abbreviations_tables_are_named_in(trained, tmp_path):
    """Over tables named `emps` and `cust_pmts`, "employee" and "customers" are read with
    those abbreviations after them, as `search` reports and every score reads it."""
    import sqlite3

    model, *_ = trained
    con = sqlite3.connect(tmp_path / "shop.sqlite")
    con.executescript("CREATE TABLE emps (emp_id INTEGER, nm TEXT);"
                      "CREATE TABLE cust_pmts (cust_id INTEGER, amt REAL);")
    con.close()
    r = TableRetriever.load(str(model), tables=str(tmp_path / "shop.sqlite"))
    res = r.search("Which employee paid the customers most?", k=2)
    assert res.read_as == "Which employee (emps) paid the customers (cust) most?"

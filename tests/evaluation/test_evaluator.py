import numpy as np
import pytest

from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.tables.questions import Question
from tablegraph.utils import TableGraphError

TABLES = ["a", "b", "c"]
QS = [Question("q0", ("a",)), Question("q1", ("c", "b")), Question("q2", ("b",))]


def test_evaluator_calls_any_scoring_function_on_its_questions():
    seen = []

    def score_fn(texts):
        seen.append(list(texts))
        return np.array([[3.0, 2.0, 1.0],    # a first: hit
                         [1.0, 3.0, 2.0],    # b, c at 1, 2: all@5
                         [3.0, 1.0, 2.0]])   # b last: rank 3

    m = RetrievalEvaluator(QS, TABLES)(score_fn)
    assert seen == [["q0", "q1", "q2"]]
    assert m["n"] == 3
    assert m["hit@1"] == pytest.approx(2 / 3)
    assert m["recall@1"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["all@5"] == 1.0
    assert m["mrr"] == pytest.approx((1 + 1 + 1 / 3) / 3)


def test_evaluator_checks_tables_and_score_shapes():
    with pytest.raises(TableGraphError, match="unknown table 'z'"):
        RetrievalEvaluator([Question("q", ("z",))], TABLES)
    ev = RetrievalEvaluator(QS, TABLES)
    with pytest.raises(ValueError, match="shape"):
        ev.metrics(np.zeros((3, 2)))
    assert ev.per_question(np.zeros((3, 3)))["hit@1"].shape == (3,)


def test_gold_names_match_as_sql_names_do():
    from tablegraph.tables.questions import resolve_tables

    tables = ["Orders", "sales.items", "hr.staff", "crm.staff"]
    qs = [Question("q", ("orders", "public.ORDERS", "main.orders", "ITEMS", "Sales.Items"))]
    assert resolve_tables(qs, tables)[0].tables == ("Orders",) * 3 + ("sales.items",) * 2
    with pytest.raises(TableGraphError, match=r"table 'staff' in question 'q' is in several "
                       r"schemas or databases \(crm.staff, hr.staff\): write it with its "
                       r"schema or database"):
        resolve_tables([Question("q", ("staff",))], tables)
    # a qualifier that is no schema here: a database's name or another engine's default schema
    qs = [Question("q", ("sakila.orders", "dbo.Orders", "mydb.sales.items", "public.items"))]
    assert resolve_tables(qs, tables)[0].tables == ("Orders",) * 2 + ("sales.items",) * 2
    with pytest.raises(TableGraphError, match="unknown table 'hr.orders'"):  # hr is a schema
        resolve_tables([Question("q", ("hr.orders",))], tables)
    with pytest.raises(TableGraphError, match=r"'dbo.staff' in question 'q' is in several"):
        resolve_tables([Question("q", ("dbo.staff",))], tables)


def test_a_gold_table_renamed_on_export_is_read_as_the_one_name_it_begins_with_a_note():
    """`chartevents` for the file `chartevents_reconstructed_from_meds`: read as that table
    where the caller takes notes (and says so once per name); without notes, an error. A name
    that is only a prefix of a word (`order` of `orders`), or begins several names, stays
    unknown."""
    from tablegraph.tables.questions import resolve_tables

    tables = ["chartevents_reconstructed_from_meds", "labevents", "orders", "sales.order_items",
              "order_lines", "d_items", "d_items_old"]
    qs = [Question("q0", ("chartevents", "labevents")), Question("q1", ("CHARTEVENTS",)),
          Question("q2", ("chartevents",))]
    notes: list[str] = []
    got = resolve_tables(qs, tables, "qs.csv", notes=notes)
    long = "chartevents_reconstructed_from_meds"
    assert [q.tables for q in got] == [(long, "labevents"), (long,), (long,)]
    assert notes == ["qs.csv: gold table 'chartevents' is not a table here: read as "
                     "'chartevents_reconstructed_from_meds', the one table whose name begins "
                     "with it (--strict: an error)"]
    with pytest.raises(TableGraphError, match="unknown table 'chartevents'"):
        resolve_tables(qs, tables)  # no notes taken: no guess
    for name in ("order", "order_", "d"):  # several begin with it, or none at a word's end
        with pytest.raises(TableGraphError, match=f"unknown table '{name}'"):
            resolve_tables([Question("q", (name,))], tables, notes=[])
    assert resolve_tables([Question("q", ("public.order",))], ["sales.order_items"],
                          notes=[])[0].tables == ("sales.order_items",)
    # a table given as its file, as the data's own `demo_tables` name them
    notes = []
    qs = [Question("q", ("hosp/labevents", "icu/chartevents", "labevents.csv.gz",
                         "C:\\data\\Orders.csv"))]
    assert resolve_tables(qs, tables, notes=notes)[0].tables == (
        "labevents", long, "labevents", "orders")
    assert len(notes) == 1 and "'icu/chartevents' is not a table here" in notes[0]
    with pytest.raises(TableGraphError, match="unknown table 'hosp/nosuch'"):
        resolve_tables([Question("q", ("hosp/nosuch",))], tables, notes=[])


def test_the_api_finds_a_table_by_the_names_a_questions_file_may_use():
    """describe_table and join_path (through `TableIndex.profile`) take a table's name as a
    questions file may write it: any case, `public.`, without its schema where one schema
    has it; a name several schemas have is an error naming them."""
    from types import SimpleNamespace

    from tablegraph.model.index import TableIndex

    profiles = [SimpleNamespace(name=n) for n in ("Orders", "hr.employee", "hr.staff",
                                                 "crm.staff")]
    index = SimpleNamespace(profiles=profiles, names=[p.name for p in profiles], _names=None)
    assert TableIndex.profile(index, "public.orders").name == "Orders"
    assert TableIndex.profile(index, "EMPLOYEE").name == "hr.employee"
    with pytest.raises(TableGraphError, match=r"'staff' is in several schemas or databases "
                                              r"\(crm.staff, hr.staff\)"):
        TableIndex.profile(index, "staff")
    with pytest.raises(TableGraphError, match="no table 'nosuch' in the index"):
        TableIndex.profile(index, "nosuch")


def test_unanswerable_questions_count_only_in_the_abstention():
    qs = [*QS, Question("q3", ())]  # no table answers q3
    ev = RetrievalEvaluator(qs, TABLES)
    scores = np.array([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [3.0, 1.0, 2.0], [9.0, 0.0, 0.0]])
    assert ev.n_unanswerable == 1
    assert ev.metrics(scores) == RetrievalEvaluator(QS, TABLES).metrics(scores[:3])
    assert ev.coverage(scores).shape == (3,) and ev.per_question(scores)["mrr"].shape == (3,)
    assert len(ev.set_metrics([["a"], ["b"], ["b"], ["a"]])["set_f1"]) == 3
    a = ev.abstention(np.array([0.9, 0.8, 0.3, 0.4]), threshold=0.5)
    assert (a["kept"], a["caught"], a["n"], a["n_other"]) == (2 / 3, 1.0, 3, 1)
    assert a["auroc"] == pytest.approx(2 / 3)  # q2 (0.3) ranks below q3 (0.4)
    assert RetrievalEvaluator(QS, TABLES).abstention(np.ones(3), 0.5)["auroc"] is None
    assert [r["gold"] for r in ev.rankings(scores)][3] == []


def test_pooled_metrics_weigh_databases_by_questions_and_rank_confidences_together():
    from tablegraph.evaluation.evaluator import POOLED, pool_metrics

    base = {k: 0.0 for k in POOLED}
    parts = {"a": {**base, "hit@1": 1.0, "n": 3, "n_unanswerable": 1, "threshold": 0.5},
             "b": {**base, "hit@1": 0.0, "n": 1, "n_unanswerable": 0, "threshold": 0.5}}
    records = [{"gold": ["t"], "confidence": c} for c in (0.9, 0.8, 0.4, 0.6)] + \
        [{"gold": [], "confidence": 0.45}]
    m = pool_metrics(parts, records)
    assert m["n"] == 4 and m["hit@1"] == 0.75 and m["n_unanswerable"] == 1
    assert m["answerable_kept"] == 0.75 and m["unanswerable_caught"] == 1.0
    assert m["abstention_auroc"] == 0.75  # 0.45 lies above one answerable confidence of four
    assert m["databases"] is parts

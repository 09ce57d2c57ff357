"""The comments benchmark's copies: abbreviated names, and the old names as comments."""

import duckdb

from tablegraph.training.renamed import VARIANTS, abbreviate, acronym, copy_database


def test_abbreviate():
    assert abbreviate("order_items") == "ordr_itms"
    assert abbreviate("customerId") == "cstm_id"
    assert abbreviate("age") == "age"
    # common abbreviations only: the other words, and a common word's plural, stay readable
    assert abbreviate("customer_payments", common=True) == "cust_pmts"
    assert abbreviate("unitPrice", common=True) == "unit_prc"
    assert abbreviate("age", common=True) == "age"


def test_acronym():
    # three to five words: their initials; fewer, more or not only letters: the name
    assert acronym("avg_house_value") == "ahv"
    assert acronym("SocialSecurityNumber") == "ssn"
    assert acronym("order_items") == "order_items"
    assert acronym("a_b_c_d_e_f") == "a_b_c_d_e_f"
    assert acronym("icd9_code_long") == "icd9_code_long"


def test_copies_keep_rows_and_say_the_old_names_in_comments(tiny_tables, tmp_path):
    names = {}
    for i, variant in enumerate(VARIANTS):
        out = tmp_path / f"{i}.duckdb"
        names[variant] = copy_database(str(tiny_tables), out, variant)
        con = duckdb.connect(str(out))
        try:
            rows = dict(con.execute("SELECT table_name, estimated_size FROM duckdb_tables()"
                                    ).fetchall())
            notes = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()"
                                     ).fetchall())
            cols = con.execute("SELECT column_name, comment FROM duckdb_columns() "
                               "WHERE table_name = ?", [names[variant]["labevents"]]).fetchall()
        finally:
            con.close()
        assert rows[names[variant]["labevents"]] == 60
        if variant == VARIANTS[2]:
            assert notes[names[variant]["labevents"]] == "lab events"
            assert ("vlnm", "value number") in cols and ("sbjc_id", "subject id") in cols
        else:
            assert not any(notes.values())
    assert names[VARIANTS[0]]["prescriptions"] == "prescriptions"
    assert names[VARIANTS[1]]["prescriptions"] == names[VARIANTS[2]]["prescriptions"] == "prsc"
    assert names[VARIANTS[3]]["prescriptions"] == "prescriptions"  # no common abbreviation
    assert names[VARIANTS[4]]["prescriptions"] == "prescriptions"  # one word


def test_questions_with_evidence_are_ranked_beside_the_copies(trained, tmp_path, tiny_sqlite):
    """A database whose questions.jsonl carries BIRD's evidence gets a fourth row, the
    questions followed by their evidence, over the copy with names as they are."""
    import csv
    import json

    from tablegraph.benchmarks.comments import FORMS, MISTYPED, WITH_EVIDENCE, comments_bench
    from tablegraph.training.corpora import database_fold

    model, tables, questions, _ = trained
    folder = tmp_path / "data" / "text2sql-train" / "bird" / "tiny"
    tiny_sqlite(tables, folder / "tables" / "tiny.sqlite")
    qs = list(csv.DictReader(questions.open()))
    (folder / "questions.csv").write_text(questions.read_text())
    (folder / "questions.jsonl").write_text("".join(json.dumps(
        {"question": q["question"], "tables": q["table"].split("|"),
         "evidence": "drug and route are in prescriptions"}) + "\n" for q in qs))
    got = comments_bench(str(model), tmp_path / "data", tmp_path,
                         fold=database_fold("bird/tiny", 3), log=lambda _: None)
    assert list(got["bird"]) == [*VARIANTS[:1], MISTYPED, WITH_EVIDENCE, *VARIANTS[1:], *FORMS]
    assert {r["n"] for r in got["bird"].values()} == {len(qs)}
    assert got["bird"][WITH_EVIDENCE] != got["bird"][VARIANTS[0]]  # the hint changed rankings
    assert all("kept" not in r for r in got["bird"].values())  # no abstention model
    # with one (keeps a question whose best score is above 0), the share it keeps
    import shutil
    with_head = tmp_path / "with-head"
    shutil.copytree(model, with_head)
    config = json.loads((with_head / "config.json").read_text())
    config["abstain"] = {"features": ["max"], "coef": [1.0], "intercept": 0.0, "mean": [0.0],
                         "scale": [1.0], "threshold": 0.5, "temperature": 0.07}
    (with_head / "config.json").write_text(json.dumps(config))
    got = comments_bench(str(with_head), tmp_path / "data", tmp_path,
                         fold=database_fold("bird/tiny", 3), log=lambda _: None)
    kept = [r["kept"] for r in got["bird"].values()]
    assert len(kept) == len(got["bird"]) and all(0 <= k <= 1 for k in kept) and max(kept) > 0


def test_a_question_is_mistyped_in_one_word_the_same_way_every_time():
    from rapidfuzz.distance import DamerauLevenshtein

    from tablegraph.benchmarks.comments import mistyped

    for text in ("How many faculty do we have?", "Show the distinct buildings of faculty.",
                 "List the average salary per department"):
        slip = mistyped(text)
        assert slip == mistyped(text) and slip != text
        changed = [(a, b) for a, b in zip(text.split(), slip.split()) if a != b]
        assert len(changed) == 1 and len(changed[0][0]) >= 5
        assert DamerauLevenshtein.distance(*changed[0]) == 1 and changed[0][1][0] == \
            changed[0][0][0]
    assert mistyped("a b c is it") == "a b c is it"  # no word of 5 letters


def test_a_database_described_as_benchmarks_hand_them_over_reads_back(tmp_path):
    """`describe_database` writes what Spider 2.0 (DDL.csv, 5 sample rows, no keys) and
    Spider's tables.json (keys and coarse types, no rows) keep of a database; tablegraph reads
    both back as that database's tables."""
    import sqlite3

    from tablegraph.benchmarks.comments import FORMS, SAMPLE_ROWS, describe_database
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.records import ForeignKey
    from tablegraph.tables.sources import discover

    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER "
                "REFERENCES customers(id), placed DATE, amount REAL)")
    con.executemany("INSERT INTO customers VALUES (?, ?)", [(1, "Ann"), (2, "Bo")])
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)",
                    [(i, 1 + i % 2, f"2024-01-{i + 1:02d}", i * 1.5) for i in range(8)])
    con.commit()
    con.close()
    got = {}
    for i, form in enumerate(FORMS):
        out = tmp_path / (f"form{i}" + ("" if i == 0 else ".json"))
        describe_database(str(db), out, form)
        got[form] = {p.name: p for p in profile_tables(discover(out), progress=False)}
    files, catalogue = got[FORMS[0]], got[FORMS[1]]
    assert sorted(files) == sorted(catalogue) == ["customers", "orders"]
    assert (files["orders"].n_rows, files["customers"].n_rows) == (SAMPLE_ROWS, 2)
    assert files["orders"].foreign_keys == [] and catalogue["orders"].n_rows == 0
    assert catalogue["orders"].foreign_keys == [ForeignKey(("customer_id",), "customers",
                                                           ("id",))]
    assert catalogue["orders"].primary_key == ["id"]
    assert [c.declared for c in catalogue["orders"].columns] == ["NUMERIC", "NUMERIC",
                                                                 "DATETIME", "NUMERIC"]
    assert [c.declared for c in files["orders"].columns] == ["INT", "INT", "DATE", "REAL"]

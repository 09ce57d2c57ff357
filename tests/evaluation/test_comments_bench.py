"""The comments benchmark's copies: abbreviated names, and the old names as comments."""

import duckdb

from tablegraph.benchmarks.comments import VARIANTS, abbreviate, copy_database


def test_abbreviate():
    assert abbreviate("order_items") == "ordr_itms"
    assert abbreviate("customerId") == "cstm_id"
    assert abbreviate("age") == "age"


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

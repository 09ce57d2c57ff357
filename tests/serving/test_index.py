import json
import os

import pytest
from typer.testing import CliRunner

from tablegraph import TableRetriever
from tablegraph.cli import app
from tablegraph.retrieval.indexes import load_index, update_index
from tablegraph.utils import TableGraphError


def test_an_index_answers_like_the_tables_it_was_built_from(indexed):
    idx, tables, model = indexed
    from_index = TableRetriever.load(index=str(idx))
    from_tables = TableRetriever.load(str(model), tables=str(tables))
    q = "heparin medication for every person"
    a, b = from_index.search(q, 3).to_dict(), from_tables.search(q, 3).to_dict()
    assert a == b and a["hits"][0]["table"] == "prescriptions"
    info, _, index = load_index(idx)
    assert info.model == str(model.resolve()) and set(info.fingerprints) == set(index.names)
    assert index.joins is not None and index.profiles[0].columns  # schemas and joins saved
    assert from_index.describe("PATIENTS")["table"] == "patients"


def test_update_rereads_only_the_table_that_changed(indexed, profiled):
    idx, tables, _ = indexed
    before = load_index(idx)[2]
    with open(tables / "labevents.csv", "a") as f:
        f.write("101,50999,7.5,mmol/L,2150-02-01 08:00:00\n")
    (tables / "notes.csv").write_text("subject_id,note_text\n100,chest pain\n101,fever\n")
    os.remove(tables / "patients.csv")
    report = update_index(idx)
    assert report.reread == ["labevents"] and report.added == ["notes"]
    assert report.removed == ["patients"] and report.unchanged == ["prescriptions"]
    assert sorted(profiled) == ["labevents", "notes"]  # nothing else was read again
    after = load_index(idx)[2]
    assert after.names == ["labevents", "notes", "prescriptions"]
    keep = before.names.index("prescriptions")
    assert (after.vectors[2] == before.vectors[keep]).all()  # kept, not re-embedded
    profiled.clear()
    assert update_index(idx).to_dict()["unchanged"] == 3 and profiled == []


def test_index_cli_and_errors(indexed, tmp_path):
    idx, tables, model = indexed
    run = CliRunner().invoke
    r = run(app, ["index", "--update", str(idx)], catch_exceptions=False)
    assert r.exit_code == 0 and "3 unchanged" in r.output
    r = run(app, ["ask", "--index", str(idx), "--json", "blood results"],
            catch_exceptions=False)
    assert json.loads(r.output)["hits"][0]["table"] == "labevents"
    r = run(app, ["ask", "--index", str(idx), "--tables", str(tmp_path), "--json",
                  "blood results"], catch_exceptions=False)  # --index wins, and says so
    assert "warning: --index wins: --tables not used" in r.stderr
    assert json.loads(r.stdout)["hits"][0]["table"] == "labevents"
    qs = tmp_path / "qs.txt"
    qs.write_text("blood results\n\nheparin medication for every person\n")
    r = run(app, ["ask", "--index", str(idx), "--questions", str(qs)], catch_exceptions=False)
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert [x["hits"][0]["table"] for x in lines] == ["labevents", "prescriptions"]
    (idx / "index.json").write_text("{}")
    with pytest.raises(TableGraphError, match="damaged index"):
        load_index(idx)
    with pytest.raises(TableGraphError, match="no index at"):
        load_index(tmp_path / "nothing")
    with pytest.raises(TableGraphError, match="not a tablegraph index"):
        load_index(model)


def _two_databases(root, sqlite_file):
    """A folder of databases: database/<name>/<name>.sqlite (or .duckdb), two of them."""
    import duckdb

    sqlite_file(root / "music" / "music.sqlite", "CREATE TABLE singer (singer_id INTEGER "
                "PRIMARY KEY, name TEXT); INSERT INTO singer VALUES (1, 'Ann');")
    (root / "shows").mkdir()
    with duckdb.connect(str(root / "shows" / "shows.duckdb")) as con:
        con.execute("CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, venue TEXT); "
                    "INSERT INTO concert VALUES (1, 'Hall'); "
                    "COMMENT ON TABLE concert IS 'live shows'")
    return root


def test_db_picks_one_database_of_a_folder_for_profile_index_and_the_servers(trained, tmp_path,
                                                                            sqlite_file):
    """`profile`, `index`, `serve` and `mcp` take `--db` as `ask` and `schema` do: one
    database of a folder of several, by name; without it, the folder is one catalogue of
    every database's tables, `<database>.<table>`, which an index keeps and updates."""
    import socket
    import subprocess
    import sys

    model = trained[0]
    folder = _two_databases(tmp_path / "database", sqlite_file)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tablegraph.cli", *args],
                              capture_output=True, text=True)

    run = CliRunner().invoke
    r = run(app, ["profile", "--tables", str(folder), "--json", "-q"], catch_exceptions=False)
    assert [t["table"] for t in json.loads(r.stdout)["tables"]] == ["music.singer",
                                                                   "shows.concert"]
    every = tmp_path / "every"
    r = run(app, ["index", "--tables", str(folder), "--out", str(every), "--model", str(model),
                  "-q"], catch_exceptions=False)
    assert r.exit_code == 0 and load_index(every)[2].names == ["music.singer", "shows.concert"]
    assert load_index(every)[2].profile("concert").database == "shows"  # named without it
    r = run(app, ["index", "--update", str(every)], catch_exceptions=False)
    assert r.exit_code == 0 and "2 unchanged" in r.output
    from tablegraph.serving.service import SearchService  # GET /tables and MCP's list_tables

    assert SearchService.open(index=str(every)).tables_list() == [
        {"table": "music.singer", "columns": 2, "rows": 1, "database": "music"},
        {"table": "shows.concert", "columns": 2, "rows": 1, "comment": "live shows",
         "database": "shows"}]
    got = json.loads(run(app, ["ask", "--index", str(every), "which venue held the concert?",
                               "--json", "-q"], catch_exceptions=False).stdout)
    assert {h["table"] for h in got["hits"]} == {"music.singer", "shows.concert"}
    r = run(app, ["profile", "--tables", str(folder), "--db", "shows", "--json", "-q"],
            catch_exceptions=False)
    assert [t["table"] for t in json.loads(r.stdout)["tables"]] == ["concert"]
    idx = tmp_path / "idx"
    r = run(app, ["index", "--tables", str(folder), "--db", "music", "--out", str(idx),
                  "--model", str(model), "-q"], catch_exceptions=False)
    assert r.exit_code == 0 and load_index(idx)[2].names == ["singer"]
    r = run(app, ["index", "--update", str(idx)], catch_exceptions=False)  # the file it read
    assert r.exit_code == 0 and "1 unchanged" in r.output
    with socket.socket() as s:  # a free port: the servers check theirs before any table
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    for command in (["serve", "--port", port], ["mcp"]):
        p = cli(*command, "--tables", str(folder), "--model", str(model), "--db", "nope")
        assert p.returncode == 2 and "'nope'" in p.stderr and "Traceback" not in p.stderr

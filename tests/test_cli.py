"""The command line as a user meets it: output, exit codes, one-line errors."""

import errno
import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tablegraph.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def cli(*args):
    """Run the real console entry point (exit codes and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "tablegraph.cli", *args], capture_output=True,
                          text=True)


def one_line_error(p, text):
    assert p.returncode == 2, (p.returncode, p.stderr)
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and text in errors[0], p.stderr
    assert "Traceback" not in p.stderr


def test_train_writes_a_model_folder(trained):
    model, *_ = trained
    for f in ("config.json", "model.safetensors", "index.safetensors", "index.json",
              "metrics.json", "history.csv", "curves.png"):
        assert (model / f).is_file(), f
    m = json.loads((model / "metrics.json").read_text())
    assert set(m["best"]) >= {"recall@1", "recall@5", "mrr"}
    assert len((model / "history.csv").read_text().splitlines()) == 31
    assert (model / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_ask_prints_ranked_tables(trained):
    model, *_ = trained
    r = run("ask", "--model", str(model), "-k", "2", "which medication was given")
    lines = r.output.splitlines()
    assert lines[0] == "Q: which medication was given"
    assert lines[1].split()[:2] == ["1.", "prescriptions"] and lines[2].split()[0] == "2."
    assert lines[3].strip().startswith("set: prescriptions") and len(lines) >= 4
    r = run("ask", "--model", str(model), "-k", "2", "which medication was given with heprain")
    assert r.output.splitlines()[1] == "   read as: which medication was given with heparin"
    r = run("ask", "--model", str(model), "--format", "sql-context", "-k", "1",
            "Heprain medication")  # the value it names, as the database writes it
    assert "-- drug: 'Heparin' (named in the question)" in r.output
    r = run("ask", "--model", str(model), "--json", "-k", "3", "blood results")
    d = json.loads(r.output)
    assert d["hits"][0]["table"] == "labevents" and len(d["hits"]) == 3
    assert d["set"]["tables"][0] == "labevents"
    r = run("ask", "--model", str(model), "--format", "sql-context", "blood results")
    assert r.output.startswith('CREATE TABLE "labevents" (') and "-- " in r.output
    r = run("ask", "--model", str(model), "--format", "sql-context", "--no-values",
            "blood results")
    assert r.output.startswith('CREATE TABLE "labevents" (') and "\n-- valueuom" not in r.output


def test_questions_from_standard_input(trained):
    """`--questions -` reads the questions from standard input, for ask and for evaluate."""
    from tablegraph.tables import questions as qmod

    model, *_ = trained
    qmod._stdin_bytes.cache_clear()
    r = runner.invoke(app, ["ask", "--model", str(model), "-k", "1", "--questions", "-"],
                      input="which medication was given\nblood results\n")
    assert r.exit_code == 0, r.output
    hits = [json.loads(line)["hits"][0]["table"] for line in r.output.splitlines()]
    assert hits == ["prescriptions", "labevents"]
    qmod._stdin_bytes.cache_clear()
    r = runner.invoke(app, ["evaluate", "--model", str(model), "--questions", "-"],
                      input="table,question\nlabevents,blood results\n")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("n=1  hit@1 1.000")
    qmod._stdin_bytes.cache_clear()
    one_line_error(subprocess.run([sys.executable, "-m", "tablegraph.cli", "ask", "--questions",
                                   "-"], input="", capture_output=True, text=True),
                   "standard input: no questions")


def test_ask_says_when_nothing_answers(trained, capsys):
    from tablegraph.cli import _print_result
    from tablegraph.model.abstain import ABSTAIN_FEATURES, AbstainHead
    from tablegraph.retrieval.retriever import TableRetriever

    model, *_ = trained
    r = TableRetriever.load(str(model))
    n = len(ABSTAIN_FEATURES)
    r.abstain = AbstainHead([0.0] * n, 0.0, [0.0] * n, [1.0] * n, threshold=0.9)  # p = 0.5
    res = r.search("which medication was given", 2)
    _print_result(res)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["1.", "prescriptions"]  # the ranking stays
    assert lines[3].strip().startswith("set: none: no table of this database seems to answer")
    assert "confidence 0.50" in lines[3] and len(lines) == 4
    # the set it would have given, for a reader (or an agent) to judge
    assert lines[3].endswith("; if one does: prescriptions")
    d = res.to_dict()
    assert d["set"]["tables"] == [] and d["withheld"]["tables"] == ["prescriptions"]
    assert r.search("which medication was given").to_dict()["answerable"] is False
    r.abstain.threshold = 0.1
    d = r.search("which medication was given", 2).to_dict()
    assert d["set"]["tables"] == ["prescriptions"] and d["withheld"] is None


def test_user_errors_are_one_line(trained, tmp_path):
    model, tables, questions, _ = trained
    bad = tmp_path / "bad.csv"
    bad.write_text("table,question\nnosuchtable,what is here\n")
    p = cli("train", "--tables", str(tables), "--questions", str(bad), "--out",
            str(tmp_path / "m2"), "--epochs", "1", "--text-model", "hash:64", "--init", "scratch")
    one_line_error(p, "unknown table 'nosuchtable'")
    # train starts from the shipped pretrained model unless told otherwise, and says at once
    # when the settings asked for cannot start from it
    one_line_error(cli("train", "--tables", str(tables), "--questions", str(questions), "--out",
                       str(tmp_path / "m3"), "--epochs", "1", "--text-model", "hash:64"),
                   "use --init scratch")
    assert not (tmp_path / "m3").exists()
    assert not (tmp_path / "m2").exists()
    broken = tmp_path / "model"
    shutil.copytree(model, broken)
    cfg = json.loads((broken / "config.json").read_text())
    cfg["feature_schema"]["profile_version"] = -1
    (broken / "config.json").write_text(json.dumps(cfg))
    one_line_error(cli("ask", "--model", str(broken), "anything"), "feature schema")
    cfg["format_version"] = 3  # a folder written before typed table nodes
    (broken / "config.json").write_text(json.dumps(cfg))
    p = cli("ask", "--model", str(broken), "anything")
    one_line_error(p, "model format 3")
    assert "retrain" in p.stderr
    one_line_error(cli("evaluate", "--model", str(tmp_path / "missing"), "--questions", str(bad)),
                   "no such model folder")
    one_line_error(cli("profile", "--tables", str(tmp_path / "nothing-here")),
                   "no such file or folder")
    one_line_error(cli("ask", "--model", str(model), "-k", "0", "x"), "-k must be at least 1")
    p = cli("ask", "--tables", "mssql://sa:s3cret@db.example.com/sales", "x")
    one_line_error(p, "mssql:// is not read")
    assert "s3cret" not in p.stderr and "mssql://db.example.com/sales" in p.stderr


def test_usage_errors_are_one_line_too():
    """What the argument parser refuses (an unknown option or command, a missing option, a
    value of the wrong type, an extra argument) is one line naming the help to read, not a
    box of several lines."""
    for args, text in [(("ask", "--bogus", "q"), "No such option: --bogus"),
                       (("nosuchcommand",), "No such command 'nosuchcommand'"),
                       (("evaluate",), "Missing option '--questions'"),
                       (("ask", "-k", "abc", "q"), "Invalid value for '-k'"),
                       (("ask", "one", "two"), "unexpected extra argument")]:
        p = cli(*args)
        one_line_error(p, text)
        assert p.stderr.strip().count("\n") == 0 and "--help" in p.stderr, p.stderr
        assert "\u256d" not in p.stderr  # no box
    p = cli()  # nothing: the commands, as before
    assert p.returncode == 2 and "evaluate" in p.stdout + p.stderr
    assert cli("--help").returncode == 0


def test_ctrl_c_says_it_was_interrupted(monkeypatch, capsys, tmp_path):
    """Ctrl-C in a command: one line, exit status 130 (typer alone exits silently)."""
    import tablegraph.cli as cli_module
    import tablegraph.tables.sources as sources

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sources, "discover", interrupted)
    monkeypatch.setattr(sys, "argv", ["tablegraph", "profile", "--tables", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        cli_module.main()
    assert e.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    monkeypatch.setattr(sys, "argv", ["tablegraph", "train", "--tables", str(tmp_path),
                                      "--questions", "q.csv", "--out", str(tmp_path / "m")])
    monkeypatch.setattr("tablegraph.training.run.train_model", interrupted)
    with pytest.raises(SystemExit) as e:
        cli_module.main()
    assert e.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted (continue with train --resume)"


def test_no_error_line_shows_a_urls_password(monkeypatch, capsys, tmp_path):
    """Whatever error a command ends in, its line drops the user:password of any URL."""
    import tablegraph.cli as cli_module
    import tablegraph.tables.sources as sources
    from tablegraph.utils import TableGraphError

    def refused(*args, **kwargs):
        raise TableGraphError("cannot reach postgresql://ann:s3cret@db.example.com/shop")

    monkeypatch.setattr(sources, "discover", refused)
    monkeypatch.setattr(sys, "argv", ["tablegraph", "profile", "--tables", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        cli_module.main()
    assert e.value.code == 2
    assert capsys.readouterr().err.strip() == \
        "error: cannot reach postgresql://db.example.com/shop"


def test_what_main_does_not_handle_passes_through_as_itself(monkeypatch, tmp_path):
    """A bug is its own traceback and an output pipe closed early (`| head`) a quiet exit,
    not an AttributeError from main's own exception clauses (typer >= 0.24's click has no
    `Abort`)."""
    import tablegraph.cli as cli_module
    import tablegraph.tables.sources as sources

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sources, "discover", boom)
    monkeypatch.setattr(sys, "argv", ["tablegraph", "profile", "--tables", str(tmp_path)])
    with pytest.raises(RuntimeError, match="boom"):
        cli_module.main()

    def closed(*args, **kwargs):  # what writing to `| head` after it has gone raises
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(sources, "discover", closed)
    with pytest.raises(SystemExit) as e:  # typer's quiet exit for a closed pipe
        cli_module.main()
    assert e.value.code == 1


def test_question_key_reaches_every_command_that_reads_questions(tmp_path):
    """--question-key is passed on by evaluate, train and ask (the file is read before any
    model or table, so a key no question has is the error)."""
    f = tmp_path / "syn.json"
    f.write_text(json.dumps([{"query": "SELECT 1 FROM t", "SpiderSynQuestion": "what?"}]))
    for command in (["evaluate", "--tables", str(tmp_path)], ["ask"],
                    ["train", "--tables", str(tmp_path), "--out", str(tmp_path / "m")]):
        one_line_error(cli(*command, "--questions", str(f), "--question-key", "nope"),
                       "no question has a 'nope' key")
    one_line_error(cli("evaluate", "--tables", str(tmp_path), "--questions", str(f)),
                   "--question-key")
    assert not (tmp_path / "m").exists()


def test_dataset_export(tmp_path):
    r = run("dataset", "export", str(tmp_path / "ds"))
    assert r.exit_code == 0
    assert len(list((tmp_path / "ds" / "hosp").glob("*.csv.gz"))) == 22
    assert (tmp_path / "ds" / "questions.csv").read_text().count("\n") == 441


def test_help_lists_every_command():
    r = run("--help")
    for command in ("profile", "features", "train", "evaluate", "ask", "demo", "bench",
                    "dataset"):
        assert command in r.output


def test_pretrain_options_default_to_the_config_that_made_the_shipped_model():
    """The CLI keeps its defaults literal (no torch import for --help): they must be
    PretrainConfig's, which reproduce the shipped model."""
    import inspect

    from tablegraph import cli
    from tablegraph.training.pretrain import PretrainConfig

    cfg = PretrainConfig()
    params = inspect.signature(cli.pretrain).parameters
    for name in ("epochs", "batch_size", "lr", "seed", "max_questions_per_database",
                 "abstain", "prior_strength", "dense_weight", "encoder_weight", "bridge_weight",
                 "written_for_only", "abbreviated_share", "request_share"):
        assert params[name].default.default == getattr(cfg, name), name


def test_pretrain_refuses_a_dense_weight_out_of_range_before_reading(tmp_path):
    for bad in ("-0.1", "11"):
        one_line_error(cli("pretrain", "--data", str(tmp_path / "absent"), "--out",
                           str(tmp_path / "m"), "--dense-weight", bad),
                       "--dense-weight must be between 0 and 10")


def test_pretrain_refuses_an_encoder_weight_out_of_range_before_reading(tmp_path):
    for bad in ("0", "1.5"):
        one_line_error(cli("pretrain", "--data", str(tmp_path / "absent"), "--out",
                           str(tmp_path / "m"), "--encoder-weight", bad),
                       "--encoder-weight must be above 0 and at most 1")


def test_pretrain_refuses_shares_and_weights_out_of_range_before_reading(tmp_path):
    for option in ("--bridge-weight", "--abbreviated-share", "--request-share",
                   "--named-share"):
        for bad in ("-0.1", "2"):
            one_line_error(cli("pretrain", "--data", str(tmp_path / "absent"), "--out",
                               str(tmp_path / "m"), option, bad),
                           "--bridge-weight, --abbreviated-share, --request-share and "
                           "--named-share must be between 0 and 1")


def test_text_output_cuts_long_values(capsys):
    """A long value (a post's body) is cut to SHOWN_VALUE_CHARS in the text output; the
    result record keeps it whole."""
    from tablegraph.cli import SHOWN_VALUE_CHARS, _print_result
    from tablegraph.retrieval.retriever import Match, SearchResult, TableHit

    body = "word " * 60
    res = SearchResult("posts about words", [TableHit(1, "posts", 0.9, [Match("Body", 0.2)],
                                                      [Match("Body", 0.3, body),
                                                       Match("Title", 0.1, "short")])])
    _print_result(res)
    line = capsys.readouterr().out.splitlines()[1]
    assert f"Body={body[:SHOWN_VALUE_CHARS] + '...'!r} (0.30)" in line
    assert body not in line and "Title='short' (0.10)" in line
    assert res.to_dict()["hits"][0]["values"][0]["value"] == body


def test_text_output_lines_up_scores_after_wide_table_names(capsys):
    """A table named in CJK characters (two terminal columns each), or longer than the
    column, keeps its score in the column of the others' scores."""
    import unicodedata

    from tablegraph.cli import _print_result
    from tablegraph.retrieval.retriever import SearchResult, TableHit

    def widths(*tables: str) -> list[int]:
        _print_result(SearchResult("customers", [TableHit(i + 1, t, 0.5, [], [])
                                                 for i, t in enumerate(tables)]))
        lines = capsys.readouterr().out.splitlines()[1:]
        return [sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
                    for c in line[:line.index("0.")]) for line in lines]

    assert len(set(widths("orders", "顧客"))) == 1
    # a name longer than the usual column (a catalogue's `<database>.<table>`) widens it
    assert len(set(widths("orders", "apartment_rentals.Apartment_Buildings"))) == 1


def test_profile_lines_up_its_columns_under_a_long_table_name(tmp_path):
    """A table name wider than the column (a catalogue's `<database>.<table>`) widens it:
    every row's figures stay under their headings."""
    (tmp_path / "orders.csv").write_text("id\n1\n")
    (tmp_path / "apartment_rentals_apartment_buildings.csv").write_text("id\n1\n")
    lines = run("profile", "--tables", str(tmp_path), "-q").output.splitlines()
    ends = {line.index("rows") + len("rows") for line in lines[:1]} | \
        {line.index(" 1 ") + 2 for line in lines[1:]}
    assert len(ends) == 1, lines


def test_evaluate_and_train_take_a_benchmarks_json_questions(trained, tmp_path):
    """Spider-style JSON (gold SQL, several databases told apart by db_id) evaluates as its
    CSV twin does; the database is picked by --db or by the name of --tables."""
    import csv

    model, tables, questions, _ = trained
    rows = list(csv.DictReader(questions.open()))
    spider = [{"db_id": "db", "question": r["question"],
               "query": "SELECT * FROM " + " JOIN ".join(r["table"].split("|"))} for r in rows]
    spider.append({"db_id": "other", "question": "x", "query": "SELECT * FROM elsewhere"})
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps(spider))
    want = run("evaluate", "--model", str(model), "--tables", str(tables), "--questions",
               str(questions), "--json", "-q").output
    got = run("evaluate", "--model", str(model), "--tables", str(tables), "--questions",
              str(dev), "--json", "-q").output  # tables/db/ -> db_id "db"
    assert json.loads(got) == json.loads(want) and json.loads(got)["n"] == len(rows)
    one_line_error(cli("evaluate", "--model", str(model), "--questions", str(dev)),
                   "questions of 2 databases (db_id: db, other); choose one with --db NAME")
    one_line_error(cli("evaluate", "--model", str(model), "--tables", str(tables),
                       "--questions", str(dev), "--db", "other"), "unknown table 'elsewhere'")
    one_line_error(cli("evaluate", "--model", str(model), "--tables", str(tables),
                       "--questions", str(dev), "--evidence"), "no question has an 'evidence'")
    p = cli("train", "--tables", str(tables), "--questions", str(dev), "--db", "DB", "--out",
            str(tmp_path / "m"), "--epochs", "1", "--text-model", "hash:64", "--init",
            "scratch", "-q")
    assert p.returncode == 0, p.stderr
    assert "trained on 19 questions" in p.stdout and "validation (6 questions)" in p.stdout
    assert "the model saved is the best epoch's (1)" in p.stdout  # scratch: no refit
    p = cli("train", "--tables", str(tables), "--questions", str(dev), "--db", "DB", "--out",
            str(tmp_path / "r"), "--epochs", "1", "--text-model", "hash:64", "--init",
            "scratch", "--refit", "-q")
    assert p.returncode == 0, p.stderr
    assert ("trained on all 25 questions for 1 epoch (the model saved) after a validation run "
            "on 19 of them") in p.stdout and "the estimate for the model saved" in p.stdout
    # hit@1 beside recall@1, which counts a share of a multi-table question's gold tables
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("validation"))
    hit, recall = (float(line.split(k + " ")[1].split()[0]) for k in ("hit@1", "recall@1"))
    assert hit > recall
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["refit"]["n_train"] == 25


def test_a_table_file_renamed_on_export_still_answers_its_questions(trained, tmp_path):
    """A questions file names `prescriptions`, the folder holds
    `prescriptions_reconstructed.csv`: evaluate and train read it as that table and warn once;
    --strict refuses, naming the table."""
    model, tables, questions, _ = trained
    copy = tmp_path / "db"
    shutil.copytree(tables, copy)
    (copy / "prescriptions.csv").rename(copy / "prescriptions_reconstructed.csv")
    want = json.loads(run("evaluate", "--model", str(model), "--tables", str(tables),
                          "--questions", str(questions), "--json", "-q").output)
    p = cli("evaluate", "--model", str(model), "--tables", str(copy), "--questions",
            str(questions), "--json", "-q")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["n"] == want["n"] and got["hit@1"] == pytest.approx(want["hit@1"], abs=0.1)
    warned = [ln for ln in p.stderr.splitlines() if ln.startswith("warning: ")]
    assert warned == [f"warning: {questions}: gold table 'prescriptions' is not a table here: "
                      f"read as 'prescriptions_reconstructed', the one table whose name begins "
                      f"with it (--strict: an error)"]
    one_line_error(cli("evaluate", "--model", str(model), "--tables", str(copy), "--questions",
                       str(questions), "--strict", "-q"), "unknown table 'prescriptions'")
    # a benchmark's file may ask about a table the database does not have (EHRSQL's `cost`)
    extra = tmp_path / "extra.csv"
    extra.write_text(questions.read_text() + "cost,what did the stay cost\n"
                     "cost|labevents,costs of lab tests\n")
    one_line_error(cli("evaluate", "--model", str(model), "--tables", str(copy), "--questions",
                       str(extra), "-q"), "unknown table 'cost' in question 'what did the stay "
                   "cost' (tables: labevents, patients, prescriptions_reconstructed); evaluate "
                   "--skip-unknown leaves out the questions that name a table that is not here")
    p = cli("evaluate", "--model", str(model), "--tables", str(copy), "--questions", str(extra),
            "--skip-unknown", "--json", "-q")
    assert p.returncode == 0 and json.loads(p.stdout) == got, p.stderr
    assert f"warning: {extra}: 2 question(s) left out: they name a table that is not here " \
           f"(cost: 2)" in p.stderr.splitlines()
    p = cli("train", "--tables", str(copy), "--questions", str(questions), "--out",
            str(tmp_path / "m"), "--epochs", "1", "--text-model", "hash:64", "--init",
            "scratch", "-q")
    assert p.returncode == 0 and "read as 'prescriptions_reconstructed'" in p.stderr, p.stderr
    one_line_error(cli("train", "--tables", str(copy), "--questions", str(questions), "--out",
                       str(tmp_path / "m2"), "--epochs", "1", "--text-model", "hash:64",
                       "--init", "scratch", "--strict", "-q"), "unknown table 'prescriptions'")


def test_evaluate_a_benchmark_folder_of_databases_in_one_command(trained, tmp_path, tiny_sqlite):
    """Spider's layout (database/<db_id>/<db_id>.sqlite) and one JSON of every database's
    questions: each database in turn, then all questions together, weighted by questions."""
    import csv


    model, tables, questions, _ = trained
    rows = list(csv.DictReader(questions.open()))
    for name in ("clinic_a", "clinic_b"):
        tiny_sqlite(tables, tmp_path / "database" / name / f"{name}.sqlite")
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps(
        [{"db_id": "clinic_b", "question": r["question"], "query":
          "SELECT * FROM " + ", ".join(r["table"].split("|")), "question_id": i}
         for i, r in enumerate(rows[:5])] +
        [{"db_id": "clinic_a", "question": r["question"], "query":
          "SELECT * FROM " + ", ".join(r["table"].split("|"))} for r in rows]))
    ranked = tmp_path / "ranked.jsonl"
    out = run("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
              "--questions", str(dev), "-q", "--rankings", str(ranked)).output.splitlines()
    assert out[0].startswith(f"clinic_a: n={len(rows)}  hit@1 ")
    assert out[1].startswith("clinic_b: n=5  hit@1 ") and out[2] == "all 2 databases:"
    assert out[3].startswith(f"n={len(rows) + 5}  hit@1 ")
    m = json.loads(run("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
                       "--questions", str(dev), "-q", "--json").output)
    a, b = m["databases"]["clinic_a"], m["databases"]["clinic_b"]
    assert m["n"] == a["n"] + b["n"] == len(rows) + 5
    assert abs(m["hit@1"] - (a["hit@1"] * a["n"] + b["hit@1"] * b["n"]) / m["n"]) < 1e-9
    records = [json.loads(x) for x in ranked.read_text().splitlines()]
    assert [r["database"] for r in records] == ["clinic_a"] * len(rows) + ["clinic_b"] * 5
    # grouped by database, each still names where it stands in the file, and its own id
    assert [r["item"] for r in records] == list(range(6, 6 + len(rows))) + [1, 2, 3, 4, 5]
    assert [r.get("id") for r in records] == [None] * len(rows) + [0, 1, 2, 3, 4]
    # one database alone gives what that database gives in the whole
    alone = json.loads(run("evaluate", "--model", str(model), "--tables",
                           str(tmp_path / "database" / "clinic_a"), "--questions", str(dev),
                           "-q", "--json").output)
    assert {k: alone[k] for k in ("hit@1", "all@5", "set_f1", "n")} == \
        {k: a[k] for k in ("hit@1", "all@5", "set_f1", "n")}
    # the baselines beside it, on the same questions, database by database and pooled
    m = json.loads(run("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
                       "--questions", str(dev), "-q", "--json", "--compare").output)
    assert list(m["compare"]) == ["bm25", "dense", "dense+fk", "schema-search",
                                  "schema-search+fk"]
    parts = [m["databases"][d]["compare"]["dense+fk"] for d in ("clinic_a", "clinic_b")]
    assert m["compare"]["dense+fk"]["set_f1"] == pytest.approx(
        (parts[0]["set_f1"] * parts[0]["n"] + parts[1]["set_f1"] * parts[1]["n"]) / m["n"])
    assert "sentence-transformers" in m["compare"]["schema-search"]["skipped"]  # hash:64
    out = run("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
              "--questions", str(dev), "-q", "--compare").output
    assert "  schema-search+fk   skipped: schema-search needs a sentence-transformers" in out
    assert [ln.split()[0] for ln in out.splitlines() if ln.startswith("  ")][1:5] == \
        ["tablegraph", "bm25", "dense", "dense+fk"]
    # fine-tuning on one database of the folder, named by --db
    p = cli("train", "--tables", str(tmp_path / "database"), "--questions", str(dev), "--db",
            "clinic_b", "--out", str(tmp_path / "m"), "--epochs", "1", "--text-model", "hash:64",
            "--init", "scratch", "-q")
    assert p.returncode == 0 and "trained on 5 questions" in p.stdout, p.stderr
    # a file of one database's questions (no db_id): --db picks that database of the folder
    out = run("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
              "--questions", str(questions), "--db", "clinic_b", "-q").output.splitlines()
    assert out[0].startswith(f"n={len(rows)}  hit@1 "), out
    p = cli("train", "--tables", str(tmp_path / "database"), "--questions", str(questions),
            "--db", "clinic_b", "--out", str(tmp_path / "m3"), "--epochs", "1", "--text-model",
            "hash:64", "--init", "scratch", "-q")
    assert p.returncode == 0 and "validation (6 questions)" in p.stdout, p.stderr
    one_line_error(cli("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
                       "--questions", str(dev), "--db", "clinic_c"),
                   "no database file for db_id 'clinic_c' under "
                   f"{tmp_path / 'database'} (2 there: clinic_a, clinic_b)")
    dev.write_text(json.dumps([{"db_id": "clinic_c", "question": "q", "tables": ["x"]}]))
    one_line_error(cli("evaluate", "--model", str(model), "--tables", str(tmp_path / "database"),
                       "--questions", str(dev)), "no database file for db_id 'clinic_c'")


def test_demo_gives_train_every_option(monkeypatch):
    """demo calls train as a function, where an option left out is typer's OptionInfo (a
    truthy object), not its default."""
    import inspect

    from tablegraph import cli as cli_module
    from tablegraph.retrieval import retriever

    given = {}

    class Stop(Exception):
        pass

    def load(*a, **k):
        raise Stop

    monkeypatch.setattr(cli_module, "train", lambda **kw: given.update(kw))
    monkeypatch.setattr(retriever.TableRetriever, "load", load)
    try:
        cli_module.demo(out="unused")
    except Stop:
        pass
    params = inspect.signature(inspect.unwrap(cli_module.app.registered_commands[
        [c.callback.__name__ for c in cli_module.app.registered_commands].index("train")
    ].callback)).parameters
    assert set(given) == set(params)


def test_db_picks_one_database_of_a_tables_json(tmp_path):
    """`--db` reads one of the databases a tables.json (or a folder of databases) holds;
    with one database, or none named so, it is one clear error."""
    entry = {"table_names_original": ["singer", "concert"],
             "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"],
                                       [1, "concert_id"], [1, "singer_id"]],
             "column_types": ["text", "number", "text", "number", "number"],
             "primary_keys": [1, 3], "foreign_keys": [[4, 1]]}
    both = tmp_path / "tables.json"
    both.write_text(json.dumps([{**entry, "db_id": "music"},
                                {**entry, "db_id": "shows", "table_names_original": ["a", "b"]}]))
    r = run("schema", "--tables", str(both), "--db", "music", "-q")
    assert r.exit_code == 0 and "concert.singer_id = singer.singer_id" in r.output
    r = run("schema", "--tables", str(both), "-q")  # without --db: a catalogue of both
    assert r.exit_code == 0 and "music.concert.singer_id = music.singer.singer_id" in r.output
    assert "shows.a" in r.output
    # an LLM's context names each database of it, never the cache's copy of it
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.schema import sql_context
    from tablegraph.tables.sources import discover

    head = sql_context(profile_tables(discover(both), use_cache=False)[:1], []).split("\n")[0]
    assert head == "-- music: a database its schema file describes (columns, types, keys; " \
        "no rows), attached as music"
    one_line_error(cli("schema", "--tables", str(both), "--db", "nope"), "'nope'")
    one = tmp_path / "one.json"
    one.write_text(json.dumps([{**entry, "db_id": "music"}]))
    one_line_error(cli("ask", "--tables", str(one), "--db", "music", "who sings"),
                   "leave --db out")


def test_a_home_path_as_a_program_passes_it_is_the_home_folders(tmp_path, sqlite_file):
    """`--tables ~/shop.sqlite` passed without a shell (an MCP client's configuration) reads
    the file in the home folder, as a shell would have made it; a question is left alone."""
    from tablegraph.cli import _home_expanded

    sqlite_file(tmp_path / "shop.sqlite", "CREATE TABLE refunds (id INTEGER, amount REAL)")
    env = {**os.environ, "HOME": str(tmp_path)}
    for args in (["--tables", "~/shop.sqlite"], ["--tables=~/shop.sqlite"]):
        r = subprocess.run([sys.executable, "-m", "tablegraph.cli", "schema", *args], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.startswith("refunds (0 rows)"), r.stderr
    assert _home_expanded(["ask", "what is ~/x", "~user", "-k", "5"]) == \
        ["ask", "what is ~/x", "~user", "-k", "5"]

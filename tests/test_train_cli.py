"""End to end on tiny tables with the hash mock encoder: train, evaluate, ask, errors."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tablegraph.cli import app
from tablegraph.retrieve import TableRetriever
from tablegraph.train import cosine_lr

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def cli(*args):
    """Run the real console entry point (exit codes and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "tablegraph.cli", *args], capture_output=True,
                          text=True)


def test_cosine_schedule():
    assert cosine_lr(0, 100, 5e-4, 1e-6) == pytest.approx(5e-4)
    assert cosine_lr(50, 100, 5e-4, 1e-6) == pytest.approx((5e-4 + 1e-6) / 2)
    assert cosine_lr(100, 100, 5e-4, 1e-6) == pytest.approx(1e-6)


@pytest.fixture
def trained(tmp_path, tiny_tables):
    out = tmp_path / "model"
    r = run("train", "--tables", str(tiny_tables), "--questions", str(tmp_path / "questions.csv"),
            "--out", str(out), "--epochs", "3", "--batch-size", "4", "--text-model", "hash:64")
    assert r.exit_code == 0, r.output
    return out


def test_train_writes_model_folder(trained):
    for f in ("config.json", "model.safetensors", "index.safetensors", "index.json",
              "metrics.json", "history.csv", "curves.png"):
        assert (trained / f).is_file(), f
    m = json.loads((trained / "metrics.json").read_text())
    assert set(m["best"]) >= {"recall@1", "recall@5", "mrr"}
    assert len((trained / "history.csv").read_text().splitlines()) == 4
    assert (trained / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_and_ask(trained, tmp_path, tiny_tables):
    q = str(tmp_path / "questions.csv")
    r = run("evaluate", "--model", str(trained), "--questions", q, "--json")
    m = json.loads(r.output.strip().splitlines()[-1])
    assert set(m) == {"hit@1", "hit@5", "recall@5", "all@5", "mrr", "n"} and m["n"] == 16
    r2 = run("evaluate", "--model", str(trained), "--questions", q, "--tables", str(tiny_tables),
             "--json")
    assert json.loads(r2.output.strip().splitlines()[-1])["n"] == 16
    r3 = run("ask", "--model", str(trained), "-k", "2", "which drug was given")
    assert "1." in r3.output and "2." in r3.output
    res = TableRetriever.load(str(trained)).search("dose of heparin", k=3)
    assert [h.rank for h in res.hits] == [1, 2, 3]
    assert res.hits[0].columns and res.hits[0].score >= res.hits[1].score


def test_user_errors_are_one_line(trained, tmp_path, tiny_tables):
    bad = tmp_path / "bad.csv"
    bad.write_text("table,question\nnosuchtable,what is here\n")
    p = cli("train", "--tables", str(tiny_tables), "--questions", str(bad), "--out",
            str(tmp_path / "m2"), "--epochs", "1", "--text-model", "hash:64")
    assert p.returncode == 2 and "unknown table 'nosuchtable'" in p.stderr
    assert len([ln for ln in p.stderr.splitlines() if ln.startswith("error")]) == 1
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "m2").exists()
    cfg = json.loads((trained / "config.json").read_text())
    cfg["feature_schema"]["profile_version"] = -1
    (trained / "config.json").write_text(json.dumps(cfg))
    p = cli("ask", "--model", str(trained), "anything")
    assert p.returncode == 2 and "feature schema" in p.stderr and "Traceback" not in p.stderr
    cfg["format_version"] = 2  # a folder written before the partial-match linking features
    (trained / "config.json").write_text(json.dumps(cfg))
    p = cli("ask", "--model", str(trained), "anything")
    assert p.returncode == 2 and "model format 2" in p.stderr and "retrain" in p.stderr
    assert "Traceback" not in p.stderr
    p = cli("evaluate", "--model", str(tmp_path / "missing"), "--questions", str(bad))
    assert p.returncode == 2 and "no such model folder" in p.stderr
    p = cli("profile", "--tables", str(tmp_path / "nothing-here"))
    assert p.returncode == 2 and "no such file or folder" in p.stderr


def test_dataset_export(tmp_path):
    r = run("dataset", "export", str(tmp_path / "ds"))
    assert r.exit_code == 0
    assert len(list((tmp_path / "ds" / "hosp").glob("*.csv.gz"))) == 22
    assert (tmp_path / "ds" / "questions.csv").read_text().count("\n") == 441


def test_retrieval_loads_without_training_code():
    code = ("import sys, tablegraph.retrieve, tablegraph.cli; "
            "print('tablegraph.train' in sys.modules, 'tablegraph.loss' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "False False"


def test_schema_pairs_label_columns_with_their_table(tiny_tables):
    from tablegraph.profile import profile_tables
    from tablegraph.sources import discover
    from tablegraph.train import schema_pairs

    from tablegraph.questions import Question

    profiles = profile_tables(discover(tiny_tables), progress=False)
    asked = [Question("q1", ("labevents",)), Question("q2", ("prescriptions", "patients"))]
    pairs = schema_pairs(profiles, asked)
    assert any(q.text == "value number" and q.tables == ("labevents",) for q in pairs)
    assert any(q.text.startswith("drug ") and q.tables == ("prescriptions",) for q in pairs)
    only_labs = schema_pairs(profiles, asked[:1])
    assert only_labs and {q.tables for q in only_labs} == {("labevents",)}

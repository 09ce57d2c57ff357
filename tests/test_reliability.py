"""What tablegraph promises a user, input by input: nothing saved is lost or half-written, no
secret is printed, no silent wrong answer, one line and exit status 2 for every error a user
can cause."""

import gzip
import json
import os
import shutil
import sqlite3
import sys

import numpy as np
import pytest

from tablegraph.cli import main


@pytest.fixture
def tg(capsys, monkeypatch):
    """Run `tablegraph ARGS` in this process: (exit status, stdout, stderr)."""

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["tablegraph", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line_error(result, *texts):
    code, _, err = result
    assert code == 2, (code, err)
    errors = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, err
    for t in texts:
        assert t in errors[0], errors[0]
    assert "Traceback" not in err


def train_args(tables, questions, out, *extra):
    return ["train", "--tables", tables, "--questions", questions, "--out", out,
            "--epochs", "2", "--batch-size", "4", "--text-model", "hash:64", "--init", "scratch", "-q", *extra]


# --- data loss and secrets -------------------------------------------------------------------

def test_out_never_replaces_a_user_folder_or_file(tg, tmp_path, tiny_tables):
    q = tmp_path / "questions.csv"
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep me")
    one_line_error(tg(*train_args(tiny_tables, q, mine)), "refusing to replace", "mine")
    assert (mine / "notes.txt").read_text() == "keep me" and (mine / "sub").is_dir()
    one_line_error(tg("demo", "--out", mine), "refusing to replace")
    f = tmp_path / "file.txt"
    f.write_text("keep")
    one_line_error(tg(*train_args(tiny_tables, q, f)), "refusing to replace")
    assert f.read_text() == "keep"
    # a tablegraph model folder is replaced whole, and files get the user's umask
    model = tmp_path / "model"
    assert tg(*train_args(tiny_tables, q, model))[0] == 0
    (model / "stale.txt").write_text("from before")
    assert tg(*train_args(tiny_tables, q, model))[0] == 0
    assert not (model / "stale.txt").exists() and (model / "config.json").is_file()
    from tablegraph.utils import UMASK

    for f in model.iterdir():
        assert f.stat().st_mode & 0o777 == 0o666 & ~UMASK, f.name
    assert model.stat().st_mode & 0o777 == 0o777 & ~UMASK
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".model")]  # no leftovers


def test_dataset_export_refuses_a_file_and_keeps_the_umask(tg, tmp_path):
    from tablegraph.utils import UMASK

    f = tmp_path / "x"
    f.write_text("mine")
    one_line_error(tg("dataset", "export", f), "refusing to write over")
    assert f.read_text() == "mine"
    assert tg("dataset", "export", tmp_path / "ds")[0] == 0
    assert (tmp_path / "ds" / "questions.csv").stat().st_mode & 0o777 == 0o666 & ~UMASK


def test_a_password_is_never_printed_or_saved(tg):
    from tablegraph.tables.sources import discover, display_location, redact
    from tablegraph.utils import TableGraphError

    url = "postgresql://alice:s3cr%40t-pw@127.0.0.1:1/db?connect_timeout=2"
    with pytest.raises(TableGraphError) as e:
        discover(url)
    assert "s3cr" not in str(e.value) and "alice" not in str(e.value)
    code, out, err = tg("profile", "--tables", url)
    assert code == 2 and "s3cr" not in out + err
    assert display_location(url) == "postgresql://127.0.0.1:1/db?connect_timeout=2"
    assert redact("failed: postgresql://u:pw@h/db password=pw2 and pw", "postgresql://u:pw@h/db") \
        == "failed: postgresql://h/db password=*** and ***"


# --- silent wrong results ----------------------------------------------------------------------

def test_damaged_model_files_are_refused(tg, tmp_path, trained):
    model, *_ = trained
    for name, damage in (("model.safetensors", "flip"), ("model.safetensors", "empty"),
                         ("index.safetensors", "truncate"), ("index.json", "flip")):
        broken = tmp_path / f"{name}-{damage}"
        shutil.copytree(model, broken)
        data = bytearray((broken / name).read_bytes())
        if damage == "flip":
            for i in range(200, len(data), 997):
                data[i] ^= 0x20
        data = b"" if damage == "empty" else data[:100] if damage == "truncate" else data
        (broken / name).write_bytes(bytes(data))
        one_line_error(tg("ask", "--model", broken, "x"), "damaged model folder", name)


def test_non_finite_scores_are_refused(trained):
    from tablegraph import TableRetriever
    from tablegraph.utils import TableGraphError

    model, *_ = trained
    r = TableRetriever.load(str(model))
    r.index.vectors[1, :] = np.nan
    r.index._tensors.clear()
    with pytest.raises(TableGraphError, match="non-finite scores"):
        r.search("which medication", k=3)


def test_malformed_files_are_skipped_with_their_line_or_refused_with_strict(tg, tmp_path):
    d = tmp_path / "db"
    d.mkdir()
    (d / "good.csv").write_text("id,name\n1,a\n2,b\n")
    (d / "unclosed.csv").write_text('id,name,comment\n1,"abc,hello\n2,def,ok\n')
    (d / "ragged.csv").write_text("a,b\n1,2\n3\n")
    rows = "".join(f"{i},{i * 7919 % 10007}\n" for i in range(3000)).encode()
    whole = gzip.compress(b"a,b\n" + rows)
    assert len(whole) > 4000
    (d / "trunc.csv.gz").write_bytes(whole[:len(whole) // 2])
    (d / "empty.csv").write_bytes(b"")
    code, out, err = tg("profile", "--tables", d, "--json")
    assert code == 0
    report = json.loads(out)
    assert [t["table"] for t in report["tables"]] == ["good"]
    why = {s["table"]: s["why"] for s in report["skipped"]}
    assert "line 2" in why["unclosed"] and "quote" in why["unclosed"]
    assert "line 3" in why["ragged"] and "1 field(s) where the header has 2" in why["ragged"]
    assert "truncated" in why["trunc"] and "empty file" in why["empty"]
    code, out, _ = tg("profile", "--tables", d)
    assert code == 0 and "skipped unclosed: " in out
    one_line_error(tg("profile", "--tables", d, "--strict"), "empty")
    one_line_error(tg("profile", "--tables", d / "unclosed.csv"), "unclosed.csv, line 2")


def test_questions_file_errors_name_the_line(tg, tmp_path, trained):
    model, *_ = trained
    bad = tmp_path / "q.csv"
    bad.write_text('table,question\nprescriptions,"which drug\nprescriptions,second\n')
    one_line_error(tg("evaluate", "--model", model, "--questions", bad), "line 2", "quote")
    bad.write_text("table,question\nprescriptions,a\nprescriptions,b,c\n")
    one_line_error(tg("evaluate", "--model", model, "--questions", bad), "line 3", "3 field(s)")
    bad.write_text("table,question\nprescriptions,a\nprescriptions,\n")
    one_line_error(tg("evaluate", "--model", model, "--questions", bad), "line 3",
                   "empty question")
    bad.write_text("table,question\nprescriptions,a\n,what is the weather\n")
    # an unanswerable question: evaluate needs an abstention model, train never takes one
    one_line_error(tg("evaluate", "--model", model, "--questions", bad), "no abstention model")
    one_line_error(tg(*train_args(trained[1], bad, tmp_path / "m")), "line 3",
                   "only evaluate takes those")


def test_empty_or_blank_question_is_an_error(tg, trained):
    model, *_ = trained
    one_line_error(tg("ask", "--model", model, ""), "the question is empty")
    one_line_error(tg("ask", "--model", model, "   "), "the question is empty")


def test_too_few_questions_train_on_all_and_print_no_nan(tg, tmp_path, tiny_tables):
    q = tmp_path / "one.csv"
    q.write_text("table,question\npatients,how old is everyone\n")
    code, out, _ = tg(*train_args(tiny_tables, q, tmp_path / "m"))
    assert code == 0 and "too few to validate" in out and "nan" not in out.lower()
    metrics = (tmp_path / "m" / "metrics.json").read_text()
    assert "NaN" not in metrics and json.loads(metrics)["n_train"] == 1
    history = (tmp_path / "m" / "history.csv").read_text().splitlines()
    assert float(history[1].split(",")[2]) > 0  # a real loss, over all tables


def test_cached_profiles_equal_fresh_ones_exactly(tiny_tables):
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.sources import discover

    refs = discover(tiny_tables)
    fresh = profile_tables(refs, use_cache=False)
    profile_tables(refs)  # writes the cache
    cached = profile_tables(refs)
    for a, b in zip(fresh, cached):
        assert np.array_equal(a.stats, b.stats), a.name


# --- tracebacks that became one line -----------------------------------------------------------

def test_huge_numbers_mixed_sqlite_types_and_corrupt_databases(tg, tmp_path):
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.sources import discover

    f = tmp_path / "huge.csv"
    f.write_text("x,y\n1e308,1\n-1e308,2\n1e308,3\n5,4\n")
    (p,) = profile_tables(discover(f), use_cache=False)
    assert np.isfinite(p.stats).all() and np.abs(p.stats).max() <= 1
    db = tmp_path / "mixed.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("CREATE TABLE u (c INTEGER)")
    con.execute("CREATE TABLE d (day DATE, n INTEGER)")
    con.executemany("INSERT INTO d VALUES (?, ?)", [("2011-08-28", 1), ("28-AUG-2011", 2),
                                                     ("0000-00-00", 3)])
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "x"), ("oops", "y"), (3, "z")])
    con.executemany("INSERT INTO u VALUES (?)", [(1,), (2,)])
    con.commit()
    con.close()
    profiles = {p.name: p for p in profile_tables(discover(db), use_cache=False)}
    assert profiles["t"].n_rows == 3 and profiles["u"].columns[0].dtype != "VARCHAR"
    assert profiles["d"].n_rows == 3
    # a value that does not fit its column makes that column text, not the whole table
    d = {c.name: c.dtype for c in profiles["d"].columns}
    t = {c.name: c.dtype for c in profiles["t"].columns}
    assert (d["day"], d["n"], t["a"], t["b"]) == ("VARCHAR", "BIGINT", "VARCHAR", "VARCHAR")
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\x07" * 600)
    one_line_error(tg("profile", "--tables", corrupt), "corrupt.sqlite")


def test_bad_options_and_places_are_one_line(tg, tmp_path, tiny_tables, monkeypatch):
    q = tmp_path / "questions.csv"
    out = tmp_path / "m"
    one_line_error(tg(*train_args(tiny_tables, q, out, "--device", "tpu")), "unknown device")
    one_line_error(tg(*train_args(tiny_tables, q, out, "--device", "cuda")), "CUDA")
    one_line_error(tg(*train_args(tiny_tables, q, out, "--max-rows", "-5")), "--max-rows")
    one_line_error(tg(*train_args(tiny_tables, q, out, "--max-rows", "0")), "--max-rows")
    (tmp_path / "f.txt").write_text("")
    one_line_error(tg(*train_args(tiny_tables, q, tmp_path / "f.txt" / "m")), "is not a folder")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("TABLEGRAPH_CACHE", str(blocker / "cache"))
    one_line_error(tg("profile", "--tables", tiny_tables), "cache")


def test_rankings_to_a_place_that_takes_no_file_fail_before_the_work(tg, tmp_path, trained,
                                                                      monkeypatch):
    """`evaluate --rankings` onto a folder, or under a file, is one line naming the path given
    before anything is read; a write that fails names that path, not its temporary file."""
    from tablegraph.utils import atomic_write_text

    model, tables, questions, _ = trained
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("")
    import tablegraph.tables.sources as sources

    monkeypatch.setattr(sources, "discover", lambda *a, **k: pytest.fail("read the tables"))
    one_line_error(tg("evaluate", "--model", model, "--questions", questions, "--rankings",
                      tmp_path / "a-folder"), f"{tmp_path / 'a-folder'} is a folder")
    one_line_error(tg("evaluate", "--model", model, "--questions", questions, "--rankings",
                      tmp_path / "a-file" / "r.jsonl"), f"cannot write {tmp_path / 'a-file'}")
    with pytest.raises(IsADirectoryError) as e:
        atomic_write_text(tmp_path / "a-folder", "x")
    assert e.value.filename == str(tmp_path / "a-folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-folder"]


def test_rankings_into_a_pipe_are_written_through_it_not_over_it(tmp_path):
    """`--rankings /dev/stdout` or `>(...)`: a pipe or a device is written to as it is; a
    temporary file renamed onto it would put a file in its place (as root, /dev/stdout
    itself)."""
    import threading

    from tablegraph.utils import atomic_write_text, is_stream, writable_file

    fifo = tmp_path / "r.fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(daemon=True, target=lambda: got.append(fifo.read_text()))
    reader.start()
    assert writable_file(fifo) == fifo and is_stream(fifo)
    atomic_write_text(fifo, '{"question": "q"}\n')
    reader.join(timeout=10)
    assert got == ['{"question": "q"}\n'] and is_stream(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.fifo"]
    assert not is_stream(tmp_path) and not is_stream(tmp_path / "absent")


def test_a_missing_text_model_fails_at_once_offline(tg, tmp_path, tiny_tables):
    q = tmp_path / "questions.csv"
    for name in ("no-such-model", "sentence-transformers/all-mpnet-base-v2", str(tmp_path)):
        one_line_error(tg(*train_args(tiny_tables, q, tmp_path / "m")[:-3], "--text-model", name,
                          "-q"), "cannot load text model")
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_an_unreadable_gold_table_is_named_with_its_reason(tg, tmp_path, trained):
    model, tables, questions, _ = trained
    d = tmp_path / "db"
    shutil.copytree(tables, d)
    (d / "patients.csv").write_text('subject_id,gender\n1,"F\n')
    code, _, err = tg("evaluate", "--model", model, "--questions", questions, "--tables", d)
    assert code == 2
    assert "warning: skipped table patients" in err
    assert "gold table 'patients' could not be read" in err


# --- robust by design ----------------------------------------------------------------------------

def test_the_library_prints_nothing_by_default(capfd, trained):
    from tablegraph import TableRetriever

    model, tables, *_ = trained
    r = TableRetriever.load(str(model), tables=str(tables))
    r.search("medication", k=2)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("stop_at", [2, 8])  # in the validation run; in the refit
def test_resumed_training_equals_an_uninterrupted_run(tmp_path, tiny_tables, stop_at):
    from safetensors.torch import load_file

    from tablegraph.training.run import checkpoint_path, train_model
    from tablegraph.training.trainer import TrainConfig

    q = str(tmp_path / "questions.csv")
    cfg = TrainConfig(epochs=5, batch_size=4, seed=3, val_fraction=0.25, init="scratch",
                      refit=True)
    args = dict(tables=str(tiny_tables), questions=q, cfg=cfg, text_model="hash:64",
                progress=False)
    train_model(str(tmp_path / "whole"), **args)
    calls = []

    def stop(epoch):
        calls.append(epoch)
        if len(calls) == stop_at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_model(str(tmp_path / "resumed"), on_epoch=stop, **args)
    assert checkpoint_path(str(tmp_path / "resumed")).is_dir()
    assert checkpoint_path(str(tmp_path / "resumed"), "refit").is_dir() == (stop_at > 5)
    assert not (tmp_path / "resumed").exists()
    train_model(str(tmp_path / "resumed"), resume=True, **args)
    assert not checkpoint_path(str(tmp_path / "resumed")).exists()
    assert not checkpoint_path(str(tmp_path / "resumed"), "refit").exists()
    a = load_file(str(tmp_path / "whole" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    ha = (tmp_path / "whole" / "history.csv").read_text().splitlines()
    hb = (tmp_path / "resumed" / "history.csv").read_text().splitlines()
    drop_seconds = [ln.rsplit(",", 1)[0] for ln in ha], [ln.rsplit(",", 1)[0] for ln in hb]
    assert drop_seconds[0] == drop_seconds[1] and len(ha) == 6
    with pytest.raises(Exception, match="nothing to resume"):
        train_model(str(tmp_path / "other"), resume=True, **args)


def test_saving_a_model_never_replaces_a_user_folder(tmp_path, trained):
    from tablegraph.model.folder import load_model, save_model
    from tablegraph.utils import TableGraphError

    model, *_ = trained
    saved = load_model(model)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("a\n1\n")
    with pytest.raises(TableGraphError, match="refusing to replace"):
        save_model(mine, saved.encoder(), {k: v for k, v in saved.config.items()
                                           if k in ("text_model", "graph", "sampling")},
                   saved.index)
    assert (mine / "data.csv").read_text() == "a\n1\n"

import json
import sqlite3

from typer.testing import CliRunner

from tablegraph.cli import app
from tablegraph.model.folder import load_model
from tablegraph.training.corpora import text2sql_databases

SHOPS = {
    "customers": ("id INTEGER PRIMARY KEY, name TEXT, city TEXT",
                  ["which customers live in paris", "customer names", "city of each customer"]),
    "orders": ("id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers, total REAL",
               ["order totals", "biggest order", "orders of each customer"]),
    "products": ("id INTEGER PRIMARY KEY, title TEXT, price REAL",
                 ["product prices", "cheapest product", "product titles"]),
}


SCHOOLS = {
    "students": ("id INTEGER PRIMARY KEY, name TEXT, grade INTEGER",
                 ["which students are in grade 3", "student names", "grade of each student"]),
    "teachers": ("id INTEGER PRIMARY KEY, name TEXT, subject TEXT",
                 ["who teaches maths", "teacher names", "subject of each teacher"]),
    "classes": ("id INTEGER PRIMARY KEY, teacher_id INTEGER REFERENCES teachers, room TEXT",
                ["class rooms", "how many classes", "room of each class"]),
}


def _corpus(root, n=6, schools=0):
    """n small shop databases in text2sql-train's layout, alternating Spider and BIRD (and
    `schools` school databases, which share no table name with them)."""
    for k in range(n + schools):
        group = "spider" if k % 2 == 0 else "bird"
        kind, tables = ("shop", SHOPS) if k < n else ("school", SCHOOLS)
        folder = root / "text2sql-train" / group / f"{kind}_{k}"
        (folder / "tables").mkdir(parents=True)
        con = sqlite3.connect(folder / "tables" / f"{kind}_{k}.sqlite")
        for t, (cols, _) in tables.items():
            con.execute(f"CREATE TABLE {t} ({cols})")
        if group == "spider" and kind == "shop":
            con.executemany("INSERT INTO customers VALUES (?, ?, ?)",
                            [(i, f"name{i}", ["paris", "rome"][i % 2]) for i in range(20)])
        con.commit()
        con.close()
        rows = ["table,question"] + [f"{t},{q}" for t, (_, qs) in tables.items() for q in qs]
        rows.append("customers|orders,orders of customers in rome" if kind == "shop" else
                    "classes|teachers,classes of the maths teacher")
        (folder / "questions.csv").write_text("\n".join(rows) + "\n")


def test_databases_fall_into_stable_folds(tmp_path):
    _corpus(tmp_path)
    dbs = text2sql_databases(tmp_path)
    assert [d.name for d in dbs][:2] == ["spider/shop_0", "spider/shop_2"]
    assert all(len(d.questions) == 10 for d in dbs)
    assert [d.fold(3) for d in dbs] == [d.fold(3) for d in text2sql_databases(tmp_path)]
    assert len({d.fold(3) for d in dbs}) > 1


def test_pretrain_holds_out_whole_databases_and_reports_on_them(tmp_path, monkeypatch):
    import tablegraph.training.pretrain as pt

    fitted, shown = [], []
    real_fit, real_rank = pt.fit_join_stage, pt.rank_and_set

    def fit_spy(examples, *args, **kwargs):
        fitted.extend(examples)
        return real_fit(examples, *args, **kwargs)

    def rank_spy(*args):
        shown.append(args)
        return real_rank(*args)
    monkeypatch.setattr(pt, "fit_join_stage", fit_spy)
    monkeypatch.setattr(pt, "rank_and_set", rank_spy)
    monkeypatch.setattr(pt, "LARGE_SCHEMA", 3)  # every 3-table database counts as large
    _corpus(tmp_path)
    out = tmp_path / "model"
    fold = text2sql_databases(tmp_path)[0].fold(3)
    r = CliRunner().invoke(app, ["pretrain", "--data", str(tmp_path), "--out", str(out),
                                 "--epochs", "2", "--fold", str(fold), "--text-model",
                                 "hash:64", "-q"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    held = set(metrics["held_out"])
    assert held and not held & set(metrics["databases"])
    assert all(text2sql_databases(tmp_path)[0].fold(3) == fold for _ in [0])
    rows = metrics["held_out_metrics"]
    for group in rows:
        assert set(rows[group]) == {"tablegraph", "tablegraph+stage", "tablegraph+set", "bm25",
                                    "dense", "dense+fk"}
        for m in rows[group].values():
            assert 0 <= m["hit@1"] <= 1 and 0 < m["coverage"] <= 1 and m["n"] > 0
        assert 0 <= rows[group]["tablegraph+set"]["set_f1"] <= 1
        assert {"top1_f1", "top5_f1"} <= set(rows[group]["tablegraph"])
    # the large-schema group pools every held-out database of that size, whatever its corpus
    assert rows["3+ tables"]["tablegraph"]["n"] == sum(
        rows[g]["tablegraph"]["n"] for g in rows if g != "3+ tables")
    assert "held-out 3+ tables" in r.output
    assert "held-out" in r.output and (out / "model.safetensors").is_file()
    assert not (out / "index.json").exists()  # the pretrained model carries no tables
    assert load_model(out).join_stage() is not None  # the second stage is fitted and saved
    # it is fitted and evaluated with each question's word cover and token similarities
    assert fitted and all(len(ex.cover) == len(ex.tokens) == len(ex.gold) for ex in fitted)
    assert all(t.shape == (2, t.shape[1], len(ex.names)) for ex in fitted for t in ex.tokens)
    assert shown and all(a[-2] is not None and a[-1] is not None for a in shown)
    assert json.loads((out / "config.json").read_text())["set"]["seed_weight"] > 0


def test_learning_curve_tests_the_same_questions_at_every_point(tmp_path, monkeypatch):
    import tablegraph.training.pretrain as pt
    from tablegraph.benchmarks.curve import curve_png, learning_curve

    ranked = []  # the ranking is the one ask returns: through the second stage

    def rank_spy(*args, **kw):
        ranked.append(args[6])
        return real_rank(*args, **kw)
    real_rank = pt.rank_and_set
    monkeypatch.setattr(pt, "rank_and_set", rank_spy)

    _corpus(tmp_path, schools=6)
    fold = text2sql_databases(tmp_path)[0].fold(3)
    held = [d.name for d in text2sql_databases(tmp_path) if d.fold(3) == fold]
    assert any("shop" in n for n in held) and any("school" in n for n in held)
    out = tmp_path / "model"
    r = CliRunner().invoke(app, ["pretrain", "--data", str(tmp_path), "--out", str(out),
                                 "--epochs", "1", "--fold", str(fold), "--text-model",
                                 "hash:64", "-q"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    # an abstention model (fitted without EHRSQL, which this corpus lacks, on noise)
    import numpy as np

    from tablegraph.model.abstain import ABSTAIN_FEATURES, fit_abstain_head

    noise = np.random.default_rng(0).normal(size=(400, len(ABSTAIN_FEATURES)))
    config = json.loads((out / "config.json").read_text())
    config["abstain"] = fit_abstain_head(noise[:200] + 1, noise[200:]).to_dict()
    (out / "config.json").write_text(json.dumps(config))
    ranked.clear()  # pretrain's own held-out report ranks through it too
    curve = learning_curve(str(tmp_path), str(out), fold, points=(0, 2, 4), min_questions=8,
                           epochs=3)
    assert curve
    for c in curve.values():
        assert c["points"] == [0, 2, 4] and len(c["hit@1"]) == 3
        assert c["n"] == c["databases"] * (10 - 4)  # the questions after the largest point
        assert all(0 <= h <= 1 for h in c["hit@1"])
        assert len(c["all@5"]) == len(c["all@5 first stage"]) == 3
        # the abstention the fine-tuned models keep, at every point: kept, caught, AUROC
        for key in ("abstention kept", "abstention caught", "abstention AUROC"):
            assert len(c[key]) == 3 and all(0 <= x <= 1 for x in c[key]), key
    assert ranked and all(stage is not None for stage in ranked)
    assert curve_png(curve)[:4] == b"\x89PNG"
    other = (fold + 1) % 3
    r = CliRunner().invoke(app, ["curve", "--data", str(tmp_path), "--model", str(out),
                                 "--fold", str(other), "--out", str(tmp_path / "curve")])
    assert r.exit_code != 0 and "was not pretrained with --fold" in str(r.exception)
    assert not (tmp_path / "curve").exists()


def test_pretraining_adds_each_tables_share_of_its_questions_to_the_logits(tmp_path,
                                                                            monkeypatch):
    """Logit adjustment: every step's logits get strength * n/(n+500) * log((c+1)/(n+2)) per
    table (c of the database's n questions have it gold); --prior-strength 0 turns it off."""
    import math

    import torch

    from tablegraph.model.loss import InfoNCELoss

    _corpus(tmp_path, n=2)
    seen = []
    real = InfoNCELoss.from_similarity

    def spy(self, cos, pos, prior=None, weight=None):
        seen.append(None if prior is None else prior.detach().clone())
        return real(self, cos, pos, prior, weight)

    monkeypatch.setattr(InfoNCELoss, "from_similarity", spy)
    args = ["pretrain", "--data", str(tmp_path), "--epochs", "1", "--text-model", "hash:64",
            "--no-abstain", "-q"]
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "a")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    n = 10  # questions per database; tables in name order: customers, orders, products
    want = torch.tensor([math.log((c + 1) / (n + 2)) * n / (n + 500) for c in (4, 4, 3)])
    assert seen and all(p is not None and torch.allclose(p, want) for p in seen)
    seen.clear()
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "b"), "--prior-strength", "0"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert seen and all(p is None for p in seen)


def test_cross_database_questions_never_borrow_from_a_database_with_the_same_tables():
    from types import SimpleNamespace

    from tablegraph.tables.questions import Question
    from tablegraph.training.pretrain import cross_database_questions

    def db(name, tables, n):
        return SimpleNamespace(name=name, names=tables,
                               questions=[Question(f"{name} q{i}", (tables[0],))
                                          for i in range(n)])

    shops = db("spider/shops", ["Customers", "orders"], 50)
    shops2 = db("bird/shops2", ["customers", "items"], 5)  # shares a table name with shops
    films = db("spider/films", ["film", "actor"], 8)
    lonely = db("spider/lonely", ["film", "customers"], 3)  # shares with every other
    out = cross_database_questions([shops, shops2, films, lonely], per_db=40, seed=0)
    got = {d.name: (own, other) for d, own, other in out}
    assert list(got) == ["bird/shops2", "spider/films", "spider/shops"]  # name order
    own, other = got["spider/shops"]
    assert len(own) == 40 and set(own) <= {q.text for q in shops.questions}
    assert len(other) == 8 and all(t.startswith("spider/films") for t in other)
    own, other = got["bird/shops2"]
    assert len(own) == 5 and all(t.startswith("spider/films") for t in other)
    own, other = got["spider/films"]
    assert len(other) == len(own) == 8
    assert all(t.split()[0] in ("spider/shops", "bird/shops2") for t in other)
    again = cross_database_questions([lonely, films, shops2, shops], per_db=40, seed=0)
    assert [(d.name, o, u) for d, o, u in again] == [(d.name, o, u) for d, o, u in out]


def test_abstention_on_databases_counts_own_questions_kept_and_others_caught(monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    import tablegraph.training.pretrain as pt
    from tablegraph.tables.questions import Question

    def db(name, table, n):
        return SimpleNamespace(name=name, names=[table],
                               questions=[Question(f"{name} q{i}", (table,)) for i in range(n)])

    dbs = [db("spider/a", "singer", 4), db("spider/b", "flight", 4)]

    def features(model, d, texts, *args):  # own questions 0.9 but one, others 0.2
        return np.array([[0.9 if t.startswith(d.name) and not t.endswith("q0") else 0.2]
                         for t in texts])

    monkeypatch.setattr(pt, "question_features", features)
    head = SimpleNamespace(threshold=0.5, temperature=0.07, predict=lambda x: x[:, 0])
    got = pt.abstention_on_databases(head, None, dbs, None, None, 0, "cpu")
    assert got["n"] == got["n_other"] == 8
    assert got["kept"] == 6 / 8 and got["caught"] == 1.0
    assert abs(got["auroc"] - (6 / 8 + 2 / 8 * 0.5)) < 1e-9  # two ties at 0.2
    assert pt.abstention_on_databases(head, None, dbs[:1], None, None, 0, "cpu") == {}


def test_abbreviated_copies_rename_tables_columns_and_gold_tables(tmp_path):
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.model.config import EncoderConfig
    from tablegraph.text.encoders import load_text_encoder
    from tablegraph.training.pretrain import abbreviated_copy, prepare_database

    _corpus(tmp_path, 1)
    text, graphs = load_text_encoder("hash:64"), GraphConfig()
    enc = EncoderConfig(in_dim=128 + 64, out_dim=64, hidden_dim=32)
    d = prepare_database(text2sql_databases(tmp_path)[0], text, graphs, enc)
    c = abbreviated_copy(d, tmp_path, text, graphs, enc, "cpu")
    assert c.name == "spider/shop_0/abbreviated" and c.group == "spider"
    assert sorted(c.names) == ["cstm", "ordr", "prdc"]
    assert [q.text for q in c.questions] == [q.text for q in d.questions]
    assert c.questions[-1].tables == ("cstm", "ordr")  # the gold tables follow their copies
    assert {n for g in c.graphs for n in g.nodes.columns} >= {"cstm_id", "ttl", "prc"}
    assert "paris" in c.graphs[c.names.index("cstm")].nodes.labels  # the rows come along


def test_abstention_is_fitted_and_calibrated_on_abbreviated_copies_too(monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    import tablegraph.model.abstain as abstain
    import tablegraph.training.corpora as corpora
    import tablegraph.training.pretrain as pt
    from tablegraph.utils import TableGraphError

    dbs = [SimpleNamespace(name=f"spider/db{i}", group="spider") for i in range(40)]
    ehr = SimpleNamespace(name="ehrsql/train", group="ehrsql")

    def no_valid(root, split):
        raise TableGraphError("no valid split here")

    def cross(model, some, *args):  # one answerable and one other row per database
        rows = np.array([[1.0 if d.name.endswith("/abbreviated") else 0.0] for d in some])
        return rows.reshape(-1, 1), rows.reshape(-1, 1)
    fitted, weighed, logged = [], [], []

    def fit(answerable, unanswerable, temperature, weights):
        fitted.append(answerable[:, 0])
        weighed.append(weights[0])
        return SimpleNamespace(threshold=0.5, predict=lambda x: x[:, 0])
    monkeypatch.setattr(pt, "pretrain", lambda *args: SimpleNamespace(model=None))
    monkeypatch.setattr(pt, "question_features", lambda *args: np.zeros((1, 1)))
    monkeypatch.setattr(pt, "cross_database_features", cross)
    monkeypatch.setattr(pt, "abbreviated_copy", lambda d, *args: SimpleNamespace(
        name=d.name + "/abbreviated", group=d.group))
    monkeypatch.setattr(corpora, "ehrsql_unanswerable", lambda root, split: ["q"])
    monkeypatch.setattr(corpora, "ehrsql_database", no_valid)
    monkeypatch.setattr(abstain, "fit_abstain_head", fit)
    held = [d for d in dbs if pt.abstain_part(d.name) < 2]
    n_fit = sum(pt.abstain_part(d.name) == 0 for d in held)
    assert 0 < n_fit < len(held)
    pt.fit_abstention(dbs + [ehr], None, None, None, pt.PretrainConfig(), "", None, "cpu",
                      logged.append)
    # EHRSQL's row, each fitting database's, and each one's abbreviated copy's
    assert len(fitted[0]) == 1 + 2 * n_fit and fitted[0].sum() == n_fit
    # a database and its copy weigh half each: EHRSQL's share of the fit stays
    assert list(weighed[0]) == [1.0] + [0.5] * (2 * n_fit)
    assert "new databases abbreviated" in logged[-1]
    fitted.clear()
    pt.fit_abstention(dbs + [ehr], None, None, None,
                      pt.PretrainConfig(abstain_abbreviated=False), "", None, "cpu",
                      logged.append)
    assert len(fitted[0]) == 1 + n_fit and "abbreviated" not in logged[-1]
    assert list(weighed[-1]) == [1.0] * (1 + n_fit)


def test_a_gold_table_read_only_to_filter_weighs_as_told_in_the_loss(tmp_path, monkeypatch):
    """The gold SQL of questions.jsonl says which gold tables the answer is read from; the
    others get --bridge-weight in the loss (1, the default: no weights at all)."""
    import torch

    from tablegraph.model.loss import InfoNCELoss

    _corpus(tmp_path, n=2)
    for folder in (tmp_path / "text2sql-train").glob("*/*"):
        rows = (folder / "questions.csv").read_text().splitlines()[1:]
        lines = []
        for row in rows:
            tables, question = row.split(",", 1)
            sql = (f"SELECT * FROM {tables}" if "|" not in tables else
                   "SELECT T1.total FROM orders AS T1 JOIN customers AS T2 "
                   "ON T1.customer_id = T2.id WHERE T2.city = 'rome'")
            lines.append(json.dumps({"question": question, "tables": tables.split("|"),
                                     "sql": sql}))
        (folder / "questions.jsonl").write_text("\n".join(lines) + "\n")
    dbs = text2sql_databases(tmp_path)
    both = [q for q in dbs[0].questions if len(q.tables) == 2]
    assert [q.answer for q in both] == [("orders",)]
    assert all(q.answer == q.tables for q in dbs[0].questions if len(q.tables) == 1)

    seen = []
    real = InfoNCELoss.from_similarity

    def spy(self, cos, pos, prior=None, weight=None):
        seen.append((pos.clone(), None if weight is None else weight.clone()))
        return real(self, cos, pos, prior, weight)

    monkeypatch.setattr(InfoNCELoss, "from_similarity", spy)
    args = ["pretrain", "--data", str(tmp_path), "--epochs", "1", "--text-model", "hash:64",
            "--no-abstain", "--batch-size", "64", "-q"]
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "a"), "--bridge-weight", "0.25"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = [w for pos, w in seen for p, w in zip(pos, w) if p.sum() == 2]
    # tables in name order: customers, orders, products
    assert rows and all(torch.equal(w, torch.tensor([0.25, 1.0, 0.0])) for w in rows)
    assert all(torch.equal(w[p], torch.ones(int(p.sum())))
               for pos, ws in seen for p, w in zip(pos, ws) if p.sum() == 1)
    seen.clear()
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "b")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert seen and all(w is None for _, w in seen)


def _ehrsql(root):
    """EHRSQL's layout over a three-table demo: questions written against two of them."""
    hosp = root / "mimic-iv-demo" / "hosp"
    hosp.mkdir(parents=True)
    (hosp / "patients.csv").write_text("subject_id,gender\n1,F\n2,M\n")
    (hosp / "labevents.csv").write_text("subject_id,itemid,valuenum\n1,50971,4.1\n2,50971,3.9\n")
    (hosp / "omr.csv").write_text("subject_id,result_name,result_value\n1,Weight,70\n")
    base = root / "ehrsql" / "ehrsql-2024"
    (base / "mimic_iv").mkdir(parents=True)
    (base / "mimic_iv" / "tables.json").write_text(json.dumps(
        [{"db_id": "mimic_iv", "table_names_original": ["patients", "labevents", "cost"]}]))
    rows = [{"question": f"potassium of patient {i}", "split": "train", "answerable": True,
             "uses_synthetic_cost": False, "tables": ["labevents", "patients"],
             "demo_tables": ["hosp/labevents", "hosp/patients"],
             "sql": f"SELECT labevents.valuenum FROM labevents WHERE labevents.subject_id IN "
                    f"(SELECT patients.subject_id FROM patients WHERE subject_id = {i})"}
            for i in range(6)]
    (base / "derived_question_tables.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n")


def test_ehrsql_questions_compete_only_among_the_tables_they_were_written_against(
        tmp_path, monkeypatch):
    """EHRSQL's questions were written against 17 tables of the demo's 31: with
    --written-for-only a table outside them (`omr`) is no candidate of theirs in training."""
    from tablegraph.model.loss import InfoNCELoss
    from tablegraph.training.corpora import ehrsql_database

    _corpus(tmp_path, n=2)
    _ehrsql(tmp_path)
    db = ehrsql_database(tmp_path)
    assert db.written_for == ("patients", "labevents", "cost")
    assert db.questions[0].answer == ("labevents",)  # patients only filters
    seen = []
    real = InfoNCELoss.from_similarity

    def spy(self, cos, pos, prior=None, weight=None):
        seen.append(tuple(cos.shape))
        return real(self, cos, pos, prior, weight)

    monkeypatch.setattr(InfoNCELoss, "from_similarity", spy)
    args = ["pretrain", "--data", str(tmp_path), "--epochs", "1", "--text-model", "hash:64",
            "--no-abstain", "--batch-size", "64", "-q"]
    # the shops' questions see their 3 tables; EHRSQL's 6 see 2 of the demo's 3, or all 3
    for flag, ehrsql_width in (("--written-for-only", 2), ("--no-written-for-only", 3)):
        seen.clear()
        r = CliRunner().invoke(app, args + ["--out", str(tmp_path / flag), flag],
                               catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert (6, ehrsql_width) in seen and {m for _, m in seen} == {ehrsql_width, 3}


def test_abbreviated_share_trains_encoder_and_stage_on_abbreviated_copies_too(tmp_path,
                                                                              monkeypatch):
    import tablegraph.training.pretrain as pt

    trained, fitted = [], []
    real_pretrain, real_fit = pt.pretrain, pt.fit_join_stage

    def pretrain_spy(dbs, *args, **kwargs):
        trained.append(dbs)
        return real_pretrain(dbs, *args, **kwargs)

    def fit_spy(examples, *args, **kwargs):
        fitted.append([e.names for e in examples])
        return real_fit(examples, *args, **kwargs)
    monkeypatch.setattr(pt, "pretrain", pretrain_spy)
    monkeypatch.setattr(pt, "fit_join_stage", fit_spy)
    _corpus(tmp_path, n=2)
    args = ["pretrain", "--data", str(tmp_path), "--epochs", "1", "--text-model", "hash:64",
            "--no-abstain", "-q"]
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "a"), "--abbreviated-share",
                                        "1"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    names = [d.name for d in trained[0]]
    assert names == ["spider/shop_0", "bird/shop_1", "spider/shop_0/abbreviated",
                     "bird/shop_1/abbreviated"]
    copy = trained[0][2]
    assert copy.names == ["cstm", "ordr", "prdc"]  # customers, orders, products
    assert {t for q in copy.questions for t in q.tables} <= set(copy.names)
    assert len(copy.questions) == len(trained[0][0].questions)
    assert fitted[0] == [d.names for d in trained[0]]  # the second stage sees them too
    trained.clear()
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "b")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert [d.name for d in trained[0]] == ["spider/shop_0", "bird/shop_1"]


def test_request_share_wraps_training_questions_only(tmp_path, monkeypatch):
    """`--request-share 1` trains on every training question wrapped in a request; the
    held-out databases' questions stay as written."""
    import tablegraph.training.pretrain as pt
    from tablegraph.tables.questions import Question
    from tablegraph.training.corpora import CorpusDatabase, with_requests

    read = {}
    real = pt.prepare_database

    def spy(db, *args, **kwargs):
        read[db.name] = [q.text for q in db.questions]
        return real(db, *args, **kwargs)
    monkeypatch.setattr(pt, "prepare_database", spy)
    _corpus(tmp_path, n=4)
    written = {d.name: [q.text for q in d.questions] for d in text2sql_databases(tmp_path)}
    folds = {d.name: d.fold(3) for d in text2sql_databases(tmp_path)}
    held = next(iter(folds.values()))
    r = CliRunner().invoke(app, ["pretrain", "--data", str(tmp_path), "--epochs", "1",
                                 "--text-model", "hash:64", "--no-abstain", "-q",
                                 "--fold", str(held), "--request-share", "1",
                                 "--out", str(tmp_path / "m")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert set(read) == set(written)
    for name, texts in read.items():
        if folds[name] == held:
            assert texts == written[name], name  # held out: as written
        else:
            assert all(t != w and w in t for t, w in zip(texts, written[name])), name
    # a share picks the same questions in every run, and none at 0
    db = CorpusDatabase("x", "spider", "", [Question(f"question {i}", ("t",))
                                            for i in range(200)])
    half = [q.text for q in with_requests(db, 0.5).questions]
    assert half == [q.text for q in with_requests(db, 0.5).questions]
    assert 60 < sum(t != f"question {i}" for i, t in enumerate(half)) < 140
    assert with_requests(db, 0) is db


def test_named_share_names_a_gold_table_as_the_schema_writes_it(tmp_path):
    """`--named-share`: training questions that name one of their gold tables by its
    identifier, written as the schema writes it; tables named by a plain word never are,
    held-out databases' questions stay as written, and a share picks the same questions in
    every run."""
    from tablegraph.tables.questions import Question
    from tablegraph.training.corpora import with_named_tables

    qs = [Question(f"question {i}", ("Order_Items", "orders")) for i in range(200)]
    qs += [Question("how many customers?", ("customers",))]
    all_named = with_named_tables(qs, 1.0)
    assert all("Order_Items" in q.text and "question" in q.text for q in all_named[:200])
    assert all_named[200].text == "how many customers?"  # a plain word: left to the words
    assert [q.tables for q in all_named] == [q.tables for q in qs]
    half = with_named_tables(qs, 0.5)
    assert [q.text for q in half] == [q.text for q in with_named_tables(qs, 0.5)]
    assert 60 < sum(q.text != f"question {i}" for i, q in enumerate(half[:200])) < 140
    assert with_named_tables(qs, 0) is qs

    import tablegraph.training.pretrain as pt
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.model.config import EncoderConfig
    from tablegraph.text.encoders import HashEncoder
    from tablegraph.training.corpora import CorpusDatabase

    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE Order_Items (order_id INTEGER, item TEXT)")
    con.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, day TEXT)")
    con.commit()
    con.close()
    corpus = CorpusDatabase("spider/shop", "spider", str(db),
                            [Question("items of order 3", ("order_items", "orders"))])
    text = HashEncoder(64)
    cfg = EncoderConfig(in_dim=1, out_dim=64)
    named = pt.prepare_database(corpus, text, GraphConfig(), cfg, named_share=1.0)
    assert "Order_Items" in named.questions[0].text  # as the schema writes it
    assert pt.prepare_database(corpus, text, GraphConfig(), cfg).questions[0].text == \
        "items of order 3"


def test_held_out_databases_are_scored_on_the_questions_as_a_retriever_reads_them(
        tmp_path, monkeypatch):
    """`evaluate_databases` scores an encoder on what `SchemaLinker.read` makes of each
    question (over tables named `cstm` and `ordr`: "customers (cstm)"), as `evaluate`
    and `ask` do; its numbers are theirs."""
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.model.config import EncoderConfig
    from tablegraph.model.encoder import ContrastiveGNNEncoder
    from tablegraph.text.encoders import load_text_encoder
    import tablegraph.training.pretrain as pt

    _corpus(tmp_path, 1)
    text, graphs = load_text_encoder("hash:64"), GraphConfig()
    enc = EncoderConfig(in_dim=128 + 64, out_dim=64, hidden_dim=32)
    d = pt.prepare_database(text2sql_databases(tmp_path)[0], text, graphs, enc)
    c = pt.abbreviated_copy(d, tmp_path, text, graphs, enc, "cpu")
    scored: list[str] = []
    real = pt.prepare_questions

    def spy(cfg, text, texts, *args, **kwargs):
        scored.extend(texts)
        return real(cfg, text, texts, *args, **kwargs)
    monkeypatch.setattr(pt, "prepare_questions", spy)
    rows = pt.evaluate_databases([c], {"tablegraph": ContrastiveGNNEncoder(enc)}, text)
    assert rows["spider"]["tablegraph"]["n"] == len(c.questions)
    assert "orders (ordr) of customers (cstm) in rome" in scored

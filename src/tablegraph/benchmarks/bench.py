"""Benchmark harness: tablegraph against what a user would pick instead, side by side.

Methods (each scores every table for every question; `baselines` holds the baselines):
- bm25, dense, classifier: the baseline scorers;
- gnn: tablegraph's trained graph encoder through the one scorer (`model.scoring.Scorer`);
- fusion: gnn + dense, each score z-normalised per question, summed with equal weight.
Every method's scores go through the one evaluator (`evaluation.RetrievalEvaluator`).

Benchmarks:
- a: the seed protocol on the embedded dataset (80/20 split, several seeds);
- b: the embedded questions against the real MIMIC-IV demo hosp tables, with the model trained
  on the embedded tables (b-transfer) and on the real tables (b-real, same question split);
- c: EHRSQL-2024 on the 31 real demo tables, answerable questions without `cost`: c1 with the
  model trained on the embedded questions only, c2 trained on EHRSQL train (valid selects the
  checkpoint), both reported on test;
- d: unseen tables, 5-fold over the 22 embedded tables; held-out tables' questions are never
  trained on; retrieval among all 22.
Speed: training time, `ask` latency next to a BM25 query and encoding the question alone,
profiling next to DuckDB SUMMARIZE.

Intervals are 95% bootstrap intervals over questions (pooled over seeds where there are
several); `sd` is the standard deviation across seeds (the run-to-run noise).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tablegraph.evaluation.baselines import BM25Scorer, ClassifierScorer, DenseScorer, fuse
from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.evaluation.metrics import bootstrap_ci
from tablegraph.graphs.build import load_table_graphs, rename_table
from tablegraph.graphs.nodes import GraphConfig
from tablegraph.model.folder import load_model
from tablegraph.model.index import build_index
from tablegraph.model.scoring import Scorer
from tablegraph.tables.questions import Question, stratified_split
from tablegraph.text.encoders import TextEncoder, load_text_encoder
from tablegraph.training.corpora import DEMO_RENAME, demo_tables
from tablegraph.training.run import model_config
from tablegraph.training.trainer import TrainConfig, fit
from tablegraph.utils import atomic_write_text, pick_device, write_json

METRICS = ("hit@1", "hit@5", "recall@5", "all@5", "all@10", "mrr")
# gnn: trained from scratch (the guide's setting); pretrained: the shipped default, no training;
# finetuned: trained from the shipped default on the same questions as gnn.
METHODS = ("bm25", "dense", "classifier", "gnn", "fusion", "pretrained", "finetuned")


@dataclass
class Corpus:
    """Tables of one benchmark: their graphs (with their nodes) and the baselines over
    them."""

    names: list[str]
    graphs: list
    bm25: BM25Scorer
    dense: DenseScorer

    @staticmethod
    def build(spec: "str | list", enc: TextEncoder, gcfg: GraphConfig,
              rename: Callable[[str], str] = lambda s: s) -> "Corpus":
        profiles, graphs = load_table_graphs(spec, enc, gcfg, progress=False)
        for p, g in zip(profiles, graphs):
            p.name = rename(p.name)
            rename_table(g, p.name)
        nodes = [g.nodes for g in graphs]
        return Corpus([p.name for p in profiles], graphs, BM25Scorer(nodes),
                      DenseScorer(enc, nodes))


class Bench:
    def __init__(self, quick: bool, epochs: int | None = None, device: str | None = None,
                 log: Callable[[str], None] = print) -> None:
        self.quick = quick
        self.epochs = epochs or 50
        self.device = pick_device(device)
        self.log = log
        self.enc = load_text_encoder()
        self.gcfg = GraphConfig()
        self.rows: list[dict] = []
        self.speed: dict[str, float] = {}
        self.skipped: list[str] = []
        self.train_seconds: list[float] = []
        self._emb_models: dict[int, object] = {}  # embedded split seed -> trained encoder
        self._ft_models: dict[int, object] = {}  # the same, fine-tuned from the shipped default
        self.pretrained = load_model().encoder(self.device)
        self.unseen: dict[str, dict[str, dict[str, float]]] = {}
        # the abstention model of each fold's model on that fold's databases, and pooled
        self.unseen_abstention: dict[str, Any] = {}
        self.sets: dict[str, dict[str, dict[str, float]]] = {}
        self.serving: dict = {}
        self.reading: dict[str, dict] = {}  # tables -> seconds to read from an empty cache
        self.comments: dict[str, dict[str, dict]] = {}  # group -> names -> metrics

    # methods --------------------------------------------------------------------------------
    def fit_gnn(self, corpus: Corpus, tr: list[Question], va: list[Question], seed: int,
                init: str = "scratch"):
        """Train with the seed settings (schema pairs only of tables that have training
        questions, so that held-out tables stay unseen in benchmark d), from scratch or from
        the shipped pretrained model."""
        return fit(corpus.graphs, tr, va, self.enc,
                   TrainConfig(seed=seed, epochs=self.epochs, init=init),
                   device=self.device, progress=False)

    def ft_model(self, corpus: Corpus, qs: list[Question], seed: int):
        """The shipped default fine-tuned on the embedded split of `seed` (once, then reused)."""
        if seed not in self._ft_models:
            tr, va = stratified_split(qs, 0.2, seed)
            self._ft_models[seed] = self.fit_gnn(corpus, tr, va, seed, "pretrained").model
        return self._ft_models[seed]

    def emb_model(self, corpus: Corpus, qs: list[Question], seed: int):
        """The encoder trained on the embedded split of `seed` (trained once, then reused)."""
        if seed not in self._emb_models:
            tr, va = stratified_split(qs, 0.2, seed)
            res = self.fit_gnn(corpus, tr, va, seed)
            self._emb_models[seed] = res.model
            self.train_seconds.append(res.seconds)
        return self._emb_models[seed]

    def scores(self, corpus: Corpus, test: list[Question], train_q: list[Question] | None,
               model, finetuned=None) -> dict[str, np.ndarray]:
        """Score matrices [Q, M] of every method (the classifier only with training questions,
        the fine-tuned model only where one was trained)."""
        texts = [q.text for q in test]
        out = {"bm25": corpus.bm25(texts), "dense": corpus.dense(texts)}
        if train_q:
            out["classifier"] = ClassifierScorer(self.enc, corpus.names, train_q)(texts)

        def run(m) -> np.ndarray:
            return Scorer(m, self.enc, self.device)(texts, build_index(m, corpus.graphs,
                                                                       self.device))
        if model is not None:
            out["gnn"] = run(model)
            out["fusion"] = fuse(out["gnn"], out["dense"])
        out["pretrained"] = run(self.pretrained)
        if finetuned is not None:
            out["finetuned"] = run(finetuned)
        return out

    def evaluate(self, corpus: Corpus, test: list[Question], train_q: list[Question] | None,
                 model, acc: dict[str, list] | None = None, finetuned=None) -> dict[str, list]:
        """Per-question metrics of every method on `test`, appended to `acc` (one run)."""
        acc = {} if acc is None else acc
        ev = RetrievalEvaluator(test, corpus.names)
        for meth, s in self.scores(corpus, test, train_q, model, finetuned).items():
            acc.setdefault(meth, []).append(ev.per_question(s))
        return acc

    def record(self, bench: str, per_method: dict[str, list[dict[str, np.ndarray]]],
               note: str = "") -> None:
        """Pool per-question values over seeds/folds; mean, 95% bootstrap CI, sd over runs."""
        for method in METHODS:
            runs = per_method.get(method)
            if not runs:
                continue
            row = {"benchmark": bench, "method": method, "n": int(sum(len(r["hit@1"]) for r in runs)),
                   "runs": len(runs), "note": note}
            for m in METRICS:
                pooled = np.concatenate([r[m] for r in runs])
                row[m] = float(pooled.mean())
                row[f"{m}_ci"] = bootstrap_ci(pooled)
                row[f"{m}_sd"] = float(np.std([r[m].mean() for r in runs])) if len(runs) > 1 else 0.0
            self.rows.append(row)
            self.log(f"  {bench:<12} {method:<10} hit@1 {row['hit@1']:.3f} "
                     f"[{row['hit@1_ci'][0]:.3f}, {row['hit@1_ci'][1]:.3f}]  "
                     f"recall@5 {row['recall@5']:.3f}  mrr {row['mrr']:.3f}  n={row['n']}")

    # benchmarks -----------------------------------------------------------------------------
    def bench_a(self, emb_dir: Path, qs: list[Question], seeds: list[int]) -> Corpus:
        self.log(f"a: seed protocol on the embedded dataset, seeds {seeds}")
        corpus = Corpus.build(str(emb_dir / "hosp"), self.enc, self.gcfg)
        acc: dict[str, list] = {}
        for seed in seeds:
            tr, va = stratified_split(qs, 0.2, seed)
            self.evaluate(corpus, va, tr, self.emb_model(corpus, qs, seed), acc,
                          self.ft_model(corpus, qs, seed))
        self.record("a-embedded", acc, f"{len(seeds)} seeds")
        return corpus

    def bench_b(self, emb: Corpus, real_dir: Path, qs: list[Question]) -> Corpus | None:
        if not real_dir.is_dir():
            self.skip("b", f"{real_dir} is absent")
            return None
        self.log("b: embedded questions against the real demo hosp tables")
        real = Corpus.build(str(real_dir), self.enc, self.gcfg)
        tr, va = stratified_split(qs, 0.2, 0)
        model = self.emb_model(emb, qs, 0)  # trained on the embedded tables
        self.record("b-transfer", self.evaluate(real, va, tr, model, None,
                                                self.ft_model(emb, qs, 0)),
                    "trained on embedded tables, evaluated on real")
        model = self.fit_gnn(real, tr, va, 0).model  # trained on the real tables
        ft = self.fit_gnn(real, tr, va, 0, "pretrained").model
        self.record("b-real", self.evaluate(real, va, None, model, None, ft),
                    "trained on real tables")
        return real

    def bench_c(self, emb: Corpus, demo_dir: Path, ehrsql: Path, qs: list[Question]) -> None:
        jl = ehrsql / "derived_question_tables.jsonl"
        if not jl.is_file() or not demo_dir.is_dir():
            self.skip("c", f"{jl} or {demo_dir} is absent")
            return
        self.log("c: EHRSQL-2024 on the 31 real demo tables")

        corpus = Corpus.build(demo_tables(demo_dir), self.enc, self.gcfg,
                              lambda n: DEMO_RENAME.get(n, n))
        split: dict[str, list[Question]] = {"train": [], "valid": [], "test": []}
        for line in jl.read_text("utf-8").splitlines():
            r = json.loads(line)
            if not r["answerable"] or r["uses_synthetic_cost"] or not r["demo_tables"]:
                continue
            tables = tuple(t.split("/")[-1] for t in r["demo_tables"])
            split[r["split"]].append(Question(r["question"], tables))
        test = split["test"]
        model = self.emb_model(emb, qs, 0)  # c1: embedded questions only
        self.record("c1-ehrsql", self.evaluate(corpus, test, None, model, None,
                                               self.ft_model(emb, qs, 0)),
                    "trained on embedded questions; EHRSQL test")
        if self.quick:
            self.skip("c2", "--quick")
            return
        model = self.fit_gnn(corpus, split["train"], split["valid"], 0).model  # c2
        ft = self.fit_gnn(corpus, split["train"], split["valid"], 0, "pretrained").model
        self.record("c2-ehrsql", self.evaluate(corpus, test, split["train"], model, None, ft),
                    "trained on EHRSQL train, valid for selection; test")

    def bench_d(self, emb: Corpus, qs: list[Question], folds: int = 5) -> None:
        self.log("d: unseen tables, 5-fold over the 22 tables")
        rng = np.random.default_rng(0)
        order = list(rng.permutation(emb.names))
        acc: dict[str, list] = {}
        for f in range(folds):
            held = set(order[f::folds])
            seen_q = [q for q in qs if q.tables[0] not in held]
            test = [q for q in qs if q.tables[0] in held]
            tr, va = stratified_split(seen_q, 0.2, f)
            self.evaluate(emb, test, tr, self.fit_gnn(emb, tr, va, f).model, acc)
        self.record("d-unseen", acc, f"{folds} folds")

    def bench_unseen(self, root: Path, folds: int = 3) -> None:
        """Databases never seen in training: for each fold over the text2sql-train databases,
        pretrain without them (as `tablegraph pretrain --fold`) and compare the model, zero-shot,
        with BM25, dense and schema-search on their questions. A group's figure pools its
        held-out questions over the folds."""

        from tablegraph.training.pretrain import pretrain_corpus

        if not (root / "text2sql-train").is_dir():
            self.skip("unseen", f"{root / 'text2sql-train'} is absent")
            return
        self.log(f"unseen: {folds} folds over the text2sql-train databases")
        pooled: dict[str, dict[str, dict[str, float]]] = {}
        for fold in range(folds):
            with tempfile.TemporaryDirectory(prefix="tg-unseen-") as tmp:
                rep = pretrain_corpus(str(root), str(Path(tmp) / "model"), fold=fold,
                                      folds=folds, device=self.device, progress=False,
                                      log=self.log)
            if rep.get("held_out_abstention"):
                self.unseen_abstention.setdefault("folds", []).append(rep["held_out_abstention"])
            for group, by_method in rep["held_out_metrics"].items():
                for method, m in by_method.items():
                    acc = pooled.setdefault(group, {}).setdefault(method, {})
                    for key, v in m.items():
                        if key in ("n", "n_all@5"):
                            continue
                        weight = m["n_all@5"] if key == "all@5" else m["n"]
                        acc[key] = acc.get(key, 0.0) + v * weight
                    acc["n"] = acc.get("n", 0) + m["n"]
                    acc["n_all@5"] = acc.get("n_all@5", 0) + m["n_all@5"]
        per_fold = self.unseen_abstention.get("folds", [])
        if per_fold:
            n, n_other = sum(f["n"] for f in per_fold), sum(f["n_other"] for f in per_fold)
            self.unseen_abstention.update(
                kept=sum(f["kept"] * f["n"] for f in per_fold) / n,
                caught=sum(f["caught"] * f["n_other"] for f in per_fold) / n_other,
                auroc=float(np.mean([f["auroc"] for f in per_fold])), n=n, n_other=n_other)
            a = self.unseen_abstention
            self.log(f"  unseen abstention: answerable kept {a['kept']:.3f}, other databases' "
                     f"questions caught {a['caught']:.3f}, AUROC (mean of folds) "
                     f"{a['auroc']:.3f}")
        for group, by_method in pooled.items():
            for method, acc in by_method.items():
                row = {k: (v / (acc["n_all@5"] if k == "all@5" else acc["n"])
                           if k not in ("n", "n_all@5") else v) for k, v in acc.items()}
                self.unseen.setdefault(group, {})[method] = row
                self.log(f"  unseen {group:<7} {method:<14} hit@1 {row['hit@1']:.3f}  "
                         f"all@5 {row.get('all@5', float('nan')):.3f}  n={row['n']}")

    def bench_comments(self, root: Path, fold: int = 0, folds: int = 3) -> None:
        """Cryptic names with and without catalog comments (`benchmarks.comments`), ranked by
        a model pretrained without `fold` (as `tablegraph pretrain --fold`), with the share
        of the questions its abstention model keeps as answerable."""
        from tablegraph.benchmarks.comments import comments_bench
        from tablegraph.training.pretrain import PretrainConfig, pretrain_corpus

        if not (root / "text2sql-train").is_dir():
            return self.skip("comments", f"{root / 'text2sql-train'} is absent")
        self.log(f"comments: fold {fold}'s databases, names abbreviated and commented, "
                 f"acronyms, and described by files")
        with tempfile.TemporaryDirectory(prefix="tg-comments-") as tmp:
            pretrain_corpus(str(root), str(Path(tmp) / "model"), PretrainConfig(),
                            fold=fold, folds=folds, device=self.device, progress=False,
                            log=self.log)
            self.comments = comments_bench(str(Path(tmp) / "model"), root, Path(tmp), fold,
                                           folds, self.log)
        for group, by in self.comments.items():
            for names, r in by.items():
                self.log(f"  comments {group:<7} {names:<31} hit@1 {r['hit@1']:.3f}  "
                         f"all@5 {r['all@5']:.3f}  set F1 {r['set_f1']:.3f}  kept "
                         f"{r.get('kept', float('nan')):.3f}  n={r['n']}")

    def bench_sets(self, root: Path, split: str = "test") -> None:
        """Join-aware sets and abstention on EHRSQL-2024 `split` over the 31 real demo tables:
        the shipped default (which saw EHRSQL train) and a variant pretrained without EHRSQL
        (transfer), each as a ranking and as sets, beside dense and dense + foreign-key
        expansion and schema-search (over a schema-only SQLite copy of the demo's tables, with
        its hop; once, beside the shipped default); abstention AUROC and the answerable recall
        kept at the model's threshold."""

        from tablegraph.evaluation.metrics import abstention_metrics
        from tablegraph.model.abstain import AbstainHead
        from tablegraph.model.folder import default_model_dir
        from tablegraph.training.corpora import ehrsql_database, ehrsql_unanswerable
        from tablegraph.training.pretrain import (abstain_confidence, evaluate_databases,
                                                  prepare_database, pretrain_corpus)

        try:
            db = ehrsql_database(root, split)
            unanswerable = ehrsql_unanswerable(root, split)
        except Exception as e:  # noqa: BLE001 - absent data is a skip, not a failure
            self.skip("sets", str(e))
            return
        self.log(f"sets: EHRSQL-2024 {split} on the demo tables, and abstention")
        with tempfile.TemporaryDirectory(prefix="tg-no-ehrsql-") as tmp:
            variant = Path(tmp) / "model"
            pretrain_corpus(str(root), str(variant), device=self.device, progress=False,
                            log=self.log, ehrsql=False)
            models = {"shipped default": default_model_dir(), "without EHRSQL": variant}
            for label, folder in models.items():
                saved = load_model(folder)
                enc = saved.encoder(self.device)
                d = prepare_database(db, self.enc, self.gcfg, saved.encoder_config, self.device)
                methods = {"tablegraph": enc, "dense": "dense"}
                if label == "shipped default":  # the peer tool reads no model of ours
                    methods["schema-search"] = "schema-search"
                rows = evaluate_databases([d], methods, self.enc, self.device,
                                          stage=saved.join_stage())["ehrsql"]
                abstain = AbstainHead.from_dict(saved.config.get("abstain"))
                if abstain is not None and unanswerable:
                    pa = abstain_confidence(abstain, enc, d, None, self.enc,
                                            saved.encoder_config, self.device)
                    pu = abstain_confidence(abstain, enc, d, unanswerable, self.enc,
                                            saved.encoder_config, self.device)
                    m = abstention_metrics(pa, pu, abstain.threshold)
                    rows["tablegraph"].update(abstain_auroc=m["auroc"],
                                              answerable_kept=m["kept"],
                                              unanswerable_caught=m["caught"])
                self.sets[label] = rows
                for method, r in rows.items():
                    extra = f"  set F1 {r['set_f1']:.3f}" if "set_f1" in r else ""
                    self.log(f"  {label:<16} {method:<15} hit@1 {r['hit@1']:.3f}  all@5 "
                             f"{r['all@5']:.3f}{extra}")

    def bench_serving(self, demo_dir: Path, emb_dir: Path, qs: list[Question],
                      ehrsql: Path) -> None:
        """Serving under load (`benchmarks.serving`) over an index of the MIMIC-IV demo's
        tables built with the shipped model (the embedded tables without it), with EHRSQL
        valid questions (the embedded questions without them)."""

        from tablegraph.benchmarks.serving import serving_bench
        from tablegraph.retrieval.indexes import build_index

        tables, questions = str(emb_dir / "hosp"), [q.text for q in qs]
        jl = ehrsql / "derived_question_tables.jsonl"
        if demo_dir.is_dir() and jl.is_file():
            tables = str(demo_dir)
            rows = [json.loads(x) for x in jl.read_text("utf-8").splitlines()]
            questions = [r["question"] for r in rows if r["split"] == "valid"]
        questions = questions[:200]
        self.log(f"serving: {tables}, {len(questions)} questions, 8 clients, 2,000 searches")
        with tempfile.TemporaryDirectory(prefix="tg-serve-") as tmp:
            idx = str(Path(tmp) / "index")
            build_index(tables, idx, None, self.device)
            self.serving = {"tables": tables, **serving_bench(idx, questions, log=self.log)}

    def bench_speed(self, corpus: Corpus, real_dir: Path, questions: list[str]) -> None:
        self.log("speed")

        # the training loop alone (features cached), seed settings on the embedded dataset;
        # only where section a or b trained (no NaN row otherwise)
        if self.train_seconds:
            self.speed["train_loop_seconds_mean"] = float(np.mean(self.train_seconds))
        # ask latency: fresh texts so that neither path hits the embedding cache
        tag = f"{time.time_ns()}"
        with tempfile.TemporaryDirectory(prefix="tablegraph-bench-") as tmp:
            self._speed_timings(corpus, Path(tmp) / "model", questions, tag)
        if real_dir.is_dir():
            self.speed.update(profile_timing(str(real_dir)))

    def _speed_timings(self, corpus: Corpus, out: Path, questions: list[str], tag: str) -> None:
        """Latency of `ask` and of its parts, and start-up times, with a model saved at `out`
        (removed with its temporary folder afterwards)."""
        r = self._speed_retriever(corpus, out)
        enc_t, ask_t, bm_t = [], [], []
        for i, q in enumerate(questions):
            text = f"{q} ({tag}-{i})"
            t0 = time.perf_counter()
            self.enc.encode_uncached([text])
            enc_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r.search(text + " ask", k=5)
            ask_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            corpus.bm25([text])
            bm_t.append(time.perf_counter() - t0)
        for name, ts in (("encode_question", enc_t), ("ask", ask_t), ("bm25_query", bm_t)):
            self.speed[f"{name}_p50_ms"] = 1000 * float(np.percentile(ts, 50))
            self.speed[f"{name}_p95_ms"] = 1000 * float(np.percentile(ts, 95))
        self.speed["ask_over_encode_p50"] = self.speed["ask_p50_ms"] / self.speed[
            "encode_question_p50_ms"]
        self.speed.update(startup_timing(r.saved.path, questions[0]))

    def bench_reading(self, root: Path) -> None:
        """Seconds to read and embed databases of 175 and 750 tables from an empty cache."""
        from tablegraph.benchmarks.reading import reading_timing

        if not (root / "text2sql-train").is_dir():
            return self.skip("reading", f"no {root / 'text2sql-train'}")
        self.log("reading")
        self.reading = reading_timing(root)

    def _speed_retriever(self, corpus: Corpus, out: Path):
        """A retriever over the embedded tables, its model saved at `out`. The full run times
        `tablegraph train` end to end and loads the saved folder; --quick reuses the seed-0
        encoder in memory."""
        from tablegraph.model.folder import save_model
        from tablegraph.retrieval.retriever import TableRetriever
        from tablegraph.training.run import train_model

        if self.quick and 0 in self._emb_models:
            model = self._emb_models[0]
            save_model(out, model, model_config(self.enc, self.gcfg, TrainConfig(epochs=self.epochs, init="scratch")),
                       build_index(model, corpus.graphs, self.device))
            return TableRetriever.load(str(out), device=self.device)
        t0 = time.perf_counter()
        train_model(str(out), cfg=TrainConfig(epochs=self.epochs, init="scratch"), progress=False)
        self.speed["train_command_seconds"] = time.perf_counter() - t0
        return TableRetriever.load(str(out))

    def skip(self, bench: str, why: str) -> None:
        self.skipped.append(f"{bench}: skipped ({why})")
        self.log(f"{bench}: skipped ({why})")


def startup_timing(model: Path, question: str, runs: int = 5) -> dict[str, float]:
    """Seconds from the shell (median of `runs`): `python -c "import torch"`, `tablegraph
    --help`, `tablegraph ask` with the question's embedding cached, and with a new question
    (which loads the text model)."""
    import subprocess
    import sys

    def median(*args: str) -> float:
        times = []
        for i in range(runs):
            argv = [a.replace("{new}", f"{time.time_ns()}-{i}") for a in args]
            t0 = time.perf_counter()
            subprocess.run([sys.executable, *argv], capture_output=True, check=True)
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    ask = ("-m", "tablegraph.cli", "ask", "--model", str(model))
    subprocess.run([sys.executable, *ask, question], capture_output=True, check=True)  # cache it
    out = {"import_torch_seconds": median("-c", "import torch"),
           "help_seconds": median("-m", "tablegraph.cli", "--help"),
           "ask_shell_cached_seconds": median(*ask, question),
           "ask_shell_new_question_seconds": median(*ask, f"{question} {{new}}")}
    out["ask_shell_over_import_torch"] = out["ask_shell_cached_seconds"] / \
        out["import_torch_seconds"]
    return out


def profile_timing(spec: str) -> dict[str, float]:
    """Profile + graphs of `spec` with an empty cache, then cached, beside DuckDB SUMMARIZE."""

    import duckdb

    from tablegraph.tables.sources import discover

    refs = discover(spec)
    old = os.environ.get("TABLEGRAPH_CACHE")
    enc = load_text_encoder()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TABLEGRAPH_CACHE"] = tmp
        try:
            t0 = time.perf_counter()
            load_table_graphs(spec, _fresh_encoder(enc), GraphConfig(), progress=False)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            load_table_graphs(spec, _fresh_encoder(enc), GraphConfig(), progress=False)
            cached = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("TABLEGRAPH_CACHE", None)
            else:
                os.environ["TABLEGRAPH_CACHE"] = old
    con = duckdb.connect()
    t0 = time.perf_counter()
    for ref in refs:
        con.execute(f"SUMMARIZE SELECT * FROM read_csv('{ref.location}')").fetchall()
    summarize = time.perf_counter() - t0
    return {"profile_first_seconds": first, "profile_cached_seconds": cached,
            "duckdb_summarize_seconds": summarize, "cached_over_summarize": cached / summarize,
            "profile_tables": len(refs)}


def _fresh_encoder(enc: TextEncoder) -> TextEncoder:
    """The same model with a cache opened under the current TABLEGRAPH_CACHE."""
    clone = object.__new__(type(enc))
    clone.__dict__.update(enc.__dict__)
    TextEncoder.__init__(clone, enc.name, enc.dim, use_cache=True)
    return clone


SECTIONS = ("a", "b", "c", "d", "unseen", "sets", "comments", "speed", "reading", "serving")


def run_bench(out_dir: str, quick: bool = False, epochs: int | None = None,
              device: str | None = None, data_root: str | None = None,
              log: Callable[[str], None] = print, only: set[str] | None = None) -> dict:
    """Run every benchmark whose data is present (or the sections of `only`); write
    results.md, results.json and, when a section ranked tables, results.png."""
    from tablegraph.datasets.embedded import embedded_dir
    from tablegraph.tables.questions import read_questions

    t_start = time.perf_counter()
    root = Path(data_root) if data_root else Path(__file__).resolve().parents[4] / "shared" / "data"
    demo = root / "mimic-iv-demo"
    b = Bench(quick, epochs, device, log)
    emb_dir = embedded_dir()
    qs = read_questions(emb_dir / "questions.csv")
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def want(section: str) -> bool:
        save()  # what the sections before have measured survives a later failure
        return only is None or section in only

    def save() -> dict:
        result = {"quick": quick, "epochs": b.epochs, "device": b.device, "rows": b.rows,
                  "speed": b.speed, "unseen": b.unseen,
                  "unseen_abstention": b.unseen_abstention, "sets": b.sets, "serving": b.serving,
                  "reading": b.reading, "comments": b.comments,
                  "skipped": b.skipped, "wall_seconds": time.perf_counter() - t_start}
        write_json(out / "results.json", result)
        atomic_write_text(out / "results.md", to_markdown(result))
        return result

    emb = b.bench_a(emb_dir, qs, seeds) if want("a") else \
        Corpus.build(str(emb_dir / "hosp"), b.enc, b.gcfg)
    if want("b"):
        b.bench_b(emb, demo / "hosp", qs)
    if want("c"):
        b.bench_c(emb, demo, root / "ehrsql" / "ehrsql-2024", qs)
    for section, run in (("d", lambda: b.bench_d(emb, qs)),
                         ("unseen", lambda: b.bench_unseen(root)),
                         ("sets", lambda: b.bench_sets(root)),
                         ("comments", lambda: b.bench_comments(root))):
        if want(section):
            b.skip(section, "--quick") if quick else run()
    if want("speed"):
        b.bench_speed(emb, demo / "hosp", [q.text for q in qs[:: (20 if quick else 4)]])
    if want("reading"):
        b.bench_reading(root)
    if want("serving"):
        b.bench_serving(demo, emb_dir, qs, root / "ehrsql" / "ehrsql-2024")
    result = save()
    if result["rows"]:  # sections such as reading or speed rank nothing to chart
        (out / "results.png").write_bytes(chart(result))
    return result


def _fmt(r: dict, *keys: str) -> list[str]:
    return [f"{r[k]:.3f}" if r.get(k) is not None else "-" for k in keys]


def _md_table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """A titled markdown table: text columns left, numbers right."""
    align = ["---" if i < 2 else "---:" for i in range(len(header))]
    return ["", title, "", "| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *["| " + " | ".join(r) + " |" for r in rows]]


def to_markdown(result: dict) -> str:
    lines = ["| benchmark | method | n | hit@1 [95% CI] | hit@5 | recall@5 | all@5 | all@10 | MRR | sd hit@1 |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        lo, hi = r["hit@1_ci"]
        lines.append(f"| {r['benchmark']} | {r['method']} | {r['n']} | {r['hit@1']:.3f} "
                     f"[{lo:.3f}, {hi:.3f}] | {r['hit@5']:.3f} | {r['recall@5']:.3f} | "
                     f"{r['all@5']:.3f} | {r['all@10']:.3f} | {r['mrr']:.3f} | "
                     f"{r['hit@1_sd']:.3f} |")
    unseen = result.get("unseen") or {}
    if unseen:
        rows = []
        for group, by_method in unseen.items():
            for method, r in by_method.items():
                rows.append([group, method, str(r["n"]), *_fmt(r, "hit@1", "recall@5", "all@5",
                                                               "mrr", "coverage")])
        lines += _md_table("Databases never seen in training (each fold's model pretrained "
                           "without them; zero-shot):",
                           ["group", "method", "n", "hit@1", "recall@5", "all@5 (>5 tables)",
                            "MRR", "coverage depth"], rows)
    ab = result.get("unseen_abstention") or {}
    if "kept" in ab:
        lines += ["", f"Abstention on those databases (each fold's abstention model; "
                  f"{ab['n']} of their own questions, {ab['n_other']} of other held-out "
                  f"databases'): answerable kept {ab['kept']:.3f}, others caught "
                  f"{ab['caught']:.3f}, AUROC {ab['auroc']:.3f} (mean of the folds)."]
    sets = result.get("sets") or {}
    if sets:
        rows = []
        for label, by_method in sets.items():
            for method, r in by_method.items():
                topk = {"best_topk": max((r[k] for k in r if k.startswith("top")
                                          and k.endswith("_f1")), default=None)}
                rows.append([label, method, str(r["n"]),
                             *_fmt({**r, **topk}, "hit@1", "all@5", "set_precision",
                                   "set_recall", "set_f1", "exact_set", "best_topk",
                                   "abstain_auroc")])
        lines += _md_table("Join-aware sets on EHRSQL-2024 test (31 real demo tables):",
                           ["model", "method", "n", "hit@1", "all@5", "set P", "set R",
                            "set F1", "exact", "best top-k F1", "abstain AUROC"], rows)
    cm = result.get("comments") or {}
    if cm:
        rows = [[group, names, str(r["n"]), *_fmt(r, "hit@1", "all@5", "set_f1", "kept")]
                for group, by in cm.items() for names, r in by.items()]
        lines += _md_table("Cryptic names and catalog comments (fold 0's databases copied "
                           "with names abbreviated, then commented with the old names, with "
                           "common abbreviations only, and with names of 3-5 words as their "
                           "initials; the questions mistyped, a slip in one word each; BIRD's "
                           "questions also followed by their evidence; the databases handed "
                           "over as Spider 2.0's and tables.json's files describe them; the "
                           "fold-0 model, zero-shot; kept: the answerable questions its "
                           "abstention keeps):",
                           ["group", "names", "n", "hit@1", "all@5 (every database)",
                            "set F1", "kept"], rows)
    sv = result.get("serving") or {}
    if sv:
        lines += ["", f"Serving on loopback ({sv['tables']}; p50 / p95 ms):", "",
                  "| how | p50 | p95 | n | failed |", "| --- | ---: | ---: | ---: | ---: |"]
        for key, label in (("inprocess_single", "in-process, 1 thread"),
                           ("http_single", "HTTP, 1 client"),
                           ("inprocess_concurrent", f"in-process, {sv['clients']} threads"),
                           ("http_concurrent", f"HTTP, {sv['clients']} clients"),
                           ("mcp", "MCP stdio, 1 client")):
            r = sv[key]
            lines.append(f"| {label} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['n']} | "
                         f"{r['failed']} |")
        lines.append(f"\nHTTP p50 / in-process p50 at {sv['clients']} threads: "
                     f"{sv['http_over_inprocess_concurrent']:.2f}; single client: HTTP - "
                     f"in-process = {sv['http_minus_inprocess_single_ms']:.1f} ms")
    rd = result.get("reading") or {}
    if rd:
        lines += _md_table("Reading a database from an empty cache (a fresh process: imports, "
                           "text model, profiles, embeddings):", ["tables", "seconds"],
                           [[str(r["tables"]), f"{r['seconds']:.1f}"] for r in rd.values()])
    sp = result["speed"]
    if sp:
        lines += ["", "| speed | value |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.3f} |" for k, v in sp.items()]
    if result["skipped"]:
        lines += [""] + [f"- {s}" for s in result["skipped"]]
    lines.append(f"\nwall time {result['wall_seconds']:.0f} s, device {result['device']}, "
                 f"{result['epochs']} epochs per training")
    return "\n".join(lines) + "\n"


def chart(result: dict) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = list(dict.fromkeys(r["benchmark"] for r in result["rows"]))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(benches)), 4))
    width = 0.8 / len(METHODS)
    for i, m in enumerate(METHODS):
        xs, ys, err = [], [], []
        for j, bname in enumerate(benches):
            row = next((r for r in result["rows"] if r["benchmark"] == bname and r["method"] == m), None)
            if row:
                xs.append(j + i * width)
                ys.append(row["hit@1"])
                err.append([[row["hit@1"] - row["hit@1_ci"][0]], [row["hit@1_ci"][1] - row["hit@1"]]])
        if xs:
            e = np.concatenate(err, axis=1) if err else None
            ax.bar(xs, ys, width, yerr=e, label=m, capsize=2)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(benches))], benches)
    ax.set_ylabel("hit@1 (95% CI)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()

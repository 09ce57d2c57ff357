"""Pretraining across databases: one encoder trained on the questions of many databases at
once, so that it learns what makes a table answer a question rather than which table is which.

Each step takes up to `batch_size` questions of one database and ranks that database's tables
only (a softmax over its tables, every gold table a positive): a question's candidates are the
tables of its own database. Batches of all databases are shuffled together every epoch. The
schedule is fixed (no checkpoint is chosen on held-out databases), so a held-out fold serves
for reporting alone: `evaluate_databases` scores it with the one scorer and the baselines.
"""

from __future__ import annotations

import importlib.util
import math
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Batch, Data
from tqdm import tqdm

from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.evaluation.metrics import abstention_metrics, top_k_sets
from tablegraph.graphs.build import batch_graphs, load_table_graphs, rename_table
from tablegraph.graphs.nodes import GraphConfig
from tablegraph.model.abstain import ABSTAIN_FEATURES, AbstainHead, abstain_features
from tablegraph.model.config import EncoderConfig
from tablegraph.model.encoder import ContrastiveGNNEncoder
from tablegraph.model.index import build_index
from tablegraph.model.joinstage import JoinStage, StageExample, fit_join_stage
from tablegraph.model.linking import SchemaLinker
from tablegraph.model.loss import InfoNCELoss
from tablegraph.model.scoring import QuestionInputs, Scorer, prepare_questions
from tablegraph.model.sets import SetConfig, TableSet, rank_and_set, set_first, sets_first
from tablegraph.tables.joins import JoinGraph, join_graph
from tablegraph.tables.questions import Question
from tablegraph.text.encoders import TextEncoder
from tablegraph.training.corpora import CorpusDatabase, database_fold, with_named_tables
from tablegraph.training.trainer import (ScheduleConfig, TrainingError, cosine_lr,
                                         param_groups, take_step)
from tablegraph.utils import TableGraphError, show_progress


@dataclass
class PretrainConfig(ScheduleConfig):
    """Pretraining settings (a fixed schedule)."""

    epochs: int = 3
    # At most this many of a database's questions per epoch (a fresh sample each epoch); 0:
    # all of them. The logit adjustment below keeps a database with thousands of questions
    # (EHRSQL train) from teaching which of its tables is which; a cap of 256 kept it from
    # teaching its joins too (EHRSQL valid all@5 0.62 against 0.90 with all of them).
    max_questions_per_database: int = 0
    # Fit the abstention model ("nothing here answers this") on EHRSQL train, scored by an
    # encoder trained without it (one more training run).
    abstain: bool = True
    # Fit it on abbreviated copies of its databases too (`training.renamed`, `ordr_itms`):
    # fitted on names spelled out alone, it took a database whose names say little for one
    # that answers nothing (docs/experiments.md, twenty-seventh session).
    abstain_abbreviated: bool = True
    # Logit adjustment: this times the log share of a database's questions each table answers
    # is added to the training logits (0: off). A table that nearly every question of a
    # database needs (EHRSQL: `admissions`, gold in 87%) otherwise learns a vector close to
    # every question, and ranks first for questions of any kind.
    prior_strength: float = 1.0
    # The prior of a database of n questions weighs n / (n + prior_questions): shares
    # estimated from a few dozen questions say little, and a leaning towards a schema's
    # central tables is worth learning where it is not overwhelming.
    prior_questions: int = 500
    # Weight in the loss of a gold table the answer is not read from (`Question.answer`: a
    # table read only to filter or to join, EHRSQL's `admissions` for "patient 10004235's
    # potassium"), against 1 for the tables whose columns the SQL returns. 1: every gold
    # table alike; the second stage still learns the whole set.
    bridge_weight: float = 1.0
    # This share of the text2sql training databases also trains as an abbreviated copy
    # (`abbreviated_copy`: `order_items` -> `ordr_itms`, its questions' gold tables renamed),
    # encoder and second stage alike: the names of enterprise schemas say less than Spider's
    # and BIRD's. 0: none.
    abbreviated_share: float = 0.0
    # This share of the training questions is wrapped in a request as an agent may pass one
    # ("Which tables do I need to answer: {q}", `corpora.with_requests`), so that the
    # second stage learns to pass over its words (docs/experiments.md, forty-first session).
    # 0: none.
    request_share: float = 0.0
    # This share of the training questions names one of its gold tables as the schema writes
    # it, where the name is an identifier ("d_icd_diagnoses entry for ...",
    # `corpora.with_named_tables`): the corpora's questions almost never do (1 of 16,061),
    # so the weight of such a mention (`table_name`) stayed at 0.01 and "d_icd_diagnoses
    # lookup for ..." ranked `diagnoses_icd` first (docs/experiments.md, forty-sixth
    # session). 0: none.
    named_share: float = 0.1
    # A question's candidates in training are the tables its database's questions were
    # written against (`CorpusDatabase.written_for`): EHRSQL's authors wrote against 17
    # tables, and the demo's 15 others (emar, poe, omr, provider, ...) are no wrong answer
    # of theirs. As negatives of every EHRSQL question they learnt to rank last on MIMIC.
    written_for_only: bool = False
    # Fit the second stage over the join graph (`model.joinstage`) on the training questions,
    # scored by the trained encoder.
    join_stage: bool = True
    # The dense prior of the model's scores (`EncoderConfig.dense_weight`): zero-shot dense
    # retrieval beside the trained scores, for schemas unlike any seen in training. 0.2 was
    # chosen on the held-out databases of folds 0 and 1, 0.3 with `encoder_weight` below
    # (docs/experiments.md, thirty-first session). Both losses (this one and `train`'s) leave
    # it out: in this one it moved held-out databases by -0.007 to +0.007 hit@1 and the MIMIC
    # and EHRSQL dev questions within a refit's noise; in `train`'s it left held-out rankings
    # level and cost the abstention (thirty-second).
    dense_weight: float = 0.3
    # The encoder's weight where questions are scored against an index
    # (`EncoderConfig.encoder_weight`; the second stage and the abstention are fitted on
    # those scores): on databases unlike the training ones, the linking features and the
    # dense prior are worth more beside the encoder's cosines than training makes them
    # (chosen on the embedded questions against the real hosp tables and EHRSQL valid;
    # held-out databases level). 1: as trained.
    encoder_weight: float = 0.6


@dataclass
class PreparedDatabase:
    """A database ready to train on or to evaluate: its graphs (batched once), its questions
    whose gold tables could all be read, their frozen inputs and gold table indices."""

    name: str
    group: str
    graphs: list[Data]
    batch: Batch
    questions: list[Question]
    inputs: QuestionInputs
    gold: list[set[int]]
    linker: SchemaLinker
    joins: JoinGraph | None = None
    source: "str | list" = ""  # the --tables argument it was read from, or its tables
    dropped: int = 0  # questions left out: a gold table could not be read
    # indices of the tables its questions were written against
    # (`CorpusDatabase.written_for`); None: all of them
    written_for: list[int] | None = None

    @property
    def names(self) -> list[str]:
        return [g.table for g in self.graphs]


def _named_profiles(d: PreparedDatabase) -> list | None:
    """The profiles of `d`'s tables named as its questions name them (a corpus may rename
    a file, `CorpusDatabase.rename`), for a baseline that reads a schema copy; None where
    `d` was read from a single `--tables` location, which the baseline reads itself."""
    if isinstance(d.source, str):
        return None
    import dataclasses

    from tablegraph.tables.profile import profile_tables

    profiles = profile_tables(d.source)  # cached; in the graphs' order (by table name)
    if len(profiles) != len(d.names):
        return None
    return [dataclasses.replace(p, name=n) for p, n in zip(profiles, d.names)]


def prepare_database(db: CorpusDatabase, text: TextEncoder, graph_cfg: GraphConfig,
                     enc_cfg: EncoderConfig, device: str = "cpu",
                     named_share: float = 0.0) -> PreparedDatabase | None:
    """Read, profile and embed a database's tables and its questions (None without any);
    `named_share` of the questions name a gold table as the schema writes it
    (`corpora.with_named_tables`)."""
    profiles, graphs = load_table_graphs(db.tables, text, graph_cfg, progress=False,
                                         skipped=[])
    for g in graphs:
        if g.table in db.rename:
            rename_table(g, db.rename[g.table])
    col = {g.table.lower(): i for i, g in enumerate(graphs)}
    kept = [q for q in db.questions if all(t.lower() in col for t in q.tables)]
    if len(graphs) < 2 or not kept:
        return None
    questions = with_named_tables([q.renamed(lambda t: graphs[col[t.lower()]].table)
                                   for q in kept], named_share)
    linker = SchemaLinker.from_nodes([g.nodes for g in graphs])
    inputs = prepare_questions(enc_cfg, text, [q.text for q in questions], linker, device)
    gold = [{col[t.lower()] for t in q.tables} for q in questions]
    written = sorted({col[t.lower()] for t in db.written_for if t.lower() in col}
                     | {j for g in gold for j in g}) if db.written_for else None
    return PreparedDatabase(db.name, db.group, graphs, batch_graphs(graphs, device), questions,
                            inputs, gold, linker, join_graph(profiles).renamed(db.rename),
                            db.tables, len(db.questions) - len(kept),
                            written if written and len(written) < len(graphs) else None)


@dataclass
class PretrainResult:
    model: ContrastiveGNNEncoder
    history: list[dict[str, float]]
    seconds: float
    n_questions: int
    n_databases: int
    extra: dict[str, Any] = field(default_factory=dict)


def positive_weights(d: PreparedDatabase, bridge_weight: float, device: str = "cpu"
                     ) -> torch.Tensor:
    """[Q, M] the loss weight of each question's gold tables in `d` (0 elsewhere): 1 for a
    table its answer is read from, `bridge_weight` for the other gold tables of a question
    whose answer tables are known (`Question.answer`), 1 for every gold table otherwise."""
    at = {n.lower(): j for j, n in enumerate(d.names)}
    w = torch.zeros((len(d.questions), len(d.graphs)), device=device)
    for i, (q, g) in enumerate(zip(d.questions, d.gold)):
        answer = {at[t.lower()] for t in q.answer if t.lower() in at}
        for j in g:
            w[i, j] = 1.0 if not answer or j in answer else bridge_weight
    return w


def pretrain(dbs: list[PreparedDatabase], enc_cfg: EncoderConfig, cfg: PretrainConfig,
             device: str = "cpu", progress: bool = True) -> PretrainResult:
    """Train one encoder on the questions of every database of `dbs` (see the module
    docstring)."""
    if not dbs:
        raise TrainingError("no databases to pretrain on")
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    model = ContrastiveGNNEncoder(enc_cfg).to(device)
    loss_fn = InfoNCELoss(cfg.temperature).to(device)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    positives = [torch.zeros((len(d.questions), len(d.graphs)), dtype=torch.bool, device=device)
                 for d in dbs]
    for mask, d in zip(positives, dbs):
        for i, g in enumerate(d.gold):
            mask[i, list(g)] = True
    weights = [positive_weights(d, cfg.bridge_weight, device) if cfg.bridge_weight != 1
               else None for d in dbs]
    # log of the smoothed share of each database's questions a table answers [M]
    priors = [cfg.prior_strength * len(m) / (len(m) + cfg.prior_questions)
              * torch.log((m.sum(0).float() + 1) / (len(m) + 2))
              if cfg.prior_strength else None for m in positives]
    cap = cfg.max_questions_per_database

    def per_epoch(n: int) -> int:
        return min(n, cap) if cap else n

    steps_per_epoch = sum(math.ceil(per_epoch(len(d.questions)) / cfg.batch_size) for d in dbs)
    total = steps_per_epoch * cfg.epochs
    history: list[dict[str, float]] = []
    step = 0
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        chunks = []
        for k, d in enumerate(dbs):
            perm = torch.randperm(len(d.questions), generator=gen).tolist()
            perm = perm[:per_epoch(len(perm))]
            chunks += [(k, perm[i:i + cfg.batch_size])
                       for i in range(0, len(perm), cfg.batch_size)]
        order = torch.randperm(len(chunks), generator=gen).tolist()
        losses = []
        bar = tqdm(order, desc=f"pretrain {epoch}/{cfg.epochs}", unit="step", leave=False,
                   disable=not show_progress(progress))
        for c in bar:
            k, idx = chunks[c]
            d = dbs[k]
            lr = cosine_lr(step, total, cfg.lr, cfg.min_lr)
            b = d.batch
            t, nodes = model.encode(b.x, b.edge_index, b.batch, b.node_type)  # [M, D], [N, D]
            scores = model.score(d.inputs.select(idx), t, nodes, b.batch)  # [B, M]
            pos, prior = positives[k][idx], priors[k]
            weight = None if weights[k] is None else weights[k][idx]
            if cfg.written_for_only and d.written_for is not None:  # [B, M'] and [M']
                cols = d.written_for
                scores, pos = scores[:, cols], pos[:, cols]
                prior = None if prior is None else prior[cols]
                weight = None if weight is None else weight[:, cols]
            loss = loss_fn.from_similarity(scores, pos, prior, weight)
            losses.append(take_step(model, opt, loss, lr, cfg.grad_clip,
                                    f"step {step + 1} ({d.name})"))
            step += 1
        history.append({"epoch": epoch, "step": step, "train_loss": float(np.mean(losses)),
                        "lr": lr, "seconds": time.perf_counter() - t0})
    model.eval()
    return PretrainResult(model, history, time.perf_counter() - t0,
                          sum(len(d.questions) for d in dbs), len(dbs))


LARGE_SCHEMA = 15  # tables: a held-out database this large is also pooled as "15+ tables"


def groups_of(d: PreparedDatabase) -> list[str]:
    """The report groups a held-out database's questions are pooled in: its corpus group, and
    "<LARGE_SCHEMA>+ tables" too for a schema of `LARGE_SCHEMA` tables or more (whichever
    corpus it comes from: the closest the corpora come to the schemas of 20-175 tables users
    bring)."""
    return [d.group] + ([f"{LARGE_SCHEMA}+ tables"] if len(d.graphs) >= LARGE_SCHEMA else [])


def evaluate_databases(dbs: list[PreparedDatabase], methods: dict[str, Any], text: TextEncoder,
                       device: str = "cpu", set_cfg: SetConfig = SetConfig(),
                       stage: JoinStage | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """group -> method -> metrics over held-out databases (their questions pooled; a large
    schema's also in "15+ tables", see `groups_of`): hit@1,
    recall@5, MRR, coverage depth, n, and all@5 over databases of more than 5 tables; for
    methods that give a set, set precision / recall / F1 / exact match too. An encoder scores
    the questions as a retriever reads them (`SchemaLinker.read`); the baselines, as written.

    `methods`: name -> a trained encoder, or the string "bm25" / "dense" / "schema-search"
    (its hybrid strategy) / "schema-search-semantic" for the baselines. Besides each method's
    ranking (an encoder's: its first stage alone): "<encoder>+stage", the ranking of the second
    stage over the join graph (`stage`, when given; `model.sets.final_ranking`);
    "<encoder>+set", the sets (`model.sets.select_set` with `set_cfg`, from the second stage
    when given) with a ranking that puts them first; "dense+fk", the dense top
    table and its join neighbours; "schema-search+fk", its top table and the tables it lists
    one foreign-key hop away; and, in the encoder's row, the set F1 of its fixed top k.
    """
    from tablegraph.evaluation.baselines import (BM25Scorer, DenseScorer, SchemaSearchScorer,
                                                 dense_fk_sets)

    pooled: dict[str, dict[str, dict[str, list[np.ndarray]]]] = {}

    def record(d: PreparedDatabase, ev: RetrievalEvaluator, name: str, scores: np.ndarray,
               sets: list[list[str]] | None = None, extra: dict | None = None) -> None:
        pq = ev.per_question(scores)
        metrics = {k: pq[k] for k in ("hit@1", "recall@5", "mrr")}
        metrics["coverage"] = ev.coverage(scores)
        if len(d.names) > 5:
            metrics["all@5"] = pq["all@5"]
        metrics.update({**(ev.set_metrics(sets) if sets is not None else {}), **(extra or {})})
        for group in groups_of(d):
            acc = pooled.setdefault(group, {}).setdefault(name, {})
            for key, v in metrics.items():
                acc.setdefault(key, []).append(v)

    for d in dbs:
        ev = RetrievalEvaluator(d.questions, d.names)
        nodes = [g.nodes for g in d.graphs]
        read = [d.linker.read(t) for t in ev.texts]  # what an encoder scores (below)
        for name, method in methods.items():
            if method == "bm25":
                record(d, ev, name, BM25Scorer(nodes)(ev.texts))
            elif method == "dense":
                scores = DenseScorer(text, nodes)(ev.texts)
                record(d, ev, name, scores)
                sets = dense_fk_sets(scores, d.names, d.joins)
                record(d, ev, name + "+fk", sets_first(scores, d.names, sets), sets)
            elif isinstance(method, str) and method.startswith("schema-search"):
                peer = SchemaSearchScorer(d.source, d.names, text.path,
                                          "semantic" if method.endswith("semantic") else "hybrid",
                                          _named_profiles(d))
                try:
                    scores, sets = peer.run(ev.texts)  # one search per question
                finally:
                    peer.close()
                record(d, ev, name, scores)
                record(d, ev, name + "+fk", sets_first(scores, d.names, sets), sets)
            else:  # the questions as a retriever reads them (`read`: `SchemaLinker.read`)
                inputs = d.inputs if read == ev.texts else \
                    prepare_questions(method.cfg, text, read, d.linker, device)
                index = build_index(method, d.graphs, device)
                scorer = Scorer(method, text, device)
                scores = scorer.score(inputs, index).cpu().numpy()
                sims = scorer.tokens(inputs, index) if stage is not None else None

                def topk(ranking: np.ndarray) -> dict[str, np.ndarray]:
                    return {f"top{k}_f1": ev.set_metrics(
                        [[d.names[j] for j in row] for row in top_k_sets(ranking, k)])["set_f1"]
                        for k in (1, 2, 3, 5)}

                record(d, ev, name, scores, extra=topk(scores))
                link = None if inputs.link is None else inputs.link.cpu().numpy()
                shown = rank_questions(d, read, scores, link, sims, set_cfg, stage)
                final = np.stack([r for r, _ in shown])
                if stage is not None:
                    record(d, ev, name + "+stage", final, extra=topk(final))
                chosen = [ts.tables for _, ts in shown]
                ranked = [set_first(r, d.names, ts.tables) for r, ts in shown]
                record(d, ev, name + "+set", np.stack(ranked), chosen)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for group, by_method in pooled.items():
        for name, acc in by_method.items():
            row = {k: float(np.concatenate(v).mean()) for k, v in acc.items() if v}
            row["n"] = int(sum(len(x) for x in acc["hit@1"]))
            row["n_all@5"] = int(sum(len(x) for x in acc.get("all@5", [])))
            out.setdefault(group, {})[name] = row
    return out


def rank_questions(d: PreparedDatabase, texts: list[str], scores: np.ndarray,
                   link: np.ndarray | None, sims: list[np.ndarray] | None, set_cfg: SetConfig,
                   stage: JoinStage | None) -> list[tuple[np.ndarray, TableSet]]:
    """`model.sets.rank_and_set` for each of `texts` over `d`: their scores [Q, M], linking
    features [Q, M, F] (or None) and token similarities ([2, L, M] each, or None) -> each
    question's ranking [M] and set. The word cover and entity flags are computed only for
    the second stage, which alone reads them."""
    out = []
    for i, t in enumerate(texts):
        cover, entity = d.linker.stage_inputs(t) if stage is not None else (None, None)
        out.append(rank_and_set(scores[i], None if link is None else link[i], d.names,
                                d.joins, set_cfg, stage, cover,
                                None if sims is None else sims[i], entity))
    return out


@torch.no_grad()
def score_questions(model: ContrastiveGNNEncoder, d: PreparedDatabase, texts: list[str] | None,
                    text: TextEncoder, enc_cfg: EncoderConfig, device: str
                    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Scores [Q, M] of a database's own questions (texts None) or of other question texts,
    their linking features [Q, M, F] (None: the model uses none) and their dense cosines
    [Q, M] (`Scorer.dense`)."""
    inputs = d.inputs if texts is None else prepare_questions(enc_cfg, text, texts, d.linker,
                                                              device)
    index = build_index(model, d.graphs, device)
    scorer = Scorer(model, text, device)
    dense = scorer.dense(inputs, index)
    scores = scorer.score(inputs, index, dense=dense)
    return (scores.cpu().numpy(), None if inputs.link is None else inputs.link.cpu().numpy(),
            None if dense is None else dense.cpu().numpy())


def abstain_confidence(head: AbstainHead, model: ContrastiveGNNEncoder, d: PreparedDatabase,
                       texts: list[str] | None, text: TextEncoder, enc_cfg: EncoderConfig,
                       device: str) -> np.ndarray:
    """[Q] probabilities that each question is answerable over `d` (its own questions when
    `texts` is None), from `model`'s scores and the linking features computed with them."""
    return head.predict(question_features(model, d, texts, text, enc_cfg, head.temperature,
                                          device))


def question_features(model: ContrastiveGNNEncoder, d: PreparedDatabase,
                      texts: list[str] | None, text: TextEncoder, enc_cfg: EncoderConfig,
                      temperature: float, device: str) -> np.ndarray:
    """The abstention features [Q, len(ABSTAIN_FEATURES)] (`model.abstain.abstain_features`)
    of `d`'s own questions (texts None) or of `texts`, from `model`'s scores over `d`."""
    scores, link, dense = score_questions(model, d, texts, text, enc_cfg, device)
    questions = [q.text for q in d.questions] if texts is None else texts
    return abstain_features(scores, questions, d.linker, temperature, link, dense)


def fit_stage(model: ContrastiveGNNEncoder, dbs: list[PreparedDatabase], text: TextEncoder,
              enc_cfg: EncoderConfig, cfg: PretrainConfig, device: str) -> JoinStage:
    """The second stage over the join graph (`model.joinstage`), fitted on the questions of
    `dbs` scored by the trained encoder `model`."""
    examples = []
    for d in dbs:
        index = build_index(model, d.graphs, device)
        scorer = Scorer(model, text, device)
        inputs = [d.linker.stage_inputs(q.text) for q in d.questions]  # (cover, entity)
        examples.append(StageExample(
            scorer.score(d.inputs, index).cpu().numpy(),
            None if d.inputs.link is None else d.inputs.link.cpu().numpy(), d.names, d.joins,
            d.gold, [c for c, _ in inputs], scorer.tokens(d.inputs, index),
            [e for _, e in inputs]))
    return fit_join_stage(examples, cfg.temperature, seed=cfg.seed,
                          name_weight=model.name_weight())


# The abstention model also learns from databases its encoder never saw: a third of the
# text2sql databases (by a hash of the name, independent of the held-out folds of
# `pretrain --fold`) are left out of that encoder's training; half of them give answerable
# questions (their own) and unanswerable ones (other databases' questions) to fit on, the
# other half the same for choosing the threshold, beside EHRSQL valid. Fitted on EHRSQL
# alone, the model kept 0.85 of the answerable questions of databases new to it, 0.92 now
# (docs/experiments.md).
ABSTAIN_FOLDS = 3
ABSTAIN_QUESTIONS = 40  # a held-back database's own questions, and as many of others'


def abstain_part(name: str) -> int:
    """Where a training database serves the abstention model: 0 fits it, 1 chooses its
    threshold (both left out of its encoder's training), 2 only trains that encoder."""
    if database_fold(name + "/abstain", ABSTAIN_FOLDS):
        return 2
    return database_fold(name + "/abstain-half", 2)


def unrelated_questions(d: PreparedDatabase, dbs: list[PreparedDatabase]) -> list[str]:
    """The questions of the databases of `dbs` other than `d` that share no table name with
    it: nothing in `d` answers them."""
    mine = {n.lower() for n in d.names}
    return [q.text for o in dbs if o is not d and not mine & {n.lower() for n in o.names}
            for q in o.questions]


def cross_database_questions(dbs: list[PreparedDatabase], per_db: int, seed: int
                             ) -> list[tuple[PreparedDatabase, list[str], list[str]]]:
    """For each database of `dbs` (in name order): up to `per_db` of its own questions, which
    it answers, and as many of its `unrelated_questions`, which nothing in it answers.
    Databases without such others are left out."""
    rng = random.Random(seed)
    dbs = sorted(dbs, key=lambda d: d.name)
    out = []
    for d in dbs:
        own = [q.text for q in d.questions]
        rng.shuffle(own)
        own = own[:per_db]
        others = unrelated_questions(d, dbs)
        if not own or not others:
            continue
        out.append((d, own, rng.sample(others, min(len(own), len(others)))))
    return out


def cross_database_features(model: ContrastiveGNNEncoder, dbs: list[PreparedDatabase],
                            text: TextEncoder, enc_cfg: EncoderConfig, temperature: float,
                            seed: int, device: str) -> tuple[np.ndarray, np.ndarray]:
    """Abstention features of `dbs`' own questions [A, F] and of other databases' [U, F]
    (`cross_database_questions`), scored by `model`; empty without two databases."""
    pairs = cross_database_questions(dbs, ABSTAIN_QUESTIONS, seed)
    if not pairs:
        return np.zeros((0, len(ABSTAIN_FEATURES))), np.zeros((0, len(ABSTAIN_FEATURES)))

    def rows(d: PreparedDatabase, texts: list[str]) -> np.ndarray:
        return question_features(model, d, texts, text, enc_cfg, temperature, device)

    return (np.concatenate([rows(d, own) for d, own, _ in pairs]),
            np.concatenate([rows(d, other) for d, _, other in pairs]))


def abbreviated_copy(d: PreparedDatabase, work: Path, text: TextEncoder,
                     graph_cfg: GraphConfig, enc_cfg: EncoderConfig,
                     device: str) -> PreparedDatabase | None:
    """`d` with every table and column name abbreviated (`training.renamed.abbreviate`,
    `order_items` -> `ordr_itms`), its questions' gold tables renamed to match: read from a
    DuckDB copy written under `work`. None where `d` was not read from one `--tables`
    location."""
    from tablegraph.training.renamed import VARIANTS, copy_database

    if not isinstance(d.source, str):
        return None
    path = work / (re.sub(r"[^A-Za-z0-9]+", "_", d.name) + ".duckdb")
    names = {a.lower(): b for a, b in copy_database(d.source, path, VARIANTS[1]).items()}
    questions = [q.renamed(lambda t: names.get(t.lower(), t)) for q in d.questions]
    return prepare_database(CorpusDatabase(d.name + "/abbreviated", d.group, str(path),
                                           questions), text, graph_cfg, enc_cfg, device)


def abbreviated_copies(dbs: list[PreparedDatabase], share: float, work: Path,
                       text: TextEncoder, graph_cfg: GraphConfig, enc_cfg: EncoderConfig,
                       device: str) -> list[PreparedDatabase]:
    """`abbreviated_copy` of `share` of the databases of `dbs` (by a hash of the name: the
    same ones on every run; 1: all of them), written under `work`; a database not read from
    one location has none."""
    if share <= 0:
        return []
    chosen = [d for d in dbs if database_fold(d.name + "/abbreviated", 1000) < share * 1000]
    return [c for d in chosen
            if (c := abbreviated_copy(d, work, text, graph_cfg, enc_cfg, device)) is not None]


def fit_abstention(prepared: list[PreparedDatabase], final: ContrastiveGNNEncoder,
                   text: TextEncoder, enc_cfg: EncoderConfig, cfg: PretrainConfig,
                   data_root: str, graph_cfg: GraphConfig, device: str, log=print):
    """The abstention model (`model.abstain`), fitted on what a new database looks like to
    the model: an encoder trained without EHRSQL and without the text2sql databases of
    `abstain_part` 0 and 1 scores EHRSQL train's answerable and unanswerable questions and,
    on the databases of part 0, their own questions and other databases' questions
    (`cross_database_questions`), and with `cfg.abstain_abbreviated` the same on abbreviated
    copies of those databases (`abbreviated_copy`); a logistic model is fitted on their
    features. Its threshold is the one with the best balanced accuracy over EHRSQL valid
    (scored by the final model) and the databases of part 1, and their abbreviated copies
    (scored by that encoder). None without unanswerable questions."""
    from tablegraph.model.abstain import fit_abstain_head
    from tablegraph.training.corpora import ehrsql_database, ehrsql_unanswerable

    ehr = next(d for d in prepared if d.group == "ehrsql")
    unanswerable = ehrsql_unanswerable(data_root, "train")
    if not unanswerable:
        return None
    held = [d for d in prepared if d is not ehr and abstain_part(d.name) < 2]
    new_model = pretrain([d for d in prepared if d is not ehr and d not in held], enc_cfg, cfg,
                         device, False).model

    def features(d: PreparedDatabase, texts: list[str] | None) -> np.ndarray:
        return question_features(new_model, d, texts, text, enc_cfg, cfg.temperature, device)

    def cross(dbs: list[PreparedDatabase]) -> tuple[np.ndarray, np.ndarray]:
        return cross_database_features(new_model, dbs, text, enc_cfg, cfg.temperature,
                                       cfg.seed, device)

    fit_dbs = [d for d in held if abstain_part(d.name) == 0]
    calib_dbs = [d for d in held if d not in fit_dbs]
    copies: dict[str, list[PreparedDatabase]] = {"fit": [], "calib": []}
    if cfg.abstain_abbreviated:
        with tempfile.TemporaryDirectory() as work:
            for part, dbs in (("fit", fit_dbs), ("calib", calib_dbs)):
                copies[part] = abbreviated_copies(dbs, 1.0, Path(work), text, graph_cfg,
                                                  enc_cfg, device)
    ehr_a, ehr_u = features(ehr, None), features(ehr, unanswerable)
    fit_a, fit_u = cross(fit_dbs)
    abbr_a, abbr_u = cross(copies["fit"])
    # a database and its copy weigh as much as the database alone did: EHRSQL keeps its share
    half = 0.5 if len(abbr_a) else 1.0

    def weights(ehr_rows: np.ndarray, *db_rows: np.ndarray) -> np.ndarray:
        return np.r_[np.ones(len(ehr_rows)), np.full(sum(map(len, db_rows)), half)]
    head = fit_abstain_head(
        np.concatenate([ehr_a, fit_a, abbr_a]), np.concatenate([ehr_u, fit_u, abbr_u]),
        cfg.temperature, (weights(ehr_a, fit_a, abbr_a), weights(ehr_u, fit_u, abbr_u)))
    try:
        valid = prepare_database(ehrsql_database(data_root, "valid"), text, graph_cfg, enc_cfg,
                                 device)
        valid_u = ehrsql_unanswerable(data_root, "valid")
    except TableGraphError:
        valid, valid_u = None, []
    sources = {}  # name -> p(answerable) of answerable and of unanswerable questions
    if valid is not None and valid_u:
        sources["EHRSQL valid"] = (
            abstain_confidence(head, final, valid, None, text, enc_cfg, device),
            abstain_confidence(head, final, valid, valid_u, text, enc_cfg, device))
    for name, dbs in (("new databases", calib_dbs),
                      ("new databases abbreviated", copies["calib"])):
        calib_a, calib_u = cross(dbs)
        if len(calib_a):
            sources[name] = (head.predict(calib_a), head.predict(calib_u))
    if not sources:
        log("abstention: no validation questions; threshold 0.5")
        return head
    pa = np.concatenate([a for a, _ in sources.values()])
    pu = np.concatenate([u for _, u in sources.values()])
    best, best_j = 0.5, -1.0
    for t in np.arange(0.05, 0.96, 0.01):
        j = float((pa >= t).mean() + (pu < t).mean())
        if j > best_j:
            best, best_j = float(t), j
    head.threshold = round(best, 2)
    log(f"abstention threshold {head.threshold:.2f}: " + "; ".join(
        f"{name} answerable kept {(a >= head.threshold).mean():.3f}, unanswerable caught "
        f"{(u < head.threshold).mean():.3f}" for name, (a, u) in sources.items()))
    return head


def abstention_on_databases(head: AbstainHead, model: ContrastiveGNNEncoder,
                            dbs: list[PreparedDatabase], text: TextEncoder,
                            enc_cfg: EncoderConfig, seed: int, device: str) -> dict[str, float]:
    """How the abstention model `head` treats `dbs`: up to `ABSTAIN_QUESTIONS` of each one's
    own questions (answerable there) and as many of the others' (`cross_database_questions`,
    answerable nowhere there): AUROC, the share of answerable questions kept and of the
    others caught at its threshold, and how many of each. Empty without two databases."""
    own, other = cross_database_features(model, dbs, text, enc_cfg, head.temperature, seed,
                                         device)
    if not len(own):
        return {}
    return abstention_metrics(head.predict(own), head.predict(other), head.threshold)


def pretrain_corpus(data_root: str, out_dir: str, cfg: PretrainConfig | None = None,
                    fold: int | None = None, folds: int = 3, text_model: str | None = None,
                    device: str | None = None, progress: bool = True,
                    log=print, ehrsql: bool = True) -> dict[str, Any]:
    """Pretrain on `data_root`'s corpora (text2sql-train, EHRSQL train) and save the model
    folder (no index: it carries nothing of any database). With `fold`, the databases of that
    fold are held out and reported against BM25 and dense retrieval."""
    from tablegraph.model.folder import check_out, save_model
    from tablegraph.text.encoders import DEFAULT_TEXT_MODEL, load_text_encoder
    from tablegraph.training.corpora import ehrsql_database, text2sql_databases, with_requests
    from tablegraph.training.report import history_csv
    from tablegraph.training.run import model_config
    from tablegraph.training.trainer import TrainConfig
    from tablegraph.utils import pick_device

    check_out(out_dir)
    cfg = cfg or PretrainConfig()
    device = pick_device(device)
    text = load_text_encoder(text_model or DEFAULT_TEXT_MODEL)
    graph_cfg = GraphConfig()
    corpus = text2sql_databases(data_root)
    if ehrsql:
        try:
            corpus.append(ehrsql_database(data_root, "train"))
        except TableGraphError as e:
            log(f"warning: no EHRSQL training questions ({e})")
    held = [d for d in corpus if fold is not None and d.group != "ehrsql"
            and d.fold(folds) == fold]
    train_dbs = [d for d in corpus if d not in held]
    t0 = time.perf_counter()
    first = load_table_graphs(train_dbs[0].tables, text, graph_cfg, progress=False)[1]
    enc_cfg = EncoderConfig.from_dict({**EncoderConfig().to_dict(),
                                       "in_dim": int(first[0].x.shape[1]), "out_dim": text.dim,
                                       "dense_weight": cfg.dense_weight,
                                       "encoder_weight": cfg.encoder_weight})
    prepared, ready = [], []
    for d in tqdm(train_dbs + held, desc="read", unit="db", disable=not show_progress(progress)):
        train = d in train_dbs
        p = prepare_database(with_requests(d, cfg.request_share) if train else d,
                             text, graph_cfg, enc_cfg, device,
                             cfg.named_share if train else 0.0)
        if p is not None:
            (prepared if train else ready).append(p)
    read_seconds = time.perf_counter() - t0
    log(f"read {len(prepared)} training and {len(ready)} held-out databases in "
        f"{read_seconds:.0f}s")
    with tempfile.TemporaryDirectory() as work:
        copies = abbreviated_copies(prepared, cfg.abbreviated_share, Path(work), text,
                                    graph_cfg, enc_cfg, device)
        if copies:
            log(f"{len(copies)} training databases also as abbreviated copies")
        result = pretrain(prepared + copies, enc_cfg, cfg, device, progress)
        log(f"pretrained on {result.n_questions} questions of {result.n_databases} databases "
            f"in {result.seconds:.0f}s")
        stage = None
        if cfg.join_stage and enc_cfg.schema_linking:
            t1 = time.perf_counter()
            stage = fit_stage(result.model, prepared + copies, text, enc_cfg, cfg, device)
            log(f"second stage over the join graph fitted in {time.perf_counter() - t1:.0f}s")
    abstain = None
    abstain_seconds = 0.0
    if cfg.abstain and ehrsql and any(d.group == "ehrsql" for d in prepared):
        t1 = time.perf_counter()
        abstain = fit_abstention(prepared, result.model, text, enc_cfg, cfg, data_root,
                                 graph_cfg, device, log)
        abstain_seconds = time.perf_counter() - t1
    report: dict[str, Any] = {"fold": fold, "folds": folds, "config": cfg.to_dict(),
                              "ehrsql": ehrsql,
                              "read_seconds": round(read_seconds, 1),
                              "train_seconds": round(result.seconds, 1),
                              "abstain_seconds": round(abstain_seconds, 1),
                              "n_questions": result.n_questions,
                              "databases": [d.name for d in prepared],
                              "held_out": [d.name for d in ready]}
    if ready:
        methods: dict[str, Any] = {"tablegraph": result.model, "bm25": "bm25", "dense": "dense"}
        if importlib.util.find_spec("schema_search") is None:
            log("warning: schema-search is not installed; held-out databases are compared "
                "with BM25 and dense only (pip install 'tablegraph[compare]')")
        elif getattr(text, "path", None):  # a sentence-transformers model it can load too
            methods["schema-search"] = "schema-search"
        report["held_out_metrics"] = evaluate_databases(ready, methods, text, device,
                                                        stage=stage)
        if abstain is not None:
            ab = abstention_on_databases(abstain, result.model, ready, text, enc_cfg, cfg.seed,
                                         device)
            if ab:
                report["held_out_abstention"] = ab
                log(f"abstention on the held-out databases: AUROC {ab['auroc']:.3f}, "
                    f"answerable kept {ab['kept']:.3f}, other databases' questions caught "
                    f"{ab['caught']:.3f} (n={ab['n']} + {ab['n_other']})")
    config = model_config(text, graph_cfg, TrainConfig(init="scratch", epochs=cfg.epochs, lr=cfg.lr,
                                                       batch_size=cfg.batch_size, seed=cfg.seed))
    config["pretrain"] = {"config": cfg.to_dict(), "fold": fold, "folds": folds,
                          "ehrsql": ehrsql}
    config["set"] = SetConfig().to_dict()
    if abstain is not None:
        config["abstain"] = abstain.to_dict()
    save_model(out_dir, result.model, config, None,
               extra_files={"history.csv": history_csv(result.history).encode()},
               extra_json={"metrics.json": report}, join_stage=stage)
    return report

"""Contrastive training of the graph encoder against frozen question embeddings.

The seed settings (docs/how-it-works.md, "Training"): 80/20 split stratified by table and seeded; batch 32 shuffled
every epoch; 50 epochs; AdamW lr 5e-4, weight decay 0.01 on weight matrices only; cosine
schedule per step down to 1e-6; gradient clipping at 1.0; InfoNCE at temperature 0.07 with
same-table entries masked out of the negatives. Question and node embeddings are computed once
(and cached on disk by the text encoder). Every epoch ranks all tables for every validation
question with the one scorer (`model.scoring.Scorer`) and the one evaluator
(`evaluation.RetrievalEvaluator`); the best checkpoint by recall@1, then MRR, is kept, with the
validation scores it was chosen on.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data
from tqdm import tqdm

from tablegraph.config import TypedConfig
from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.graphs.build import batch_graphs
from tablegraph.model.config import EncoderConfig
from tablegraph.model.encoder import ContrastiveGNNEncoder
from tablegraph.model.index import TableIndex, graph_documents
from tablegraph.model.linking import NUM_FEATURES, SchemaLinker
from tablegraph.model.loss import InfoNCELoss
from tablegraph.model.scoring import QuestionInputs, Scorer, prepare_questions
from tablegraph.tables.questions import Question
from tablegraph.text.encoders import TextEncoder
from tablegraph.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from tablegraph.training.pairs import schema_pairs
from tablegraph.utils import TableGraphError, show_progress


@dataclass
class ScheduleConfig(TypedConfig):
    """The optimisation settings every training shares: AdamW with weight decay on matrices,
    a per-step cosine schedule from lr to min_lr, clipping, InfoNCE temperature, seed."""

    epochs: int = 50
    batch_size: int = 32
    lr: float = 5e-4
    min_lr: float = 1e-6
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    temperature: float = 0.07
    seed: int = 0


@dataclass
class TrainConfig(ScheduleConfig):
    """Training on one database's questions; the defaults are the seed settings."""

    # pretrained: start from the shipped model's weights (the default: a few questions then
    # help); scratch: the guide's setting (random weights).
    init: str = "pretrained"
    learnable_temperature: bool = False
    negatives: str = "in-batch"  # in-batch | all-tables
    symmetric: bool = True
    val_fraction: float = 0.2
    # After the validation run, train again on every question (the validation split too) for
    # the whole schedule and keep that model, not the validation run's best epoch: fine-tuned
    # on databases never seen in pretraining, choosing the epoch on a 20% split lost
    # 0.005-0.017 hit@1 against the whole schedule on every question (docs/experiments.md,
    # thirty-eighth session). None: as `init` says (`refits`).
    refit: bool | None = None
    # Extra pairs per step drawn from the tables themselves (a column's name in words, or a
    # column name with one of its frequent values, paired with its table); 0 turns them off.
    schema_pairs_per_step: int = 16

    def refits(self) -> bool:
        """Whether `train` refits: by default when fine-tuning the pretrained model; from
        scratch the guide's setting keeps the validation run's best checkpoint."""
        return self.init == "pretrained" if self.refit is None else self.refit


# what every epoch measures on the validation questions (`RetrievalEvaluator.metrics`), as
# `val_<name>` in the history and by name in the best and final epochs' metrics
VAL_METRICS = ("hit@1", "recall@1", "recall@5", "mrr")


class TrainingError(TableGraphError):
    """Training cannot go on (a NaN loss, no training questions)."""


def cosine_lr(step: int, total: int, lr: float, min_lr: float) -> float:
    """Learning rate at `step` of `total`: cosine from `lr` down to `min_lr` (a pure function)."""
    if total <= 0:
        return lr
    progress = min(max(step / total, 0.0), 1.0)
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def pretrained_config() -> EncoderConfig:
    """The shipped pretrained model's encoder settings."""
    from tablegraph.model.folder import load_model

    return load_model().encoder_config


def pretrained_state(enc_cfg: EncoderConfig) -> dict[str, torch.Tensor]:
    """The shipped pretrained model's weights, for an encoder of settings `enc_cfg` (which
    must equal the pretrained model's: same text model, same architecture)."""
    from tablegraph.model.folder import load_model

    saved = load_model()
    # how scores are weighed against an index may differ; the weights' shapes and meaning not
    if saved.encoder_config.trained_part() != enc_cfg.trained_part():
        raise TableGraphError(f"--init pretrained needs the pretrained model's settings (text "
                              f"model {saved.text_model}, {saved.encoder_config.out_dim}-d, "
                              f"conv {saved.encoder_config.conv}): use --init scratch")
    return saved.state


def take_step(model: torch.nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor,
              lr: float, grad_clip: float, where: str) -> float:
    """One optimiser step on `loss` at learning rate `lr`, gradients clipped to `grad_clip`;
    a NaN or infinite loss is an error naming `where`. Returns the loss value."""
    if not torch.isfinite(loss):
        raise TrainingError(f"the loss became {loss.item()} at {where}: lower --lr or check "
                            f"the inputs")
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    opt.step()
    return loss.item()


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on matrices only: not on biases, norms, embeddings' scales or scalars."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 and "norm" not in name else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


@dataclass
class TrainResult:
    model: ContrastiveGNNEncoder
    loss_fn: InfoNCELoss
    history: list[dict[str, float]]
    best: dict[str, float]
    final: dict[str, float]
    best_epoch: int
    seconds: float
    n_train: int
    n_val: int
    val_scores: np.ndarray | None = None  # [Q_val, M] scores of the kept checkpoint
    extra: dict[str, Any] = field(default_factory=dict)


def gold_indices(questions: list[Question], names: list[str]) -> list[set[int]]:
    """Each question's gold tables as indices into `names`."""
    idx = {n: i for i, n in enumerate(names)}
    return [{idx[t] for t in q.tables if t in idx} for q in questions]


def _positives(questions: list[Question], names: list[str], cols: list[int],
               device: str) -> torch.Tensor:
    """[B, len(cols)] bool: question i has table cols[j] among its gold tables."""
    gold = gold_indices(questions, names)
    mask = torch.zeros((len(questions), len(cols)), dtype=torch.bool)
    col_pos = {c: j for j, c in enumerate(cols)}
    for i, g in enumerate(gold):
        for c in g:
            if c in col_pos:
                mask[i, col_pos[c]] = True
    return mask.to(device)


def train(graphs: list[Data], train_q: list[Question], val_q: list[Question],
          train_in: QuestionInputs, val_in: QuestionInputs, enc_cfg: EncoderConfig,
          cfg: TrainConfig, device: str = "cpu", progress: bool = True,
          aux_q: list[Question] | None = None,
          aux_in: QuestionInputs | None = None, checkpoint: Path | None = None,
          resume: bool = False,
          on_epoch: Callable[[int], None] | None = None,
          initial_state: dict[str, torch.Tensor] | None = None) -> TrainResult:
    """Train an encoder over `graphs` (one per table, with `g.table` and `g.nodes`).

    train_in / val_in: the frozen inputs of train_q / val_q (see `scoring.prepare_questions`);
    aux_q / aux_in: schema pairs (see `schema_pairs`), `cfg.schema_pairs_per_step` of them
    added to every step. With `checkpoint`, the state is saved there after every epoch;
    `resume` continues from it (same settings, tables and questions, else an error).
    `on_epoch(epoch)` is called after each epoch's checkpoint. `initial_state`: weights to
    start from (else `cfg.init` decides).
    """
    if not train_q:
        raise TrainingError("no training questions")
    if cfg.negatives not in ("in-batch", "all-tables"):
        raise TableGraphError(f"unknown negatives {cfg.negatives!r}: use in-batch or all-tables")
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    names = [g.table for g in graphs]
    model = ContrastiveGNNEncoder(enc_cfg).to(device)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    elif cfg.init == "pretrained":
        model.load_state_dict(pretrained_state(enc_cfg))
    elif cfg.init != "scratch":
        raise TableGraphError(f"unknown --init {cfg.init!r}: use scratch or pretrained")
    loss_fn = InfoNCELoss(cfg.temperature, cfg.learnable_temperature, cfg.symmetric).to(device)
    params = param_groups(model, cfg.weight_decay)
    if cfg.learnable_temperature:
        params.append({"params": list(loss_fn.parameters()), "weight_decay": 0.0})
    opt = torch.optim.AdamW(params, lr=cfg.lr)

    batch = batch_graphs(graphs, device)  # every table, encoded once per step
    qt = train_in
    gold_tr = gold_indices(train_q, names)
    all_cols = list(range(len(names)))
    val_pos = _positives(val_q, names, all_cols, device) if val_q else None
    evaluator = RetrievalEvaluator(val_q, names) if val_q else None
    scorer = Scorer(model, text=None, device=device)  # validation inputs are prepared already
    nodes_of = [g.nodes for g in graphs]
    node_graph = batch.batch.cpu().numpy()
    documents = graph_documents(graphs)  # [M, d] or None
    val_scores = None

    n_real = len(train_q)  # the user's questions; schema pairs are appended after them
    n_aux = cfg.schema_pairs_per_step if aux_q else 0
    if n_aux:
        train_q = list(train_q) + list(aux_q)
        qt = qt.cat(aux_in)  # Ntr + A questions
        gold_tr = gold_tr + gold_indices(aux_q, names)
    steps_per_epoch = math.ceil(n_real / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict[str, float]] = []
    best: dict[str, float] = {}
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch = 0
    step = 0
    start = 1
    settings = {"train": cfg.to_dict(), "encoder": enc_cfg.to_dict(), "tables": names,
                "questions": [[q.text, list(q.tables)] for q in train_q],
                "validation": [[q.text, list(q.tables)] for q in val_q]}
    if resume and checkpoint is not None and checkpoint.exists():
        c = load_checkpoint(checkpoint, settings)
        model.load_state_dict(c.model)
        loss_fn.load_state_dict(c.loss)
        opt.load_state_dict(c.optimizer)
        torch.set_rng_state(c.rng)
        gen.set_state(c.batches)
        history, best, best_epoch, step = c.history, c.best, c.best_epoch, c.step
        best_state, val_scores, start = c.best_state, c.val_scores, c.epoch + 1
    t0 = time.perf_counter()
    bar = tqdm(range(start, cfg.epochs + 1), desc="train", unit="epoch",
               disable=not show_progress(progress))
    for epoch in bar:
        model.train()
        perm = torch.randperm(n_real, generator=gen).tolist()
        losses = []
        steps = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}", unit="step", leave=False,
                     disable=not show_progress(progress))
        for b in steps:
            idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            if n_aux:
                idx = idx + (n_real + torch.randint(len(aux_q), (n_aux,), generator=gen)).tolist()
            lr = cosine_lr(step, total, cfg.lr, cfg.min_lr)
            t, nodes = model.encode(batch.x, batch.edge_index, batch.batch,
                                    batch.node_type)  # [M, D], [N, D]
            if cfg.negatives == "in-batch":
                cols = sorted({c for i in idx for c in gold_tr[i]})
            else:
                cols = all_cols
            pos = _positives([train_q[i] for i in idx], names, cols, device)  # [B, C]
            scores = model.score(qt.select(idx), t, nodes, batch.batch)  # [B, M]
            loss = loss_fn.from_similarity(scores[:, cols], pos)
            losses.append(take_step(model, opt, loss, lr, cfg.grad_clip,
                                    f"epoch {epoch}, step {step + 1}"))
            step += 1
            steps.set_postfix(loss=f"{losses[-1]:.3f}", lr=f"{lr:.1e}")
        row: dict[str, float] = {"epoch": epoch, "step": step,
                                 "train_loss": float(np.mean(losses)), "lr": lr,
                                 "temperature": loss_fn.temperature}
        if evaluator is not None:
            model.eval()
            with torch.no_grad():
                t, nodes = model.encode(batch.x, batch.edge_index, batch.batch, batch.node_type)
                index = TableIndex(names, t.cpu().numpy(), nodes_of,
                                   None if nodes is None else nodes.cpu().numpy(),
                                   None if nodes is None else node_graph,
                                   documents=documents)
                scores = scorer.score(val_in, index)  # [Q, M]
                row["val_loss"] = float(loss_fn.from_similarity(scores, val_pos).item())
                epoch_scores = scores.cpu().numpy()
                m = evaluator.metrics(epoch_scores)
            row.update({f"val_{k}": m[k] for k in VAL_METRICS})
            key = (m["recall@1"], m["mrr"])
            if best_state is None or key > (best["recall@1"], best["mrr"]):
                best = {**{k: m[k] for k in VAL_METRICS}, "loss": row["val_loss"],
                        "epoch": epoch}
                best_state = copy.deepcopy(model.state_dict())
                best_epoch = epoch
                val_scores = epoch_scores
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if checkpoint is not None:
            save_checkpoint(checkpoint, Checkpoint(
                epoch, step, model.state_dict(), opt.state_dict(), loss_fn.state_dict(),
                torch.get_rng_state(), gen.get_state(), history, best, best_epoch, best_state,
                val_scores, settings))
        if on_epoch is not None:
            on_epoch(epoch)
        if progress:
            bar.set_postfix(loss=f"{row['train_loss']:.3f}", lr=f"{lr:.1e}",
                            r1=f"{row.get('val_recall@1', float('nan')):.3f}")
    final = {}
    if val_q:
        last = history[-1]
        final = {**{k: last[f"val_{k}"] for k in VAL_METRICS}, "loss": last["val_loss"],
                 "epoch": last["epoch"]}
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = cfg.epochs
    model.eval()
    return TrainResult(model, loss_fn, history, best, final, best_epoch,
                       time.perf_counter() - t0, n_real, len(val_q), val_scores)


def fit(graphs: list[Data], train_q: list[Question], val_q: list[Question], text: TextEncoder,
        cfg: TrainConfig, enc_overrides: dict[str, Any] | None = None, device: str = "cpu",
        progress: bool = True, checkpoint: Path | None = None, resume: bool = False,
        on_epoch: Callable[[int], None] | None = None,
        initial_state: dict[str, torch.Tensor] | None = None) -> TrainResult:
    """Prepare the questions and the schema pairs with the one scorer's `prepare_questions`
    (frozen token embeddings, schema-linking features against the tables), then `train`
    (from `initial_state` when given, else as `cfg.init` says)."""
    nodes = [g.nodes for g in graphs]
    aux = schema_pairs(nodes, train_q)
    # Fine-tuning keeps the pretrained model's settings (its dense prior too), but scores with
    # the encoder's cosines whole: `encoder_weight` below 1 weighs an encoder trained on other
    # databases against what holds for any, and this one learns the database's own questions
    # (docs/experiments.md, thirty-first session).
    fine_tuning = initial_state is not None or cfg.init == "pretrained"
    base = pretrained_config() if cfg.init == "pretrained" and initial_state is None \
        else EncoderConfig()
    enc_cfg = EncoderConfig.from_dict({**base.to_dict(), **(enc_overrides or {}),
                                       "in_dim": int(graphs[0].x.shape[1]), "out_dim": text.dim,
                                       **({"encoder_weight": 1.0} if fine_tuning else {})})
    linker = SchemaLinker.from_nodes(nodes)

    def inputs(qs: list[Question], link: SchemaLinker | None) -> QuestionInputs:
        return prepare_questions(enc_cfg, text, [q.text for q in qs], link, device)

    aux_in = inputs(aux, None)
    if enc_cfg.schema_linking:
        # Schema pairs are made of column names and values: they would link to their own table
        # trivially and teach the weights nothing about how people ask, so theirs are zero.
        aux_in.link = torch.zeros((len(aux), len(graphs), NUM_FEATURES), device=device)
    return train(graphs, train_q, val_q, inputs(train_q, linker), inputs(val_q, linker), enc_cfg,
                 cfg, device, progress, aux, aux_in, checkpoint, resume, on_epoch, initial_state)

"""Contrastive training of the graph encoder against frozen question embeddings.

The seed settings (DESIGN.md): 80/20 split stratified by table and seeded; batch 32 shuffled
every epoch; 50 epochs; AdamW lr 5e-4, weight decay 0.01 on weight matrices only; cosine
schedule per step down to 1e-6; gradient clipping at 1.0; InfoNCE at temperature 0.07 with
same-table entries masked out of the negatives. Question and node embeddings are computed once
(and cached on disk by the text encoder). Every epoch ranks all tables for every validation
question; the best checkpoint by recall@1, then MRR, is kept.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data
from tqdm import tqdm

from tablegraph.config import TypedConfig
from tablegraph.encoder import ContrastiveGNNEncoder, EncoderConfig, QuestionInputs
from tablegraph.graph import GraphConfig
from tablegraph.index import batch_graphs, explain_nodes, prepare_questions
from tablegraph.linking import NUM_FEATURES, SchemaLinker
from tablegraph.loss import InfoNCELoss
from tablegraph.metrics import gold_indices, retrieval_metrics
from tablegraph.profile import TableProfile
from tablegraph.questions import Question
from tablegraph.text import TextEncoder
from tablegraph.utils import TableGraphError


@dataclass
class TrainConfig(TypedConfig):
    """Training settings; the defaults are the seed settings of DESIGN.md."""

    epochs: int = 50
    batch_size: int = 32
    lr: float = 5e-4
    min_lr: float = 1e-6
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    temperature: float = 0.07
    learnable_temperature: bool = False
    negatives: str = "in-batch"  # in-batch | all-tables
    symmetric: bool = True
    val_fraction: float = 0.2
    seed: int = 0
    # Extra pairs per step drawn from the tables themselves (a column's name in words, or a
    # column name with one of its frequent values, paired with its table); 0 turns them off.
    schema_pairs_per_step: int = 16


class TrainingError(TableGraphError):
    """Training cannot go on (a NaN loss, no training questions)."""


def cosine_lr(step: int, total: int, lr: float, min_lr: float) -> float:
    """Learning rate at `step` of `total`: cosine from `lr` down to `min_lr` (a pure function)."""
    if total <= 0:
        return lr
    progress = min(max(step / total, 0.0), 1.0)
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


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
    extra: dict[str, Any] = field(default_factory=dict)


def _positives(questions: list[Question], names: list[str], cols: list[int],
               device: str) -> torch.Tensor:
    """[B, len(cols)] bool: question i has table cols[j] among its gold tables."""
    gold = gold_indices([q.tables for q in questions], names)
    mask = torch.zeros((len(questions), len(cols)), dtype=torch.bool)
    col_pos = {c: j for j, c in enumerate(cols)}
    for i, g in enumerate(gold):
        for c in g:
            if c in col_pos:
                mask[i, col_pos[c]] = True
    return mask.to(device)


def schema_pairs(profiles: list[TableProfile], questions: list[Question],
                 values_per_column: int = 3) -> list[Question]:
    """Pseudo-questions made from the tables alone: each column's name in words, and each
    column name with one of its frequent values, labelled with the column's table.

    Only tables that are gold for some of `questions` get pairs: pairs for a table without
    questions pull it towards its own column names and away from how people ask, which
    measured 0.14 hit@1 on held-out tables against 0.41 without them (bench d).
    """
    from tablegraph.text import name_to_words

    seen = {t for q in questions for t in q.tables}
    out = []
    for p in (p for p in profiles if p.name in seen):
        for c in p.columns:
            words = name_to_words(c.name)
            out.append(Question(words, (p.name,)))
            out += [Question(f"{words} {v[:100]}", (p.name,)) for v in c.top_values[:values_per_column]]
    return out


def train(graphs: list[Data], train_q: list[Question], val_q: list[Question],
          train_in: QuestionInputs, val_in: QuestionInputs, enc_cfg: EncoderConfig,
          cfg: TrainConfig, device: str = "cpu", progress: bool = True,
          aux_q: list[Question] | None = None,
          aux_in: QuestionInputs | None = None) -> TrainResult:
    """Train an encoder over `graphs` (one per table, names in `g.table`).

    train_in / val_in: the frozen inputs of train_q / val_q (see `index.prepare_questions`);
    aux_q / aux_in: schema pairs (see `schema_pairs`), `cfg.schema_pairs_per_step` of them
    added to every step.
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
    loss_fn = InfoNCELoss(cfg.temperature, cfg.learnable_temperature, cfg.symmetric).to(device)
    params = param_groups(model, cfg.weight_decay)
    if cfg.learnable_temperature:
        params.append({"params": list(loss_fn.parameters()), "weight_decay": 0.0})
    opt = torch.optim.AdamW(params, lr=cfg.lr)

    batch = batch_graphs(graphs, device)  # every table, encoded once per step
    qt = train_in
    gold_tr = gold_indices([q.tables for q in train_q], names)
    all_cols = list(range(len(names)))
    val_pos = _positives(val_q, names, all_cols, device) if val_q else None
    val_gold = gold_indices([q.tables for q in val_q], names)

    n_real = len(train_q)  # the user's questions; schema pairs are appended after them
    n_aux = cfg.schema_pairs_per_step if aux_q else 0
    if n_aux:
        train_q = list(train_q) + list(aux_q)
        qt = qt.cat(aux_in)  # Ntr + A questions
        gold_tr = gold_tr + gold_indices([q.tables for q in aux_q], names)
    steps_per_epoch = math.ceil(n_real / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict[str, float]] = []
    best: dict[str, float] = {}
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch = 0
    step = 0
    t0 = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc="train", unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        perm = torch.randperm(n_real, generator=gen).tolist()
        losses = []
        steps = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}", unit="step", leave=False,
                     disable=not progress)
        for b in steps:
            idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            if n_aux:
                idx = idx + (n_real + torch.randint(len(aux_q), (n_aux,), generator=gen)).tolist()
            lr = cosine_lr(step, total, cfg.lr, cfg.min_lr)
            for group in opt.param_groups:
                group["lr"] = lr
            t, nodes = model.encode(batch.x, batch.edge_index, batch.batch,
                                    batch.node_type)  # [M, D], [N, D]
            if cfg.negatives == "in-batch":
                cols = sorted({c for i in idx for c in gold_tr[i]})
            else:
                cols = all_cols
            pos = _positives([train_q[i] for i in idx], names, cols, device)  # [B, C]
            scores = model.score(qt.select(idx), t, nodes, batch.batch)  # [B, M]
            loss = loss_fn.from_similarity(scores[:, cols], pos)
            if not torch.isfinite(loss):
                raise TrainingError(f"the loss became {loss.item()} at epoch {epoch}, step "
                                    f"{step + 1}: lower --lr or check the inputs")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            losses.append(loss.item())
            step += 1
            steps.set_postfix(loss=f"{losses[-1]:.3f}", lr=f"{lr:.1e}")
        row: dict[str, float] = {"epoch": epoch, "step": step,
                                 "train_loss": float(np.mean(losses)), "lr": lr,
                                 "temperature": loss_fn.temperature}
        if val_q:
            model.eval()
            with torch.no_grad():
                t, nodes = model.encode(batch.x, batch.edge_index, batch.batch, batch.node_type)
                scores = model.score(val_in, t, nodes, batch.batch)  # [Q, M]
                row["val_loss"] = float(loss_fn.from_similarity(scores, val_pos).item())
                m = retrieval_metrics(scores.cpu().numpy(), val_gold)
            row.update({"val_recall@1": m["recall@1"], "val_recall@5": m["recall@5"],
                        "val_mrr": m["mrr"]})
            key = (m["recall@1"], m["mrr"])
            if best_state is None or key > (best["recall@1"], best["mrr"]):
                best = {"recall@1": m["recall@1"], "recall@5": m["recall@5"], "mrr": m["mrr"],
                        "loss": row["val_loss"], "epoch": epoch}
                best_state = copy.deepcopy(model.state_dict())
                best_epoch = epoch
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if progress:
            bar.set_postfix(loss=f"{row['train_loss']:.3f}", lr=f"{lr:.1e}",
                            r1=f"{row.get('val_recall@1', float('nan')):.3f}")
    final = {}
    if val_q:
        last = history[-1]
        final = {"recall@1": last["val_recall@1"], "recall@5": last["val_recall@5"],
                 "mrr": last["val_mrr"], "loss": last["val_loss"], "epoch": last["epoch"]}
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = cfg.epochs
    model.eval()
    return TrainResult(model, loss_fn, history, best, final, best_epoch,
                       time.perf_counter() - t0, n_real, len(val_q))


def history_csv(history: list[dict[str, float]]) -> str:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(history)
    return buf.getvalue()


def curves_png(history: list[dict[str, float]]) -> bytes:
    """Loss, validation recall / MRR and learning rate per epoch, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [r["epoch"] for r in history]
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    ax[0].plot(ep, [r["train_loss"] for r in history], label="train")
    if "val_loss" in history[0]:
        ax[0].plot(ep, [r["val_loss"] for r in history], label="validation")
        for k, lab in (("val_recall@1", "recall@1"), ("val_recall@5", "recall@5"),
                       ("val_mrr", "MRR")):
            ax[1].plot(ep, [r[k] for r in history], label=lab)
    ax[0].set_title("InfoNCE loss")
    ax[1].set_title("validation retrieval")
    ax[1].set_ylim(0, 1.02)
    ax[2].plot(ep, [r["lr"] for r in history])
    ax[2].set_title("learning rate (end of epoch)")
    ax[2].set_yscale("log")
    for a in ax:
        a.set_xlabel("epoch")
        a.grid(alpha=0.3)
    ax[0].legend()
    ax[1].legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def fit(graphs: list[Data], profiles: list[TableProfile], train_q: list[Question],
        val_q: list[Question], text: TextEncoder, cfg: TrainConfig,
        enc_overrides: dict[str, Any] | None = None, device: str = "cpu",
        progress: bool = True, graph_cfg: GraphConfig | None = None) -> TrainResult:
    """Encode the questions and the schema pairs with the frozen text encoder, compute their
    schema-linking features against the tables, then `train`."""
    aux = schema_pairs(profiles, train_q)
    enc_cfg = EncoderConfig.from_dict({**EncoderConfig().to_dict(), **(enc_overrides or {}),
                                       "in_dim": int(graphs[0].x.shape[1]), "out_dim": text.dim})
    graph_cfg = graph_cfg or GraphConfig()
    linker = SchemaLinker.from_nodes([g.table for g in graphs],
                                     {p.name: explain_nodes(p, graph_cfg) for p in profiles})

    def inputs(qs: list[Question], link: SchemaLinker | None) -> QuestionInputs:
        return prepare_questions(enc_cfg, text, [q.text for q in qs], link, device)

    aux_in = inputs(aux, None)
    if enc_cfg.schema_linking:
        # Schema pairs are made of column names and values: they would link to their own table
        # trivially and teach the weights nothing about how people ask, so theirs are zero.
        aux_in.link = torch.zeros((len(aux), len(graphs), NUM_FEATURES), device=device)
    return train(graphs, train_q, val_q, inputs(train_q, linker), inputs(val_q, linker), enc_cfg,
                 cfg, device, progress, aux, aux_in)


def model_config(text: TextEncoder, graph_cfg: GraphConfig, cfg: TrainConfig,
                 max_rows: int | None = None) -> dict[str, Any]:
    """The model-folder settings besides the encoder's own (see `index.save_model`)."""
    from tablegraph.sources import DEFAULT_MAX_ROWS, DEFAULT_SAMPLE_SEED

    return {"text_model": {"name": text.name, "dim": text.dim}, "graph": graph_cfg.to_dict(),
            "train": cfg.to_dict(),
            "sampling": {"max_rows": max_rows or DEFAULT_MAX_ROWS, "seed": DEFAULT_SAMPLE_SEED}}


def train_model(out_dir: str, tables: str | None = None, questions: str | None = None,
                cfg: TrainConfig | None = None, enc_overrides: dict[str, Any] | None = None,
                graph_cfg: GraphConfig | None = None, text_model: str | None = None,
                max_rows: int | None = None, device: str | None = None,
                progress: bool = True) -> TrainResult:
    """Read tables and questions (the embedded dataset by default), train, save `out_dir`."""
    from tablegraph.dataset import embedded_dir
    from tablegraph.graph import load_table_graphs, shared_keys
    from tablegraph.index import build_index, save_model
    from tablegraph.questions import check_tables, read_questions, stratified_split
    from tablegraph.text import DEFAULT_TEXT_MODEL, load_text_encoder
    from tablegraph.utils import pick_device

    cfg = cfg or TrainConfig()
    graph_cfg = graph_cfg or GraphConfig()
    text_model = text_model or DEFAULT_TEXT_MODEL
    device = pick_device(device)
    if tables is None:
        root = embedded_dir()
        tables = str(root / "hosp")
        questions = questions or str(root / "questions.csv")
    if questions is None:
        raise TableGraphError("--questions is required with --tables")
    qs = read_questions(questions)
    encoder_text = load_text_encoder(text_model)
    profiles, graphs = load_table_graphs(tables, encoder_text, graph_cfg, max_rows,
                                         progress=progress)
    names = [g.table for g in graphs]
    check_tables(qs, names, questions)
    train_q, val_q = stratified_split(qs, cfg.val_fraction, cfg.seed)
    result = fit(graphs, profiles, train_q, val_q, encoder_text, cfg, enc_overrides, device,
                 progress, graph_cfg)
    keys = {t: [[c, o] for c, o in v] for t, v in shared_keys(profiles).items()}
    index = build_index(result.model, profiles, graphs, graph_cfg, device, keys)
    metrics = {"best": result.best, "final": result.final, "best_epoch": result.best_epoch,
               "n_train": result.n_train, "n_val": result.n_val,
               "train_seconds": round(result.seconds, 2), "device": device,
               "tables": tables, "questions": questions}
    save_model(out_dir, result.model, model_config(encoder_text, graph_cfg, cfg, max_rows), index,
               extra_files={"history.csv": history_csv(result.history).encode(),
                            "curves.png": curves_png(result.history)},
               extra_json={"metrics.json": metrics})
    result.extra["metrics"] = metrics
    return result

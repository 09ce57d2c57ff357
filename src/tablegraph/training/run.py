"""The training job: tables and questions in, a saved model folder out."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tablegraph.graphs.nodes import GraphConfig
from tablegraph.text.encoders import TextEncoder
from tablegraph.training.report import curves_png, history_csv
from tablegraph.training.trainer import TrainConfig, TrainResult, fit
from tablegraph.utils import TableGraphError

MIN_VALIDATION_QUESTIONS = 20  # below this, no validation split: train on every question


def model_config(text: TextEncoder, graph_cfg: GraphConfig, cfg: TrainConfig,
                 max_rows: int | None = None) -> dict[str, Any]:
    """The model-folder settings besides the encoder's own (see `model.folder.save_model`)."""
    from tablegraph.tables.sources import DEFAULT_MAX_ROWS, DEFAULT_SAMPLE_SEED

    return {"text_model": {"name": text.name, "dim": text.dim}, "graph": graph_cfg.to_dict(),
            "train": cfg.to_dict(),
            "sampling": {"max_rows": max_rows or DEFAULT_MAX_ROWS, "seed": DEFAULT_SAMPLE_SEED}}


def train_model(out_dir: str, tables: str | None = None, questions: str | None = None,
                cfg: TrainConfig | None = None, enc_overrides: dict[str, Any] | None = None,
                graph_cfg: GraphConfig | None = None, text_model: str | None = None,
                max_rows: int | None = None, device: str | None = None,
                progress: bool = True, strict: bool = False,
                skipped: list | None = None, resume: bool = False,
                on_epoch: Callable[[int], None] | None = None) -> TrainResult:
    """Read tables and questions (the embedded dataset by default), train, save `out_dir`.

    With fewer than 20 questions there is no validation split: every question trains, with a
    softmax over all tables (a batch may hold one table only), and the result says so.
    Unreadable tables are left out and listed in `skipped` (`strict`: an error). The state is
    saved after every epoch in `checkpoint_path(out_dir)`; `resume` continues from there; the
    checkpoint is removed once the model folder is written. Started from the pretrained model
    (`cfg.init`), the folder keeps its second stage and set settings."""
    from tablegraph.datasets.embedded import embedded_dir
    from tablegraph.graphs.build import load_table_graphs
    from tablegraph.model.folder import STAGE_FILE, check_out, save_model
    from tablegraph.model.index import build_index
    from tablegraph.tables.questions import read_questions, resolve_tables, stratified_split
    from tablegraph.tables.sources import display_location
    from tablegraph.text.encoders import DEFAULT_TEXT_MODEL, load_text_encoder
    from tablegraph.utils import pick_device

    check_out(out_dir)
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
    skipped = [] if skipped is None else skipped
    profiles, graphs = load_table_graphs(tables, encoder_text, graph_cfg, max_rows,
                                         progress=progress, strict=strict, skipped=skipped)
    qs = resolve_tables(qs, [g.table for g in graphs], questions, skipped)
    if len(graphs) < 2:
        raise TableGraphError(f"{display_location(tables)}: only {len(graphs)} readable table(s); "
                              f"training ranks tables against each other and needs two or more")
    note = ""
    if len(qs) < MIN_VALIDATION_QUESTIONS:
        train_q, val_q = list(qs), []
        cfg = TrainConfig.from_dict({**cfg.to_dict(), "negatives": "all-tables"})
        note = (f"{len(qs)} questions are too few to validate (fewer than "
                f"{MIN_VALIDATION_QUESTIONS}): trained on all of them, no validation metrics")
    else:
        train_q, val_q = stratified_split(qs, cfg.val_fraction, cfg.seed)
    ckpt = checkpoint_path(out_dir)
    if resume and not ckpt.exists():
        raise TableGraphError(f"nothing to resume: no checkpoint of {out_dir} ({ckpt})")
    result = fit(graphs, train_q, val_q, encoder_text, cfg, enc_overrides, device, progress,
                 ckpt, resume, on_epoch)
    index = build_index(result.model, graphs, device, profiles)
    metrics = {"best": result.best, "final": result.final, "best_epoch": result.best_epoch,
               "n_train": result.n_train, "n_val": result.n_val,
               "train_seconds": round(result.seconds, 2), "device": device,
               "tables": display_location(tables), "questions": questions, "note": note,
               "skipped": [{"table": x.table, "why": x.why} for x in skipped]}
    config = model_config(encoder_text, graph_cfg, cfg, max_rows)
    stage = None
    if cfg.init == "pretrained":
        # The second stage reads first-stage scores, linking features and the join graph, not
        # which tables they are, so the pretrained one serves the fine-tuned encoder too (a few
        # questions of a held-out database: all@5 with it, 0.905 against 0.843 without; see
        # `benchmarks.curve`). The abstention model stays behind: it is calibrated on the
        # pretrained model's score shapes, which fine-tuning changes.
        from tablegraph.model.folder import load_model

        shipped = load_model()
        stage = shipped.join_stage()
        if stage is not None:
            config["set"] = shipped.config.get("set")
            config["join_stage_from"] = {"model": "pretrained default",
                                         "sha256": shipped.config["checksums"][STAGE_FILE]}
    save_model(out_dir, result.model, config, index,
               extra_files={"history.csv": history_csv(result.history).encode(),
                            "curves.png": curves_png(result.history)},
               extra_json={"metrics.json": metrics}, join_stage=stage)
    shutil.rmtree(ckpt, ignore_errors=True)
    result.extra["metrics"] = metrics
    return result


def checkpoint_path(out_dir: str) -> Path:
    """Where training `out_dir` keeps its checkpoint: a hidden folder beside it."""
    out = Path(out_dir)
    return out.parent / f".{out.name}.checkpoint"

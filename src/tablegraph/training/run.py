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
# Fine-tuning the pretrained model: below this many questions a validation split (under 20
# questions) picks the epoch by noise, so every question trains, with a short, gentle schedule
# (unless --epochs / --lr are given): lr 1e-4, 20 epochs below 20 questions and 40 from 20 on.
# Chosen on fold 0's held-out databases with 5 to 50 questions each (docs/experiments.md): the
# seed settings (50 epochs, 5e-4, a 20% split) left Spider below zero-shot at 5, 10 and 20
# questions; 40 epochs were better than 20 from 20 questions on, worse at 5.
FINE_TUNE_MIN_VALIDATION = 100
FINE_TUNE_LR = 1e-4
FINE_TUNE_EPOCHS = (20, 40)  # below MIN_VALIDATION_QUESTIONS questions, from there on


def fine_tune_schedule(n_questions: int) -> dict[str, Any]:
    """The epochs and learning rate for fine-tuning the pretrained model on `n_questions`
    (fewer than `FINE_TUNE_MIN_VALIDATION`) when the caller gave neither."""
    return {"epochs": FINE_TUNE_EPOCHS[n_questions >= MIN_VALIDATION_QUESTIONS],
            "lr": FINE_TUNE_LR}


def no_validation_config(cfg: TrainConfig, n_questions: int, schedule: bool = True
                         ) -> tuple[TrainConfig, str] | None:
    """How to train on `n_questions` without a validation split, or None when they are enough
    to validate: every question trains, with a softmax over all tables (a batch may hold one
    table only); fine-tuning the pretrained model also takes `fine_tune_schedule` when
    `schedule`. Returns the settings and the note that says so."""
    pretrained = cfg.init == "pretrained"
    limit = FINE_TUNE_MIN_VALIDATION if pretrained else MIN_VALIDATION_QUESTIONS
    if n_questions >= limit:
        return None
    changes: dict[str, Any] = {"negatives": "all-tables"}
    how = ""
    if pretrained:
        if schedule:
            changes.update(fine_tune_schedule(n_questions))
        how = (f" fine-tuned from the pretrained model for {changes.get('epochs', cfg.epochs)}"
               f" epochs at lr {changes.get('lr', cfg.lr):g};")
    return (TrainConfig.from_dict({**cfg.to_dict(), **changes}),
            f"{n_questions} questions are too few to validate (fewer than {limit}):{how} "
            f"trained on all of them, no validation metrics")


def model_config(text: TextEncoder, graph_cfg: GraphConfig, cfg: TrainConfig,
                 max_rows: int | None = None) -> dict[str, Any]:
    """The model-folder settings besides the encoder's own (see `model.folder.save_model`)."""
    from tablegraph.tables.sources import DEFAULT_MAX_ROWS, DEFAULT_SAMPLE_SEED

    return {"text_model": {"name": text.name, "dim": text.dim, "precision": text.precision},
            "graph": graph_cfg.to_dict(),
            "train": cfg.to_dict(),
            "sampling": {"max_rows": max_rows or DEFAULT_MAX_ROWS, "seed": DEFAULT_SAMPLE_SEED}}


def train_model(out_dir: str, tables: str | None = None, questions: str | None = None,
                cfg: TrainConfig | None = None, enc_overrides: dict[str, Any] | None = None,
                graph_cfg: GraphConfig | None = None, text_model: str | None = None,
                max_rows: int | None = None, device: str | None = None,
                progress: bool = True, strict: bool = False,
                skipped: list | None = None, resume: bool = False,
                on_epoch: Callable[[int], None] | None = None,
                auto_schedule: bool = False, database: str | None = None,
                evidence: bool = False, question_key: str = "question",
                notes: list[str] | None = None) -> TrainResult:
    """Read tables and questions (the embedded dataset by default), train, save `out_dir`.

    With fewer than 20 questions (100 when fine-tuning the pretrained model) there is no
    validation split: every question trains, with a softmax over all tables (a batch may hold
    one table only), and the result says so (`no_validation_config`); `auto_schedule`: the
    caller left the epochs and learning rate to the defaults, so fine-tuning on so few
    questions takes `fine_tune_schedule`. With a validation split, the validation run gives
    the metrics (best and final epoch); when `cfg.refits()` (fine-tuning, by default), a
    second run on every question for the whole schedule gives the model saved
    (`metrics["refit"]`), else the validation run's best epoch is saved.
    Unreadable tables are left out and listed in `skipped` (`strict`: an error). The state is
    saved after every epoch in `checkpoint_path(out_dir)` (the second run's beside it);
    `resume` continues from there; the checkpoints are removed once the model folder is
    written. Started from the pretrained model
    (`cfg.init`), the folder keeps its second stage, set settings and abstention. `database`:
    the db_id whose questions to take from a JSON questions file of several databases;
    `evidence`: each question followed by its evidence; `question_key`: where the file holds
    the question's text (`read_questions`); `notes`: where to say that a gold table the tables
    lack was read as the one table whose name it begins (`resolve_tables`; None, or `strict`:
    an error)."""
    from tablegraph.datasets.embedded import embedded_dir
    from tablegraph.graphs.build import load_table_graphs
    from tablegraph.model.folder import STAGE_FILE, check_out, save_model
    from tablegraph.model.index import build_index
    from tablegraph.tables.questions import read_questions, resolve_tables, stratified_split
    from tablegraph.tables.sources import (database_name, database_of, databases_in,
                                           display_location)
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
    found = databases_in(tables) if database is not None else {}
    if found:  # a benchmark's folder of databases
        tables = database_of(found, database, tables)
    qs = read_questions(questions, database=database,
                        guess=database_name(tables) if tables else None, evidence=evidence,
                        question_key=question_key)
    encoder_text = load_text_encoder(text_model)
    skipped = [] if skipped is None else skipped
    profiles, graphs = load_table_graphs(tables, encoder_text, graph_cfg, max_rows,
                                         progress=progress, strict=strict, skipped=skipped)
    qs = resolve_tables(qs, [g.table for g in graphs], questions, skipped,
                        None if strict else notes)
    if len(graphs) < 2:
        raise TableGraphError(f"{display_location(tables)}: only {len(graphs)} readable table(s); "
                              f"training ranks tables against each other and needs two or more")
    note = ""
    few = no_validation_config(cfg, len(qs), auto_schedule)
    if few is not None:
        train_q, val_q = list(qs), []
        cfg, note = few
    else:
        train_q, val_q = stratified_split(qs, cfg.val_fraction, cfg.seed)
    ckpt, refit_ckpt = checkpoint_path(out_dir), checkpoint_path(out_dir, "refit")
    if resume and not ckpt.exists():
        raise TableGraphError(f"nothing to resume: no checkpoint of {out_dir} ({ckpt})")
    result = fit(graphs, train_q, val_q, encoder_text, cfg, enc_overrides, device, progress,
                 ckpt, resume, on_epoch)
    refit = None
    if val_q and cfg.refits():
        # The validation run measured; the model kept trains on every question for the
        # whole schedule (`TrainConfig.refit`). Resuming replays the finished validation run
        # from its checkpoint (no epochs left) and continues this one from its own.
        full = fit(graphs, list(qs), [], encoder_text, cfg, enc_overrides, device, progress,
                   refit_ckpt, resume, on_epoch)
        result.model, result.seconds = full.model, result.seconds + full.seconds
        refit = {"n_train": full.n_train, "epochs": cfg.epochs,
                 "seconds": round(full.seconds, 2)}
    index = build_index(result.model, graphs, device, profiles)
    metrics = {"best": result.best, "final": result.final, "best_epoch": result.best_epoch,
               "n_train": result.n_train, "n_val": result.n_val, "refit": refit,
               "train_seconds": round(result.seconds, 2), "device": device,
               "tables": display_location(tables), "questions": questions, "note": note,
               "skipped": [{"table": x.table, "why": x.why} for x in skipped]}
    config = model_config(encoder_text, graph_cfg, cfg, max_rows)
    stage = None
    if cfg.init == "pretrained":
        # The second stage reads first-stage scores, linking features and the join graph, not
        # which tables they are, so the pretrained one serves the fine-tuned encoder too (a few
        # questions of a held-out database: `tablegraph curve` shows all@5 with and without
        # it). So does the abstention model, calibrated on the pretrained model's score shapes:
        # fine-tuned on 5 to 50 questions of a held-out database, its AUROC stays within 0.006
        # of the pretrained model's (`tablegraph curve`, docs/benchmarks.md).
        from tablegraph.model.folder import load_model

        shipped = load_model()
        stage = shipped.join_stage()
        if stage is not None:
            # it reads the scores without the weight of a table named as the schema writes
            # it (`JoinStage.stage_scores`): this encoder's own weight, fine-tuned
            stage.name_weight.fill_(result.model.name_weight())
            config["set"] = shipped.config.get("set")
            config["join_stage_from"] = {"model": "pretrained default",
                                         "sha256": shipped.config["checksums"][STAGE_FILE]}
        if shipped.config.get("abstain") is not None:
            config["abstain"] = shipped.config["abstain"]
    save_model(out_dir, result.model, config, index,
               extra_files={"history.csv": history_csv(result.history).encode(),
                            "curves.png": curves_png(result.history)},
               extra_json={"metrics.json": metrics}, join_stage=stage)
    shutil.rmtree(ckpt, ignore_errors=True)
    shutil.rmtree(refit_ckpt, ignore_errors=True)
    result.extra["metrics"] = metrics
    return result


def checkpoint_path(out_dir: str, run: str = "") -> Path:
    """Where training `out_dir` keeps its checkpoint: a hidden folder beside it (`run`:
    "refit" for the run on every question after the validation run)."""
    out = Path(out_dir)
    return out.parent / f".{out.name}.checkpoint{'-' + run if run else ''}"

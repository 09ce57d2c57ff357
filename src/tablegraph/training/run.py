"""The training job: tables and questions in, a saved model folder out."""

from __future__ import annotations

from typing import Any

from tablegraph.graphs.nodes import GraphConfig
from tablegraph.text.encoders import TextEncoder
from tablegraph.training.report import curves_png, history_csv
from tablegraph.training.trainer import TrainConfig, TrainResult, fit
from tablegraph.utils import TableGraphError


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
                progress: bool = True) -> TrainResult:
    """Read tables and questions (the embedded dataset by default), train, save `out_dir`."""
    from tablegraph.datasets.embedded import embedded_dir
    from tablegraph.graphs.build import load_table_graphs
    from tablegraph.model.folder import save_model
    from tablegraph.model.index import build_index
    from tablegraph.tables.keys import shared_keys
    from tablegraph.tables.questions import check_tables, read_questions, stratified_split
    from tablegraph.text.encoders import DEFAULT_TEXT_MODEL, load_text_encoder
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
    check_tables(qs, [g.table for g in graphs], questions)
    train_q, val_q = stratified_split(qs, cfg.val_fraction, cfg.seed)
    result = fit(graphs, train_q, val_q, encoder_text, cfg, enc_overrides, device, progress)
    keys = {t: [[c, o] for c, o in v] for t, v in shared_keys(profiles).items()}
    index = build_index(result.model, graphs, device, [p.source for p in profiles], keys)
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

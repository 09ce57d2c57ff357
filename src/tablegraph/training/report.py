"""What a training run leaves beside the model: its history as CSV and its curves as PNG."""

from __future__ import annotations

import csv
import io


def history_csv(history: list[dict[str, float]]) -> str:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(history)
    return buf.getvalue()


NO_VALIDATION = "no validation split:\nevery question trained"


def curves_png(history: list[dict[str, float]]) -> bytes:
    """Loss, validation hit@1 / recall / MRR (or, without a validation split, a note that
    says so) and learning rate per epoch, as PNG bytes."""
    import matplotlib

    from tablegraph.training.trainer import VAL_METRICS

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [r["epoch"] for r in history]
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    ax[0].plot(ep, [r["train_loss"] for r in history], label="train")
    if "val_loss" in history[0]:
        ax[0].plot(ep, [r["val_loss"] for r in history], label="validation")
        for k in VAL_METRICS:
            ax[1].plot(ep, [r[f"val_{k}"] for r in history], label="MRR" if k == "mrr" else k)
    else:  # too few questions to validate: say so rather than leave the panel blank
        ax[1].text(0.5, 0.5, NO_VALIDATION, ha="center", va="center",
                   transform=ax[1].transAxes, color="0.35")
    ax[0].set_title("InfoNCE loss")
    ax[1].set_title("validation retrieval")
    ax[1].set_ylim(0, 1.02)
    ax[2].plot(ep, [r["lr"] for r in history])
    ax[2].set_title("learning rate (end of epoch)")
    ax[2].set_yscale("log")
    for a in ax:
        a.set_xlabel("epoch")
        a.grid(alpha=0.3)
    for a in ax[:2]:
        if a.lines:  # no validation curve when training keeps no validation split
            a.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()

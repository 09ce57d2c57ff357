"""The learning curve: how a few questions of a new database help a pretrained model.

For each held-out database of a fold with at least `min_questions` questions, its questions
are shuffled once (seeded). The first k of them, for each k in `points`, fine-tune the fold's
pretrained model as `tablegraph train` does with so few questions
(`training.run.no_validation_config`: no validation split, the short fine-tuning schedule,
schema pairs). Every point tests on the same questions: those after the largest k. So the
databases and the test questions are the same at every point, and only the number of
training questions changes. The ranking is what `ask` returns: with the fold model's second
stage over the join graph, which `train` keeps when it fine-tunes a pretrained model; the
first stage's alone is reported beside it. Where the fold model has an abstention model
(which `train` keeps too), each point also reports how it treats the test questions
(answerable) against as many questions of the other held-out databases that share no table
name with the database (answerable nowhere in it): the share kept and caught, and the AUROC.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from tablegraph.evaluation.evaluator import RetrievalEvaluator
from tablegraph.evaluation.metrics import abstention_metrics
from tablegraph.graphs.nodes import GraphConfig
from tablegraph.model.abstain import AbstainHead
from tablegraph.model.folder import load_model
from tablegraph.model.index import build_index
from tablegraph.model.scoring import Scorer
from tablegraph.model.sets import SetConfig
from tablegraph.text.encoders import load_text_encoder
from tablegraph.training.corpora import text2sql_databases
from tablegraph.training.pretrain import (prepare_database, question_features, rank_questions,
                                          unrelated_questions)
from tablegraph.training.run import no_validation_config
from tablegraph.training.trainer import TrainConfig, fit
from tablegraph.utils import TableGraphError

POINTS = (0, 5, 10, 20, 50)


def learning_curve(data_root: str, model: str, fold: int, folds: int = 3,
                   points: tuple[int, ...] = POINTS, min_questions: int = 60,
                   epochs: int | None = None, lr: float | None = None, seed: int = 0,
                   device: str = "cpu") -> dict[str, Any]:
    """group -> {"points": [...], "hit@1": [...], "all@5": [...], "all@5 first stage": [...],
    "n": questions, "databases": count}, per point pooled over the group's held-out databases
    (all@5 over databases of more than 5 tables; "all@5" ranked as `ask` ranks, with the
    second stage when the model has one); with the model's abstention also "abstention
    kept", "abstention caught" and "abstention AUROC" (see the module docstring). `epochs`,
    `lr`: instead of `train`'s schedule."""
    saved = load_model(model)
    pretrained = saved.config.get("pretrain") or {}
    if pretrained.get("fold") != fold or pretrained.get("folds") != folds:
        raise TableGraphError(f"{model} was not pretrained with --fold {fold} --folds {folds}: "
                              f"its held-out databases would not be held out")
    enc_cfg = saved.encoder_config
    text = load_text_encoder(saved.text_model)
    stage, set_cfg = saved.join_stage(), SetConfig.from_dict(saved.config.get("set"))
    head = AbstainHead.from_dict(saved.config["abstain"]) \
        if saved.config.get("abstain") else None
    held = [d for d in text2sql_databases(data_root)
            if d.fold(folds) == fold and len(d.questions) >= min_questions]
    prepared = [(d, p) for d, p in ((d, prepare_database(d, text, GraphConfig(), enc_cfg,
                                                         device)) for d in held)
                if p is not None and len(p.questions) >= min_questions]
    pooled: dict[str, dict[int, dict[str, list[np.ndarray]]]] = {}
    counts: dict[str, int] = {}
    base = saved.encoder(device)  # the point k = 0, the same for every database
    given = {k: v for k, v in (("epochs", epochs), ("lr", lr)) if v is not None}
    for d, p in prepared:
        counts[d.group] = counts.get(d.group, 0) + 1
        order = list(range(len(p.questions)))
        random.Random(seed).shuffle(order)
        test = [p.questions[i] for i in order[max(points):]]
        ev = RetrievalEvaluator(test, p.names)
        others = unrelated_questions(p, [o for _, o in prepared])
        other = random.Random(f"{seed}/{p.name}").sample(others, min(len(test), len(others)))
        for k in points:
            if k == 0:
                enc = base
            else:
                tr = [p.questions[i] for i in order[:k]]
                cfg = TrainConfig(seed=seed, init="pretrained")
                few = no_validation_config(cfg, k)
                cfg = TrainConfig.from_dict({**(few[0] if few else cfg).to_dict(), **given})
                enc = fit(p.graphs, tr, [], text, cfg, enc_cfg.to_dict(), device, False,
                          initial_state=saved.state).model
            index = build_index(enc, p.graphs, device)
            _, scores, link, sims, _ = Scorer(enc, text, device).run(ev.texts, index,
                                                                     tokens=stage is not None)
            shown = scores if stage is None else np.stack(
                [r for r, _ in rank_questions(p, ev.texts, scores, link, sims, set_cfg, stage)])
            pq, first = ev.per_question(shown), ev.per_question(scores)
            acc = pooled.setdefault(d.group, {}).setdefault(k, {})
            acc.setdefault("hit@1", []).append(pq["hit@1"])
            if len(p.names) > 5:
                acc.setdefault("all@5", []).append(pq["all@5"])
                acc.setdefault("all@5 first stage", []).append(first["all@5"])
            if head is not None and other:
                for key, texts in (("answerable", ev.texts), ("other", other)):
                    acc.setdefault(key, []).append(head.predict(question_features(
                        enc, p, texts, text, enc_cfg, head.temperature, device)))
    out: dict[str, Any] = {}
    for group, by_k in pooled.items():
        out[group] = {"points": list(points), "databases": counts[group],
                      "n": int(sum(len(x) for x in by_k[points[0]]["hit@1"])),
                      "hit@1": [float(np.concatenate(by_k[k]["hit@1"]).mean()) for k in points],
                      **{key: [float(np.concatenate(by_k[k][key]).mean())
                               if by_k[k].get(key) else None for k in points]
                         for key in ("all@5", "all@5 first stage")}}
        if head is not None and by_k[points[0]].get("other"):
            m = [abstention_metrics(np.concatenate(by_k[k]["answerable"]),
                                    np.concatenate(by_k[k]["other"]), head.threshold)
                 for k in points]
            out[group].update({"abstention kept": [x["kept"] for x in m],
                               "abstention caught": [x["caught"] for x in m],
                               "abstention AUROC": [x["auroc"] for x in m]})
    return out


def curve_png(curve: dict[str, Any]) -> bytes:
    """hit@1 and all@5 against training questions per database, one line per group."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for group, c in curve.items():
        ax[0].plot(c["points"], c["hit@1"], marker="o",
                   label=f"{group} ({c['databases']} dbs, {c['n']} test q)")
        pts = [(x, y) for x, y in zip(c["points"], c["all@5"]) if y is not None]
        if pts:
            line = ax[1].plot(*zip(*pts), marker="o", label=group)[0]
            first = [(x, y) for x, y in zip(c["points"], c.get("all@5 first stage", []))
                     if y is not None]
            if first:
                ax[1].plot(*zip(*first), marker=".", linestyle="--", color=line.get_color(),
                           label=f"{group}, first stage alone")
    for a, title in zip(ax, ("hit@1", "all@5 (databases of > 5 tables)")):
        a.set_xlabel("training questions per held-out database")
        a.set_title(title)
        a.grid(alpha=0.3)
        if a.lines:  # all@5 has none when no database has more than 5 tables
            a.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()

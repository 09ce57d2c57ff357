"""From a ranking to a set: the tables a question needs and the bridge tables that join them.

For one question with scores s [M] over a database's tables:

1. the table weights are w = exp((s - max s) / temperature), the model's own softmax scale
   relative to its best table (1 for the best, near 0 for tables far below it);
2. the seeds are the best table and every table with w >= `seed_weight` (at most `max_seeds`):
   the set's size follows the question, not a fixed k;
3. the join graph completes the seeds into a connected set (`JoinGraph.connect`: a Steiner tree
   in which unsure joins and tables the question points away from cost more), adding bridge
   tables such as `admissions` between `labevents` and `patients`. Without the second stage,
   a seed that no path of joins reaches from the best table is left out, unless the best
   table joins nothing (then the join graph says nothing about what goes with it): in a
   schema of several unrelated parts a query does not cross from one to another. With it,
   such a seed stays, alone: its probability already weighed the question against the joins,
   and a join that inference missed (`flight.from_airport` to `airport_service.airport_code`)
   must not take `flight` out of "flights from Boston to Denver". In a catalogue of several
   databases, the set keeps to the best table's database.

With the learned second stage (`joinstage.JoinStage`), `needed` [M], the probability that
the question needs each table given its neighbours over the join graph, replaces the weights:
the seeds are the best table of the first stage and every table with needed >= `needed`, and
the ranking (`final_ranking`) is by needed, with the first stage's best table first and the
rest of its set next, so that the top five of a ranking show the bridges the set needs.

`set_first` turns a set back into a ranking: the set's tables first (seeds by score, then
bridges), then the rest by score; what `all@k` of a ranking that knows the joins measures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tablegraph.tables.joins import Join, JoinGraph

if TYPE_CHECKING:
    from tablegraph.model.joinstage import JoinStage


@dataclass(frozen=True)
class SetConfig:
    """How a set is chosen from scores (chosen on held-out training databases)."""

    temperature: float = 0.07  # the contrastive temperature the scores were trained at
    seed_weight: float = 0.1  # a table joins the seeds at this weight relative to the best
    max_seeds: int = 4
    max_bridges: int = 2
    needed: float = 0.5  # with the second stage: a table joins the seeds at this probability

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict | None) -> "SetConfig":
        return SetConfig(**{k: v for k, v in (d or {}).items()
                            if k in SetConfig.__dataclass_fields__})


@dataclass
class TableSet:
    """The set: tables (seeds first, then bridges) and the joins that connect them."""

    tables: list[str]
    joins: list[Join] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"tables": self.tables, "joins": [j.to_dict() for j in self.joins]}

    def parts(self) -> list[list[str]]:
        """The set's tables grouped by what its joins connect, in the set's order (one part
        when every table is joined; several when no join was found between some)."""
        parent = {t: t for t in self.tables}

        def root(t: str) -> str:
            while parent[t] != t:
                t = parent[t]
            return t

        for j in self.joins:
            if j.left in parent and j.right in parent:
                parent[root(j.right)] = root(j.left)
        out: dict[str, list[str]] = {}
        for t in self.tables:
            out.setdefault(root(t), []).append(t)
        return list(out.values())


def table_weights(scores: np.ndarray, temperature: float) -> np.ndarray:
    """[M] scores -> [M] weights in (0, 1], 1 for the best table."""
    return np.exp((scores - scores.max()) / max(temperature, 1e-6))


def select_set(scores: np.ndarray, names: list[str], graph: JoinGraph | None,
               cfg: SetConfig = SetConfig(), needed: np.ndarray | None = None) -> TableSet:
    """One question's scores [M] over `names` (and the second stage's `needed` [M]) -> its
    set (see the module docstring)."""
    if len(names) == 0:
        return TableSet([])
    if needed is None:
        w = table_weights(np.asarray(scores, dtype=np.float64), cfg.temperature)
        order = np.argsort(-w, kind="stable")
        seeds = [names[i] for i in order[: cfg.max_seeds]
                 if w[i] >= cfg.seed_weight or i == order[0]]
    else:
        w = np.asarray(needed, dtype=np.float64)
        top = int(np.argmax(scores))
        seeds = [names[top]] + [names[i] for i in np.argsort(-w, kind="stable")
                                if w[i] >= cfg.needed and i != top][: cfg.max_seeds - 1]
    if graph is None:
        return TableSet(seeds)
    seeds = graph.same_database(seeds)  # a catalogue's: one query reads one database
    near = graph.component(seeds[0])
    if needed is None and len(near) > 1:
        seeds = [t for t in seeds if t in near]
    weight = {n: float(w[i]) for i, n in enumerate(names)}
    tables, joins = graph.connect(seeds, weight, cfg.max_bridges)
    return TableSet(tables, graph.with_parallel(joins), [t for t in tables if t not in seeds])


def final_ranking(scores: np.ndarray, needed: np.ndarray | None,
                  chosen: list[int] | None = None) -> np.ndarray:
    """The ranking a result shows [M]: the first stage's scores, or with the second stage the
    probabilities `needed`, raised just enough (by 1e-6 steps) that the first stage's best
    table comes first and the other tables of the question's set (`chosen`, indices into
    the tables) come next, by probability, before every table outside it. The set holds
    bridges the Steiner tree added; a reader of the top five should see them."""
    if needed is None:
        return np.asarray(scores, dtype=np.float64)
    out = np.asarray(needed, dtype=np.float64).copy()
    if len(out) < 2:
        return out
    top = int(np.argmax(scores))
    inside = {top, *(chosen or [])}
    order = [top] + sorted(inside - {top}, key=lambda i: (-out[i], i))
    rest = [i for i in np.argsort(-out, kind="stable") if i not in inside]
    if rest:
        order.append(int(rest[0]))
    for k in range(len(order) - 2, -1, -1):  # from the set's last table up to the best
        out[order[k]] = max(out[order[k]], out[order[k + 1]] + 1e-6)
    return out


def rank_and_set(scores: np.ndarray, link: np.ndarray | None, names: list[str],
                 graph: JoinGraph | None, cfg: SetConfig = SetConfig(),
                 stage: "JoinStage | None" = None,
                 cover: np.ndarray | None = None,
                 tokens: np.ndarray | None = None,
                 entity: np.ndarray | None = None) -> tuple[np.ndarray, TableSet]:
    """What a result shows for one question: its first-stage scores [M], linking features
    [M, F], word cover [M, W] (`SchemaLinker.word_cover`) and token similarities [2, L, M]
    (`scoring.token_similarities`) and entity flags [M, 3] (`SchemaLinker.entities`) over
    `names` -> the ranking [M]
    (`final_ranking`) and the set (`select_set`), both from the second stage's probabilities
    when there is one. The retriever and the held-out evaluation both call this."""
    needed = None if stage is None or not names else \
        stage.needed(scores, link, names, graph, cfg.temperature, cover, tokens, entity)
    chosen = select_set(scores, names, graph, cfg, needed)
    pos = {n: i for i, n in enumerate(names)}
    return final_ranking(scores, needed, [pos[t] for t in chosen.tables]), chosen


def set_first(scores: np.ndarray, names: list[str], chosen: list[str]) -> np.ndarray:
    """Scores [M] re-ranked so that the tables of `chosen` come first, in its order."""
    out = np.asarray(scores, dtype=np.float64).copy()
    top = out.max() if out.size else 0.0
    span = (out.max() - out.min()) if out.size else 0.0
    pos = {n: i for i, n in enumerate(names)}
    for rank, t in enumerate(chosen):
        out[pos[t]] = top + span + 1.0 + (len(chosen) - rank)
    return out


def sets_first(scores: np.ndarray, names: list[str], sets: list[list[str]]) -> np.ndarray:
    """`set_first` for each question: scores [Q, M] -> [Q, M], row i with `sets[i]` first
    (`scores` as they are when there is no set at all)."""
    if not sets:
        return scores
    return np.stack([set_first(scores[i], names, s) for i, s in enumerate(sets)])

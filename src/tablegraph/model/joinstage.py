"""The second stage: which tables a question needs, seen over the database's join graph.

The first stage (`scoring.Scorer`) scores each table alone, so a dictionary table such as
`d_items` beside `inputevents`, or a bridge such as `admissions`, scores low when the question
names only what it looks up. The second stage passes the first stage's table weights along the
join graph, one round, by direction, and reads them with the question's linking features:

    w_t  = exp((s_t - max s) / temperature)                 the first stage's weight [M]
    m_t^ref  = max over joins u -> t (u references t) of w_u * confidence(u, t)
    m_t^refd = max over joins t -> u (t references u) of w_u * confidence(t, u)
    two_t    = max over paths t - u - v of w_v * both confidences   (two joins away)
    bridge_t = the second-largest w_u * confidence over t's neighbours  (t joins two tables)
    gap_t    = the same over pairs of neighbours that do not join each other (t is the way
               from one to the other)
    new_t    = mean over the question's words of max(c_tw - c_bw, 0), c = the linker's
               `word_cover` [M, W] and b the best table: what t accounts for that b does not
    left     = mean over the question's words of 1 - c_bw: how much the best table leaves
    tok_t    = max over the question's tokens of their best cosine with t's node vectors, and
    gain_t   = max over tokens of cos(token, t) - cos(token, b), for t's vector and for its
               nodes (`scoring.token_similarities`): one word ("starring", "comedies") can
               point at a table that the question as a whole does not
    ent_t = 1 when t has a column of names or titles and the question names something by
            value that no name of the schema or value found accounts for
            (`SchemaLinker.entities`: "Michael Bay" -> `person`, where no rows say so)
    typed_t = 1 when the question says t's own name right before such a value ("the movie
            'Four Rooms'" -> `movie`); id_t when it says it right before a number ("patient
            10027602": one row named by its key, which a table that refers to t may hold
            alone; `SchemaLinker.named_by_id`)
    p_t  = mean over members j of sigmoid(MLP_j([w_t, rank, m_t^ref, m_t^refd, two_t,
                        bridge_t, gap_t, degree, new_t, left, tok_t, gain_t,
                        linking features of t, ent_t, ent_t * neighbour_t, typed_t, id_t, ...]))

p_t is the probability that the question needs table t. Every input holds for any database
(scores, join structure, name and value matches): nothing is specific to one table or schema.
Each MLP (three members, each with its own seed) is trained with binary cross-entropy on the
gold tables of the pretraining questions, scored by the trained first stage, once as scored
and once with noise added to the scores (`fit_join_stage`); their weights travel in the model
folder (`join_stage.safetensors`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from tablegraph.model.linking import FEATURE_NAMES, NUM_FEATURES
from tablegraph.tables.joins import JoinGraph

STAGE_FEATURES = (
    "log_weight", "weight", "top", "log_rank", "from_referrer", "from_referenced",
    "neighbour", "strong_neighbours", "two_hop", "bridge", "gap_bridge", "log_degree",
    "log_tables", "new_words", "words_left", "token_node", "token_gain", "token_node_gain",
    *FEATURE_NAMES,
    "from_referrer*value_words", "from_referrer*value_cover", "from_referrer*value_phrase",
    "from_referenced*column_cover", "weight*neighbour", "entity", "literal",
    "entity*neighbour", "typed", "by_id")


def stage_features(scores: np.ndarray, link: np.ndarray | None, names: list[str],
                   graph: JoinGraph | None, temperature: float = 0.07,
                   cover: np.ndarray | None = None,
                   tokens: np.ndarray | None = None,
                   entity: np.ndarray | None = None) -> np.ndarray:
    """One question's first-stage scores [M], linking features [M, F], word cover [M, W]
    (`SchemaLinker.word_cover`), token similarities [2, L, M]
    (`scoring.token_similarities`) and entity flags [M, 3] (`SchemaLinker.entities`) over
    the tables `names` and their join graph -> features
    [M, len(STAGE_FEATURES)] (float32). A missing input gives zeros for its features."""
    s = np.asarray(scores, dtype=np.float64)
    m = len(names)
    link = np.zeros((m, NUM_FEATURES)) if link is None else np.asarray(link, dtype=np.float64)
    b = int(np.argmax(s)) if m else 0  # the first stage's best table
    new, left = np.zeros(m), np.zeros(m)
    if cover is not None and cover.size:
        c = np.asarray(cover, dtype=np.float64)
        best = c[b]  # [W]
        new = np.maximum(c - best, 0.0).mean(axis=1)
        left[:] = (1.0 - best).mean()
    flags = np.zeros((m, 3)) if entity is None else np.asarray(entity, dtype=np.float64)
    ent, typed, by_id = flags[:, 0], flags[:, 1], flags[:, 2]
    tok, gain, node_gain = np.zeros(m), np.zeros(m), np.zeros(m)
    if tokens is not None and tokens.shape[1]:
        tab, node = np.asarray(tokens[0], np.float64), np.asarray(tokens[1], np.float64)
        tok = node.max(axis=0)
        gain = (tab - tab[:, [b]]).max(axis=0)
        node_gain = (node - node[:, [b]]).max(axis=0)
    z = np.maximum((s - s.max()) / max(temperature, 1e-6), -20.0)  # [M], 0 for the best
    w = np.exp(z)
    rank = np.empty(m)
    rank[np.argsort(-s, kind="stable")] = np.arange(m)
    referrer, referenced = np.zeros(m), np.zeros(m)  # messages along the joins, by direction
    adj: list[list[tuple[int, float]]] = [[] for _ in range(m)]  # neighbour, confidence
    pos = {n: i for i, n in enumerate(names)}
    for j in (graph.joins if graph is not None else []):
        a, b = pos.get(j.left), pos.get(j.right)  # a references b
        if a is None or b is None:
            continue
        referrer[b] = max(referrer[b], w[a] * j.confidence)
        referenced[a] = max(referenced[a], w[b] * j.confidence)
        adj[a].append((b, j.confidence))
        adj[b].append((a, j.confidence))
    neighbour = np.maximum(referrer, referenced)
    degree = np.array([len(near) for near in adj], dtype=np.float64)
    strong = np.array([sum(w[u] >= 0.1 for u, _ in near) for near in adj], dtype=np.float64)
    # two joins away: max over paths t - u - v (v != t) of w_v times both confidences; a
    # bridge: the weaker of the two best neighbours (t joins two relevant tables); a gap
    # bridge: the same over the best pair of neighbours that do not join each other (t is the
    # way from one to the other: `inventory` between `film` and `rental`)
    two_hop, bridge, gap = np.zeros(m), np.zeros(m), np.zeros(m)
    joined = [{u for u, _ in near} for near in adj]
    for t in range(m):
        near = sorted(((w[u] * c, u) for u, c in adj[t]), reverse=True)  # strongest first
        bridge[t] = near[1][0] if len(near) > 1 else 0.0
        best = near[:6]
        for i, (_, u) in enumerate(best):
            for x2, v in best[i + 1:]:
                if v != u and v not in joined[u] and x2 > gap[t]:
                    gap[t] = x2
                    break
        for u, c in adj[t]:
            for v, c2 in adj[u]:
                if v != t:
                    two_hop[t] = max(two_hop[t], w[v] * c * c2)
    x = np.column_stack([
        z, w, rank == 0, np.log1p(rank), referrer, referenced, neighbour,
        np.minimum(strong, 3), two_hop, bridge, gap, np.log1p(degree),
        np.full(m, np.log(max(m, 1))), new, left, tok, gain, node_gain, link,
        referrer * link[:, 3], referrer * link[:, 6], referrer * link[:, 4],
        referenced * link[:, 5], w * neighbour, ent, np.full(m, ent.max(initial=0.0)),
        ent * neighbour, typed, by_id])
    return x.astype(np.float32)


class StageNet(nn.Module):
    """One member of the stage: features [..., K] -> logits [...]. The features are clamped
    to the range its training set spanned (a database of 175 tables has ranks and sizes no
    training database had: the network does not extrapolate them) and standardised with
    that set's mean and scale."""

    def __init__(self, hidden: tuple[int, int] = (64, 32)) -> None:
        super().__init__()
        k = len(STAGE_FEATURES)
        self.register_buffer("lo", torch.full((k,), -torch.inf))
        self.register_buffer("hi", torch.full((k,), torch.inf))
        self.register_buffer("mean", torch.zeros(k))
        self.register_buffer("scale", torch.ones(k))
        self.net = nn.Sequential(nn.Linear(k, hidden[0]), nn.ReLU(),
                                 nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                                 nn.Linear(hidden[1], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.maximum(torch.minimum(x, self.hi), self.lo)
        return self.net((x - self.mean) / self.scale).squeeze(-1)


class JoinStage(nn.Module):
    """Features [..., K] -> logits [...] that the question needs the table (see the module
    docstring): the logit of the mean probability of its members (`StageNet`), each fitted
    with its own seed and its own noisy copy of the scores (`fit_join_stage`)."""

    def __init__(self, hidden: tuple[int, int] = (64, 32), members: int = 1,
                 name_weight: float = 0.0) -> None:
        super().__init__()
        self.members = nn.ModuleList(StageNet(hidden) for _ in range(members))
        # The first stage's weight of `table_name` (a table named as the schema writes it,
        # "d_icd_diagnoses"), taken out of the scores the stage reads (`stage_scores`).
        self.register_buffer("name_weight", torch.tensor(float(name_weight)))

    def stage_scores(self, scores: np.ndarray, link: np.ndarray | None) -> np.ndarray:
        """First-stage scores [..., M] as the stage reads them: without what naming a table
        as the schema writes it adds (linking features [..., M, F]). Such a mention puts its
        table first, and the weights the stage passes along joins are relative to the best
        table's: the other tables the question needs would fade beside it. The stage still
        sees the mention among the linking features."""
        if link is None or not float(self.name_weight):
            return scores
        return scores - float(self.name_weight) * link[..., FEATURE_NAMES.index("table_name")]

    def probability(self, x: torch.Tensor) -> torch.Tensor:
        """Features [..., K] -> [...] the mean of the members' probabilities."""
        return torch.stack([torch.sigmoid(m(x)) for m in self.members]).mean(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logit(self.probability(x), eps=1e-7)

    @torch.no_grad()
    def needed(self, scores: np.ndarray, link: np.ndarray | None, names: list[str],
               graph: JoinGraph | None, temperature: float = 0.07,
               cover: np.ndarray | None = None,
               tokens: np.ndarray | None = None,
               entity: np.ndarray | None = None) -> np.ndarray:
        """One question's scores [M] (and linking features [M, F], word cover [M, W], token
        similarities [2, L, M], entity flags [M, 3]) -> [M] probabilities that it needs each
        table (the mean of the members' probabilities)."""
        if len(names) == 0:
            return np.zeros(0)
        x = torch.from_numpy(stage_features(self.stage_scores(scores, link), link, names,
                                            graph, temperature, cover, tokens, entity))
        return self.probability(x).double().numpy()

    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor]) -> "JoinStage":
        """From `state()`; a stage saved before members existed (keys `lo`, `net.0.weight`,
        ...) is one member."""
        if "net.0.weight" in state:
            state = {k if k == "name_weight" else f"members.0.{k}": v for k, v in state.items()}
        state = {"name_weight": torch.tensor(0.0), **state}  # saved before it existed: 0
        members = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("members."))
        stage = cls(hidden=(int(state["members.0.net.0.weight"].shape[0]),
                            int(state["members.0.net.2.weight"].shape[0])), members=members)
        stage.load_state_dict(state)
        return stage.eval()


@dataclass
class StageExample:
    """One database's questions for fitting: first-stage scores [Q, M], linking features
    [Q, M, F] (or None), its tables, join graph, each question's gold table indices, word
    cover [M, W_q], token similarities [2, L_q, M] and entity flags [M, 3] (each list or
    None)."""

    scores: np.ndarray
    link: np.ndarray | None
    names: list[str]
    graph: JoinGraph | None
    gold: list[set[int]]
    cover: list[np.ndarray] | None = None
    tokens: list[np.ndarray] | None = None
    entity: list[np.ndarray] | None = None


def fit_join_stage(examples: Iterable[StageExample], temperature: float = 0.07,
                   epochs: int = 12, batch_size: int = 512, lr: float = 3e-3,
                   seed: int = 0, hidden: tuple[int, int] = (64, 32),
                   noise: float = 0.1, members: int = 3,
                   name_weight: float = 0.0) -> JoinStage:
    """Fit the second stage with binary cross-entropy on every (question, table) pair. A
    database of n questions weighs 1/sqrt(n) per question, so that one database with
    thousands of questions does not teach its own schema alone.

    The scores come from the encoder's own training questions, more certain than it will be
    on a database it never saw, where a bridge or a lookup table scores lower. With `noise`
    > 0, every question is also seen once with Gaussian noise of that standard deviation
    added to its first-stage scores, so that the stage learns to read the join graph when the
    first stage is less sure.

    `members` networks are fitted, member j with seed `seed + j` (its own initialisation,
    order and noise), and their probabilities averaged: one network's all@5 moved by up to
    0.017 from one seed to the next on held-out BIRD databases. Chosen on folds 0 and 1
    (docs/experiments.md): noise 0.1 and three members against 0.05 and one, BIRD all@5
    0.884 -> 0.897 and 0.798 -> 0.813 (one member: the mean of three seeds), set F1 level.

    `name_weight`: the first stage's weight of `table_name`, which the stage reads the scores
    without (`JoinStage.stage_scores`), in fitting as when it is used."""
    stage = JoinStage(hidden, members=0, name_weight=name_weight)
    examples = [dataclasses.replace(ex, scores=stage.stage_scores(ex.scores, ex.link))
                for ex in examples]
    rows = []  # per question: the example, its index, features as scored, labels, weights
    for ex in examples:
        per_q = 1.0 / np.sqrt(max(len(ex.gold), 1))
        for i, gold in enumerate(ex.gold):
            y = np.zeros(len(ex.names), dtype=np.float32)
            y[list(gold)] = 1.0
            rows.append((ex, i, _features(ex, i, ex.scores[i], temperature), y,
                         np.full(len(y), per_q, dtype=np.float32)))
    if not rows:
        raise ValueError("no questions to fit the join stage on")
    stage.members.extend(_fit_member(rows, temperature, epochs, batch_size, lr, seed + j,
                                     hidden, noise) for j in range(members))
    return stage.eval()


def _features(ex: StageExample, i: int, scores: np.ndarray, temperature: float) -> np.ndarray:
    """`stage_features` of question i of `ex` with first-stage scores `scores` [M]."""
    return stage_features(scores, None if ex.link is None else ex.link[i], ex.names, ex.graph,
                          temperature, None if ex.cover is None else ex.cover[i],
                          None if ex.tokens is None else ex.tokens[i],
                          None if ex.entity is None else ex.entity[i])


def _fit_member(rows: list[tuple[StageExample, int, np.ndarray, np.ndarray, np.ndarray]],
                temperature: float, epochs: int, batch_size: int, lr: float, seed: int,
                hidden: tuple[int, int], noise: float) -> StageNet:
    """One `StageNet` fitted as `fit_join_stage` says, with `seed`: every question as scored
    (its features computed once, for all members) and, with `noise`, once more with noise
    of its own drawn from `seed`."""
    xs, ys, ws = [], [], []
    rng = np.random.default_rng(seed)
    copies = 2 if noise > 0 else 1
    for ex, i, clean, y, w_q in rows:
        xs.append(clean)
        if noise > 0:
            xs.append(_features(ex, i, ex.scores[i] + rng.normal(0.0, noise, len(ex.names)),
                                temperature))
        ys += [y] * copies
        ws += [w_q] * copies
    x = torch.from_numpy(np.concatenate(xs))  # [R, K]
    y = torch.from_numpy(np.concatenate(ys))  # [R]
    w = torch.from_numpy(np.concatenate(ws))
    w = w / w.mean()
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = StageNet(hidden)
    net.lo.copy_(x.min(0).values)
    net.hi.copy_(x.max(0).values)
    net.mean.copy_(x.mean(0))
    net.scale.copy_(x.std(0) + 1e-6)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            loss = (loss_fn(net(x[idx]), y[idx]) * w[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()

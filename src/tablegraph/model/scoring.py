"""The one scorer: question texts -> question inputs -> scores against encoded tables.

Training validation, `evaluate`, `ask`, the benchmarks and any server call `Scorer`; nothing
else turns questions into scores. A question-table score is

    encoder_weight * ((1 - mix) * cos(q, table vector)
                      + mix * max over the table's nodes of cos(q, node vector))
    + link features . link weights
    + dense_weight * cos(question's sentence embedding, table's document embedding)

where q is the learned attention pooling of the question's frozen token embeddings, the
vectors come from the graph encoder (`encoder.py`, saved in an index), mix is the learned
late-interaction weight, the link features are `linking.SchemaLinker`'s and the last term,
the dense prior, is zero-shot dense retrieval (`EncoderConfig.dense_weight`; the index holds
the document embeddings). The training loss leaves the dense prior out and the encoder's
weight at 1; both apply where questions are scored against an index (`Scorer`), so that on a
database unlike the training ones the features that hold for any database (linking, dense)
are not outweighed by what training fitted to its databases.

The question side's parameters (`token_gate`, `link_weight`, `mix_logit`) belong to the
encoder; `QuestionHead` holds them alone, under the same names, so that questions can be
scored against a saved index without building the graph network (and without importing
PyTorch Geometric).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tablegraph.model.config import EncoderConfig
from tablegraph.model.linking import FEATURE_NAMES, NUM_FEATURES, SchemaLinker
from tablegraph.utils import TableGraphError

if TYPE_CHECKING:
    from tablegraph.model.index import TableIndex
    from tablegraph.text.encoders import TextEncoder

@dataclass
class QuestionInputs:
    """The frozen inputs of Q questions.

    - vectors: [Q, D] sentence embeddings (unit norm)
    - tokens: Q token-embedding matrices [L_i, D] (None when the model pools no tokens)
    - link: [Q, M, F] schema-linking features against the M tables (None without)
    """

    vectors: torch.Tensor
    tokens: list[torch.Tensor] | None = None
    link: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def select(self, idx: list[int]) -> "QuestionInputs":
        return QuestionInputs(self.vectors[idx],
                              None if self.tokens is None else [self.tokens[i] for i in idx],
                              None if self.link is None else self.link[idx])

    def cat(self, other: "QuestionInputs") -> "QuestionInputs":
        def both(a, b):
            return None if a is None or b is None else torch.cat([a, b])

        return QuestionInputs(torch.cat([self.vectors, other.vectors]),
                              None if self.tokens is None or other.tokens is None
                              else self.tokens + other.tokens, both(self.link, other.link))

    def padded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings padded with zeros [Q, L, D] and their mask [Q, L] (bool)."""
        if self.tokens is None:
            raise ValueError("these questions carry no token embeddings")
        n, d = len(self.tokens), self.vectors.shape[1]
        length = max((t.shape[0] for t in self.tokens), default=1)
        x = self.vectors.new_zeros((n, length, d))  # [Q, L, D]
        mask = torch.zeros((n, length), dtype=torch.bool, device=x.device)  # [Q, L]
        for i, t in enumerate(self.tokens):
            x[i, :t.shape[0]] = t
            mask[i, :t.shape[0]] = True
        return x, mask

    @staticmethod
    def from_arrays(vectors: np.ndarray, tokens: list[np.ndarray] | None = None,
                    link: np.ndarray | None = None, device: str = "cpu") -> "QuestionInputs":
        return QuestionInputs(
            torch.from_numpy(np.asarray(vectors, dtype=np.float32)).to(device),
            None if tokens is None else [torch.from_numpy(t).float().to(device) for t in tokens],
            None if link is None else torch.from_numpy(link).float().to(device))


def table_scores(q: torch.Tensor, tables: torch.Tensor, nodes: torch.Tensor | None = None,
                 node_graph: torch.Tensor | None = None, mix: torch.Tensor | float = 0.0,
                 link: torch.Tensor | None = None,
                 link_weight: torch.Tensor | None = None,
                 encoder_weight: float = 1.0) -> torch.Tensor:
    """Question-table scores (see the module docstring; no dense prior here).

    Shapes:
        - q: [B, D]; tables: [M, D]; nodes: [N, D]; node_graph: [N] table index of each node
        - link: [B, M, F]; link_weight: [F]
        - output: [B, M]
    """
    s = q @ tables.t()  # [B, M]
    if nodes is not None and node_graph is not None:
        ns = q @ nodes.t()  # [B, N]
        idx = node_graph.long().unsqueeze(0).expand_as(ns)  # [B, N]
        # max over each table's nodes; a table without nodes gets 0
        best = ns.new_zeros((q.shape[0], tables.shape[0])).scatter_reduce(
            1, idx, ns, reduce="amax", include_self=False)  # [B, M]
        s = (1 - mix) * s + mix * best
    s = encoder_weight * s  # 1 in training: exact
    if link is not None and link_weight is not None:
        s = s + link @ link_weight  # [B, M]
    return s


class QuestionSide:
    """The learned question side, shared by `ContrastiveGNNEncoder` and `QuestionHead`:
    expects `cfg`, `token_gate` (attention pooling), `link_weight` (schema linking) and
    `mix_logit` (late interaction), each where its setting is on."""

    cfg: EncoderConfig

    def question_vectors(self, qs: QuestionInputs) -> torch.Tensor:
        """Questions -> [Q, D] unit vectors: attention pooling of their token embeddings, or
        (question_pooling = sentence) the text model's sentence embeddings."""
        if self.cfg.question_pooling == "sentence":
            return qs.vectors
        tokens, mask = qs.padded()  # [Q, L, D], [Q, L]
        logits = self.token_gate(tokens).squeeze(-1)  # [Q, L]
        logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        weights = logits.softmax(dim=-1)  # [Q, L]
        pooled = torch.einsum("ql,qld->qd", weights, tokens)  # [Q, D]
        return F.normalize(pooled, p=2, dim=-1)

    def name_weight(self) -> float:
        """The learned weight of `table_name` (a table named as the schema writes it), which
        the second stage takes out of the scores it reads (`JoinStage.stage_scores`); 0
        without schema linking."""
        if not self.cfg.schema_linking:
            return 0.0
        return float(self.link_weight.detach()[FEATURE_NAMES.index("table_name")])

    def mix(self) -> torch.Tensor:
        """Weight of the best node match in `table_scores` (0 without late interaction)."""
        if not self.cfg.late_interaction:
            return torch.tensor(0.0)
        return torch.sigmoid(self.mix_logit)

    def score(self, qs: QuestionInputs, tables: torch.Tensor,
              nodes: torch.Tensor | None = None, node_graph: torch.Tensor | None = None,
              qv: torch.Tensor | None = None, dense: torch.Tensor | None = None,
              indexed: bool = False) -> torch.Tensor:
        """Questions x encoded tables [M, D] (+ nodes [N, D], node_graph [N]) -> [Q, M];
        `qv` [Q, D]: the questions' vectors when already pooled; `dense` [Q, M]: the cosines
        between the questions' sentence embeddings and the tables' documents
        (`Scorer.dense`), for the dense prior (`EncoderConfig.dense_weight`); `indexed`:
        scored against an index (`Scorer`), with the encoder's weight
        (`EncoderConfig.encoder_weight`). The training loss passes neither."""
        link_w = self.link_weight if self.cfg.schema_linking else None
        qv = self.question_vectors(qs) if qv is None else qv
        s = table_scores(qv, tables, nodes, node_graph, self.mix(), qs.link, link_w,
                         self.cfg.encoder_weight if indexed else 1.0)
        if self.cfg.dense_weight and dense is not None:
            s = s + self.cfg.dense_weight * dense  # [Q, M]
        return s


def add_question_parameters(module: nn.Module, cfg: EncoderConfig) -> None:
    """Create `token_gate` and `link_weight` on `module` (zero: mean pooling, no linking)."""
    if cfg.question_pooling == "attention":
        # token weight = softmax over the question's tokens of gate(token embedding)
        module.token_gate = nn.Linear(cfg.out_dim, 1)
    if cfg.schema_linking:
        module.link_weight = nn.Parameter(torch.zeros(NUM_FEATURES))


def reset_question_parameters(module: nn.Module, cfg: EncoderConfig) -> None:
    if cfg.question_pooling == "attention":
        # zero gate = mean pooling, the sentence embedding of mean-pooled text models
        nn.init.zeros_(module.token_gate.weight)
        nn.init.zeros_(module.token_gate.bias)
    if cfg.schema_linking:
        with torch.no_grad():
            module.link_weight.zero_()


class QuestionHead(QuestionSide, nn.Module):
    """The question side of a trained encoder by itself (see the module docstring)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        nn.Module.__init__(self)
        self.cfg = cfg
        add_question_parameters(self, cfg)
        if cfg.late_interaction:
            self.mix_logit = nn.Parameter(torch.tensor(0.0))
        reset_question_parameters(self, cfg)

    @classmethod
    def from_state(cls, cfg: EncoderConfig, state: dict[str, torch.Tensor]) -> "QuestionHead":
        """From an encoder's state dict (only the question-side keys are read)."""
        head = cls(cfg)
        own = head.state_dict()
        head.load_state_dict({k: state[k] for k in own})
        return head.eval()


def prepare_questions(cfg: EncoderConfig, text: "TextEncoder", texts: list[str],
                      linker: SchemaLinker | None = None, device: str = "cpu") -> QuestionInputs:
    """Frozen inputs of `texts` for a model of config `cfg`: sentence vectors, token embeddings
    (attention pooling) and schema-linking features against `linker`'s tables."""
    link = linker.features(texts) if cfg.schema_linking and linker is not None else None
    if cfg.question_pooling == "sentence":
        return QuestionInputs.from_arrays(text.encode(texts), None, link, device)
    tokens = text.encode_tokens(texts)
    # Mean-pooled tokens stand in for the sentence vectors (one pass of the text model).
    means = np.stack([t.mean(axis=0) for t in tokens]) if tokens else np.zeros((0, text.dim))
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return QuestionInputs.from_arrays(means, tokens, link, device)


@torch.no_grad()
def token_similarities(qs: QuestionInputs, vectors: torch.Tensor, nodes: torch.Tensor | None,
                       node_graph: torch.Tensor | None) -> list[np.ndarray] | None:
    """Each question's token embeddings [L, D] against the M tables -> [2, L, M] float32:
    the cosine of each token with each table's vector [M, D], and its best cosine with the
    table's node vectors [N, D] (-1 for a table without nodes). A question's vector pools its
    tokens, so the tables' vectors are in their space; one token ("starring", "comedies")
    can point at a table the question as a whole does not (`joinstage.stage_features`).
    None when the model pools no tokens."""
    if qs.tokens is None:
        return None
    m = int(vectors.shape[0])
    has_nodes = nodes is not None and node_graph is not None and len(nodes) > 0
    if has_nodes:
        owner = node_graph.long().cpu().numpy()  # [N], each table's nodes in one run
        starts = np.searchsorted(owner, np.arange(m))  # [M]
        present = np.bincount(owner, minlength=m) > 0
        runs = bool(np.all(owner[1:] >= owner[:-1]))
    out = []
    for t in qs.tokens:
        t = F.normalize(t.to(vectors.device, vectors.dtype), dim=-1)  # [L, D]
        table = (t @ vectors.t()).cpu().numpy()  # [L, M]
        best = np.full_like(table, -1.0)
        if has_nodes and len(t):
            ns = (t @ nodes.t()).cpu().numpy()  # [L, N]
            if runs:  # the best node of each table: a max over its run of columns
                have = np.flatnonzero(present)
                best[:, have] = np.maximum.reduceat(ns, starts[have], axis=1)
            else:
                for j in range(m):
                    if present[j]:
                        best[:, j] = ns[:, owner == j].max(axis=1)
        out.append(np.stack([table, best]).astype(np.float32))
    return out


class Scored(NamedTuple):
    """What `Scorer.run` gives for Q questions against M tables."""

    sentences: np.ndarray  # [Q, d] the questions' sentence embeddings (unit; what explains)
    scores: np.ndarray  # [Q, M]
    link: np.ndarray | None  # [Q, M, F] schema-linking features
    sims: list[np.ndarray] | None  # per question [2, L, M] token similarities
    dense: np.ndarray | None  # [Q, M] cos(sentence embedding, table document)


class Scorer:
    """Question texts -> scores against a `TableIndex`, with a trained question side (the
    encoder, or its `QuestionHead`) and the frozen text encoder.

    - `inputs(texts, index)`: token embeddings and linking features against index's tables
    - `score(inputs, index)`: [Q, M] tensor
    - `run(texts, index)`: `Scored`: sentence embeddings [Q, d], scores [Q, M] (float32
      arrays), linking features [Q, M, F] (or None), token similarities
      (`token_similarities`: [2, L_q, M] per question, or None) and the dense cosines [Q, M]
      (`dense`)
    - `__call__(texts, index)`: scores [Q, M] alone (no token similarities computed)
    `text` may be None where only prepared inputs are scored (training validation).
    """

    def __init__(self, model: QuestionSide, text: "TextEncoder | None",
                 device: str = "cpu") -> None:
        self.model = model
        self.text = text
        self.device = device

    @property
    def cfg(self) -> EncoderConfig:
        return self.model.cfg

    def inputs(self, texts: list[str], index: "TableIndex | None" = None) -> QuestionInputs:
        linker = None if index is None else index.linker()
        return prepare_questions(self.cfg, self.text, texts, linker, self.device)

    @torch.no_grad()
    def score(self, qs: QuestionInputs, index: "TableIndex",
              qv: torch.Tensor | None = None,
              dense: torch.Tensor | None = None) -> torch.Tensor:
        """Inputs of Q questions x the M tables of `index` -> [Q, M]; `dense`: their
        `dense` cosines when already computed."""
        vectors, nodes, node_graph = index.tensors(self.device)
        if dense is None and self.cfg.dense_weight:
            dense = self.dense(qs, index)
            if dense is None:
                raise TableGraphError("this index has no table documents, which the model's "
                                      "dense prior reads: build it again with this version")
        return self.model.score(qs, vectors, nodes, node_graph, qv, dense, indexed=True)

    @torch.no_grad()
    def dense(self, qs: QuestionInputs, index: "TableIndex") -> torch.Tensor | None:
        """cos(question's sentence embedding, table's document embedding) [Q, M]: zero-shot
        dense retrieval, the dense prior's term and what the abstention reads of meaning
        (None: the index holds no documents)."""
        documents = index.document_tensor(self.device)
        return None if documents is None else qs.vectors @ documents.t()

    def tokens(self, qs: QuestionInputs, index: "TableIndex") -> list[np.ndarray] | None:
        """`token_similarities` of prepared questions against the tables of `index`."""
        return token_similarities(qs, *index.tensors(self.device))

    @torch.no_grad()
    def run(self, texts: list[str], index: "TableIndex", chunk: int = 512,
            tokens: bool = True) -> "Scored":
        """Question texts -> `Scored`: their sentence embeddings [Q, d], their scores against
        `index` [Q, M], the schema-linking features computed on the way [Q, M, F] (None: the model
        uses none), each question's token similarities [2, L, M] (None: it pools no tokens,
        or `tokens` is False: only the second stage reads them) and the dense cosines [Q, M]
        (`dense`; None without table documents)."""
        vecs, scores, links, sims, dense = [], [], [], [], []
        for i in range(0, len(texts), chunk):
            qs = self.inputs(texts[i:i + chunk], index)
            qv = self.model.question_vectors(qs)  # [q, D]
            vecs.append(qs.vectors.cpu())  # [q, d]
            d = self.dense(qs, index)  # computed once: the dense prior and the abstention
            scores.append(self.score(qs, index, qv, d).cpu())
            if d is not None:
                dense.append(d.cpu())
            if qs.link is not None:
                links.append(qs.link.cpu())
            part = self.tokens(qs, index) if tokens else None
            if part is not None:
                sims.extend(part)
        if not vecs:
            return Scored(np.zeros((0, getattr(self.text, "dim", 0)), dtype=np.float32),
                          np.zeros((0, len(index.names)), dtype=np.float32), None, None, None)
        out = torch.cat(scores).numpy().astype(np.float32)
        if not np.isfinite(out).all():
            raise TableGraphError("the model gave non-finite scores: its weights or index are "
                                  "damaged (retrain or rebuild the index)")
        link = torch.cat(links).numpy() if len(links) == len(vecs) else None
        return Scored(torch.cat(vecs).numpy().astype(np.float32), out, link,
                      sims if len(sims) == len(texts) else None,
                      torch.cat(dense).numpy().astype(np.float32)
                      if len(dense) == len(vecs) else None)

    def __call__(self, texts: list[str], index: "TableIndex") -> np.ndarray:
        return self.run(texts, index, tokens=False).scores

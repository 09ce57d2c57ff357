"""The graph encoder: GNN + pooling + projection head -> L2-normalised table vectors.

`ContrastiveGNNEncoder` reads a batch of table graphs and returns one vector per graph in the
text model's space, so that a question's embedding can be compared with it by cosine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_geometric.nn import GATv2Conv, GINConv, SAGEConv, global_max_pool, global_mean_pool
from torch_geometric.nn.aggr import AttentionalAggregation

from tablegraph.config import TypedConfig
from tablegraph.linking import NUM_FEATURES
from tablegraph.profile import STATS_DIM

NUM_NODE_TYPES = 3


@dataclass
class EncoderConfig(TypedConfig):
    """Every constructor argument of `ContrastiveGNNEncoder`."""

    in_dim: int = STATS_DIM + 384
    out_dim: int = 384
    hidden_dim: int = 256
    num_layers: int = 2
    conv: str = "gatv2"  # gatv2 | gin | sage
    heads: int = 4
    dropout: float = 0.1
    pooling: str = "attention"  # attention | meanmax
    text_skip: bool = True
    late_interaction: bool = True  # also score questions against contextualised node vectors
    # attention: learned attention pooling over the frozen encoder's token embeddings
    # (starts as mean pooling); sentence: the text model's own sentence embedding
    question_pooling: str = "attention"
    schema_linking: bool = True  # add learned weights x lexical features (linking.py)

    def validate(self) -> "EncoderConfig":
        from tablegraph.utils import TableGraphError

        if self.conv not in ("gatv2", "gin", "sage"):
            raise TableGraphError(f"unknown conv {self.conv!r}: use gatv2, gin or sage")
        if self.pooling not in ("attention", "meanmax"):
            raise TableGraphError(f"unknown pooling {self.pooling!r}: use attention or meanmax")
        if self.question_pooling not in ("attention", "sentence"):
            raise TableGraphError(f"unknown question pooling {self.question_pooling!r}: use "
                                  "attention or sentence")
        if not 1 <= self.num_layers <= 4:
            raise TableGraphError("num_layers must be between 1 and 4")
        if self.conv == "gatv2" and self.hidden_dim % self.heads:
            raise TableGraphError("hidden_dim must be divisible by heads")
        return self


class ContrastiveGNNEncoder(nn.Module):
    r"""Encode table graphs into the question embedding space.

    Architecture: input projection (+ a learned node-type embedding) -> `num_layers` GNN
    layers (GATv2 by default; GIN or GraphSAGE), each with a residual connection, LayerNorm,
    GELU and dropout -> pooling over each graph's nodes (gated attention pooling, or mean and
    max) -> two-layer projection head to `out_dim` -> L2 normalisation.

    With `text_skip`, the pooled *text part* of the node features (the name and value
    embeddings, which live in the question space already) is added to the head's output
    through a learned gate before normalising. The encoder then starts from a zero-shot text
    retriever and learns corrections from the graph, which keeps it useful on tables that it
    never saw in training.

    The question side is learned too, on top of the frozen text model: `question_vectors`
    pools a question's frozen token embeddings with learned attention (zero-initialised, so it
    starts as mean pooling, the sentence embedding of mean-pooled models), and `score` adds
    learned weights times the schema-linking features of `linking.py` to the similarity.

    Shapes:
        - x: [N, in_dim] node features (128 statistics + text embedding, L2-normalised)
        - edge_index: [2, E]
        - batch: [N] graph index of each node, values in [0, G)
        - node_type: [N] in {0 column, 1 table, 2 value}, optional (zeros)
        - output: [G, out_dim], unit norm
        - question_vectors: Q questions (tokens [L_i, out_dim] each) -> [Q, out_dim], unit norm
        - score: questions x tables [M, out_dim] (+ nodes [N, out_dim]) -> [Q, M]
    """

    def __init__(self, cfg: EncoderConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = (cfg or EncoderConfig()).validate()
        h = cfg.hidden_dim
        self.input = nn.Linear(cfg.in_dim, h)
        self.type_emb = nn.Embedding(NUM_NODE_TYPES, h)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(cfg.num_layers):
            if cfg.conv == "gatv2":
                conv = GATv2Conv(h, h // cfg.heads, heads=cfg.heads, dropout=cfg.dropout,
                                 add_self_loops=True)
            elif cfg.conv == "gin":
                conv = GINConv(nn.Sequential(nn.Linear(h, h), nn.GELU(), nn.Linear(h, h)),
                               train_eps=True)
            else:
                conv = SAGEConv(h, h)
            self.convs.append(conv)
            self.norms.append(nn.LayerNorm(h))
        pooled = h if cfg.pooling == "attention" else 2 * h
        if cfg.pooling == "attention":
            self.pool = AttentionalAggregation(
                gate_nn=nn.Sequential(nn.Linear(h, h // 2), nn.GELU(), nn.Linear(h // 2, 1)))
        self.head = nn.Sequential(nn.Linear(pooled, h), nn.GELU(), nn.Dropout(cfg.dropout),
                                  nn.Linear(h, cfg.out_dim))
        text_dim = cfg.in_dim - STATS_DIM
        self.use_skip = cfg.text_skip and text_dim == cfg.out_dim
        if self.use_skip:
            # gate = sigmoid(logit): how much of the zero-shot text prior to keep.
            self.skip_logit = nn.Parameter(torch.tensor(0.0))
        if cfg.question_pooling == "attention":
            # token weight = softmax over the question's tokens of gate(token embedding)
            self.token_gate = nn.Linear(cfg.out_dim, 1)
        if cfg.schema_linking:
            self.link_weight = nn.Parameter(torch.zeros(NUM_FEATURES))
        if cfg.late_interaction:
            self.node_head = nn.Linear(h, cfg.out_dim)
            # mix = sigmoid(logit): weight of the best node match against the table vector.
            self.mix_logit = nn.Parameter(torch.tensor(0.0))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.input.reset_parameters()
        nn.init.normal_(self.type_emb.weight, std=0.02)
        for conv, norm in zip(self.convs, self.norms):
            conv.reset_parameters()
            norm.reset_parameters()
        if self.cfg.pooling == "attention":
            self.pool.reset_parameters()
        for m in self.head:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        if self.cfg.late_interaction:
            self.node_head.reset_parameters()
            with torch.no_grad():
                self.node_head.weight.mul_(0.1)
                self.node_head.bias.zero_()
                self.mix_logit.fill_(0.0)
        if self.cfg.question_pooling == "attention":
            # zero gate = mean pooling, the sentence embedding of mean-pooled text models
            nn.init.zeros_(self.token_gate.weight)
            nn.init.zeros_(self.token_gate.bias)
        if self.cfg.schema_linking:
            with torch.no_grad():
                self.link_weight.zero_()
        if self.use_skip:
            with torch.no_grad():
                self.skip_logit.fill_(0.0)
                # A small head at start: the output begins near the text prior.
                self.head[-1].weight.mul_(0.1)
                self.head[-1].bias.zero_()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor,
                node_type: torch.Tensor | None = None) -> torch.Tensor:
        """Graphs -> [G, out_dim] unit vectors (see the class docstring for shapes)."""
        return self.encode(x, edge_index, batch, node_type)[0]

    def encode(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor,
               node_type: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Table vectors [G, D] and, with late interaction, node vectors [N, D] (unit norm)."""
        if node_type is None:
            node_type = torch.zeros_like(batch)
        num_graphs = int(batch.max().item()) + 1 if batch.numel() else 0
        h = self.input(x) + self.type_emb(node_type)  # [N, H]
        for conv, norm in zip(self.convs, self.norms):
            m = conv(h, edge_index)  # [N, H]
            h = h + F.dropout(F.gelu(norm(m)), self.cfg.dropout, self.training)  # [N, H]
        if self.cfg.pooling == "attention":
            g = self.pool(h, batch, dim_size=num_graphs)  # [G, H]
        else:
            g = torch.cat([global_mean_pool(h, batch, num_graphs),
                           global_max_pool(h, batch, num_graphs)], dim=-1)  # [G, 2H]
        out = self.head(g)  # [G, D]
        text = x[:, STATS_DIM:]  # [N, D], the name / value embeddings
        if self.use_skip:
            prior = F.normalize(global_mean_pool(text, batch, num_graphs), dim=-1)  # [G, D]
            out = out + torch.sigmoid(self.skip_logit) * 2.0 * prior  # [G, D]
        nodes = None
        if self.cfg.late_interaction:
            nodes = self.node_head(h)  # [N, D]
            if self.use_skip:
                nodes = nodes + torch.sigmoid(self.skip_logit) * 2.0 * F.normalize(text, dim=-1)
            nodes = F.normalize(nodes, p=2, dim=-1)  # [N, D]
        return F.normalize(out, p=2, dim=-1), nodes  # [G, D], [N, D] or None

    def question_vectors(self, qs: "QuestionInputs") -> torch.Tensor:
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

    def score(self, qs: "QuestionInputs", tables: torch.Tensor,
              nodes: torch.Tensor | None = None,
              node_graph: torch.Tensor | None = None) -> torch.Tensor:
        """Questions x encoded tables -> scores [Q, M] (see `table_scores`)."""
        link_w = self.link_weight if self.cfg.schema_linking else None
        return table_scores(self.question_vectors(qs), tables, nodes, node_graph, self.mix(),
                            qs.link, link_w)

    def mix(self) -> torch.Tensor:
        """Weight of the best node match in `table_scores` (0 without late interaction)."""
        if not self.cfg.late_interaction:
            return torch.tensor(0.0)
        return torch.sigmoid(self.mix_logit)


def table_scores(q: torch.Tensor, tables: torch.Tensor, nodes: torch.Tensor | None = None,
                 node_graph: torch.Tensor | None = None, mix: torch.Tensor | float = 0.0,
                 link: torch.Tensor | None = None,
                 link_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Question-table scores.

    (1 - mix) * cos(q, table vector) + mix * max over the table's nodes of cos(q, node vector)
    + link features . link_weight (schema linking, when both are given).

    Shapes:
        - q: [B, D]; tables: [M, D]; nodes: [N, D]; node_graph: [N] table index of each node
        - link: [B, M, F]; link_weight: [F]
        - output: [B, M]
    """
    s = q @ tables.t()  # [B, M]
    if nodes is not None and node_graph is not None:
        from torch_geometric.utils import scatter

        ns = q @ nodes.t()  # [B, N]
        best = scatter(ns, node_graph, dim=1, dim_size=tables.shape[0], reduce="max")  # [B, M]
        s = (1 - mix) * s + mix * best
    if link is not None and link_weight is not None:
        s = s + link @ link_weight  # [B, M]
    return s


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

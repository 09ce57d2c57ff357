"""The graph encoder: GNN + pooling + projection head -> L2-normalised table vectors.

`ContrastiveGNNEncoder` reads a batch of table graphs and returns one vector per graph in the
text model's space, so that a question's embedding can be compared with it by cosine.
"""

from __future__ import annotations

import os
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_geometric.nn import GATv2Conv, GINConv, SAGEConv, global_max_pool, global_mean_pool
from torch_geometric.nn.aggr import AttentionalAggregation

from tablegraph.graphs.nodes import NUM_NODE_KINDS
from tablegraph.model.config import EncoderConfig
from tablegraph.model.scoring import (QuestionSide, add_question_parameters,
                                      reset_question_parameters)


# the endings of the modules PyG renders from its templates (`MessagePassing`)
GENERATED = ("_propagate", "_edge_updater")


def drop_generated_sources() -> None:
    """Delete the source files PyTorch Geometric generated for this process's message passing.

    On a layer class's first use, PyG renders its `propagate` (and `edge_updater`) from a
    template into a file in the temp folder, imports it and leaves the file there: two files
    per process that builds a GATv2 encoder, so every `tablegraph ask` left 14 KB in /tmp. The
    imported modules no longer need their files; only the files of modules this process
    imported are removed, never another process's.
    """
    tmp = os.path.realpath(tempfile.gettempdir())
    for name, module in list(sys.modules.items()):
        if not (name.startswith("torch_geometric.") and name.endswith(GENERATED)):
            continue  # (looked at by name first: realpath on every module took 25 ms)
        path = getattr(module, "__file__", None)
        if (path and os.path.dirname(os.path.realpath(path)) == tmp
                and os.path.basename(path).startswith(name + "_")):
            try:
                os.unlink(path)
            except OSError:
                pass  # already gone, or not ours to remove


class ContrastiveGNNEncoder(QuestionSide, nn.Module):
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

    The question side is learned too, on top of the frozen text model (`scoring.QuestionSide`):
    `question_vectors` pools a question's frozen token embeddings with learned attention
    (zero-initialised, so it starts as mean pooling, the sentence embedding of mean-pooled
    models), and `score` adds learned weights times the schema-linking features of
    `linking.py` to the similarity.

    Shapes:
        - x: [N, in_dim] node features (128 statistics + text embedding, L2-normalised)
        - edge_index: [2, E]
        - batch: [N] graph index of each node, values in [0, G)
        - node_type: [N] `NodeKind` of each node, optional (zeros: columns)
        - output: [G, out_dim], unit norm
        - question_vectors: Q questions (tokens [L_i, out_dim] each) -> [Q, out_dim], unit norm
        - score: questions x tables [M, out_dim] (+ nodes [N, out_dim]) -> [Q, M]
    """

    def __init__(self, cfg: EncoderConfig | None = None) -> None:
        nn.Module.__init__(self)
        self.cfg = cfg = (cfg or EncoderConfig()).validate()
        h = cfg.hidden_dim
        self.input = nn.Linear(cfg.in_dim, h)
        self.type_emb = nn.Embedding(NUM_NODE_KINDS, h)
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
        drop_generated_sources()
        pooled = h if cfg.pooling == "attention" else 2 * h
        if cfg.pooling == "attention":
            self.pool = AttentionalAggregation(
                gate_nn=nn.Sequential(nn.Linear(h, h // 2), nn.GELU(), nn.Linear(h // 2, 1)))
        self.head = nn.Sequential(nn.Linear(pooled, h), nn.GELU(), nn.Dropout(cfg.dropout),
                                  nn.Linear(h, cfg.out_dim))
        text_dim = cfg.in_dim - cfg.stats_dim
        self.use_skip = cfg.text_skip and text_dim == cfg.out_dim
        if self.use_skip:
            # gate = sigmoid(logit): how much of the zero-shot text prior to keep.
            self.skip_logit = nn.Parameter(torch.tensor(0.0))
        add_question_parameters(self, cfg)  # token_gate, link_weight (scoring.py)
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
        reset_question_parameters(self, self.cfg)
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
        text = x[:, self.cfg.stats_dim:]  # [N, D], the name / value embeddings
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

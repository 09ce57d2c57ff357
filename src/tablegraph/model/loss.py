r"""InfoNCE between questions and tables, with several gold tables per question.

Let :math:`q_i` (B questions) and :math:`t_j` (M table vectors) be unit vectors,
:math:`s_{ij} = q_i \cdot t_j / \tau`, and :math:`P_{ij} = 1` when table j is a gold table of
question i. Negatives of question i are :math:`N_i = \{j : P_{ij} = 0\}`: every other gold table
of the same question, and every duplicate of a gold table, is masked out of the negatives. Each
positive pair competes only with the negatives:

.. math::
    \ell^{q\to t}_{ij} = -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{n \in N_i} e^{s_{in}}},
    \quad P_{ij} = 1

and symmetrically, table to question, over the questions in the batch:

.. math::
    \ell^{t\to q}_{ij} = -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{n : P_{nj} = 0} e^{s_{nj}}}

The loss averages :math:`\ell^{q\to t}` over each question's positives and then over questions
(rows with a positive), the same for columns, and (symmetric) takes the mean of both
directions.

Two ways of choosing the M table vectors:
- in-batch (the default): the M columns are the distinct gold tables of the batch's questions
  (M <= B x gold tables per question); a table asked about by several questions of the batch is
  one column, positive for each of them, so it never acts as their negative;
- full softmax: the M columns are all tables of the database.

The temperature is fixed (0.07) or learnable CLIP-style: a logit scale initialised at
log(1/0.07) and clamped to at most log(100).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def multi_positive_info_nce(sim: torch.Tensor, pos: torch.Tensor,
                            weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Mean over rows with a positive of the mean over positives of
    :math:`-\log(e^{s_p} / (e^{s_p} + \sum_{n \notin P} e^{s_n}))`; with `weight`, each
    row's mean over its positives is weighted by it (a positive of weight 0 is neither pulled
    nor pushed).

    Shapes:
        - sim: [R, C] scaled similarities
        - pos: [R, C] bool, True where the pair is positive
        - weight: [R, C] float >= 0, read where `pos` is True (None: 1 everywhere)
        - output: scalar
    """
    pos = pos.bool()
    neg_inf = torch.finfo(sim.dtype).min
    # log-sum-exp over negatives only, per row: [R, 1]
    neg = torch.logsumexp(sim.masked_fill(pos, neg_inf), dim=1, keepdim=True)
    has_neg = (~pos).any(dim=1, keepdim=True)  # [R, 1]
    neg = torch.where(has_neg, neg, torch.full_like(neg, neg_inf))
    # -log(e^s / (e^s + e^neg)) = logaddexp(s, neg) - s: [R, C]
    per_pair = torch.logaddexp(sim, neg) - sim
    w = pos.to(sim.dtype) if weight is None else weight.to(sim.dtype) * pos  # [R, C]
    per_pair = (per_pair * w).masked_fill(~pos, 0.0)
    n_pos = w.sum(dim=1)  # [R]
    rows = n_pos > 0
    if not rows.any():
        return sim.sum() * 0.0
    per_row = per_pair.sum(dim=1)[rows] / n_pos[rows]  # [R']
    return per_row.mean()


class InfoNCELoss(nn.Module):
    """Question-table InfoNCE (see the module docstring for the maths).

    Shapes:
        - q: [B, D] unit question vectors
        - t: [M, D] unit table vectors
        - pos: [B, M] bool gold mask
        - output: scalar
    """

    def __init__(self, temperature: float = 0.07, learnable: bool = False,
                 symmetric: bool = True, max_logit_scale: float = 100.0) -> None:
        super().__init__()
        init = math.log(1.0 / temperature)
        self.learnable = learnable
        self.symmetric = symmetric
        self.max_log = math.log(max_logit_scale)
        if learnable:
            self.logit_scale = nn.Parameter(torch.tensor(init))
        else:
            self.register_buffer("logit_scale", torch.tensor(init))

    @property
    def temperature(self) -> float:
        return float(1.0 / self.logit_scale.detach().clamp(max=self.max_log).exp())

    def forward(self, q: torch.Tensor, t: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return self.from_similarity(q @ t.t(), pos)  # [B, M] cosines

    def from_similarity(self, cos: torch.Tensor, pos: torch.Tensor,
                        prior: torch.Tensor | None = None,
                        weight: torch.Tensor | None = None) -> torch.Tensor:
        """The loss from unscaled similarities cos [B, M] (e.g. late-interaction scores).

        `prior` [M], the log share of questions each table answers, is added to the logits
        (logit adjustment, Menon et al. 2021): how often a table is gold is then carried by
        the prior, which inference leaves out, not learned into the table's vector.
        `weight` [B, M] weighs each positive pair (`multi_positive_info_nce`)."""
        scale = self.logit_scale.clamp(max=self.max_log).exp()
        sim = scale * cos  # [B, M]
        if prior is not None:
            sim = sim + prior  # [B, M]
        loss = multi_positive_info_nce(sim, pos, weight)
        if self.symmetric:
            loss = 0.5 * (loss + multi_positive_info_nce(
                sim.t(), pos.t(), None if weight is None else weight.t()))
        return loss

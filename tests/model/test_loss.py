import math

import torch

from tablegraph.model.loss import InfoNCELoss, multi_positive_info_nce


def naive(sim, pos):
    rows = []
    for i in range(sim.shape[0]):
        terms = []
        for j in range(sim.shape[1]):
            if not pos[i, j]:
                continue
            denom = torch.exp(sim[i, j]) + sum(torch.exp(sim[i, n]) for n in range(sim.shape[1])
                                               if not pos[i, n])
            terms.append(-torch.log(torch.exp(sim[i, j]) / denom))
        if terms:
            rows.append(sum(terms) / len(terms))
    return sum(rows) / len(rows)


def test_matches_naive_loop_values_and_gradients():
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(6, 8, dtype=torch.float64), dim=1)
    t = torch.nn.functional.normalize(torch.randn(4, 8, dtype=torch.float64), dim=1)
    pos = torch.zeros(6, 4, dtype=torch.bool)
    pos[0, 0] = pos[1, 0] = pos[2, 1] = pos[3, 2] = pos[4, 3] = True
    pos[5, 1] = pos[5, 2] = True  # two gold tables: neither is the other's negative
    for symmetric in (False, True):
        q1 = q.clone().requires_grad_(True)
        t1 = t.clone().requires_grad_(True)
        loss = InfoNCELoss(0.07, symmetric=symmetric).double()(q1, t1, pos)
        loss.backward()
        q2 = q.clone().requires_grad_(True)
        t2 = t.clone().requires_grad_(True)
        sim = q2 @ t2.t() / 0.07
        ref = naive(sim, pos)
        if symmetric:
            ref = 0.5 * (ref + naive(sim.t(), pos.t()))
        ref.backward()
        assert torch.allclose(loss, ref, atol=1e-10)
        assert torch.allclose(q1.grad, q2.grad, atol=1e-10)
        assert torch.allclose(t1.grad, t2.grad, atol=1e-10)


def test_same_table_duplicates_are_not_negatives():
    # Two questions about table 0: with both positive, the loss only sees table 1 as negative.
    sim = torch.tensor([[5.0, 0.0], [5.0, 0.0]])
    pos = torch.tensor([[True, False], [True, False]])
    expected = math.log(1 + math.exp(-5.0))
    assert abs(multi_positive_info_nce(sim, pos).item() - expected) < 1e-6


def test_learnable_temperature_is_clamped():
    loss = InfoNCELoss(0.001, learnable=True)
    assert abs(loss.temperature - 0.01) < 1e-6  # clamped at logit scale 100
    assert loss.logit_scale.requires_grad


def test_a_prior_on_the_logits_takes_the_share_of_a_table_off_its_vector():
    """Logit adjustment: with a table's log share added to the logits, a table that every
    question needs no longer has to score high on its own; the prior adds, scaled like a
    logit, and a constant prior changes nothing."""
    torch.manual_seed(0)
    cos = torch.zeros(8, 4, requires_grad=True)  # [B, M]
    pos = torch.zeros(8, 4, dtype=torch.bool)
    pos[:, 0] = True  # table 0 answers every question
    loss_fn = InfoNCELoss(0.07, symmetric=False)
    plain = loss_fn.from_similarity(cos, pos)
    (g_plain,) = torch.autograd.grad(plain, cos)
    prior = torch.tensor([0.0, -3.0, -3.0, -3.0])  # [M] log shares: table 0 is common
    adjusted = loss_fn.from_similarity(cos, pos, prior)
    (g_adj,) = torch.autograd.grad(adjusted, cos)
    assert adjusted < plain
    assert g_adj[:, 0].abs().sum() < 0.2 * g_plain[:, 0].abs().sum()  # less pull on table 0
    same = loss_fn.from_similarity(cos, pos, torch.full((4,), -2.0))
    assert torch.isclose(same, plain)


def test_weighted_positives_match_a_weighted_mean_and_weight_zero_is_neither_pulled_nor_pushed():
    torch.manual_seed(1)
    sim = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    pos = torch.tensor([[True, True, False, False], [False, True, False, False],
                        [True, False, True, True]])
    weight = torch.tensor([[1.0, 0.25, 9.0, 9.0], [0.0, 1.0, 0.0, 0.0], [0.5, 1.0, 0.0, 1.0]],
                          dtype=torch.float64)  # read only where pos is True
    per = torch.logaddexp(sim, torch.stack([torch.logsumexp(sim[i][~pos[i]], 0)
                                            for i in range(3)])[:, None]) - sim
    want = sum((per[i][pos[i]] * weight[i][pos[i]]).sum() / weight[i][pos[i]].sum()
               for i in range(3)) / 3
    assert torch.allclose(multi_positive_info_nce(sim, pos, weight), want)
    # all ones: the unweighted loss
    assert torch.allclose(multi_positive_info_nce(sim, pos, pos.double()),
                          multi_positive_info_nce(sim, pos))
    # a positive of weight 0 gets no gradient and is no negative of the others
    sim.grad = None
    multi_positive_info_nce(sim, pos, weight).backward()
    assert sim.grad[2, 2] == 0
    other = sim.detach().clone()
    other[2, 2] = 50.0
    assert torch.allclose(multi_positive_info_nce(other, pos, weight),
                          multi_positive_info_nce(sim.detach(), pos, weight))

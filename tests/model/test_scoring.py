import numpy as np
import pytest
import torch

from tablegraph.model.config import EncoderConfig
from tablegraph.model.encoder import ContrastiveGNNEncoder
from tablegraph.model.linking import NUM_FEATURES
from tablegraph.model.scoring import QuestionHead, QuestionInputs, table_scores


def test_table_scores_take_the_best_node_of_each_table():
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    tables = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    nodes = torch.nn.functional.normalize(torch.randn(7, 8), dim=1)
    owner = torch.tensor([0, 0, 1, 1, 1, 3, 3])  # table 2 has no nodes
    link = torch.rand(3, 4, NUM_FEATURES)
    w = torch.rand(NUM_FEATURES)
    got = table_scores(q, tables, nodes, owner, 0.3, link, w)
    want = torch.zeros(3, 4)
    for i in range(3):
        for j in range(4):
            sims = [float(q[i] @ nodes[n]) for n in range(7) if owner[n] == j]
            best = max(sims) if sims else 0.0
            want[i, j] = 0.7 * float(q[i] @ tables[j]) + 0.3 * best + float(link[i, j] @ w)
    assert torch.allclose(got, want, atol=1e-6)


def test_question_head_scores_as_the_whole_encoder_does():
    torch.manual_seed(1)
    cfg = EncoderConfig(in_dim=128 + 16, out_dim=16, hidden_dim=32)
    enc = ContrastiveGNNEncoder(cfg).eval()
    with torch.no_grad():  # trained-looking question side: non-zero gate, weights and mix
        enc.token_gate.weight.normal_()
        enc.link_weight.uniform_()
        enc.mix_logit.fill_(0.4)
    head = QuestionHead.from_state(cfg, enc.state_dict())
    assert set(head.state_dict()) == {"token_gate.weight", "token_gate.bias", "link_weight",
                                      "mix_logit"}
    tokens = [np.random.default_rng(i).normal(size=(3 + i, 16)).astype(np.float32)
              for i in range(4)]
    vectors = np.stack([t.mean(0) / np.linalg.norm(t.mean(0)) for t in tokens])
    qs = QuestionInputs.from_arrays(vectors, tokens,
                                    np.random.default_rng(9).random((4, 5, NUM_FEATURES)))
    tables = torch.nn.functional.normalize(torch.randn(5, 16), dim=1)
    nodes = torch.nn.functional.normalize(torch.randn(9, 16), dim=1)
    owner = torch.tensor([0, 0, 1, 2, 2, 3, 4, 4, 4])
    with torch.no_grad():
        a = enc.score(qs, tables, nodes, owner)
        b = head.score(qs, tables, nodes, owner)
    assert torch.equal(a, b)
    assert not torch.allclose(a, qs.vectors @ tables.t())  # the question side did something
    with pytest.raises(KeyError):
        QuestionHead.from_state(cfg, {"token_gate.weight": torch.zeros(1, 16)})


def test_token_similarities_are_each_tokens_cosine_with_tables_and_their_best_node():
    from tablegraph.model.scoring import token_similarities

    tables = torch.nn.functional.normalize(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]), dim=-1)
    # table 0 has two nodes, table 1 none
    nodes = torch.nn.functional.normalize(torch.tensor([[0, 0, 1.0], [1.0, 1.0, 0]]), dim=-1)
    graph = torch.tensor([0, 0])
    tokens = [torch.tensor([[2.0, 0, 0], [0, 0, 3.0]]), torch.zeros((0, 3))]
    qs = QuestionInputs(torch.zeros((2, 3)), tokens)
    sims = token_similarities(qs, tables, nodes, graph)
    assert len(sims) == 2 and sims[0].shape == (2, 2, 2) and sims[1].shape == (2, 0, 2)
    # cosines with the tables' vectors: token 0 is table 0's direction, token 1 neither's
    assert np.allclose(sims[0][0], [[1, 0], [0, 0]])
    # best node: token 0 meets (1,1,0)/sqrt2, token 1 meets (0,0,1); table 1 has no node: -1
    assert np.allclose(sims[0][1], [[2 ** -0.5, -1], [1, -1]])
    assert token_similarities(QuestionInputs(torch.zeros((1, 3))), tables, nodes, graph) is None


def test_token_similarities_take_each_tables_best_node_in_any_node_order():
    from tablegraph.model.scoring import token_similarities

    gen = torch.Generator().manual_seed(0)
    tables = torch.nn.functional.normalize(torch.randn(4, 8, generator=gen), dim=-1)
    nodes = torch.nn.functional.normalize(torch.randn(12, 8, generator=gen), dim=-1)
    graph = torch.tensor([0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3])  # table 2 has no node
    qs = QuestionInputs(torch.zeros((1, 8)), [torch.randn(5, 8, generator=gen)])
    runs = token_similarities(qs, tables, nodes, graph)[0]
    perm = torch.randperm(12, generator=gen)  # the same nodes, not stored table by table
    mixed = token_similarities(qs, tables, nodes[perm], graph[perm])[0]
    assert np.allclose(runs, mixed, atol=1e-6)
    t = torch.nn.functional.normalize(qs.tokens[0], dim=-1)
    expect = torch.stack([(t @ nodes[graph == j].t()).max(dim=1).values for j in (0, 1, 3)], 1)
    assert np.allclose(runs[1][:, [0, 1, 3]], expect.numpy(), atol=1e-6)
    assert np.all(runs[1][:, 2] == -1)


def test_the_dense_prior_adds_the_zero_shot_cosine_when_scoring_an_index(tiny_tables, tmp_path):
    """With `dense_weight` w, scoring against an index adds w * cos(question's sentence
    embedding, table's document embedding); the training loss's `score` (no documents) and a
    model with w = 0 leave it out; an index without documents is refused, not misread."""
    from tablegraph.graphs.build import build_graphs
    from tablegraph.graphs.nodes import DOCUMENT_CHARS, GraphConfig
    from tablegraph.model.index import TableIndex, build_index
    from tablegraph.model.scoring import Scorer
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.sources import discover
    from tablegraph.text.encoders import load_text_encoder
    from tablegraph.utils import TableGraphError

    enc = load_text_encoder("hash:64")
    graphs = build_graphs(profile_tables(discover(tiny_tables), progress=False), enc,
                          GraphConfig())
    torch.manual_seed(0)
    plain = ContrastiveGNNEncoder(EncoderConfig(in_dim=128 + 64, out_dim=64, hidden_dim=32))
    prior = ContrastiveGNNEncoder(EncoderConfig(in_dim=128 + 64, out_dim=64, hidden_dim=32,
                                                dense_weight=0.5))
    prior.load_state_dict(plain.state_dict())
    plain.eval(), prior.eval()
    index = build_index(prior, graphs)
    assert index.documents is not None and index.documents.shape == (len(graphs), 64)
    texts = ["heparin route", "gender of the patient", "lab value unit"]
    a, b = Scorer(plain, enc)(texts, index), Scorer(prior, enc)(texts, index)
    docs = enc.encode([g.nodes.document(DOCUMENT_CHARS) for g in graphs])
    cos = enc.encode(texts) @ docs.T  # [Q, M]
    assert np.allclose(b - a, 0.5 * cos, atol=1e-5) and np.abs(cos).max() > 0.1
    qs = Scorer(prior, enc).inputs(texts, index)
    vectors, nodes, owner = index.tensors()
    with torch.no_grad():  # what the training loss scores: no prior
        assert np.allclose(prior.score(qs, vectors, nodes, owner).numpy(), a, atol=1e-6)
    index.save(tmp_path)
    again = TableIndex.load(tmp_path)
    assert np.array_equal(again.documents, index.documents)
    assert np.allclose(Scorer(prior, enc)(texts, again), b, atol=1e-6)
    without = TableIndex(index.names, index.vectors, index.nodes, index.node_vectors,
                         index.node_graph)
    assert np.allclose(Scorer(plain, enc)(texts, without), a, atol=1e-6)
    with pytest.raises(TableGraphError, match="no table documents"):
        Scorer(prior, enc)(texts, without)


def test_the_encoder_weight_scales_the_encoders_cosines_when_scoring_an_index(tiny_tables):
    """With `encoder_weight` w, scoring against an index gives w * (the encoder's table and
    best-node cosines) + the linking features + the dense prior; the training loss's `score`
    keeps the cosines whole."""
    from tablegraph.graphs.build import build_graphs
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.model.index import build_index
    from tablegraph.model.scoring import Scorer
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.sources import discover
    from tablegraph.text.encoders import load_text_encoder

    enc = load_text_encoder("hash:64")
    graphs = build_graphs(profile_tables(discover(tiny_tables), progress=False), enc,
                          GraphConfig())
    torch.manual_seed(0)
    kw = dict(in_dim=128 + 64, out_dim=64, hidden_dim=32, dense_weight=0.3)
    whole = ContrastiveGNNEncoder(EncoderConfig(**kw))
    half = ContrastiveGNNEncoder(EncoderConfig(**kw, encoder_weight=0.5))
    with torch.no_grad():
        whole.link_weight.uniform_()
    half.load_state_dict(whole.state_dict())
    whole.eval(), half.eval()
    index = build_index(whole, graphs)
    texts = ["heparin route", "gender of the patient", "lab value unit"]
    qs = Scorer(whole, enc).inputs(texts, index)
    vectors, nodes, owner = index.tensors()
    with torch.no_grad():
        cosines = table_scores(whole.question_vectors(qs), vectors, nodes, owner, whole.mix())
        link = qs.link @ whole.link_weight
        assert float(link.abs().max()) > 0.01  # the linking term is there to be kept whole
        dense = Scorer(whole, enc).dense(qs, index)
        a = Scorer(whole, enc)(texts, index)
        b = Scorer(half, enc)(texts, index)
        assert np.allclose(a, (cosines + link + 0.3 * dense).numpy(), atol=1e-5)
        assert np.allclose(b, (0.5 * cosines + link + 0.3 * dense).numpy(), atol=1e-5)
        # what the training loss scores: the cosines whole, no prior
        assert torch.allclose(half.score(qs, vectors, nodes, owner), cosines + link, atol=1e-5)
    with pytest.raises(Exception, match="encoder_weight"):
        EncoderConfig(encoder_weight=0).validate()

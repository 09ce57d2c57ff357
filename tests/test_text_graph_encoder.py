import numpy as np
import pytest
import torch

from tablegraph.encoder import ContrastiveGNNEncoder, EncoderConfig
from tablegraph.graph import COLUMN, TABLE, VALUE, GraphConfig, build_graphs, shared_keys
from tablegraph.index import batch_graphs
from tablegraph.profile import profile_tables
from tablegraph.sources import discover
from tablegraph.text import HashEncoder, load_text_encoder, name_to_words


def test_name_to_words():
    assert name_to_words("hadm_id") == "hospital admission id"
    assert name_to_words("itemId") == "item id"
    assert name_to_words("d_icd_diagnoses", table=True) == "dictionary icd diagnoses"
    assert name_to_words("HTTPServerURL") == "http server url"
    assert name_to_words("") == ""


def test_hash_encoder_is_normalised_and_cached(tmp_path):
    enc = HashEncoder(32, use_cache=True)
    v = enc.encode(["hello world", "hello world", "other"])
    assert v.shape == (3, 32)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert np.array_equal(v[0], v[1])
    assert np.array_equal(enc.encode(["other"])[0], v[2])


def test_graphs_have_unit_features_and_expected_edges(tiny_tables):
    profs = profile_tables(discover(tiny_tables), progress=False)
    enc = load_text_encoder("hash:64")
    graphs = build_graphs(profs, enc, GraphConfig(values_per_column=2))
    for p, g in zip(profs, graphs):
        assert g.x.shape[1] == 128 + 64
        assert torch.allclose(g.x.norm(dim=1), torch.ones(g.num_nodes), atol=1e-5)
        assert not torch.isnan(g.x).any()
        types = g.node_type.tolist()
        assert types.count(COLUMN) == len(p.columns) and types.count(TABLE) == 1
        assert types.count(VALUE) <= 2 * len(p.columns)
        assert int(g.edge_index.max()) < g.num_nodes
    no_values = build_graphs(profs, enc, GraphConfig(value_nodes=False, column_edges=False))
    assert all(VALUE not in g.node_type.tolist() for g in no_values)
    keys = shared_keys(profs)
    assert ("subject_id", "patients") in keys["labevents"]


@pytest.mark.parametrize("conv", ["gatv2", "gin", "sage"])
@pytest.mark.parametrize("pooling", ["attention", "meanmax"])
def test_encoder_shapes_on_four_node_graphs(conv, pooling):
    from torch_geometric.data import Data

    torch.manual_seed(0)
    cfg = EncoderConfig(in_dim=128 + 16, out_dim=16, hidden_dim=32, conv=conv, pooling=pooling)
    model = ContrastiveGNNEncoder(cfg)
    graphs = []
    for _ in range(3):
        x = torch.nn.functional.normalize(torch.randn(4, 144), dim=1)
        ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        graphs.append(Data(x=x, edge_index=ei, node_type=torch.tensor([0, 0, 1, 2])))
    b = batch_graphs(graphs)
    out = model(b.x, b.edge_index, b.batch, b.node_type)
    assert out.shape == (3, 16)
    assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None for p in model.head.parameters())


def test_bad_encoder_config():
    from tablegraph.utils import TableGraphError

    with pytest.raises(TableGraphError):
        EncoderConfig(conv="gcn").validate()
    with pytest.raises(TableGraphError, match="unknown config keys"):
        EncoderConfig.from_dict({"nope": 1})
    with pytest.raises(TableGraphError, match="expected int"):
        EncoderConfig.from_dict({"hidden_dim": "big"})

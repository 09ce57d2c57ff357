import collections
import gzip
import csv
import io

import pytest

from tablegraph.datasets import embedded as dataset
from conftest import SHARED


def test_generation_is_deterministic(tmp_path):
    a, b = dataset.generate(0), dataset.generate(0)
    assert all(a[t].rows == b[t].rows for t in dataset.TABLES)
    assert dataset.generate(1)["admissions"].rows != a["admissions"].rows
    dataset.export(tmp_path / "x", 0)
    dataset.export(tmp_path / "y", 0)
    for t in dataset.TABLES:
        assert (tmp_path / "x/hosp" / f"{t}.csv.gz").read_bytes() == \
            (tmp_path / "y/hosp" / f"{t}.csv.gz").read_bytes()


def test_every_table_has_its_mimic_columns_and_sane_size():
    g = dataset.generate(0)
    assert sorted(g) == sorted(dataset.TABLES) and len(g) == 22
    for name, t in g.items():
        assert t.columns == dataset.SCHEMA[name]
        assert 50 <= len(t.rows) <= 20_000, name
        assert all(len(r) == len(t.columns) for r in t.rows)


@pytest.mark.skipif(not (SHARED / "mimic-iv-demo/hosp").is_dir(), reason="real demo absent")
def test_columns_equal_the_real_demo_headers():
    for name in dataset.TABLES:
        with gzip.open(SHARED / "mimic-iv-demo/hosp" / f"{name}.csv.gz", "rt") as f:
            assert next(csv.reader(f)) == dataset.SCHEMA[name], name


def _col(g, table, col):
    t = g[table]
    i = t.columns.index(col)
    return {r[i] for r in t.rows if r[i] is not None}


def test_keys_join():
    g = dataset.generate(0)
    subjects = _col(g, "patients", "subject_id")
    hadm = _col(g, "admissions", "hadm_id")
    for t in dataset.TABLES:
        if "subject_id" in g[t].columns:
            assert _col(g, t, "subject_id") <= subjects, t
        if "hadm_id" in g[t].columns and t != "admissions":
            assert _col(g, t, "hadm_id") <= hadm, t
    assert _col(g, "labevents", "itemid") <= _col(g, "d_labitems", "itemid")
    assert _col(g, "diagnoses_icd", "icd_code") <= _col(g, "d_icd_diagnoses", "icd_code")
    assert _col(g, "procedures_icd", "icd_code") <= _col(g, "d_icd_procedures", "icd_code")
    assert _col(g, "hcpcsevents", "hcpcs_cd") <= _col(g, "d_hcpcs", "code")
    assert _col(g, "emar_detail", "emar_id") <= _col(g, "emar", "emar_id")
    assert _col(g, "emar", "pharmacy_id") <= _col(g, "pharmacy", "pharmacy_id")
    assert _col(g, "prescriptions", "pharmacy_id") == _col(g, "pharmacy", "pharmacy_id")
    poe = _col(g, "poe", "poe_id")
    for t in ("poe_detail", "prescriptions", "pharmacy", "emar"):
        assert _col(g, t, "poe_id") <= poe, t
    providers = _col(g, "provider", "provider_id")
    assert _col(g, "admissions", "admit_provider_id") <= providers
    assert _col(g, "poe", "order_provider_id") <= providers
    assert _col(g, "labevents", "order_provider_id") <= providers


def test_questions_file_is_valid():
    qs = dataset.load_questions()
    assert len(qs) == 440
    per = collections.Counter(t for t, _ in qs)
    assert set(per) == set(dataset.TABLES) and set(per.values()) == {20}
    assert len({q for _, q in qs}) == 440
    naming = collections.Counter(
        t for t, q in qs if t in q.lower() or t.replace("_", " ") in q.lower())
    assert max(naming.values()) <= 5
    text = dataset.questions_text()
    assert text.splitlines()[0] == "table,question"
    assert len(list(csv.DictReader(io.StringIO(text)))) == 440

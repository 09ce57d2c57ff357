import os
import tempfile
from pathlib import Path

import pytest

# Every test run gets its own cache folder: no test reads or writes the user's cache.
os.environ["TABLEGRAPH_CACHE"] = tempfile.mkdtemp(prefix="tablegraph-test-cache-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def tiny_tables(tmp_path: Path) -> Path:
    """Three small CSV tables and a questions file."""
    d = tmp_path / "db"
    d.mkdir()
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
    qs = ["table,question"]
    for t, words in (("patients", ["gender of the person", "age of each person", "sex and age",
                                   "how old is the patient", "female or male"]),
                     ("labevents", ["creatinine value", "lab result units", "latest lab value",
                                    "blood test result", "measured values by time"]),
                     ("prescriptions", ["which drug was given", "route of the medication",
                                        "dose of heparin", "insulin orders", "aspirin dose"])):
        qs += [f"{t},{w}" for w in words]
    qs.append("patients|labevents,lab values for female patients")
    (tmp_path / "questions.csv").write_text("\n".join(qs) + "\n")
    return d

"""Identifiers in words: `name_to_words("hadm_id")` -> "hospital admission id", before a
name is embedded or matched. No model, no numpy."""

from __future__ import annotations

import re

# Abbreviations common in database column names, spelt out so the encoder can read them.
ABBREVIATIONS: dict[str, str] = {
    "id": "id", "cd": "code", "dt": "date", "desc": "description", "seq": "sequence",
    "num": "number", "qty": "quantity", "uom": "unit of measure", "amt": "amount",
    "val": "value", "txt": "text", "dob": "date of birth", "dod": "date of death",
    "hadm": "hospital admission", "subj": "subject", "icd": "icd", "drg": "drg",
    "rx": "prescription", "dx": "diagnosis", "px": "procedure", "addr": "address",
    "pct": "percent", "cnt": "count", "nbr": "number", "no": "number", "yr": "year",
    "ts": "timestamp", "tm": "time", "org": "organism", "ab": "antibiotic", "spec": "specimen",
    "poe": "provider order entry", "emar": "electronic medication administration record",
    "omr": "online medical record", "hcpcs": "hcpcs", "ed": "emergency department",
    "los": "length of stay", "ndc": "ndc", "gsn": "gsn", "disp": "dispensed",
    "sched": "schedule", "hrs": "hours", "hr": "hour", "doses": "doses",
    "careunit": "care unit", "labevents": "lab events", "labitems": "lab items",
    "hcpcsevents": "hcpcs events", "microbiologyevents": "microbiology events",
    "chartevents": "chart events", "datetimeevents": "datetime events",
    "inputevents": "input events", "outputevents": "output events",
    "procedureevents": "procedure events", "ingredientevents": "ingredient events",
    "icustays": "icu stays", "drgcodes": "drg codes", "eventtype": "event type",
    "itemid": "item id", "chartdate": "chart date", "charttime": "chart time",
    "storetime": "store time", "storedate": "store date", "admittime": "admit time",
    "dischtime": "discharge time", "deathtime": "death time", "intime": "in time",
    "outtime": "out time", "starttime": "start time", "stoptime": "stop time",
    "endtime": "end time", "ordertime": "order time", "entertime": "enter time",
    "edregtime": "ed registration time", "edouttime": "ed out time",
    "transfertime": "transfer time", "scheduletime": "schedule time",
    "verifiedtime": "verified time", "expirationdate": "expiration date",
    "valuenum": "value number", "valueuom": "value unit of measure",
}


def name_to_words(name: str, table: bool = False) -> str:
    """Identifier -> words: `hadm_id` -> "hospital admission id", `itemId` -> "item id".

    For table names a leading `d` / `dim` (dictionary / dimension tables) is spelt out.
    """
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", s) if t]
    words = []
    for i, t in enumerate(tokens):
        low = t.lower()
        if table and i == 0 and low in ("d", "dim") and len(tokens) > 1:
            words.append("dictionary" if low == "d" else "dimension")
        else:
            words.append(ABBREVIATIONS.get(low, low))
    return " ".join(words) if words else name

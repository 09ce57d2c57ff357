"""The embedded default dataset: a synthetic stand-in for the 22 MIMIC-IV hosp tables.

Generated deterministically from a seed with no network and no real data. Table and column
names, column order and types follow the MIMIC-IV demo v2.2 `hosp/*.csv.gz` headers; values are
drawn from hand-written vocabularies (`tablegraph.datasets.vocab`) with keys that join across tables
(subject_id, hadm_id, itemid, pharmacy_id, poe_id, emar_id, icd_code, hcpcs_cd, provider_id).

`generate(seed)` returns `{table: GeneratedTable}`; `export(dir, seed)` writes
`dir/hosp/<table>.csv.gz` and `dir/questions.csv`, so the result reads like a MIMIC-IV folder.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from tablegraph.datasets import vocab as V
from tablegraph.utils import TableGraphError, atomic_write_bytes, cache_root

DEFAULT_SEED = 0

# The real MIMIC-IV hosp schema, in column order.
SCHEMA: dict[str, list[str]] = {
    "admissions": ["subject_id", "hadm_id", "admittime", "dischtime", "deathtime", "admission_type",
                   "admit_provider_id", "admission_location", "discharge_location", "insurance",
                   "language", "marital_status", "race", "edregtime", "edouttime",
                   "hospital_expire_flag"],
    "d_hcpcs": ["code", "category", "long_description", "short_description"],
    "d_icd_diagnoses": ["icd_code", "icd_version", "long_title"],
    "d_icd_procedures": ["icd_code", "icd_version", "long_title"],
    "d_labitems": ["itemid", "label", "fluid", "category"],
    "diagnoses_icd": ["subject_id", "hadm_id", "seq_num", "icd_code", "icd_version"],
    "drgcodes": ["subject_id", "hadm_id", "drg_type", "drg_code", "description", "drg_severity",
                 "drg_mortality"],
    "emar": ["subject_id", "hadm_id", "emar_id", "emar_seq", "poe_id", "pharmacy_id",
             "enter_provider_id", "charttime", "medication", "event_txt", "scheduletime",
             "storetime"],
    "emar_detail": ["subject_id", "emar_id", "emar_seq", "parent_field_ordinal",
                    "administration_type", "pharmacy_id", "barcode_type", "reason_for_no_barcode",
                    "complete_dose_not_given", "dose_due", "dose_due_unit", "dose_given",
                    "dose_given_unit", "will_remainder_of_dose_be_given", "product_amount_given",
                    "product_unit", "product_code", "product_description",
                    "product_description_other", "prior_infusion_rate", "infusion_rate",
                    "infusion_rate_adjustment", "infusion_rate_adjustment_amount",
                    "infusion_rate_unit", "route", "infusion_complete", "completion_interval",
                    "new_iv_bag_hung", "continued_infusion_in_other_location", "restart_interval",
                    "side", "site", "non_formulary_visual_verification"],
    "hcpcsevents": ["subject_id", "hadm_id", "chartdate", "hcpcs_cd", "seq_num",
                    "short_description"],
    "labevents": ["labevent_id", "subject_id", "hadm_id", "specimen_id", "itemid",
                  "order_provider_id", "charttime", "storetime", "value", "valuenum", "valueuom",
                  "ref_range_lower", "ref_range_upper", "flag", "priority", "comments"],
    "microbiologyevents": ["microevent_id", "subject_id", "hadm_id", "micro_specimen_id",
                           "order_provider_id", "chartdate", "charttime", "spec_itemid",
                           "spec_type_desc", "test_seq", "storedate", "storetime", "test_itemid",
                           "test_name", "org_itemid", "org_name", "isolate_num", "quantity",
                           "ab_itemid", "ab_name", "dilution_text", "dilution_comparison",
                           "dilution_value", "interpretation", "comments"],
    "omr": ["subject_id", "chartdate", "seq_num", "result_name", "result_value"],
    "patients": ["subject_id", "gender", "anchor_age", "anchor_year", "anchor_year_group", "dod"],
    "pharmacy": ["subject_id", "hadm_id", "pharmacy_id", "poe_id", "starttime", "stoptime",
                 "medication", "proc_type", "status", "entertime", "verifiedtime", "route",
                 "frequency", "disp_sched", "infusion_type", "sliding_scale", "lockout_interval",
                 "basal_rate", "one_hr_max", "doses_per_24_hrs", "duration", "duration_interval",
                 "expiration_value", "expiration_unit", "expirationdate", "dispensation",
                 "fill_quantity"],
    "poe": ["poe_id", "poe_seq", "subject_id", "hadm_id", "ordertime", "order_type",
            "order_subtype", "transaction_type", "discontinue_of_poe_id", "discontinued_by_poe_id",
            "order_provider_id", "order_status"],
    "poe_detail": ["poe_id", "poe_seq", "subject_id", "field_name", "field_value"],
    "prescriptions": ["subject_id", "hadm_id", "pharmacy_id", "poe_id", "poe_seq",
                      "order_provider_id", "starttime", "stoptime", "drug_type", "drug",
                      "formulary_drug_cd", "gsn", "ndc", "prod_strength", "form_rx", "dose_val_rx",
                      "dose_unit_rx", "form_val_disp", "form_unit_disp", "doses_per_24_hrs",
                      "route"],
    "procedures_icd": ["subject_id", "hadm_id", "seq_num", "chartdate", "icd_code", "icd_version"],
    "provider": ["provider_id"],
    "services": ["subject_id", "hadm_id", "transfertime", "prev_service", "curr_service"],
    "transfers": ["subject_id", "hadm_id", "transfer_id", "eventtype", "careunit", "intime",
                  "outtime"],
}
TABLES: list[str] = sorted(SCHEMA)


@dataclass(frozen=True)
class GeneratedTable:
    """One generated table: `columns` in schema order, `rows` as tuples (None = null)."""

    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, float):
        return f"{v:g}" if abs(v) < 1e6 else f"{v:.1f}"
    return str(v)


class _Gen:
    """Draws every table in a fixed order from one `random.Random(seed)`."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.t: dict[str, list[tuple[Any, ...]]] = {}

    # small helpers -------------------------------------------------------------------------
    def pick(self, xs: list[Any]) -> Any:
        return xs[self.r.randrange(len(xs))]

    def maybe(self, v: Any, p_null: float) -> Any:
        return None if self.r.random() < p_null else v

    def minutes(self, t: datetime, lo: float, hi: float, seconds: bool = False) -> datetime:
        delta = timedelta(minutes=self.r.uniform(lo, hi))
        out = t + delta
        return out.replace(microsecond=0) if seconds else out.replace(second=0, microsecond=0)

    def provider(self) -> str:
        return self.pick(self.providers)

    # tables --------------------------------------------------------------------------------
    def run(self) -> dict[str, GeneratedTable]:
        self.gen_provider()
        self.gen_patients()
        self.gen_admissions()
        self.gen_transfers_services()
        self.gen_dictionaries()
        self.gen_coded_events()
        self.gen_labs()
        self.gen_micro()
        self.gen_omr()
        self.gen_orders_and_meds()
        return {name: GeneratedTable(name, SCHEMA[name], self.t[name]) for name in TABLES}

    def gen_provider(self) -> None:
        chars = string.ascii_uppercase + string.digits
        ids: set[str] = set()
        while len(ids) < 600:
            ids.add("P" + "".join(self.r.choice(chars) for _ in range(5)))
        self.providers = sorted(ids)
        self.t["provider"] = [(p,) for p in self.providers]

    def gen_patients(self) -> None:
        self.patients: list[dict[str, Any]] = []
        ids = sorted(self.r.sample(range(10000032, 10040000), 100))
        rows = []
        for sid in ids:
            year = self.r.randint(2110, 2200)
            age = min(91, max(18, int(self.r.gauss(62, 17))))
            grp = self.pick(V.ANCHOR_YEAR_GROUPS)
            dod = None
            if self.r.random() < 0.3:
                dod = (datetime(year, 1, 1) + timedelta(days=self.r.randint(30, 3000))).date()
            g = self.pick(["F", "M"])
            self.patients.append({"id": sid, "year": year, "dod": dod})
            rows.append((sid, g, age, year, grp, dod))
        self.t["patients"] = rows

    def gen_admissions(self) -> None:
        self.adm: list[dict[str, Any]] = []
        hadm_ids = self.r.sample(range(20000000, 29999999), 400)
        rows = []
        k = 0
        for p in self.patients:
            n = max(1, min(10, int(self.r.expovariate(1 / 2.6)) + 1))
            t = datetime(p["year"], 1, 1) + timedelta(days=self.r.randint(0, 700),
                                                      minutes=self.r.randint(0, 1439))
            for _ in range(n):
                if k >= len(hadm_ids):
                    break
                hadm = hadm_ids[k]
                k += 1
                admit = t.replace(second=0)
                los_h = self.r.uniform(20, 24 * 14)
                disch = self.minutes(admit, los_h * 60, los_h * 60)
                died = self.r.random() < 0.06
                atype = self.pick(V.ADMISSION_TYPES)
                ed = atype in ("EW EMER.", "URGENT", "DIRECT EMER.", "EU OBSERVATION") and \
                    self.r.random() < 0.8
                edreg = self.minutes(admit, -300, -30) if ed else None
                edout = self.minutes(admit, 10, 120) if ed else None
                rows.append((p["id"], hadm, admit, disch, disch if died else None, atype,
                             self.maybe(self.provider(), 0.05), self.pick(V.ADMISSION_LOCATIONS),
                             "DIED" if died else self.maybe(self.pick(V.DISCHARGE_LOCATIONS[:6]), 0.25),
                             self.pick(V.INSURANCE), self.pick(V.LANGUAGES), self.pick(V.MARITAL),
                             self.pick(V.RACES), edreg, edout, int(died)))
                self.adm.append({"sid": p["id"], "hadm": hadm, "admit": admit, "disch": disch})
                t = disch + timedelta(days=self.r.randint(10, 400))
        self.t["admissions"] = rows

    def gen_transfers_services(self) -> None:
        trows, srows = [], []
        tid = 30000000
        for a in self.adm:
            units = [self.pick(V.CARE_UNITS[2:]) for _ in range(self.r.randint(1, 5))]
            t = a["admit"]
            span = (a["disch"] - a["admit"]).total_seconds() / 60
            if self.r.random() < 0.6:
                tid += self.r.randint(1, 9000)
                ed_in = self.minutes(t, -240, -60, seconds=True)
                trows.append((a["sid"], a["hadm"], tid, "ED", self.pick(V.CARE_UNITS[:2]),
                              ed_in, t))
            step = span / len(units)
            for i, u in enumerate(units):
                tid += self.r.randint(1, 9000)
                out = t + timedelta(minutes=step)
                trows.append((a["sid"], a["hadm"], tid, "admit" if i == 0 else "transfer", u,
                              t, out.replace(microsecond=0)))
                t = out.replace(microsecond=0)
            tid += self.r.randint(1, 9000)
            trows.append((a["sid"], a["hadm"], tid, "discharge", None, t, None))
            prev = None
            for _ in range(self.r.randint(1, 2)):
                cur = self.pick(V.SERVICES)
                st = self.minutes(a["admit"], -30, span * 0.8, seconds=True)
                srows.append((a["sid"], a["hadm"], st, prev, cur))
                prev = cur
        self.t["transfers"] = trows
        self.t["services"] = srows

    def gen_dictionaries(self) -> None:
        self.t["d_labitems"] = [(i, lab, fl, cat) for i, lab, fl, cat, *_ in V.LAB_ITEMS]
        diag, proc = [], []
        for c9, c10, t9, t10 in V.DIAGNOSES:
            diag += [(c9, 9, t9), (c10, 10, t10)]
        for c9, c10, t9, t10 in V.PROCEDURES:
            proc += [(c9, 9, t9), (c10, 10, t10)]
        self.t["d_icd_diagnoses"] = sorted(diag, key=lambda x: (x[1], x[0]))
        self.t["d_icd_procedures"] = sorted(proc, key=lambda x: (x[1], x[0]))
        rows = []
        for code, long, short, cat in V.HCPCS:
            rows.append((code, cat or None, long, short if short else long.split(",")[0][:28]))
        self.t["d_hcpcs"] = rows

    def gen_coded_events(self) -> None:
        drows, prows, grows, hrows = [], [], [], []
        hcpcs_events = [h for h in V.HCPCS if h[3]]
        for a in self.adm:
            version = 9 if a["admit"].year < 2160 else 10
            for seq in range(1, self.r.randint(4, 16)):
                d = self.pick(V.DIAGNOSES)
                drows.append((a["sid"], a["hadm"], seq, d[0] if version == 9 else d[1], version))
            if self.r.random() < 0.6:
                for seq in range(1, self.r.randint(2, 6)):
                    pr = self.pick(V.PROCEDURES)
                    day = self.minutes(a["admit"], 0, (a["disch"] - a["admit"]).total_seconds() / 60)
                    prows.append((a["sid"], a["hadm"], seq, day.date(),
                                  pr[0] if version == 9 else pr[1], version))
            for typ in ("HCFA", "APR"):
                if self.r.random() < 0.8:
                    drg = self.pick([d for d in V.DRGS if d[2] == typ])
                    sev = self.r.randint(1, 4) if typ == "APR" else None
                    mort = self.r.randint(1, 4) if typ == "APR" else None
                    grows.append((a["sid"], a["hadm"], typ, drg[0], drg[1], sev, mort))
            if self.r.random() < 0.25:
                for seq in range(1, self.r.randint(2, 4)):
                    h = self.pick(hcpcs_events)
                    day = self.minutes(a["admit"], 0, (a["disch"] - a["admit"]).total_seconds() / 60)
                    hrows.append((a["sid"], a["hadm"], day.date(), h[0], seq, h[2]))
        self.t["diagnoses_icd"] = drows
        self.t["procedures_icd"] = prows
        self.t["drgcodes"] = grows
        self.t["hcpcsevents"] = hrows

    def gen_labs(self) -> None:
        rows = []
        eid = 1000
        spec = 1000000
        panels = [V.LAB_ITEMS[i:i + 8] for i in range(0, len(V.LAB_ITEMS), 8)]
        for a in self.adm:
            span = (a["disch"] - a["admit"]).total_seconds() / 60
            for _ in range(self.r.randint(2, 9)):
                panel = self.pick(panels)
                t = self.minutes(a["admit"], -600, span)
                store = self.minutes(t, 30, 240)
                spec += self.r.randint(1, 5000)
                prio = self.pick(["ROUTINE", "STAT", "ROUTINE", None])
                prov = self.maybe(self.provider(), 0.7)
                hadm = self.maybe(a["hadm"], 0.1)
                for item, label, _fluid, _cat, unit, lo, hi, dec in panel:
                    eid += self.r.randint(1, 3)
                    if lo == hi == 0:
                        value = self.pick(["NEG", "TR", "POS", "NONE", "___", "ART"])
                        num = None
                        ref_lo = ref_hi = None
                        flag = None
                    else:
                        width = hi - lo if hi > lo else 1.0
                        x = self.r.gauss((lo + hi) / 2, width * 0.45)
                        num = round(max(0.0, x) if lo >= 0 else x, dec)
                        value = f"{num:.{dec}f}" if dec else str(int(num))
                        ref_lo, ref_hi = lo, hi
                        flag = "abnormal" if not (lo <= num <= hi) else None
                    comment = None
                    if self.r.random() < 0.04:
                        comment = self.pick(["HEMOLYZED SPECIMEN.", "VERIFIED BY REPLICATE ANALYSIS.",
                                             "___", "NOTIFIED DR. ___ AT 10:15AM."])
                    rows.append((eid, a["sid"], hadm, spec, item, prov, t, store, value, num,
                                 unit or None, ref_lo, ref_hi, flag, prio, comment))
        self.t["labevents"] = rows

    def gen_micro(self) -> None:
        rows = []
        mid = 0
        spec = 5000000
        for a in self.adm:
            if self.r.random() < 0.45:
                continue
            for _ in range(self.r.randint(1, 4)):
                spec_item, spec_desc, test_item, test_name = self.pick(V.MICRO_TESTS)
                t = self.minutes(a["admit"], 0, (a["disch"] - a["admit"]).total_seconds() / 60)
                day = t.replace(hour=0, minute=0)
                store = self.minutes(t, 60 * 24, 60 * 24 * 4)
                spec += self.r.randint(1, 9000)
                prov = self.maybe(self.provider(), 0.6)
                positive = self.r.random() < 0.35
                if not positive:
                    mid += 1
                    rows.append((mid, a["sid"], a["hadm"], spec, prov, day, t, spec_item, spec_desc,
                                 1, store.replace(hour=0, minute=0), store, test_item, test_name,
                                 None, None, None, None, None, None, None, None, None, None,
                                 self.pick(V.MICRO_COMMENTS)))
                    continue
                org_id, org = self.pick(V.ORGANISMS)
                qty = self.pick(["10,000-100,000 CFU/mL", ">100,000 CFU/mL", "SPARSE GROWTH",
                                 "MODERATE GROWTH", None])
                for ab_id, ab in self.r.sample(V.ANTIBIOTICS, self.r.randint(3, 9)):
                    mid += 1
                    interp = self.pick(["S", "S", "S", "R", "I"])
                    dil = self.pick([0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
                    comp = "<=" if interp == "S" else ("=>" if interp == "R" else "=")
                    rows.append((mid, a["sid"], a["hadm"], spec, prov, day, t, spec_item, spec_desc,
                                 1, store.replace(hour=0, minute=0), store, test_item, test_name,
                                 org_id, org, 1, qty, ab_id, ab, f"{comp}{dil:g}", comp, dil,
                                 interp, None))
        self.t["microbiologyevents"] = rows

    def gen_omr(self) -> None:
        rows = []
        for p in self.patients:
            for _ in range(self.r.randint(3, 30)):
                day = (datetime(p["year"], 1, 1) + timedelta(days=self.r.randint(0, 1500))).date()
                name, lo, hi = self.pick(V.OMR_RESULTS)
                if name.startswith("Blood Pressure"):
                    val = f"{self.r.randint(95, 175)}/{self.r.randint(50, 100)}"
                elif "eGFR" in name:
                    val = self.pick([str(self.r.randint(int(lo), int(hi))), ">60"])
                else:
                    val = f"{self.r.uniform(lo, hi):.1f}"
                rows.append((p["id"], day, self.r.randint(1, 3), name, val))
        self.t["omr"] = rows

    def gen_orders_and_meds(self) -> None:
        poe, poed, rx, ph, emar, emard = [], [], [], [], [], []
        used_pharm: set[int] = set()
        for a in self.adm:
            sid, hadm = a["sid"], a["hadm"]
            span = (a["disch"] - a["admit"]).total_seconds() / 60
            seq = self.r.randint(1, 40)
            emar_seq = self.r.randint(1, 30)
            prov = self.provider()
            for _ in range(self.r.randint(3, 22)):
                seq += self.r.randint(1, 6)
                poe_id = f"{sid}-{seq}"
                otime = self.minutes(a["admit"], 0, span * 0.9, seconds=True)
                # Medication orders dominate a real order log.
                otype, subtypes = V.ORDER_TYPES[0] if self.r.random() < 0.45 else \
                    self.pick(V.ORDER_TYPES[1:])
                sub = self.pick(subtypes)
                tx = self.pick(V.TRANSACTION_TYPES) if self.r.random() < 0.3 else "New"
                disc_of = f"{sid}-{seq - self.r.randint(1, 5)}" if tx in ("Change", "Discontinue") else None
                disc_by = f"{sid}-{seq + self.r.randint(1, 5)}" if self.r.random() < 0.3 else None
                poe.append((poe_id, seq, sid, hadm, otime, otype, sub, tx, disc_of, disc_by,
                            self.maybe(prov, 0.05), self.pick(V.ORDER_STATUS)))
                if otype in ("ADT orders", "General Care", "Consults") and self.r.random() < 0.5:
                    fname, fvals = self.pick(V.POE_DETAIL_FIELDS)
                    poed.append((poe_id, seq, sid, fname, self.pick(fvals)))
                if otype != "Medications":
                    continue
                drug = self.pick(V.DRUGS)
                name, fcode, strength, form, dose, unit, route, dtype = drug
                pid = self.r.randint(10000000, 99999999)
                while pid in used_pharm:
                    pid = self.r.randint(10000000, 99999999)
                used_pharm.add(pid)
                start = otime.replace(minute=0, second=0)
                stop = self.maybe(self.minutes(start, 60 * 6, 60 * 24 * 5).replace(minute=0), 0.1)
                freq = self.pick(V.FREQUENCIES)
                per24 = {"Q6H": 4, "Q8H": 3, "Q12H": 2, "Q24H": 1, "DAILY": 1, "BID": 2, "TID": 3,
                         "QID": 4, "ONCE": 1, "HS": 1}.get(freq)
                gsn = f"{self.r.randint(1000, 69999):06d}"
                ndc = f"{self.r.randint(100000, 99999999):011d}"
                rx.append((sid, hadm, pid, poe_id, seq, self.maybe(prov, 0.1), start, stop, dtype,
                           name, fcode, self.maybe(gsn, 0.1), self.maybe(ndc, 0.05), strength,
                           form, dose, unit, self.r.choice(["1", "2", "0.5", dose]), form,
                           per24, route))
                iv = route.startswith("IV")
                ph.append((sid, hadm, pid, poe_id, start, stop, name, self.pick(V.PROC_TYPES),
                           self.pick(V.PHARMACY_STATUS), self.minutes(otime, 1, 30, seconds=True),
                           self.maybe(self.minutes(otime, 5, 90, seconds=True), 0.2), route, freq,
                           self.pick(V.DISP_SCHED), self.pick(V.INFUSION_TYPES) if iv else None,
                           self.maybe("Insulin sliding scale", 0.97) if "Insulin" in name else None,
                           None, round(self.r.uniform(0.5, 5), 1) if "PCA" in name else None,
                           None, per24, self.r.randint(1, 14) if self.r.random() < 0.3 else None,
                           self.pick(V.DURATION_INTERVALS),
                           self.r.choice([None, 36, 72, 365]), self.r.choice([None, "Hours", "Days"]),
                           None, self.pick(V.DISPENSATION),
                           self.maybe(str(self.r.randint(1, 60)), 0.7)))
                if stop is None:
                    continue
                n_admin = self.r.randint(1, 6)
                for j in range(n_admin):
                    emar_seq += self.r.randint(1, 4)
                    emar_id = f"{sid}-{emar_seq}"
                    ct = self.minutes(start, j * 360, j * 360 + 120)
                    event = self.pick(V.EMAR_EVENTS)
                    emar.append((sid, hadm, emar_id, emar_seq, poe_id, self.maybe(pid, 0.05),
                                 self.maybe(self.provider(), 0.7), ct, name, event,
                                 self.maybe(ct.replace(minute=0), 0.1), self.minutes(ct, 0, 45)))
                    # emar_detail: one parent row per administration plus product rows
                    given = None if event in ("Not Given", "Hold Dose") else dose
                    emard.append((sid, emar_id, emar_seq, None, self.pick(V.ADMIN_TYPES), pid,
                                  self.pick(V.BARCODE_TYPES), self.pick(V.NO_BARCODE_REASONS),
                                  self.maybe(False, 0.7), dose, unit, given, unit, None, None,
                                  None, None, None, None, None, None, None, None, None, route,
                                  None, None, None, None, None,
                                  self.pick(V.SIDES) if route in ("SC", "IM") else None,
                                  self.pick(V.INJECTION_SITES) if route in ("SC", "IM") else None,
                                  None))
                    for k in range(1, self.r.randint(1, 3)):
                        rate = round(self.r.uniform(5, 150), 1) if iv else None
                        emard.append((sid, emar_id, emar_seq, round(1 + k / 10, 1), None, pid,
                                      None, None, None, None, None, given, unit,
                                      self.maybe(self.pick(["Yes", "No"]) == "Yes", 0.9),
                                      round(self.r.uniform(0.5, 4), 1), form.lower(), fcode,
                                      strength, None, rate if j else None, rate,
                                      self.pick(["Increased", "Decreased", None]) if iv else None,
                                      None, "mL/hr" if iv else None, route,
                                      self.pick(["Yes", "No", None]) if iv else None,
                                      None, self.pick(["Yes", "No", None]) if iv else None,
                                      None, None, None, None, None))
        self.t["poe"] = poe
        self.t["poe_detail"] = poed
        self.t["prescriptions"] = rx
        self.t["pharmacy"] = ph
        self.t["emar"] = emar
        self.t["emar_detail"] = emard


def generate(seed: int = DEFAULT_SEED) -> dict[str, GeneratedTable]:
    """Generate the 22 tables deterministically from `seed`."""
    return _Gen(seed).run()


def _csv_gz(table: GeneratedTable) -> bytes:
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(table.columns)
    for row in table.rows:
        w.writerow([_fmt(v) for v in row])
    # mtime=0 keeps the bytes identical across runs for the same seed.
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=6, mtime=0)


def questions_text() -> str:
    """The 440 hand-written questions as CSV text (`table,question`)."""
    return resources.files("tablegraph.datasets").joinpath("data/questions.csv").read_text("utf-8")


def load_questions() -> list[tuple[str, str]]:
    """The embedded questions as (table, question) pairs, in file order."""
    reader = csv.DictReader(io.StringIO(questions_text()))
    return [(row["table"], row["question"]) for row in reader]


def export(out_dir: str | os.PathLike[str], seed: int = DEFAULT_SEED) -> Path:
    """Write `out_dir/hosp/<table>.csv.gz` and `out_dir/questions.csv`; return `out_dir`.
    Refuses a path that is a file, or a folder holding anything but an earlier export."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TableGraphError(f"refusing to write over {out}: it is a file, not a folder")
    if out.is_dir() and {p.name for p in out.iterdir()} - {"hosp", "questions.csv"}:
        raise TableGraphError(f"refusing to export into {out}: it holds other files "
                              f"(choose an empty or new folder)")
    (out / "hosp").mkdir(parents=True, exist_ok=True)
    for name, table in generate(seed).items():
        atomic_write_bytes(out / "hosp" / f"{name}.csv.gz", _csv_gz(table))
    atomic_write_bytes(out / "questions.csv", questions_text().encode("utf-8"))
    return out


def embedded_dir(seed: int = DEFAULT_SEED) -> Path:
    """The embedded dataset exported once into the cache and reused (regenerated if absent)."""
    from tablegraph import __version__

    out = cache_root() / "embedded" / f"v{__version__}-seed{seed}"
    qfile = out / "questions.csv"
    fresh = qfile.exists() and qfile.read_text("utf-8") == questions_text()
    if not fresh or len(list((out / "hosp").glob("*.csv.gz"))) != len(TABLES):
        export(out, seed)
    return out

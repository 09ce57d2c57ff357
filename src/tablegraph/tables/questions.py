"""Questions with their gold tables: CSV files with the header `table,question` (several gold
tables separated by `|`), checks against known tables, and the seeded stratified split."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

from tablegraph.utils import TableGraphError


@dataclass(frozen=True)
class Question:
    text: str
    tables: tuple[str, ...]  # gold tables, first = the one used for stratification


def parse_questions(text: str, source: str = "questions") -> list[Question]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "table" not in fields or "question" not in fields:
        raise TableGraphError(f"{source}: the header must be 'table,question'")
    out = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
        q = row["question"].strip()
        tables = tuple(t.strip() for t in row["table"].split("|") if t.strip())
        if not q or not tables:
            raise TableGraphError(f"{source}, line {line}: empty table or question")
        out.append(Question(q, tables))
    if not out:
        raise TableGraphError(f"{source}: no questions")
    return out


def read_questions(path: str | Path) -> list[Question]:
    p = Path(path)
    if not p.is_file():
        raise TableGraphError(f"no such questions file: {path}")
    try:
        text = p.read_text("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TableGraphError(f"{path}: not UTF-8 text") from e
    return parse_questions(text, str(path))


def check_tables(questions: list[Question], tables: list[str], source: str = "questions") -> None:
    """Every gold table must exist; the error names the first unknown one."""
    known = set(tables)
    for q in questions:
        for t in q.tables:
            if t not in known:
                raise TableGraphError(f"{source}: unknown table {t!r} in question {q.text!r} "
                                      f"(tables: {', '.join(sorted(known)[:30])})")


def stratified_split(questions: list[Question], val_fraction: float = 0.2,
                     seed: int = 0) -> tuple[list[Question], list[Question]]:
    """Split per (first) gold table, shuffled with `seed`; each table keeps round(n*val) in val."""
    rng = random.Random(seed)
    by_table: dict[str, list[Question]] = {}
    for q in questions:
        by_table.setdefault(q.tables[0], []).append(q)
    train, val = [], []
    for t in sorted(by_table):
        qs = list(by_table[t])
        rng.shuffle(qs)
        n_val = int(round(len(qs) * val_fraction))
        if len(qs) > 1:
            n_val = min(max(n_val, 1 if val_fraction > 0 else 0), len(qs) - 1)
        else:
            n_val = 0
        val += qs[:n_val]
        train += qs[n_val:]
    return train, val

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
    tables: tuple[str, ...]  # gold tables, first = the one used for stratification; () when
    # no table of the database answers it (an unanswerable question)


def parse_questions(text: str, source: str = "questions",
                    unanswerable: bool = False) -> list[Question]:
    """CSV text with the header `table,question` (any order, other columns ignored) ->
    questions. A quote that never closes, a row with another number of fields than the header,
    an empty question: one error naming the line. An empty table is an unanswerable question
    (gold tables ()) where `unanswerable` allows it (evaluation with an abstention model), an
    error naming the line elsewhere."""
    reader = csv.reader(io.StringIO(text), strict=True)
    line = 1
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if "table" not in header or "question" not in header:
            raise TableGraphError(f"{source}: the header must be 'table,question'")
        ti, qi = header.index("table"), header.index("question")
        out = []
        line = reader.line_num + 1
        for row in reader:
            if row:
                if len(row) != len(header):
                    raise TableGraphError(f"{source}, line {line}: {len(row)} field(s) where the "
                                          f"header has {len(header)}")
                q = row[qi].strip()
                tables = tuple(t.strip() for t in row[ti].split("|") if t.strip())
                if not q:
                    raise TableGraphError(f"{source}, line {line}: empty question")
                if not tables and not unanswerable:
                    raise TableGraphError(f"{source}, line {line}: no gold table (an "
                                          f"unanswerable question: only evaluate takes those)")
                out.append(Question(q, tables))
            line = reader.line_num + 1
    except csv.Error as e:
        raise TableGraphError(f"{source}, line {line}: {e} (a quote that never closes?)") from e
    if not out:
        raise TableGraphError(f"{source}: no questions")
    return out


def _read_text(path: str | Path) -> str:
    p = Path(path)
    if not p.is_file():
        raise TableGraphError(f"no such questions file: {path}")
    try:
        return p.read_text("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TableGraphError(f"{path}: not UTF-8 text") from e


def read_questions(path: str | Path, unanswerable: bool = False) -> list[Question]:
    """`parse_questions` of a UTF-8 file (a byte-order mark is skipped)."""
    return parse_questions(_read_text(path), str(path), unanswerable)


def read_question_texts(path: str | Path) -> list[str]:
    """Questions to answer, without gold tables: a text file of one question a line, or a
    CSV whose header has a `question` column. Blank lines are left out; none at all is an
    error."""
    import csv
    import io

    text = _read_text(path)
    first = text.splitlines()[0] if text.strip() else ""
    if Path(path).suffix.lower() == ".csv" or "question" in [c.strip().lower() for c in first.split(",")]:
        rows = list(csv.reader(io.StringIO(text)))
        header = [c.strip().lower() for c in rows[0]] if rows else []
        if "question" not in header:
            raise TableGraphError(f"{path}: a CSV of questions needs a 'question' column")
        col = header.index("question")
        out = [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]
    else:
        out = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not out:
        raise TableGraphError(f"{path}: no questions")
    return out


def resolve_tables(questions: list[Question], tables: list[str], source: str = "questions",
                   skipped: list | None = None) -> list[Question]:
    """The questions with their gold tables spelt as in `tables`: names match
    case-insensitively, as SQL names do; `main.` and `public.` (the default schemas, whose
    tables are named without them) may lead a name, and a name without its schema matches the
    one table of that name in another schema. An unknown table is an error naming it (and
    why it could not be read, when it is among `skipped`)."""
    exact = set(tables)
    folded = {t.lower(): t for t in tables}
    bare: dict[str, list[str]] = {}  # "orders" -> ["sales.orders", ...]
    for t in tables:
        if "." in t:
            bare.setdefault(t.rsplit(".", 1)[1].lower(), []).append(t)
    unread = {s.table.lower(): s.why for s in skipped or []}

    def find(t: str) -> str | None:
        low = t.lower()
        if low in folded:
            return folded[low]
        for prefix in ("main.", "public."):
            if low.startswith(prefix) and low[len(prefix):] in folded:
                return folded[low[len(prefix):]]
        return bare[low][0] if len(bare.get(low, [])) == 1 else None

    out = []
    for q in questions:
        gold = []
        for t in q.tables:
            name = t if t in exact else find(t)
            if name is None and t.lower() in unread:
                raise TableGraphError(f"{source}: gold table {t!r} could not be read: "
                                      f"{unread[t.lower()]}")
            if name is None:
                raise TableGraphError(f"{source}: unknown table {t!r} in question {q.text!r} "
                                      f"(tables: {', '.join(sorted(exact)[:30])})")
            gold.append(name)
        out.append(Question(q.text, tuple(gold)))
    return out


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

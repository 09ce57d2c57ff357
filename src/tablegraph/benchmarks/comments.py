"""What catalog comments give back where names say nothing (`bench --only comments`).

Enterprise schemas name tables and columns in abbreviations (`t_rf`, `amt`) and say what they
hold in `COMMENT ON`. No public corpus with questions has such comments, so they are made: each
held-out database of a fold is copied into DuckDB in each of the five ways of
`training.renamed.VARIANTS` (names as they are, abbreviated, abbreviated with the old names as
comments, common abbreviations only, acronyms) and ranked zero-shot by a model pretrained
without that fold. The copies declare no keys, so joins are inferred in all of them. Real comments say more than a name in words: what the third
copy wins back is a floor for what comments add.

The hint can sit in the question instead: BIRD gives each question its `evidence` ("male
refers to u_gender = 'M'"). Where a database's `questions.jsonl` has it, the first copy is
ranked once more for `question + evidence` (`evaluate --evidence`).

People mistype, and the first copy is ranked once more with every question mistyped
(`mistyped`: one letter of one word of 5 letters or more swapped with the next, dropped,
doubled or replaced by a neighbouring key, chosen by a hash of the question), which a
retriever reads back as far as it can (`SchemaLinker.respell`).

A benchmark may hand a database over as files that describe it instead (`FORMS`,
`describe_database`): as Spider 2.0 describes its databases (DDL.csv without keys, a JSON per
table with 5 sample rows) and as Spider's tables.json does (columns, coarse types and keys, no
rows). Each held-out database is ranked in both forms too: what reading them costs against
the database itself.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Callable

from tablegraph.training.renamed import VARIANTS, copy_database

FORMS = ("as Spider 2.0 describes it", "as tables.json describes it")
SAMPLE_ROWS = 5  # a Spider 2.0 table's JSON holds five
WITH_EVIDENCE = "as they are, + evidence"  # the questions followed by BIRD's evidence
MISTYPED = "as they are, questions mistyped"  # a slip in one word of each question (`mistyped`)
_KEYS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")  # a letter's neighbours on a keyboard
_SHOWN = {"answerable_kept": "kept"}  # an evaluate metric -> its name here


def mistyped(text: str) -> str:
    """`text` with one slip of the fingers in one of its words of 5 letters or more, the same
    for the same text in any process: two letters swapped, one dropped, one doubled, or one
    replaced by a neighbour on the keyboard (never the first letter); `text` itself when it
    has no such word."""
    rng = random.Random(f"mistyped:{text}")
    words = list(re.finditer(r"[A-Za-z]{5,}", text))
    if not words:
        return text
    m = rng.choice(words)
    w, i = m.group(), rng.randrange(1, len(m.group()) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        new = w[:i] + w[i + 1] + w[i] + w[i + 2:]
    elif kind == 1:
        new = w[:i] + w[i + 1:]
    elif kind == 2:
        new = w[:i] + w[i] + w[i:]
    else:
        row = next((r for r in _KEYS if w[i].lower() in r), _KEYS[0])
        j = row.find(w[i].lower())
        near = [row[k] for k in (j - 1, j + 1) if 0 <= k < len(row)] or [row[0]]
        new = w[:i] + rng.choice(near) + w[i + 1:]
    return text[:m.start()] + new + text[m.end():]


def _coarse(dtype: str) -> str:
    """A DuckDB type as tables.json writes types: number, time, boolean or text."""
    t = dtype.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith(("DATE", "TIME")):
        return "time"
    if any(w in t for w in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")):
        return "number"
    return "text"


def describe_database(tables: str, out: Path, form: str) -> None:
    """Write the database `tables` (a `--tables` argument) as files that describe it, in
    `form` (one of `FORMS`): the folder `out` with a DDL.csv (each table's CREATE TABLE with
    its columns and declared types, no keys) and a JSON per table with `SAMPLE_ROWS` rows, as
    Spider 2.0 describes its SQLite databases; or the tables.json `out` of one database (its
    columns, coarse types, primary and foreign keys; no rows)."""
    from tablegraph.tables.catalog import read_keys
    from tablegraph.tables.sources import Reader, discover, quote_ident

    refs = discover(tables)
    with Reader(max_rows=SAMPLE_ROWS) as reader:
        keys = read_keys(reader, refs)
        read = []  # (table, [(column, declared or DuckDB type)], sample rows)
        for ref in refs:
            rel, _ = reader.sample(ref)
            declared = dict(keys[ref.name].column_types) if ref.name in keys else {}
            cols = [(c, declared.get(c) or t) for c, t in reader.columns(rel)]
            read.append((ref.name, cols, reader.con.execute(f"SELECT * FROM {rel}").fetchall()))
            reader.drop(rel)
    if form == FORMS[0]:
        out.mkdir(parents=True)
        with open(out / "DDL.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["table_name", "DDL"])
            for name, cols, _ in read:
                w.writerow([name, f"CREATE TABLE {quote_ident(name)} (\n" + ",\n".join(
                    f"    {quote_ident(c)} {t}" for c, t in cols) + "\n);"])
        for name, cols, rows in read:
            (out / f"{name}.json").write_text(json.dumps(
                {"table_name": name, "column_names": [c for c, _ in cols],
                 "column_types": [t for _, t in cols], "description": [""] * len(cols),
                 "sample_rows": [dict(zip([c for c, _ in cols], r)) for r in rows]},
                default=str), "utf-8")
        return
    where: dict[tuple[str, str], int] = {}  # (table, column) in lower case -> its index
    columns, types = [[-1, "*"]], ["text"]
    for ti, (name, cols, _) in enumerate(read):
        for c, t in cols:
            where[(name.lower(), c.lower())] = len(columns)
            columns.append([ti, c])
            types.append(_coarse(t))
    primary, foreign = [], []
    for name, cols, _ in read:
        k = keys.get(name)
        if k is None:
            continue
        pk = [where[(name.lower(), c.lower())] for c in k.primary_key]
        if pk:
            primary.append(pk[0] if len(pk) == 1 else pk)
        for fk in k.foreign_keys:
            target = keys.get(fk.table)
            ref_cols = fk.ref_columns or (target.primary_key if target else ())
            for c, r in zip(fk.columns, ref_cols):
                a, b = where.get((name.lower(), c.lower())), where.get((fk.table.lower(), r.lower()))
                if a is not None and b is not None:
                    foreign.append([a, b])
    out.write_text(json.dumps([{
        "db_id": out.stem, "table_names_original": [n for n, _, _ in read],
        "column_names_original": columns, "column_types": types,
        "primary_keys": primary, "foreign_keys": foreign}]), "utf-8")


def comments_bench(model: str, root: Path, work: Path, fold: int = 0, folds: int = 3,
                   log: Callable[[str], None] = print) -> dict[str, dict[str, dict]]:
    """{group: {variant: {"hit@1", "all@5", "set_f1", "n"}}} over the held-out databases of
    `fold` (text2sql-train under `root`), ranked by the model folder `model` (pretrained
    without that fold), with "kept" (the share of the questions its abstention model keeps as
    answerable there) when it has one; the copies are written under `work`."""
    from tablegraph.model.folder import load_model
    from tablegraph.retrieval.retriever import TableRetriever
    from tablegraph.tables.questions import read_questions, resolve_tables
    from tablegraph.training.corpora import text2sql_databases

    saved = load_model(model)
    retriever = TableRetriever(saved, saved.text_encoder(), None)
    sums: dict[str, dict[str, dict[str, float]]] = {}
    held = [d for d in text2sql_databases(str(root)) if d.fold(folds) == fold]

    def add(group: str, variant: str, m: dict) -> None:
        acc = sums.setdefault(group, {}).setdefault(variant, {})
        for key in ("hit@1", "all@5", "set_f1", "answerable_kept"):
            if key in m:
                acc[key] = acc.get(key, 0.0) + m[key] * m["n"]
        acc["n"] = acc.get("n", 0) + m["n"]
    for k, db in enumerate(held):
        for variant in VARIANTS:
            path = work / f"{k}-{VARIANTS.index(variant)}.duckdb"
            names = {a.lower(): b for a, b in copy_database(db.tables, path, variant).items()}
            retriever.index_tables(str(path))
            questions = resolve_tables([q.renamed(lambda t: names[t.lower()])
                                        for q in db.questions], retriever.index.names)
            add(db.group, variant, retriever.evaluate(questions))
            if variant == VARIANTS[0]:
                add(db.group, MISTYPED, retriever.evaluate(
                    [replace(q, text=mistyped(q.text)) for q in questions]))
            jsonl = Path(db.tables).parent.parent / "questions.jsonl"
            if variant == VARIANTS[0] and jsonl.is_file() and '"evidence"' in jsonl.read_text():
                hinted = [q.renamed(lambda t: names[t.lower()])
                          for q in read_questions(jsonl, evidence=True)]
                add(db.group, WITH_EVIDENCE,
                    retriever.evaluate(resolve_tables(hinted, retriever.index.names)))
            path.unlink()
        for i, form in enumerate(FORMS):
            path = work / (f"{k}-form{i}" + ("" if form == FORMS[0] else ".json"))
            describe_database(db.tables, path, form)
            retriever.index_tables(str(path))
            add(db.group, form, retriever.evaluate(resolve_tables(db.questions,
                                                                  retriever.index.names)))
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        log(f"  comments: {k + 1}/{len(held)} {db.name}")
    return {g: {v: {**{_SHOWN.get(k, k): x / acc["n"] for k, x in acc.items() if k != "n"},
                    "n": int(acc["n"])} for v, acc in by.items()} for g, by in sums.items()}

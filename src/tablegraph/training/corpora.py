"""Training corpora across databases, in `../shared/data`'s layout: each database's tables and
its questions with their gold tables.

- `text2sql-train/<spider|bird>/<db>/tables/<db>.sqlite` with `questions.csv`;
- EHRSQL-2024's train split on the MIMIC-IV demo (`ehrsql/ehrsql-2024/
  derived_question_tables.jsonl`, answerable questions whose tables all exist in the demo;
  `chartevents_reconstructed_from_meds` answers as `chartevents`; the demo's tables are
  `demo_tables`).

Databases are assigned to validation folds by a hash of their name, so a database is held out
whole, never some of its questions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from tablegraph.model.linking import is_identifier
from tablegraph.tables.questions import Question, answer_tables, read_questions
from tablegraph.tables.sources import TableRef, discover
from tablegraph.utils import TableGraphError

# Files of `../shared/data/mimic-iv-demo` that are no table of the demo: the data's own list
# of its files and their checksums
DEMO_PACKAGING = ("MANIFEST",)
# the demo's file -> the name EHRSQL's questions give its table
DEMO_RENAME = {"chartevents_reconstructed_from_meds": "chartevents"}
# Requests an agent may wrap a question in (`with_requests`, `pretrain --request-share`)
REQUESTS = (
    "Which tables do I need to answer: {q}",
    "Find the tables for this question: {q}",
    "I need to write SQL for the following. {q}",
    "{q} Which tables should I query?",
    "Help me find the relevant tables. {q}",
    "What tables are needed for: {q}",
    "User question: {q} Return the tables of the schema that answer it.",
    "I am building a query. {q} What are the relevant tables?",
    "Get the schema for answering this: {q}",
    "Question from the user: \"{q}\" Find the tables.",
    "{q} List the tables I have to join.",
    "To answer \"{q}\", which parts of the database should I look at?",
)
# A question that names one of its tables as the schema writes it, as users and agents who
# know the schema do ("d_icd_diagnoses entry for the hypertension code"): `with_named_tables`
NAMED = (
    "{q} (table {t})",
    "In {t}: {q}",
    "{q} Look in {t}.",
    "From the {t} table, {q}",
    "{t} rows: {q}",
    "{q} I think it is in {t}.",
)


@dataclass
class CorpusDatabase:
    """One database of a corpus: where its tables are, its questions, its group."""

    name: str  # "spider/concert_singer"
    group: str  # spider | bird | ehrsql
    tables: str | list[TableRef]  # a --tables argument, or the tables it holds
    questions: list[Question]
    rename: dict[str, str] = field(default_factory=dict)  # table name -> name in questions
    # the tables its questions were written against, as its questions name them, where that
    # is fewer than it holds (EHRSQL: 17 tables, 16 of them among the demo's 31); () for all
    written_for: tuple[str, ...] = ()

    def fold(self, folds: int) -> int:
        """The validation fold of this database (stable across runs and machines)."""
        return database_fold(self.name, folds)


def _chosen(key: str, share: float) -> int | None:
    """The hash of `key` (the same in every run and process) where it falls in the first
    `share` of the range, else None: which questions a share of a corpus rewrites."""
    h = int(hashlib.sha1(key.encode()).hexdigest(), 16)
    return h if h % 1000 < share * 1000 else None


def with_requests(db: CorpusDatabase, share: float) -> CorpusDatabase:
    """`db` with `share` of its questions (chosen by a hash of the text, the same in every
    run) wrapped in one of `REQUESTS`, as an agent may pass them: "Which tables do I need to
    answer: {q}". Training on them teaches the model, and its second stage, to pass over a
    request's words."""
    if share <= 0:
        return db
    out = []
    for q in db.questions:
        if (h := _chosen(q.text, share)) is not None:
            q = replace(q, text=REQUESTS[(h // 1000) % len(REQUESTS)].format(q=q.text))
        out.append(q)
    return replace(db, questions=out)


def with_named_tables(questions: list[Question], share: float) -> list[Question]:
    """`share` of `questions` (chosen by a hash of the text, the same in every run, apart
    from `with_requests`' choice) naming one of their gold tables as the schema writes it,
    where that name is an identifier (`order_items`, `OrderDetails`), in one of `NAMED`'s
    phrasings. The questions' tables are named as the schema writes them. Questions in the
    corpora almost never do, so without these the model never learns what an exact mention
    of a table's name says."""
    if share <= 0:
        return questions
    out = []
    for q in questions:
        names = sorted(t for t in q.tables if is_identifier(t))
        if names and (h := _chosen("named " + q.text, share)) is not None:
            t = names[(h // 1000) % len(names)]
            q = replace(q, text=NAMED[(h // 7919) % len(NAMED)].format(q=q.text, t=t))
        out.append(q)
    return out


def database_fold(name: str, folds: int) -> int:
    """The fold of `folds` that a database named `name` falls in, by a hash of the name
    (stable across runs and machines)."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % folds


def text2sql_databases(root: str | Path) -> list[CorpusDatabase]:
    """Every database of `root/text2sql-train` (Spider with rows, BIRD schema-only)."""
    base = Path(root) / "text2sql-train"
    out = []
    for group in ("spider", "bird"):
        for db in sorted((base / group).glob("*/tables/*.sqlite")):
            folder = db.parent.parent
            out.append(CorpusDatabase(f"{group}/{folder.name}", group, str(db),
                                      with_answers(read_questions(folder / "questions.csv"),
                                                   folder / "questions.jsonl")))
    if not out:
        raise TableGraphError(f"no databases under {base}")
    return out


def with_answer(q: Question, sql: str) -> Question:
    """`q` with the gold tables its answer is read from (`answer_tables` of `sql`, its gold
    SQL), named as `q` names them."""
    read = {t.lower() for t in answer_tables(sql)}
    return replace(q, answer=tuple(t for t in q.tables if t.lower() in read))


def with_answers(questions: list[Question], jsonl: Path) -> list[Question]:
    """`questions` with their answer tables, from the gold SQL of the same questions in
    `jsonl` (line by line, as the corpus writes them); as they are where it is absent or
    holds other questions."""
    if not jsonl.is_file():
        return questions
    records = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()
               if line.strip()]
    if len(records) != len(questions) or any(r.get("question", "").strip() != q.text
                                             for r, q in zip(records, questions)):
        return questions
    return [with_answer(q, r.get("sql") or "") for q, r in zip(questions, records)]


def demo_tables(demo: str | Path) -> list[TableRef]:
    """The MIMIC-IV demo's tables in the folder `demo` (`mimic-iv-demo`): every table it
    holds but the packaging's (`DEMO_PACKAGING`), as EHRSQL's benchmarks and training read
    them."""
    return [r for r in discover(demo) if r.name not in DEMO_PACKAGING]


def ehrsql_database(root: str | Path, split: str = "train") -> CorpusDatabase:
    """EHRSQL-2024 questions of `split` on the MIMIC-IV demo tables (answerable, no `cost`)."""
    root = Path(root)
    jl = root / "ehrsql" / "ehrsql-2024" / "derived_question_tables.jsonl"
    demo = root / "mimic-iv-demo"
    if not jl.is_file() or not demo.is_dir():
        raise TableGraphError(f"{jl} or {demo} is absent")
    questions = []
    for line in jl.read_text("utf-8").splitlines():
        r = json.loads(line)
        if r["split"] != split or not r["answerable"] or r["uses_synthetic_cost"] \
                or not r["demo_tables"]:
            continue
        questions.append(with_answer(Question(r["question"], tuple(
            t.split("/")[-1] for t in r["demo_tables"])), r["sql"]))
    schema = root / "ehrsql" / "ehrsql-2024" / "mimic_iv" / "tables.json"
    written_for: tuple[str, ...] = ()
    if schema.is_file():
        spec = json.loads(schema.read_text("utf-8"))
        for db in spec if isinstance(spec, list) else [spec]:
            written_for += tuple(db.get("table_names_original") or ())
    return CorpusDatabase(f"ehrsql/{split}", "ehrsql", demo_tables(demo), questions,
                          DEMO_RENAME, written_for)


def ehrsql_unanswerable(root: str | Path, split: str = "train") -> list[str]:
    """EHRSQL-2024 questions of `split` that no table of the database answers."""
    jl = Path(root) / "ehrsql" / "ehrsql-2024" / "derived_question_tables.jsonl"
    if not jl.is_file():
        raise TableGraphError(f"{jl} is absent")
    out = []
    for line in jl.read_text("utf-8").splitlines():
        r = json.loads(line)
        if r["split"] == split and not r["answerable"] and not r["uses_synthetic_cost"]:
            out.append(r["question"])
    return out

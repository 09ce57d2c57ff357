"""Questions with their gold tables, checks against known tables, and the seeded stratified
split.

A questions file is either JSON (JSON Lines or one array of objects, as text-to-SQL benchmarks
ship them: Spider's `{"question", "query", "db_id"}`, BIRD's `{"question", "SQL", "db_id"}`) or
CSV with a header, whose columns are read as the same keys (`table,question` at the least):

    {"question": str, "tables" | "table": [str] | "a|b"}   gold tables given (several in one
                                                           text separated by |, ; or ,), or
    {"question": str, "sql" | "query": str | null}          gold tables = the tables the SQL reads
    (+ optional "db_id": str and "evidence": str; other keys are ignored; other benchmarks'
    names for these keys, such as "db" or "gold_sql", are read as them: `KEY_ALIASES`)

Where the question's text has another key (Spider-Syn's "SpiderSynQuestion"), `question_key`
names it. The older benchmarks' layout (text2sql-data: GeoQuery, ATIS, Academic, ...), one
record per query with its `sentences` and a list of equivalent `sql`, is read as one question
per sentence, its variables filled in (`_sentences`); a conversation (SParC, CoSQL: its
`interaction` of turns and its `final` question) as its final question (`_final_question`).

No gold table (an empty list or cell), or SQL that is empty, null or "null" (EHRSQL's mark), is
an unanswerable question.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from tablegraph.tables.records import TableNames
from tablegraph.utils import TableGraphError, decode_text, is_stream


@dataclass(frozen=True)
class Question:
    text: str
    tables: tuple[str, ...]  # gold tables, first = the one used for stratification; () when
    # no table of the database answers it (an unanswerable question)
    # the gold tables its answer is read from (`answer_tables` of its SQL); the others are
    # read to filter or to join; () where unknown
    answer: tuple[str, ...] = ()
    # where it stands in its file, as its errors name it: (("line", 3),), (("item", 2),), or
    # (("item", 2), ("sentence", 1)) for one of a text2sql-data record's sentences
    at: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    qid: str | int | None = field(default=None, compare=False)  # its record's own id (`ID_KEYS`)

    def renamed(self, name: Callable[[str], str]) -> Question:
        """The question with each of its tables (gold and answer) named `name(table)`."""
        return replace(self, tables=tuple(map(name, self.tables)),
                       answer=tuple(map(name, self.answer)))

    def origin(self) -> dict:
        """Where the question came from, for a record that reports on it: {"line": 3} or
        {"item": 2[, "sentence": 1]}, and "id" where its record has one."""
        out: dict = dict(self.at)
        if self.qid is not None:
            out["id"] = self.qid
        return out


def with_evidence(question: str, evidence: object) -> str:
    """The question followed by its evidence (BIRD's hint of what its words mean in the
    database: "Male users mean that u_gender = 'M'"), where there is one."""
    hint = evidence.strip() if isinstance(evidence, str) else ""
    return f"{question} {hint}" if hint else question


def parse_questions(text: str, source: str = "questions",
                    unanswerable: bool = False, evidence: bool = False) -> list[Question]:
    """CSV text -> questions (`_csv_records`, each row read as a JSON record is)."""
    return _questions_of(_csv_records(text, source), "line", source, unanswerable, evidence)


def _csv_records(text: str, source: str, question_key: str = "question"
                 ) -> list[tuple[int, dict]]:
    """CSV with a header naming a `question` column and the gold tables (`table` or `tables`,
    several separated by `|`, `;` or `,`) or the gold SQL (`sql` or `query`); other columns
    (`db_id`, `evidence`) as in JSON, any order. -> [(line, {column: value})], columns in
    lower case. A quote that never closes or a row with another number of fields than the
    header: one error naming the line. Tab- and semicolon-separated files (Excel's "Unicode
    text", its European CSV) are read where their header, so split, names the question."""
    first = text.split("\n", 1)[0].lower()
    delimiter = next((d for d in (",", "\t", ";")
                      if question_key.lower() in (h.strip().strip('"') for h in first.split(d))),
                     ",")
    reader = csv.reader(io.StringIO(text), strict=True, delimiter=delimiter)
    line = 1
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        keys = _canonical(dict.fromkeys(header))  # the keys each row's record will have
        if question_key.lower() not in keys or not any(k in keys for k in GOLD_KEYS):
            raise TableGraphError(f"{source}: the header must be 'table,{question_key}' (or "
                                  f"name the gold SQL in a 'sql' or 'query' column)")
        records = []
        line = reader.line_num + 1
        for row in reader:
            if row:
                if len(row) != len(header):
                    raise TableGraphError(f"{source}, line {line}: {len(row)} field(s) where the "
                                          f"header has {len(header)}")
                records.append((line, _canonical(dict(zip(header, row)))))
            line = reader.line_num + 1
    except csv.Error as e:
        raise TableGraphError(f"{source}, line {line}: {e} (a quote that never closes?)") from e
    return records


GOLD_KEYS = ("tables", "table", "sql", "query")  # where gold tables come from, first wins
ID_KEYS = ("question_id", "id", "instance_id")  # a record's own id (BIRD, EHRSQL, Spider 2.0)
# other benchmarks' names for the same keys, read as ours where ours is absent
KEY_ALIASES = {"db": "db_id", "database": "db_id", "db_name": "db_id", "database_id": "db_id",
               "gold_tables": "tables", "gold_sql": "sql", "gold_query": "sql",
               "sql_query": "sql"}


def _canonical(record: dict) -> dict:
    """A record (keys in lower case) with `KEY_ALIASES` read as the keys they stand for."""
    out = dict(record)
    for alias, key in KEY_ALIASES.items():
        if alias in out and key not in out:
            out[key] = out.pop(alias)
    return out


TABLE_SEPARATORS = re.compile(r"[|;,]")  # between gold tables written as one text
SQL_DIALECTS = ("sqlite", "", "postgres", "duckdb", "mysql", "tsql", "bigquery", "snowflake")


def _parse_sql(sql: str) -> list:
    """sqlglot's trees of `sql`, parsed as SQLite first, then in other dialects; SQL that none
    parses is an error (`ValueError`)."""
    import sqlglot

    for dialect in SQL_DIALECTS:
        try:
            return [t for t in sqlglot.parse(sql, read=dialect or None) if t is not None]
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
            continue
    raise ValueError("SQL that sqlglot cannot parse")


def answer_tables(sql: str) -> list[str]:
    """The tables the answer of an SQL statement is read from: those whose columns its outer
    SELECT returns (of each side of a UNION, and of a scalar subquery it returns), in order of
    first mention, each once. A column with no table named is read from the SELECT's only
    table; `*` and `COUNT(*)` from its only table, or from all its tables for `*` alone.
    `SELECT T2.name FROM concert AS T1 JOIN stadium AS T2 ...` -> ["stadium"]. [] where it
    cannot say (an unqualified column over several tables, SQL that does not parse).

    The other tables of the statement are read to filter or to join: `admissions` in
    EHRSQL's "patient 10004235's potassium", which reaches a patient through it."""
    from sqlglot import exp

    try:
        trees = _parse_sql(sql)
    except ValueError:
        return []
    out: dict[str, str] = {}
    ctes = {c.alias_or_name.lower(): c.this for t in trees for c in t.find_all(exp.CTE)}

    def of_query(q) -> None:
        if isinstance(q, exp.Subquery):
            of_query(q.this)
        elif isinstance(q, exp.SetOperation):
            of_query(q.left)
            of_query(q.right)
        elif isinstance(q, exp.Select):
            of_select(q)

    def of_select(sel) -> None:
        sources = [j.this for j in [sel.args.get("from_")] + list(sel.args.get("joins") or [])
                   if j is not None]
        tables: dict[str, str] = {}  # name or alias -> table
        derived: dict[str, object] = {}  # alias -> the query of a FROM (SELECT ...) AS alias
        for s in sources:
            if isinstance(s, exp.Table) and not s.db and s.name.lower() in ctes:
                derived[s.alias_or_name.lower()] = ctes[s.name.lower()]
            elif isinstance(s, exp.Table) and s.name:  # named as `sql_tables` names it
                tables[s.alias_or_name.lower()] = f"{s.db}.{s.name}" if s.db else s.name
                tables.setdefault(s.name.lower(), tables[s.alias_or_name.lower()])
            elif isinstance(s, exp.Subquery):
                derived[s.alias_or_name.lower()] = s.this
        only = list(dict.fromkeys(tables.values()))
        single = len(sources) == 1
        found: list[str] = []

        def read(qualifier: str) -> None:  # a column or T.* of the source named `qualifier`
            if qualifier.lower() in derived:
                of_query(derived[qualifier.lower()])
            elif qualifier.lower() in tables:
                found.append(tables[qualifier.lower()])

        def unqualified(star: bool) -> None:  # a column or * with no table named
            if single and derived:
                of_query(next(iter(derived.values())))
            elif len(only) == 1 and single:
                found.append(only[0])
            elif star:
                found.extend(only)

        for e in sel.expressions:
            for sub in e.find_all(exp.Select):
                if sub is not e and sub.find_ancestor(exp.Select) is sel:
                    of_query(sub)  # a scalar subquery the SELECT returns
            for node in e.find_all(exp.Column, exp.Star):
                if node.find_ancestor(exp.Select) is not sel or \
                        isinstance(node.parent, exp.Column):
                    continue  # inside a subquery (read above), or the star of T1.*
                if isinstance(node, exp.Column) and node.table:
                    read(node.table)
                elif isinstance(node, exp.Column):
                    unqualified(False)
                else:  # `*` alone returns every table's columns; COUNT(*) only one's
                    unqualified(isinstance(node.parent, exp.Select))
        for t in found:
            out.setdefault(t.lower(), t)

    for tree in trees:
        of_query(tree)
    return list(out.values())


def sql_tables(sql: str) -> list[str]:
    """The tables an SQL statement reads, in order of first mention, each once (any case):
    `schema.table` where the SQL qualifies it; names of its CTEs left out. sqlglot parses it
    as SQLite first (Spider's and BIRD's SQL), then in other dialects; SQL that none parses is
    an error (`ValueError`)."""
    from sqlglot import exp

    trees = _parse_sql(sql)
    ctes = {c.alias_or_name.lower() for t in trees for c in t.find_all(exp.CTE)}
    out: dict[str, str] = {}
    for tree in trees:
        found = [t for t in tree.find_all(exp.Table)
                 if t.name and not (not t.db and t.name.lower() in ctes)]
        found.sort(key=lambda t: t.this.meta.get("start", 0))  # as written, not as nested
        for t in found:
            name = f"{t.db}.{t.name}" if t.db else t.name
            out.setdefault(name.lower(), name)
    return list(out.values())


def _json_records(text: str, source: str, question_key: str = "question"
                  ) -> tuple[str, list[tuple[int, dict]]]:
    """("item", [(n, object)]) of a JSON array, ("line", ...) of JSON Lines, keys in lower
    case; anything else: one error naming where."""
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as e:
            raise TableGraphError(f"{source}, line {e.lineno}: not JSON ({e.msg})") from e
        where, records = "item", [(i + 1, x) for i, x in enumerate(items)]
    else:
        try:  # one object over many lines: a wrapper ({"data": [...]}), not JSON Lines
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and question_key.lower() not in {str(k).lower()
                                                                    for k in whole} \
                and len(text.strip().splitlines()) > 1:
            raise TableGraphError(f"{source}: one JSON object (keys: "
                                  f"{', '.join(list(whole)[:5])}), not questions: give JSON "
                                  f"Lines or an array of questions")
        where, records = "line", []
        for n, ln in enumerate(text.splitlines(), 1):
            if ln.strip():
                try:
                    records.append((n, json.loads(ln)))
                except json.JSONDecodeError as e:
                    raise TableGraphError(f"{source}, line {n}: not a JSON object "
                                          f"({e.msg})") from e
    for n, x in records:
        if not isinstance(x, dict):
            raise TableGraphError(f"{source}, {where} {n}: not a JSON object")
    records = [(n, _canonical({str(k).lower(): v for k, v in x.items()})) for n, x in records]
    return where, [r for n, x in records
                   for r in _sentences(n, _final_question(x), f"{source}, {where} {n}")]


def _final_question(record: dict) -> dict:
    """A record of the conversational layout (SParC, CoSQL: `{"database_id", "interaction":
    [{"utterance", "query"}, ...], "final": {"utterance", "query"}}`) -> the record of its
    final question, which says in full what the turns reach step by step ("only the refunded
    ones" reads nothing without the turn before it): the utterance as the question, its SQL
    as the gold. Any other record: itself."""
    final = record.get("final")
    if "question" in record or not isinstance(final, dict) or \
            not isinstance(final.get("utterance"), str):
        return record
    out = {k: v for k, v in record.items() if k not in ("final", "interaction")}
    out["question"] = final["utterance"]
    if final.get("query") is not None and not any(k in out for k in GOLD_KEYS):
        out["query"] = final["query"]
    return out


SENTENCE = "\0sentence"  # the key of a sentence's number in its record (no file has it)


def _sentences(n: int, record: dict, at: str) -> list[tuple[int, dict]]:
    """A record of the text2sql-data layout (Finegan-Dollak et al. 2018: ATIS, GeoQuery,
    Academic, IMDB, Yelp, Restaurants, Scholar, Advising), `{"sentences": [{"text",
    "variables"}], "sql": [str, ...]}`, -> one record per sentence: its text with each
    variable (`state_name0`) replaced by its value, and the first SQL as the gold (the
    others are equivalent forms). Any other record: itself."""
    sentences, sql = record.get("sentences"), record.get("sql")
    if not isinstance(sentences, list) or "question" in record:
        return [(n, record)]
    if not (isinstance(sql, list) and sql and isinstance(sql[0], str)):
        raise TableGraphError(f"{at}: 'sentences' without a list of SQL under 'sql'")
    out = []
    for s in sentences:
        if not (isinstance(s, dict) and isinstance(s.get("text"), str)):
            raise TableGraphError(f"{at}: a sentence without its 'text'")
        text, names = s["text"], s.get("variables") or {}
        if not isinstance(names, dict):
            raise TableGraphError(f"{at}: a sentence's 'variables' must be an object")
        for name in sorted(names, key=len, reverse=True):  # state_name10 before state_name1
            text = re.sub(rf"\b{re.escape(str(name))}\b", lambda _, v=str(names[name]): v,
                          text)
        out.append((n, {**record, "question": text, "sql": sql[0],
                        SENTENCE: len(out) + 1}))
    return out


def _pick_database(records: list[tuple[int, dict]], database: str | None, source: str,
                   guess: str | None) -> list[tuple[int, dict]]:
    """The records of one database where they carry `db_id`: `database` by name, else `guess`
    (the database's own name) where it is one of them, else the only one. Where none carries
    a `db_id`, every record is the database's, `database` given or not (`--db` then picks
    the database of a folder, and the file is its questions)."""
    ids = sorted({str(x["db_id"]) for _, x in records if x.get("db_id") is not None})
    if not ids:
        return records
    if database is None and len(ids) > 1:
        folded = {i.lower(): i for i in ids}
        database = folded.get((guess or "").lower())
        if database is None:
            raise TableGraphError(f"{source}: questions of {len(ids)} databases (db_id: "
                                  f"{', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}); "
                                  f"choose one with --db NAME")
    if database is None:
        return records
    picked = [(n, x) for n, x in records if str(x.get("db_id", "")).lower() == database.lower()]
    if not picked:
        raise TableGraphError(f"{source}: no question of database {database!r} (db_id: "
                              f"{', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})")
    return picked


def parse_json_questions(text: str, source: str = "questions", unanswerable: bool = False,
                         database: str | None = None, guess: str | None = None,
                         evidence: bool = False) -> list[Question]:
    """JSON Lines or a JSON array of questions (see the module docstring) -> questions of one
    database (`_pick_database`; each as `_questions_of` reads it)."""
    where, records = _json_records(text, source)
    return _questions_of(_pick_database(records, database, source, guess), where, source,
                         unanswerable, evidence)


def _questions_of(records: list[tuple[int, dict]], where: str, source: str,
                  unanswerable: bool, evidence: bool) -> list[Question]:
    """JSON question records -> questions. A question without text, without gold tables where
    `unanswerable` does not allow it, or with SQL that cannot be parsed or reads no table:
    one error naming the line (or the array's item). `evidence`: each question followed by
    its `evidence` (BIRD's hints), which the records must carry."""
    if evidence and not any("evidence" in x for _, x in records):
        raise TableGraphError(f"{source}: --evidence, but no question has an 'evidence'")
    out = []
    for n, x in records:
        at = f"{source}, {where} {n}"
        q = x.get("question")
        if not isinstance(q, str):
            raise TableGraphError(f"{at}: no question text{_keys_hint(x)}")
        if not q.strip():
            raise TableGraphError(f"{at}: empty question")
        # Spider's "sql" is its parsed form (an object); its SQL text is "query"
        key = next((k for k in GOLD_KEYS if k in x and (k in ("tables", "table") or x[k] is None
                                                          or isinstance(x[k], str))), None)
        if key is None:
            raise TableGraphError(f"{at}: no gold tables (give 'tables', or the gold SQL as "
                                  f"'sql' or 'query')")
        value = x[key]
        if key in ("tables", "table"):
            if isinstance(value, str):
                value = TABLE_SEPARATORS.split(value)
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                raise TableGraphError(f"{at}: '{key}' must be a list of table names")
            tables = tuple(dict.fromkeys(t.strip() for t in value if t.strip()))
        elif value is None or (isinstance(value, str) and value.strip().lower() in ("", "null")):
            tables = ()
        else:
            try:
                tables = tuple(sql_tables(value))
            except ValueError as e:
                raise TableGraphError(f"{at}: {e}: {value[:80]!r}") from e
            if not tables:
                raise TableGraphError(f"{at}: the SQL reads no table: {value[:80]!r}")
        if not tables and not unanswerable:
            raise TableGraphError(f"{at}: no gold table (an unanswerable question: only "
                                  f"evaluate takes those)")
        qid = next((x[k] for k in ID_KEYS if isinstance(x.get(k), (str, int))
                    and not isinstance(x.get(k), bool)), None)
        out.append(Question(with_evidence(q.strip(), x.get("evidence")) if evidence
                            else q.strip(), tables,
                            at=((where, n),) + ((("sentence", x[SENTENCE]),)
                                                if SENTENCE in x else ()), qid=qid))
    if not out:
        raise TableGraphError(f"{source}: no questions")
    return out


def _keys_hint(record: dict) -> str:
    """For an error on a record without a 'question': its keys, and how to name the one that
    holds the question."""
    if "question" in record:
        return ""
    keys = [k for k, v in record.items() if isinstance(v, str)][:8]
    return (f" (its keys: {', '.join(keys)}; name the question's with --question-key)"
            if keys else "")


def _question_key(records: list[tuple[int, dict]], key: str, source: str
                  ) -> list[tuple[int, dict]]:
    """Records whose question text is under `key` (lower case) -> the same records with it as
    'question'; no record with that key is an error."""
    key = key.strip().lower()
    if key == "question":
        return records
    if not any(key in x for _, x in records):
        raise TableGraphError(f"{source}: no question has a {key!r} key or column")
    return [(n, {**x, "question": x.get(key)}) for n, x in records]


def _is_json(path: str | Path, text: str) -> bool:
    """JSON by the file's name (.json, .jsonl, .ndjson); else, unless it is named .csv or
    .txt, by its first character."""
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return True
    return suffix not in (".csv", ".txt") and text.lstrip()[:1] in ("{", "[")


def _records(path: str | Path, text: str, question_key: str = "question"
             ) -> tuple[str, list[tuple[int, dict]]]:
    """A questions file's records: JSON by its name or first character, else CSV; the
    question's text under 'question' (`question_key`: where the file has it)."""
    if _is_json(path, text):
        where, records = _json_records(text, _named(path), question_key)
    else:
        where, records = "line", _csv_records(text, _named(path), question_key)
    return where, _question_key(records, question_key, _named(path))


def questions_by_database(path: str | Path, unanswerable: bool = False,
                          evidence: bool = False, question_key: str = "question"
                          ) -> dict[str, list[Question]]:
    """The questions of a questions file by their `db_id`, in the ids' order, the file read
    once ({} where none has a db_id; questions without one left out)."""
    where, records = _records(path, _read_text(path), question_key)
    groups: dict[str, list[tuple[int, dict]]] = {}
    for n, x in records:
        if x.get("db_id") is not None:
            groups.setdefault(str(x["db_id"]), []).append((n, x))
    return {i: _questions_of(groups[i], where, _named(path), unanswerable, evidence)
            for i in sorted(groups)}


STDIN = "-"  # a questions file given as "-": standard input


def _named(path: str | Path) -> str:
    """A questions file as messages name it."""
    return "standard input" if str(path) == STDIN else str(path)


@cache
def _stdin_bytes() -> bytes:
    """Standard input, read once however often the questions are read."""
    return sys.stdin.buffer.read()


@cache
def _stream_bytes(path: str) -> bytes:
    """A pipe given as a file (the shell's `<(...)`, /dev/stdin), read once: it cannot be
    read twice."""
    return Path(path).read_bytes()


def _read_text(path: str | Path) -> str:
    """A questions file's text (\\n line ends); `STDIN` reads standard input, and a pipe
    given by its path (`--questions <(...)`) is read as standard input is, once."""
    p = Path(path)
    if str(path) == STDIN:
        raw = _stdin_bytes()
    elif is_stream(p):
        raw = _stream_bytes(str(path))
    elif p.is_file():
        raw = p.read_bytes()
    else:
        raise TableGraphError(f"no such questions file: {path}")
    try:
        return decode_text(raw).replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        raise TableGraphError(f"{_named(path)}: not UTF-8 or UTF-16 text") from e


def read_questions(path: str | Path, unanswerable: bool = False, database: str | None = None,
                   guess: str | None = None, evidence: bool = False,
                   question_key: str = "question") -> list[Question]:
    """The questions of a UTF-8 file (a byte-order mark is skipped): JSON by its name
    (.json, .jsonl, .ndjson) or its first character, else CSV (`_csv_records`). In a file
    that names several databases (`db_id`), `database` (else `guess`, the name of the
    database evaluated) picks one. `evidence`: each question followed by its evidence (a
    JSON key, a CSV column), as BIRD's questions are given to text-to-SQL systems.
    `question_key`: the key or column of the question's text."""
    where, records = _records(path, _read_text(path), question_key)
    return _questions_of(_pick_database(records, database, _named(path), guess), where,
                         _named(path), unanswerable, evidence)


def read_question_texts(path: str | Path, question_key: str = "question") -> list[str]:
    """Questions to answer, without gold tables: a text file of one question a line, a
    CSV whose header has a `question` column, or JSON (Lines or an array) of objects with a
    `question` (`question_key`: that key or column's name in this file). Blank lines are
    left out; none at all is an error."""
    text = _read_text(path)
    key = question_key.strip().lower()
    if _is_json(path, text) and text.strip():
        out = []
        where, records = _json_records(text, _named(path), key)
        for n, x in _question_key(records, key, _named(path)):
            q = x.get("question")
            if not isinstance(q, str):
                raise TableGraphError(f"{_named(path)}, {where} {n}: no '{key}' text"
                                      f"{_keys_hint(x)}")
            if q.strip():
                out.append(q.strip())
        if not out:
            raise TableGraphError(f"{_named(path)}: no questions")
        return out
    first = text.splitlines()[0] if text.strip() else ""
    if Path(path).suffix.lower() == ".csv" or key in [c.strip().lower() for c in first.split(",")]:
        rows = list(csv.reader(io.StringIO(text)))
        header = [c.strip().lower() for c in rows[0]] if rows else []
        if key not in header:
            raise TableGraphError(f"{_named(path)}: a CSV of questions needs a '{key}' column")
        col = header.index(key)
        out = [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]
    else:
        out = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not out:
        raise TableGraphError(f"{_named(path)}: no questions")
    return out


def resolve_tables(questions: list[Question], tables: list[str], source: str = "questions",
                   skipped: list | None = None, notes: list[str] | None = None,
                   skip_unknown: bool | None = None) -> list[Question]:
    """The questions with their gold tables spelt as in `tables` (`TableNames`). An unknown
    table is an error naming it (and why it could not be read, when it is among `skipped`;
    the tables of several schemas it could mean, when it has no schema). A table given as
    its file (`hosp/admissions`, `admissions.csv.gz`, as a folder's tables are named by their
    files) is the table that file is. With `notes` (a
    list the caller prints as warnings), an unknown table that begins the name of exactly
    one table is read as that one (`chartevents` for a file
    `chartevents_reconstructed_from_meds.csv.gz`, as files are renamed when they are
    exported or rebuilt), and a note says so, once per name. `skip_unknown`: True leaves out
    a question that names an unknown table, and a note counts them (with `notes`); False
    names `evaluate --skip-unknown` in the error; None neither."""
    from tablegraph.tables.sources import FILE_SUFFIXES, table_name_of  # duckdb: when needed

    names = TableNames(tables)
    unread = {s.table.lower(): s.why for s in skipped or []}
    guessed: dict[str, str] = {}
    left_out: dict[str, int] = {}  # an unknown table -> questions left out for it
    out = []
    for q in questions:
        gold: list[str] | None = []
        for t in q.tables:
            key = t  # the name to look for: a file's table name where `t` is a file
            if "/" in t or "\\" in t or t.lower().endswith(FILE_SUFFIXES):
                key = table_name_of(t.replace("\\", "/"))
            name = names.find(t) or names.find(key)
            if name is None and key.lower() in unread:
                raise TableGraphError(f"{source}: gold table {t!r} could not be read: "
                                      f"{unread[key.lower()]}")
            if name is None and (several := names.ambiguity(key)):
                raise TableGraphError(f"{source}: table {t!r} in question {q.text!r}{several}")
            if name is None and notes is not None and (name := names.by_prefix(key)) \
                    is not None and t.lower() not in guessed:
                guessed[t.lower()] = name
                notes.append(f"{source}: gold table {t!r} is not a table here: read as "
                             f"{name!r}, the one table whose name begins with it (--strict: "
                             f"an error)")
            if name is None and skip_unknown and notes is not None:
                left_out[t] = left_out.get(t, 0) + 1
                gold = None
                break
            if name is None:
                hint = "; evaluate --skip-unknown leaves out the questions that name a table " \
                    "that is not here" if skip_unknown is False else ""
                raise TableGraphError(f"{source}: unknown table {t!r} in question {q.text!r} "
                                      f"(tables: {', '.join(sorted(tables)[:30])}){hint}")
            gold.append(name)
        if gold is not None:
            out.append(replace(q, tables=tuple(gold), answer=()))
    if left_out and notes is not None:
        notes.append(f"{source}: {sum(left_out.values())} question(s) left out: they name a "
                     f"table that is not here ("
                     + ", ".join(f"{t}: {n}" for t, n in sorted(left_out.items())) + ")")
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

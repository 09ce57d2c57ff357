"""Questions files: CSV `table,question`, and JSON as text-to-SQL benchmarks ship it (gold tables
given, or read from the gold SQL), one database of several picked by db_id."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tablegraph.tables.questions import (Question, parse_json_questions, parse_questions,
                                         answer_tables, read_question_texts, read_questions,
                                         sql_tables)
from tablegraph.tables.sources import database_name
from tablegraph.utils import TableGraphError


def test_sql_tables_reads_every_table_once_and_leaves_out_ctes():
    assert sql_tables("SELECT count(*) FROM Faculty") == ["Faculty"]
    # joins, aliases, a subquery, a table named twice in other cases
    assert sql_tables("SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.sid "
                      "WHERE T1.id NOT IN (SELECT sid FROM singer_in_concert) "
                      "AND T2.year > (SELECT max(year) FROM CONCERT)") == \
        ["singer", "concert", "singer_in_concert"]
    # a CTE's name is not a table; a schema-qualified name keeps its schema
    assert sql_tables("WITH recent AS (SELECT * FROM sales.orders WHERE d > 1) "
                      "SELECT * FROM recent JOIN customers USING (cid)") == \
        ["sales.orders", "customers"]
    # BIRD's backquoted names (SQLite) and PostgreSQL's casts both parse
    assert sql_tables("SELECT `group` FROM gender_age WHERE `group` = 'M23-26'") == ["gender_age"]
    assert sql_tables("SELECT amount::numeric FROM payments p, refunds r "
                      "WHERE p.id = r.pid") == ["payments", "refunds"]
    with pytest.raises(ValueError, match="cannot parse"):
        sql_tables("SELECT FROM WHERE ((")


def test_answer_tables_are_those_whose_columns_the_outer_select_returns():
    # aliases; the joined table only filters
    assert answer_tables("SELECT T2.name, count(*) FROM concert AS T1 JOIN stadium AS T2 "
                         "ON T1.sid = T2.id GROUP BY T1.sid") == ["stadium"]
    # a subquery in WHERE filters; COUNT(*) and a bare column over the only table
    assert answer_tables("SELECT name FROM singer WHERE id IN "
                         "(SELECT sid FROM singer_in_concert)") == ["singer"]
    assert answer_tables("SELECT count(*) FROM Faculty WHERE rank = 'Prof'") == ["Faculty"]
    # EHRSQL: the patient reached through admissions; scalar subqueries returned
    assert answer_tables("SELECT labevents.valuenum FROM labevents WHERE labevents.hadm_id IN "
                         "(SELECT admissions.hadm_id FROM admissions WHERE "
                         "admissions.subject_id = 10004235)") == ["labevents"]
    assert answer_tables("SELECT (SELECT c.v FROM chartevents AS c WHERE c.sid IN "
                         "(SELECT stay_id FROM icustays)) - (SELECT 1)") == ["chartevents"]
    # derived tables and CTEs are followed to the tables they read
    assert answer_tables("SELECT T2.drug FROM (SELECT p.sid FROM procedures AS p) AS T1 JOIN "
                         "(SELECT rx.drug, rx.sid FROM prescriptions AS rx) AS T2 "
                         "ON T1.sid = T2.sid") == ["prescriptions"]
    assert answer_tables("WITH r AS (SELECT o.total FROM sales.orders AS o) "
                         "SELECT total FROM r") == ["sales.orders"]
    # both sides of a UNION; SELECT * over a join returns both tables, T1.* one
    assert answer_tables("SELECT name FROM singer UNION SELECT name FROM stadium") == \
        ["singer", "stadium"]
    assert answer_tables("SELECT * FROM a JOIN b ON a.id = b.aid") == ["a", "b"]
    assert answer_tables("SELECT T1.* FROM a AS T1 JOIN b AS T2 ON T1.id = T2.aid") == ["a"]
    # cannot say: COUNT(*) or an unqualified column over a join, SQL that does not parse
    assert answer_tables("SELECT count(*) FROM a JOIN b ON a.id = b.aid") == []
    assert answer_tables("SELECT name FROM a JOIN b ON a.id = b.aid") == []
    assert answer_tables("SELECT FROM WHERE ((") == []


def test_json_questions_as_spider_bird_and_ehrsql_write_them():
    spider = json.dumps([{"db_id": "concert_singer", "question": "How many singers?",
                          "query": "SELECT count(*) FROM singer",
                          "sql": {"from": {"table_units": [["table_unit", 0]]}}}])
    assert parse_json_questions(spider) == [Question("How many singers?", ("singer",))]
    bird = "\n".join(json.dumps(x) for x in [
        {"db_id": "financial", "question": "Loans of district Praha?", "evidence": "A2 is name",
         "SQL": "SELECT T1.amount FROM loan T1 JOIN account T2 ON T1.account_id = "
                "T2.account_id JOIN district T3 ON T2.district_id = T3.district_id"},
        {"question": "given tables", "tables": ["loan", "Account"]},
        {"question": "given as in a CSV cell", "tables": "loan|district"}]) + "\n\n"
    assert parse_json_questions(bird) == [
        Question("Loans of district Praha?", ("loan", "account", "district")),
        Question("given tables", ("loan", "Account")),
        Question("given as in a CSV cell", ("loan", "district"))]
    ehrsql = '{"question": "what is the cost?", "sql": "null"}\n' \
             '{"question": "what is the price?", "tables": []}\n'
    assert parse_json_questions(ehrsql, unanswerable=True) == [
        Question("what is the cost?", ()), Question("what is the price?", ())]
    with pytest.raises(TableGraphError, match="line 1: no gold table"):
        parse_json_questions(ehrsql)


@pytest.mark.parametrize("text, message", [
    ('{"question": "q", "query": "SELECT FROM WHERE (("}', "line 1: SQL that sqlglot cannot parse"),
    ('{"question": "q", "query": "SELECT 1"}', "line 1: the SQL reads no table"),
    ('{"question": "q"}\n', "line 1: no gold tables"),
    ('{"question": "q", "sql": {"from": 1}}', "line 1: no gold tables"),
    ('{"question": "", "tables": ["a"]}', "line 1: empty question"),
    ('{"question": 3, "tables": ["a"]}', "line 1: no question text"),
    ('{"question": "q", "tables": [1]}', "'tables' must be a list"),
    ('{"question": "q", "tables": ["a"]}\n{"question": ', "line 2: not a JSON object"),
    ('[{"question": "q", "tables": ["a"]}, 3]', "item 2: not a JSON object"),
    ('[{"question": "q", "tables": ["a"]}', "line 1: not JSON"),
    ("", "no questions"),
    ('{\n "data": [{"id": 1, "question": "q"}]\n}', "one JSON object \\(keys: data\\), not"),
])
def test_json_questions_fail_with_one_line_naming_where(text, message):
    with pytest.raises(TableGraphError, match=message):
        parse_json_questions(text, "q.jsonl")


def test_one_database_of_several_by_db_id_or_by_the_databases_own_name(tmp_path):
    rows = [{"db_id": db, "question": f"q{i} of {db}", "query": f"SELECT * FROM t{i}"}
            for db in ("concert_singer", "pets_1") for i in range(2)]
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(TableGraphError, match="2 databases .*concert_singer, pets_1.*--db"):
        read_questions(path)
    assert [q.text for q in read_questions(path, database="PETS_1")] == \
        ["q0 of pets_1", "q1 of pets_1"]
    picked = read_questions(path, guess=database_name(str(tmp_path / "concert_singer.sqlite")))
    assert [q.text for q in picked] == ["q0 of concert_singer", "q1 of concert_singer"]
    with pytest.raises(TableGraphError, match="no question of database 'flights'"):
        read_questions(path, database="flights")
    csv = tmp_path / "q.csv"
    csv.write_text("table,question\nt0,q\n")
    # a file that names no database is the one database's named (--db on a folder picks it)
    assert [q.text for q in read_questions(csv, database="pets_1")] == ["q"]
    # ask --questions takes the questions alone, from JSON too
    assert read_question_texts(path) == [r["question"] for r in rows]


def test_database_name_is_what_a_db_id_would_say(tmp_path):
    (tmp_path / "world_1").mkdir()
    assert database_name(str(tmp_path / "world_1")) == "world_1"
    assert database_name(str(tmp_path / "world_1/world_1.sqlite")) == "world_1"
    assert database_name("postgresql://u:secret@host:5432/shop?sslmode=require") == "shop"


names = st.text(st.characters(categories=("L", "N"), include_characters="_"), min_size=1,
                max_size=12)
texts = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                max_size=40).filter(lambda s: s.strip() == s and s)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, st.lists(names, min_size=1, max_size=4,
                                          unique_by=str.lower)),  # as SQL names match
                min_size=1, max_size=8))
def test_the_same_questions_read_alike_from_csv_and_json(rows):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["table", "question"])
    for i, (q, ts) in enumerate(rows):
        w.writerow([("|", "; ", ",")[i % 3].join(ts), q])
    jsonl = "".join(json.dumps({"question": q, "tables": ts}) + "\n" for q, ts in rows)
    sql = "".join(json.dumps({"question": q, "sql": "SELECT 1 FROM " + ", ".join(
        f'"{t}"' for t in ts)}) + "\n" for q, ts in rows)
    want = [Question(q, tuple(ts)) for q, ts in rows]
    assert parse_questions(buf.getvalue()) == want
    assert parse_json_questions(jsonl) == want
    got = parse_json_questions(sql)
    assert [(q.text, tuple(t.lower() for t in q.tables)) for q in got] == \
        [(q.text, tuple(t.lower() for t in q.tables)) for q in want]


def test_csv_columns_are_read_as_json_keys(tmp_path):
    """A CSV names its columns as JSON names its keys: gold tables as `table` or `tables`, or
    the gold SQL as `sql` or `query`; `db_id` groups and picks databases."""
    from tablegraph.tables.questions import questions_by_database

    path = tmp_path / "dev.csv"
    path.write_text('db_id,question,query\n'
                    'shop,"Which customers ordered?","SELECT name FROM customers JOIN orders '
                    'ON customers.id = orders.cid"\n'
                    'pets_1,How many pets?,SELECT count(*) FROM pets\n'
                    'shop,What is the weather?,\n')
    assert questions_by_database(path, unanswerable=True) == {
        "pets_1": [Question("How many pets?", ("pets",))],
        "shop": [Question("Which customers ordered?", ("customers", "orders")),
                 Question("What is the weather?", ())]}
    assert read_questions(path, database="pets_1") == [Question("How many pets?", ("pets",))]
    with pytest.raises(TableGraphError, match="line 4: no gold table"):
        read_questions(path, database="shop")
    path.write_text("tables,question,difficulty\n\"customers, orders\",Who ordered?,easy\n")
    assert read_questions(path) == [Question("Who ordered?", ("customers", "orders"))]
    assert questions_by_database(path) == {}
    path.write_text("gold,question\ncustomers,Who?\n")
    with pytest.raises(TableGraphError, match="header must be 'table,question' .or name the "
                                              "gold SQL"):
        read_questions(path)


def test_other_benchmarks_names_for_the_database_and_the_gold_sql(tmp_path):
    """`db` (Spider 2.0's), `database`, `gold_sql`, `gold_tables`, ... read as `db_id`,
    `sql` and `tables`, in JSON and in CSV, where the file has no key of ours."""
    from tablegraph.tables.questions import questions_by_database

    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"instance_id": "a", "db": "shop", "question": "Who ordered?",
                                "gold_sql": "SELECT * FROM orders JOIN customers USING (c)"})
                    + "\n" + json.dumps({"database": "pets", "question": "How many pets?",
                                         "gold_tables": ["pets"]}) + "\n")
    assert questions_by_database(path) == {
        "pets": [Question("How many pets?", ("pets",))],
        "shop": [Question("Who ordered?", ("orders", "customers"))]}
    path = tmp_path / "q.csv"
    path.write_text("sql_query,question,db,table\nSELECT 1 FROM pets,How many?,pets,owners\n")
    # a key of ours wins: `table` is the gold here, the alias stays as it is
    assert questions_by_database(path) == {"pets": [Question("How many?", ("owners",))]}


def test_evidence_follows_its_question_only_when_asked(tmp_path):
    bird = tmp_path / "dev.json"
    bird.write_text(json.dumps([
        {"question": "How many male users?", "evidence": "male refers to u_gender = 'M'",
         "SQL": "SELECT count(*) FROM users WHERE u_gender = 'M'"},
        {"question": "How many movies?", "evidence": "", "SQL": "SELECT count(*) FROM movies"}]))
    assert [q.text for q in read_questions(bird)] == ["How many male users?", "How many movies?"]
    assert [q.text for q in read_questions(bird, evidence=True)] == [
        "How many male users? male refers to u_gender = 'M'", "How many movies?"]
    csv = tmp_path / "q.csv"
    csv.write_text("question,evidence,table\nHow many male users?,u_gender = 'M',users\n")
    assert read_questions(csv, evidence=True)[0].text == "How many male users? u_gender = 'M'"
    csv.write_text("question,table\nHow many male users?,users\n")
    with pytest.raises(TableGraphError, match="--evidence, but no question has an 'evidence'"):
        read_questions(csv, evidence=True)
    spider = tmp_path / "spider.jsonl"
    spider.write_text('{"question": "How many singers?", "query": "SELECT 1 FROM singer"}\n')
    with pytest.raises(TableGraphError, match="--evidence, but no question has an 'evidence'"):
        read_questions(spider, evidence=True)


def test_databases_in_a_benchmark_folder_by_file_and_by_folder_name(tmp_path):
    from tablegraph.tables.sources import databases_in

    def sqlite(path):
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (a)")
        con.close()

    sqlite(tmp_path / "database" / "world_1" / "world_1.sqlite")
    sqlite(tmp_path / "database" / "Pets_1" / "data.db")
    (tmp_path / "database" / "notes.db").write_text("not a database")
    found = databases_in(str(tmp_path / "database"))
    assert found == {"world_1": str(tmp_path / "database/world_1/world_1.sqlite"),
                     "data": str(tmp_path / "database/Pets_1/data.db"),
                     "pets_1": str(tmp_path / "database/Pets_1/data.db")}
    assert databases_in(str(tmp_path / "database" / "world_1")) == {}  # one database


def test_the_question_under_another_key_is_read_where_named(tmp_path):
    """Spider-Syn keeps its questions under "SpiderSynQuestion" (beside the original
    "SpiderQuestion"): without --question-key one error lists the keys, with it those
    questions are read (any case), from JSON and from a CSV column alike."""
    from tablegraph.tables.questions import questions_by_database, read_question_texts

    rows = [{"db_id": "shop", "query": "SELECT city FROM customers",
             "SpiderQuestion": "Which cities do customers live in?",
             "SpiderSynQuestion": "Which towns do clients live in?"},
            {"db_id": "shop", "query": "SELECT sum(amount) FROM refunds JOIN orders",
             "SpiderQuestion": "What is the total refund?",
             "SpiderSynQuestion": "How much was given back?"}]
    f = tmp_path / "syn.json"
    f.write_text(json.dumps(rows))
    with pytest.raises(TableGraphError, match="item 1: no question text .*spidersynquestion"
                                              ".*--question-key"):
        read_questions(f)
    qs = read_questions(f, question_key="SpiderSynQuestion")
    assert [q.text for q in qs] == ["Which towns do clients live in?",
                                    "How much was given back?"]
    assert qs[1].tables == ("refunds", "orders")
    assert [q.text for q in read_questions(f, question_key="spiderquestion")][0] == \
        "Which cities do customers live in?"
    assert [q.text for q in questions_by_database(f, question_key="SpiderSynQuestion")
            ["shop"]] == [q.text for q in qs]
    assert read_question_texts(f, "SpiderSynQuestion") == [q.text for q in qs]
    with pytest.raises(TableGraphError, match="no question has a 'nope' key"):
        read_questions(f, question_key="nope")
    c = tmp_path / "syn.csv"
    c.write_text("sql,utterance\nSELECT city FROM customers,Which towns?\n")
    assert [(q.text, q.tables) for q in read_questions(c, question_key="Utterance")] == \
        [("Which towns?", ("customers",))]
    assert read_question_texts(c, "utterance") == ["Which towns?"]
    with pytest.raises(TableGraphError, match="header must be 'table,question'"):
        read_questions(c)


def test_text2sql_data_sentences_are_questions_with_their_variables_filled_in(tmp_path):
    """The older benchmarks as Finegan-Dollak et al. ship them (GeoQuery, ATIS, Academic,
    ...): one record per query with its sentences, whose variables (`state_name0`) take the
    sentence's values, and the first SQL as the gold (upper-case names, aliases)."""
    rows = [{"query-split": "test", "sql": [
                "SELECT CITYalias0.CITY_NAME FROM CITY AS CITYalias0 WHERE "
                "CITYalias0.STATE_NAME = \"state_name0\" ;",
                "SELECT CITY_NAME FROM CITY JOIN STATE ON 1 = 1 ;"],
             "sentences": [{"text": "cities in state_name0", "question-split": "test",
                            "variables": {"state_name0": "texas"}},
                           {"text": "what cities are in state_name0 or state_name1 or "
                                    "state_name10", "variables": {
                                        "state_name0": "ohio", "state_name1": "utah",
                                        "state_name10": "iowa"}}],
             "variables": [{"name": "state_name0", "example": "texas"}]},
            {"sql": ["SELECT RIVERalias0.RIVER_NAME FROM RIVER AS RIVERalias0 , BORDER_INFO "
                     "AS B WHERE B.BORDER = RIVERalias0.TRAVERSE ;"],
             "sentences": [{"text": "rivers of bordering states", "variables": {}}]}]
    f = tmp_path / "geography.json"
    f.write_text(json.dumps(rows))
    assert read_questions(f) == [
        Question("cities in texas", ("CITY",)),
        Question("what cities are in ohio or utah or iowa", ("CITY",)),
        Question("rivers of bordering states", ("RIVER", "BORDER_INFO"))]
    assert [q.origin() for q in read_questions(f)] == [  # where each stands in the file
        {"item": 1, "sentence": 1}, {"item": 1, "sentence": 2}, {"item": 2, "sentence": 1}]
    assert read_question_texts(f) == ["cities in texas", "what cities are in ohio or utah "
                                      "or iowa", "rivers of bordering states"]
    f.write_text(json.dumps([{"sql": "SELECT 1", "sentences": [{"text": "q"}]}]))
    with pytest.raises(TableGraphError, match="item 1: 'sentences' without a list of SQL"):
        read_questions(f)
    f.write_text(json.dumps([{"sql": ["SELECT a FROM t"], "sentences": [{"words": "q"}]}]))
    with pytest.raises(TableGraphError, match="item 1: a sentence without its 'text'"):
        read_questions(f)


def test_a_conversation_is_read_as_its_final_question(tmp_path):
    """SParC and CoSQL ship interactions: turns that lean on the turns before them ("only the
    refunded ones") and a final question that says it all, read with its SQL as the gold."""
    rows = [{"database_id": "shop", "interaction": [
                {"utterance": "show all orders", "query": "SELECT * FROM orders"},
                {"utterance": "only the refunded ones",
                 "query": "SELECT * FROM orders WHERE status = 'refunded'"}],
             "final": {"utterance": "Which customers had an order refunded?",
                       "query": "SELECT c.name FROM customers AS c JOIN orders AS o "
                                "ON o.customer_id = c.id WHERE o.status = 'refunded'"}},
            {"database_id": "zoo", "interaction": [],
             "final": {"utterance": "How many lions?", "query": "SELECT count(*) FROM animals"}}]
    f = tmp_path / "sparc_dev.json"
    f.write_text(json.dumps(rows))
    assert read_questions(f, database="shop") == [
        Question("Which customers had an order refunded?", ("customers", "orders"))]
    assert read_question_texts(f) == ["Which customers had an order refunded?",
                                      "How many lions?"]


def test_a_questions_file_in_utf16_reads(tmp_path):
    """Excel's and SQL Server's "Unicode" files are UTF-16 with a byte-order mark."""
    path = tmp_path / "q.csv"
    path.write_bytes("table,question\r\ncustomers,Wer kauft in München?\r\n".encode("utf-16"))
    assert read_questions(path) == [Question("Wer kauft in München?", ("customers",))]
    # Excel's "Unicode text" is tab-separated; its European CSV, semicolon-separated
    for d in ("\t", ";"):
        path.write_bytes(f"question{d}tables\r\nWer kauft, und wo?{d}orders,customers\r\n"
                         .encode("utf-16"))
        assert read_questions(path) == [Question("Wer kauft, und wo?", ("orders", "customers"))]
    path.write_bytes(b"table,question\ncustomers,caf\xe9\n")  # Latin-1: one line, not a guess
    with pytest.raises(TableGraphError, match="not UTF-8 or UTF-16 text"):
        read_questions(path)


def test_a_pipe_given_as_a_file_is_read_once(tmp_path):
    """`--questions <(...)`: the shell gives a pipe's path (/dev/fd/63); it is read once,
    however often a command reads the questions (a pipe cannot be read twice)."""
    import os
    import threading

    from tablegraph.tables.questions import read_question_texts, read_questions

    fifo = tmp_path / "q.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(daemon=True, target=lambda: fifo.write_text(
        "table,question\nlabevents,blood results\n"))
    writer.start()
    first = read_questions(fifo)
    writer.join(timeout=10)
    assert [(q.text, q.tables) for q in first] == [("blood results", ("labevents",))]
    assert [(q.text, q.tables) for q in read_questions(fifo)] == \
        [(q.text, q.tables) for q in first]  # the second read: the same, without blocking
    assert read_question_texts(fifo) == ["blood results"]


def test_a_question_knows_where_it_stands_in_its_file_and_its_own_id(tmp_path):
    """A report on a question (`evaluate --rankings`) names its line (CSV, JSON Lines) or its
    item (a JSON array) as an error would, and its record's own id where there is one (BIRD's
    question_id, EHRSQL's id, Spider 2.0's instance_id; not a boolean), so that a pipeline can
    join it back to its input when questions are left out or grouped by database."""
    c = tmp_path / "q.csv"
    c.write_text("table,question\nusers,who signed up\n\norders,what was bought\n")
    assert [q.origin() for q in read_questions(c)] == [{"line": 2}, {"line": 4}]
    j = tmp_path / "q.jsonl"
    j.write_text('{"question": "a", "table": "t", "question_id": 7}\n\n'
                 '{"question": "b", "table": "t", "ID": "x1"}\n'
                 '{"question": "c", "table": "t", "id": true, "instance_id": "sf_3"}\n')
    assert [q.origin() for q in read_questions(j)] == [
        {"line": 1, "id": 7}, {"line": 3, "id": "x1"}, {"line": 4, "id": "sf_3"}]
    a = tmp_path / "q.json"
    a.write_text(json.dumps([{"question": "a", "query": "SELECT * FROM t"},
                             {"question": "b", "query": "SELECT * FROM u", "id": 3}]))
    qs = read_questions(a)
    assert [q.origin() for q in qs] == [{"item": 1}, {"item": 2, "id": 3}]
    # where it stands is not what it is: the same question from elsewhere is equal
    assert qs[0] == Question("a", ("t",)) and qs[0].renamed(str.upper).origin() == {"item": 1}

import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tablegraph.graphs.nodes import NodeKind, TableNodes
from tablegraph.model.config import EncoderConfig
from tablegraph.model.encoder import ContrastiveGNNEncoder
from tablegraph.model.scoring import QuestionInputs
from tablegraph.model.linking import FEATURE_NAMES, NUM_FEATURES, SchemaLinker, content_words
from tablegraph.text.encoders import HashEncoder
from tablegraph.text.words import name_to_words

TABLES = [
    ("services", ["subject_id", "hadm_id", "curr_service", "prev_service"], ["MED", "SURG", "CMED"]),
    ("transfers", ["subject_id", "hadm_id", "eventtype", "careunit"],
     ["ED", "admit", "discharge", "Medical Intensive Care Unit (MICU)"]),
    ("d_icd_diagnoses", ["icd_code", "icd_version", "long_title"], ["Atrial fibrillation"]),
    ("diagnoses_icd", ["subject_id", "hadm_id", "icd_code", "seq_num"], []),
]


def feat(linker, q, table, name):
    j = [t[0] for t in TABLES].index(table)
    return float(linker.features([q])[0, j, FEATURE_NAMES.index(name)])


def test_features_shape_and_range():
    linker = SchemaLinker(TABLES)
    f = linker.features(["Which admissions switched from MED to SURG?", "", "???"])
    assert f.shape == (3, len(TABLES), NUM_FEATURES)
    assert np.isfinite(f).all() and f.min() >= 0 and f.max() <= 1
    assert not f[1:].any()  # nothing to link in an empty question


ASKED = "Which patients were transferred to the MICU?"


def assert_reads(linker, wrapped: tuple[str, ...], kept: tuple[str, ...]) -> None:
    """Each text of `wrapped` is read as `ASKED`; each of `kept` as it is."""
    for text in wrapped:
        assert linker.without_request(text) == ASKED, text
    for text in kept:
        assert linker.without_request(text) == text, text


def test_sentences_that_only_ask_for_tables_are_passed_over():
    linker = SchemaLinker(TABLES)
    q = ASKED
    assert_reads(linker, (f"I am writing a SQL query for this request: {q} Which tables do I "
                          f"need?", f"Find the tables for: {q}",
                          f"{q} List the tables I have to join."),
                 (q, "Which tables do I need?",  # one sentence; nothing else left
                  "How many services? List their codes.",  # both sentences say something
                  "Tell me which tables. Which tables do I need?"))  # every sentence a request
    # a word of the request's kind is the schema's where a name of it says it
    asked = SchemaLinker(TABLES + [("questions", ["question_id", "answer"], [])])
    assert asked.without_request("Which question is it? Find the tables.") == \
        "Which question is it?"
    assert asked.without_request("Show the answer. Which question?") == "Show the answer. " \
        "Which question?"


def test_a_request_in_other_words_is_passed_over_where_nothing_of_the_schema_is_in_it():
    q = ASKED
    assert_reads(SchemaLinker(TABLES),
                 (f"Can you locate the tables for this task? {q}",
                  f"{q} Identify the relevant tables.", f"Before any SQL is written: {q}"),
                 # a word of the schema's names or values keeps the sentence, and so does one
                 # that does not speak of the database ("tell" beside words the names do not
                 # use may be the question's)
                 (f"{q} Give me the tables with the diagnosis codes.",
                  f"{q} Tell me the wards they stayed in.", f"Hi there! {q}",
                  f"Context: an analyst asks the following. {q}",
                  # a name or a quoted value is the question's, with a table word or not
                  f"{q} Which tables for Boston General?", f'{q} Which tables hold "Ward 5"?'))


def test_sentences_do_not_end_inside_quotes_nor_after_a_title_or_short_form():
    split = SchemaLinker._sentences
    assert split("Which tables? how many services? List them.") == \
        ["Which tables?", "how many services?", "List them."]
    assert split("How many kinds of products did order No. 10252 contain? Which tables?") == \
        ["How many kinds of products did order No. 10252 contain?", "Which tables?"]
    assert split("Who works at Rovelli Ltd. in Rome, for Dr. Smith? Tell me.") == \
        ["Who works at Rovelli Ltd. in Rome, for Dr. Smith?", "Tell me."]
    assert split("Who ordered from Autoware Inc. Which tables?") == \
        ["Who ordered from Autoware Inc.", "Which tables?"]
    assert split("Who ordered from Autoware Inc. ") == ["Who ordered from Autoware Inc. "]
    assert split('Who saw "Mr. Smith Goes to Washington"? Tables?') == \
        ['Who saw "Mr. Smith Goes to Washington"?', "Tables?"]
    assert split('Who directed "Pirates of the Caribbean: At World\'s End"? Which tables?') == \
        ['Who directed "Pirates of the Caribbean: At World\'s End"?', "Which tables?"]
    linker = SchemaLinker(TABLES)
    # "10252 contain?" is no sentence of its own, so nothing of the question is passed over
    q = "Which service did admission No. 10252 have? Which tables?"
    assert linker.without_request(q) == "Which service did admission No. 10252 have?"


def test_table_name_is_an_exact_word():
    linker = SchemaLinker(TABLES)
    q = "d_icd_diagnoses lookup for the hypertension code"
    assert feat(linker, q, "d_icd_diagnoses", "table_name") == 1.0
    assert feat(linker, q, "diagnoses_icd", "table_name") == 0.0
    # a table named by a plain English word is left to the word features
    assert feat(linker, "which services were involved?", "services", "table_name") == 0.0
    # a name with a capital inside is no plain word either, in any case the question writes it
    camel = SchemaLinker([("OrderDetails", ["OrderID"], []), ("Orders", ["OrderID"], [])])
    x = camel.features(["orderdetails of order 10248", "Orders of 1997"])[:, :, 0]
    assert x.tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_short_values_match_in_case_long_values_in_any_case():
    linker = SchemaLinker(TABLES)
    assert feat(linker, "Which admissions switched from MED to SURG?", "services", "value_phrase") > 0
    assert feat(linker, "take your medicine", "services", "value_phrase") == 0  # no "med" word
    assert feat(linker, "he was admitted to the med ward", "services", "value_phrase") == 0
    assert feat(linker, "stays in the medical intensive care unit (micu)", "transfers",
                "value_phrase") > 0


def test_two_values_written_alike_are_found_as_the_same_one_in_every_process():
    """Of a table's values that differ only in spacing or punctuation around their pieces
    ("New-York", "New - York"), the one a question finds does not depend on the process's
    hash seed (a set's order): the same question gets the same features and hits each run."""
    import subprocess
    import sys

    code = ("from tablegraph.model.linking import SchemaLinker\n"
            "l = SchemaLinker([('city', ['name'], ['New - York', 'New-York', 'Ohio', 'Utah',"
            " 'Lake - Erie', 'Lake-Erie', 'Lake -Erie'])])\n"
            "print(l.found_values('from New-York to Lake-Erie'))")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}
                           ).stdout for seed in range(8)}
    assert len(seen) == 1, seen


def test_rarer_words_link_more():
    linker = SchemaLinker(TABLES)
    # "icd" is in two of the four tables, "version" in one
    assert feat(linker, "icd version", "d_icd_diagnoses", "column_words") > \
        feat(linker, "icd version", "diagnoses_icd", "column_words") > 0
    assert feat(linker, "icd version", "services", "column_words") == 0
    assert content_words("Which codes are the codes?") == ["code", "code"]


def test_a_word_and_its_plural_link_alike():
    """"-ies" and "-es" plurals stem as their singulars do: "cities" names table `city`,
    "countries" a `country` column, "classes" a `class` column, "movie" a `movies` table."""
    linker = SchemaLinker([("city", ["city_id", "city_name"], []),
                           ("movies", ["movie_id", "title"], []),
                           ("school", ["school_id", "country", "class"], [])])
    f = linker.features(["Which cities have the most people?", "list every movie",
                         "schools of which countries teach the most classes?"])
    words = FEATURE_NAMES.index("column_words")
    assert f[0, 0, words] > 0 and f[0, 1:, words].max() == 0
    assert f[1, 1, words] > 0 and f[1, [0, 2], words].max() == 0
    assert f[2, 2, words] > f[2, :2, words].max()
    assert content_words("countries country classes class coaches movies movie boxes") == \
        ["country", "country", "class", "class", "coach", "movy", "movy", "box"]
    assert content_words("codes status series") == ["code", "statu", "sery"]
    # stems read as the common words they stand for (the abstention's `names_unread`)
    assert linker.names_unread == 0.0


def test_column_names_link_as_words():
    linker = SchemaLinker(TABLES)
    assert feat(linker, "group by curr_service", "services", "column_name") > 0
    assert feat(linker, "group by curr_service", "transfers", "column_name") == 0


def test_attention_pooling_starts_as_mean_pooling_and_linking_at_zero():
    enc = HashEncoder(32)
    texts = ["creatinine on admission", "which drug", "x"]
    tokens = enc.encode_tokens(texts)
    model = ContrastiveGNNEncoder(EncoderConfig(in_dim=128 + 32, out_dim=32, hidden_dim=16,
                                                heads=2))
    qs = QuestionInputs.from_arrays(enc.encode(texts), tokens,
                                    np.ones((3, 4, NUM_FEATURES), np.float32))
    with torch.no_grad():
        pooled = model.question_vectors(qs)  # [3, 32]
        assert torch.allclose(pooled, qs.vectors, atol=1e-5)
        tables = torch.nn.functional.normalize(torch.randn(4, 32), dim=-1)
        assert torch.allclose(model.score(qs, tables), pooled @ tables.t(), atol=1e-6)
    sub = qs.select([2, 0])
    x, mask = sub.padded()
    assert x.shape == (2, 3, 32) and mask.sum(1).tolist() == [1, 3]
    assert len(sub.cat(qs)) == 5


def test_token_embeddings_are_cached_and_mean_to_the_sentence_vector(tmp_path, monkeypatch):
    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path))
    enc = HashEncoder(16, use_cache=True)
    a = enc.encode_tokens(["lab value of creatinine", "hello"])
    b = enc.encode_tokens(["hello", "lab value of creatinine"])
    assert [t.shape for t in a] == [(4, 16), (1, 16)]
    assert np.array_equal(a[0], b[1])
    mean = a[0].mean(0) / np.linalg.norm(a[0].mean(0))
    assert np.allclose(mean, enc.encode(["lab value of creatinine"])[0], atol=1e-6)


def test_partial_matches_link_names_and_values_by_their_words():
    tables = TABLES + [("pharmacy", ["medication", "one_hr_max", "disp_sched"],
                        ["Inactive (Due to a change order)"]),
                       ("prescriptions", ["drug", "doses_per_24_hrs"], ["Tablet"])]
    linker = SchemaLinker(tables)
    names = [t[0] for t in tables]

    def f(q, table, name):
        return float(linker.features([q])[0, names.index(table), FEATURE_NAMES.index(name)])

    # an abbreviated name word matches the word it begins: "max" -> "maximum"
    q = "Which drugs have a one hour maximum dose set?"
    assert f(q, "pharmacy", "column_cover") > f(q, "services", "column_cover") == 0
    # a value links by its words, without its punctuation
    q = "Which entries were inactive due to a change order?"
    assert f(q, "pharmacy", "value_cover") > 0 and f(q, "pharmacy", "value_phrase") == 0
    assert f(q, "prescriptions", "value_cover") == 0
    # more of a name's rare words found -> a stronger partial match
    assert f("icd version", "d_icd_diagnoses", "column_cover") > \
        f("icd", "d_icd_diagnoses", "column_cover")
    # nothing to match: all zero
    assert not linker.features(["hello there"])[0, :, 5:].any()


def test_linker_from_nodes_equals_linker_from_names_and_values():
    nodes = []
    for name, cols, vals in TABLES:
        kinds = [int(NodeKind.COLUMN)] * len(cols) + [int(NodeKind.TABLE)] + \
            [int(NodeKind.VALUE)] * len(vals)
        owners = list(range(len(cols))) + [-1] + [0] * len(vals)
        labels = cols + [name_to_words(name, table=True)] + vals
        texts = [name_to_words(c) for c in cols] + labels[len(cols):]  # as `table_nodes`
        nodes.append(TableNodes(name, cols, kinds, owners, labels, texts))
    qs = ["Which admissions switched from MED to SURG?", "icd version of atrial fibrillation"]
    a = SchemaLinker.from_nodes(nodes).features(qs)
    assert a.any()
    assert np.array_equal(a, SchemaLinker(TABLES).features(qs))
    # a catalog comment in a column's node text links the question's words to its table
    q = ["which ward did the stay move to"]
    before = SchemaLinker.from_nodes(nodes).features(q)
    j = [n.table for n in nodes].index("transfers")
    nodes[j].texts[0] = nodes[j].texts[0] + " (the ward a stay moved to)"
    after = SchemaLinker.from_nodes(nodes).features(q)
    assert (after[0, j] > before[0, j]).any() and np.array_equal(
        np.delete(after, j, axis=1), np.delete(before, j, axis=1))


def test_a_value_of_the_lexicon_links_its_table():
    """A drug name that is no value node of `prescriptions` still links it by phrase, in any
    case; the word features keep to the value nodes."""
    tables = [("prescriptions", ["drug", "route"], ["Heparin", "PO"],
               ["Heparin", "PO", "Potassium Chloride 20 mEq", "Tamoxifen Citrate", "at"]),
              ("labevents", ["itemid", "valuenum"], ["Potassium"], [])]
    linker = SchemaLinker(tables)
    f = linker.features(["How is tamoxifen citrate given?", "potassium chloride 20 meq doses",
                         "give 20 mEq at noon"])
    phrase, words = FEATURE_NAMES.index("value_phrase"), FEATURE_NAMES.index("value_words")
    assert f[0, 0, phrase] > 0 and f[0, 1, phrase] == 0 and f[0, 0, words] == 0
    assert f[1, 0, phrase] > 0  # the whole value, though "potassium" is also in labevents
    assert not f[2, :, phrase].any()  # a part of a value is no match, nor a stopword value
    without = SchemaLinker([t[:3] for t in tables]).features(["How is tamoxifen citrate given?"])
    assert without[0, 0, phrase] == 0
    found = linker.found_values("Heparin or tamoxifen citrate? potassium")
    assert {v for _, v in found[0]} == {"Tamoxifen Citrate", "Heparin"}
    assert [w for w, _ in found[0]] == sorted((w for w, _ in found[0]), reverse=True)
    assert [v for _, v in found[1]] == ["Potassium"] and found[0][0][0] == f[0, 0, phrase]


def test_a_long_title_of_the_lexicon_links_its_table():
    """Dictionary titles run longer than drug names: one of 84 characters, named whole in the
    question, links its table; one beyond 100 characters does not."""
    title = "Dilation of Left External Iliac Vein with Intraluminal Device, Percutaneous Approach"
    tables = [("d_icd_procedures", ["icd_code", "long_title"], ["Colonoscopy"],
               [title, "x" * 101]),
              ("procedures_icd", ["icd_code", "chartdate"], [], [])]
    linker = SchemaLinker(tables)
    f = linker.features([f"patients who had {title.lower()} since 2100", "x" * 101])
    phrase = FEATURE_NAMES.index("value_phrase")
    assert f[0, 0, phrase] > 0 and f[0, 1, phrase] == 0
    assert not f[1, :, phrase].any()


def test_word_cover_says_which_table_accounts_for_which_word():
    linker = SchemaLinker(TABLES)
    q = "long title of the atrial fibrillation diagnosis and the careunits of transfers"
    words = content_words(q)
    c = linker.word_cover(q)
    assert c.shape == (len(TABLES), len(words)) and c.min() >= 0 and c.max() <= 1
    j = {t[0]: i for i, t in enumerate(TABLES)}

    def at(table, word):
        return float(c[j[table], words.index(word)])
    # a name word: its IDF among the tables' name words
    assert at("d_icd_diagnoses", "title") == pytest.approx(linker.idf_column_words["title"])
    assert linker.idf_column_words["title"] > 0
    assert at("services", "title") == 0
    # a word of a value found whole in the question: 1
    assert at("d_icd_diagnoses", "atrial") == 1.0 == at("d_icd_diagnoses", "fibrillation")
    # a name word of 3+ letters that begins the question's word: "care" (of careunit) in
    # "careunits", at 0.8 of its IDF
    assert at("transfers", "careunit") == pytest.approx(0.8 * linker.idf_column_words["care"])
    assert at("diagnoses_icd", "careunit") == 0
    assert linker.word_cover("the and of").shape == (len(TABLES), 0)


def test_what_a_question_names_by_value_points_at_tables_of_names():
    linker = SchemaLinker([("person", ["person_id", "person_name"], [], []),
                           ("movie", ["movie_id", "title", "budget"], [], []),
                           ("movie_crew", ["movie_id", "person_id", "job"], [], []),
                           ("country", ["country_id", "iso_code"], ["Belgium"], [])])
    assert list(linker.holds_names) == [1, 1, 0, 0]
    assert linker.literals("How many movies were directed by Michael Bay?") == ["Michael Bay"]
    assert linker.literals('Who directed "Land of the Dead"? List Sally Menke\'s jobs.') == \
        ["Land of the Dead", "Sally Menke's"]
    assert linker.entities("How many movies were directed by Michael Bay?").tolist() == \
        [[1, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]]
    # a sentence's first word, a name of the schema and a value found in a table are no
    # unexplained names
    for q in ("Which department has the most people?", "What is the Person Name of the Movie?",
              "Which movies were made in Belgium?", "How many were made in May and on Sunday?",
              # a value that a hint compares to a column, and SQL's words in it
              "Who directed it? movie refers to title = 'Four Rooms'",
              "Share of men? share = DIVIDE(SUM(gender = 'M'), COUNT(person_id))"):
        assert linker.literals(q) == [] and not linker.entities(q).any(), q
    assert linker.literals("Who has a name like 'Soisalon'?") == ["Soisalon"]  # English


def test_a_table_named_right_before_a_value_is_the_one_that_holds_it():
    linker = SchemaLinker([("movie", ["movie_id", "title"], [], []),
                           ("movie_crew", ["movie_id", "person_id", "job"], [], []),
                           ("production_company", ["company_id", "company_name"], [], []),
                           ("company", ["id", "name"], [], []),
                           ("Words", ["wid", "word"], [], [])])

    def typed(q: str) -> list[str]:
        return [n for n, f in zip(["movie", "movie_crew", "production_company", "company",
                                   "words"], linker.entities(q)[:, 1]) if f]

    assert typed('Who was the crew of the movie "Four Rooms"?') == ["movie"]
    assert typed("Whom did the movie crew titled 'Grips' hire?") == ["movie_crew"]
    # the longest name that fits; naming words and stopwords between name and value
    assert typed('Who owns the production company "X Films"?') == ["production_company"]
    assert typed("Which company named Around the Horn sold most?") == ["company"]
    assert typed('How often does the word "grec" occur?') == ["words"]  # any case, plural
    # a value with no table's name before it, a sentence before it, none at all
    for q in ("What did Quentin Tarantino direct?", 'Name a movie. "Four Rooms" is one.',
              "Which movie had the largest budget?"):
        assert typed(q) == [], q


def test_a_table_named_right_before_a_number_is_one_row_named_by_its_key():
    linker = SchemaLinker([("patients", ["subject_id", "gender"], [], []),
                           ("labevents", ["subject_id", "itemid", "valuenum"], [], []),
                           ("ref_document_types", ["code", "name"], [], []),
                           ("documents", ["id", "type_code"], [], [])])

    names = ["patients", "labevents", "ref_document_types", "documents"]

    def by_id(q: str) -> list[str]:  # as the second stage's flags say it too
        named = [names[j] for j in linker.named_by_id(q)]
        assert named == [n for n, f in zip(names, linker.entities(q)[:, 2]) if f]
        return named

    assert by_id("What was the last lab value of patient 10027602?") == ["patients"]
    assert by_id("Show patient 10027602's labs in 2100.") == ["patients"]
    assert by_id("What is the mail date of the document with id 7?") == ["documents"]
    assert by_id("Which type code has document number 3?") == ["documents"]
    for q in ("How many patients in 2100 had a lab test?", "List the top 10 documents.",
              "Which patient had 3 lab tests?", "Patients. 7 of them?"):
        assert by_id(q) == [], q
    assert not linker.entities("patient 10027602")[:, :2].any()  # no name given by value



@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_names_given_by_value_are_read_from_any_text(question):
    linker = SchemaLinker([("person", ["person_id", "person_name"], ["Ann Lee"], []),
                           ("movie_crew", ["movie_id", "job"], [], [])])
    spans = linker.literals(question)
    assert all(isinstance(s, str) and s for s in spans)
    flags = linker.entities(question)
    assert flags.shape == (2, 3) and flags[1, 0] == 0
    assert flags[0, 0] == float(bool(spans))
    assert set(flags[:, 1:].ravel()) <= {0.0, 1.0} and (spans or not flags[:, 1].any())


def test_abbreviated_names_link_the_words_they_abbreviate():
    tables = [("cstm_ordr", ["ordr_id", "cstm_nm", "scr"], []),
              ("products", ["product_id", "price", "cost"], [])]
    linker = SchemaLinker(tables)

    def f(q, j):
        return float(linker.features([q])[0, j, FEATURE_NAMES.index("column_cover")])
    # "cstm" and "ordr" are no words: the question's "customer" and "orders" are what they
    # abbreviate, letters in order; "scr" likewise for "score"
    q = "orders of each customer"
    assert f(q, 0) > 0 and f(q, 1) == 0
    assert f("the best score", 0) > 0
    cover = linker.word_cover("orders of each customer")
    assert cover[0].min() > 0 and not cover[1].any()
    # a common word is no abbreviation: "cost" does not link "coast", nor "price" "prince"
    assert f("a coast for the prince", 1) == 0
    # nor does a letter out of order or a first letter that differs ("scr" in "cars"), nor
    # a word that passes over more than one consonant ("scr" in "subscriber")
    assert f("cars", 0) == 0 and f("oscar", 0) == 0 and f("subscriber", 0) == 0


def test_acronyms_link_the_words_whose_initials_they_are():
    tables = [("drgcodes", ["hadm_id", "drg_code", "description"], []),
              ("diagnoses_icd", ["hadm_id", "icd_code"], []),
              ("schools", ["school_id", "frpm_count"], [])]
    linker = SchemaLinker(tables)

    def f(q, j):
        return float(linker.features([q])[0, j, FEATURE_NAMES.index("column_cover")])
    # "drg" is no word: the three words in a row whose initials it is link it
    q = "What is the diagnosis related group of each stay?"
    assert f(q, 0) > 0 and f(q, 1) == 0
    words = content_words(q)
    assert linker.acronyms(words) == [(0, 3, "drg")]
    cover = linker.word_cover(q)
    assert cover[0, :3].min() > 0 and cover[0, 3:].max() == 0 and not cover[1:].any()
    # stopwords between them pass ("free or reduced price meals": "frpm")
    assert linker.acronyms(content_words("count free or reduced price meals")) == \
        [(1, 5, "frpm")]
    assert f("count free or reduced price meals", 2) > 0
    # the words out of order, too few of them, or a letter missing: no link
    for q in ("the group related to diagnosis", "diagnosis group", "diagnosis rate"):
        assert f(q, 0) == 0 and not linker.acronyms(content_words(q))
    # a column whose rare name words the question says, so spelled, is one it names
    assert linker.named_columns("the diagnosis related group code of each stay", 0) == \
        ["drg_code"]
    assert linker.named_columns("the diagnosis related group of each stay", 0) == []
    assert linker.named_columns("the icd code of each admission", 1) == ["icd_code"]


def test_a_tables_own_key_is_named_only_when_the_question_says_more_than_the_table():
    tables = [("cust", ["cust_id", "full_nm", "ssn"], []),
              ("ord", ["ord_id", "cust_id", "tot_amt"], []),
              ("prod", ["prod_id", "prod_nm"], []), ("emp", ["emp_id", "hire_dt"], []),
              ("store", ["store_id", "city"], []), ("supplier", ["supplier_id", "phone"], [])]
    linker = SchemaLinker(tables)
    # "customers" names the table cust, not its key
    assert "cust_id" not in linker.named_columns("Which customers live in Texas?", 0)
    # ... but it names the key of another table that refers to customers
    assert "cust_id" in linker.named_columns("orders of each customer", 1)
    # and the key itself where the question asks for the id
    assert "cust_id" in linker.named_columns("the customer id of each order", 0)


def test_a_question_word_is_followed_by_the_abbreviation_a_table_is_named_in():
    """`emps` and `cust_pmts` are the tables of "employees" and "customers": the question is
    read with those abbreviations after its words; not after a word in quotes, a stopword, a
    word of the names themselves or a part of an identifier, nor for a column's abbreviation
    (`pid`), a code kept as written (`drg`, which "drug" and "during" would otherwise take)
    or a table whose comment its node embeds."""
    linker = SchemaLinker([("emps", ["emp_id", "pid"], []), ("cust_pmts", ["cust_id", "amt"], []),
                           ("drgcodes", ["drg_code"], []), ("payments", ["amount"], []),
                           ("thr_lvls", ["lvl"], [])])
    assert linker.with_abbreviations("Which employee paid the customers most?") == \
        "Which employee (emps) paid the customers (cust) most?"
    assert linker.with_abbreviations("Are there 'employee' rows during the drug trial?") == \
        "Are there 'employee' rows during the drug trial?"  # "thr" is no "there"
    assert linker.with_abbreviations("the paired payments") == "the paired payments"
    assert linker.with_abbreviations("each employee_id") == "each employee_id"  # a name
    assert SchemaLinker(TABLES).with_abbreviations(ASKED) == ASKED
    # a table whose node carries its catalog comment says what it holds already
    commented = SchemaLinker([("emps", ["emp_id"], [], [], ["emp id", "emps (staff members)"]),
                              ("cust_pmts", ["amt"], [], [], ["amt", "cust pmts"])])
    assert commented.with_abbreviations("Which employee paid the customers most?") == \
        "Which employee paid the customers (cust) most?"


def test_a_value_named_in_the_plural_or_singular_links_its_table():
    """"comedies" finds the value 'Comedy' and "documentary" finds 'Documentaries' (the last
    word of a run read by its plural stem), in the question's word order only; a stem under
    four letters is not read so ("news" is no plural of 'New')."""
    tables = [("category", ["category_id", "name"], ["Comedy", "Documentaries", "New"]),
              ("film", ["film_id", "title"], ["Ace Goldfinger"]),
              ("address", ["address_id", "district"], ["Subclavian vein"])]
    linker = SchemaLinker(tables)
    for q, value in (("Which films are comedies?", "Comedy"),
                     ("list every documentary", "Documentaries"),
                     ("clots in the subclavian veins", "Subclavian vein")):
        found = linker.found_values(q)
        assert [v for _, v in found.get(tables.index(next(
            t for t in tables if value in t[2])), [])] == [value], q
    assert linker.found_values("the news of the day") == {}
    assert linker.found_values("veins subclavian") == {}
    phrase = FEATURE_NAMES.index("value_phrase")
    assert linker.features(["Which films are comedies?"])[0, 0, phrase] > 0

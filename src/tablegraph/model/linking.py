"""Schema linking: lexical features between a question and every table.

A frozen sentence encoder blurs exact words: "d_icd_diagnoses" and "diagnoses_icd" embed
alike, and short codes such as "MED", "SURG" or "ED" carry little meaning for it. Text-to-SQL
systems link question words to schema names and cell values by exact match (RAT-SQL's
name- and value-based linking); tablegraph does the same per table and lets training weigh
the features (`EncoderConfig.schema_linking`, a learned weight per feature added to the
question-table score).

The features of a (question, table) pair, each in [0, 1]; IDF is taken over the tables of the
index (a word found in every table weighs 0):

| # | name | meaning |
| - | --- | --- |
| 0 | `table_name` | the table's name, when it is an identifier (has `_`, a digit or a capital inside: `is_identifier`), appears in the question |
| 1 | `column_name` | IDF of the rarest of the table's identifier-like column names that appears in the question |
| 2 | `column_words` | IDF-weighted share of the question's words among the table's name and column-name words |
| 3 | `value_words` | the same for the words of the table's sample values (its value nodes) |
| 4 | `value_phrase` | IDF of the rarest value (sample or lexicon) found as a phrase in the question, its last word in the singular or plural alike ("comedies" finds 'Comedy') |
| 5 | `column_cover` | partial match of one name: the best IDF-weighted share of a column's (or the table's) name words found in the question, times the IDF of its rarest word found |
| 6 | `value_cover` | the same for one sample value's words |

Features 5 and 6 are RAT-SQL's partial matches: a name or value need not appear whole, and a
name word also matches a question word that it begins, so abbreviations link ("one_hr_max"
to "one hour maximum", "disp_sched" to "dispensed"), or that it abbreviates letter by letter
when it is no common word itself (`is_abbreviation`: "cstm_ordr" to "customer orders",
"AvgScrRead" to "average score"), or whose initials it is, three to five content words in a
row (`acronyms`: "drg" to "diagnosis related group", "ssn" to "social security number",
"fte" to "full-time equivalent"); `word_cover` the same.

Feature 4 also looks in each table's lexicon (`TableNodes.lexicon`: the distinct values of up
to 100 characters of each text-like column, read from the whole table, `tables.profile`), so
"oxycodone" links to `prescriptions` though it is not among the five values of `drug` that
became nodes, and "anemia, unspecified" to the dictionary table that holds that title; the other value features keep to the value nodes,
where a few thousand drug or diagnosis names would make every clinical word a match.

Everything is computed from the tables' `TableNodes` (table name, column names, value nodes,
lexicon), which an index stores, so a saved model needs no extra files and tables it never saw get
features too. Training and query time build the linker the same way (`SchemaLinker.from_nodes`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from tablegraph.graphs.nodes import TableNodes
from tablegraph.text.words import (ABBREVIATIONS, Respeller, abbreviates, is_abbreviation,
                                   is_common, name_to_words, plural_stem)

FEATURE_NAMES = ("table_name", "column_name", "column_words", "value_words", "value_phrase",
                 "column_cover", "value_cover")
NUM_FEATURES = len(FEATURE_NAMES)

# Question words that say nothing about which table: stopwords and the words of any request.
STOP = frozenset(STOPWORDS_EN_PLUS) | frozenset(
    "what which who show list find give get how many much per each every all there".split())
# The words of a request about a question rather than of the question ("Which tables do I need
# to write SQL for this? ..."), as `content_words` gives them: a sentence made of these alone
# is passed over where the rest is a question (`SchemaLinker.without_request`)
REQUEST_WORDS = frozenset(map(plural_stem, (
    "table tables database databases db schema schemas sql query queries column columns "
    "need needed write writing request question answer answering tell please help data "
    "contain relevant use look looking following return join joins part parts know want "
    "would could must able user asks asked building build information "
    "retrieve select run").split()))
# the request words that speak of the database itself: a sentence with one of them and no
# word of the schema asks about the tables, whatever its other words ("Can you locate the
# tables for this task?"), where "tell" or "need" beside a synonym may be the question's
DATABASE_WORDS = frozenset(map(plural_stem, (
    "table tables database databases db schema schemas sql query queries column columns join "
    "joins").split()))
# where a sentence may end: after . ? ! : ; and space (`SchemaLinker._sentences`), but not
# inside quotes, after a title that a name follows ("Dr. Smith", "St. Louis"), or after a short
# form that a number or a word in lower case follows ("No. 10252", "Ltd. between"); a short
# form before a capital ends its sentence ("... by Autoware Inc. Which tables ...")
_SENTENCE_END = re.compile(r"(?<=[.?!:;])\s+")
# a quote, or a capitalised word after the first word of a sentence: a name or value the
# sentence gives ("... At World's End\"? Find the tables."), which no request without the
# request's own words is taken to be
_NAMES_SOMETHING = re.compile(
    r"[\"\u201c\u201d]|(?<![A-Za-z])'|'(?![A-Za-z])|(?<=\s)(?!(?:SQL|DB|I)\b)[A-Z]")
_TITLES = frozenset("mr mrs ms dr prof st mt ft vs".split())
_SHORT_FORMS = frozenset("no nos nr inc ltd co corp jr sr etc dept univ".split())
_IDENT = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_WORD = re.compile(r"[a-z0-9]+")
_PIECE = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")
# a word of letters alone, 4 or more, not part of an identifier (`cust_id`, `icd10`)
_PLAIN_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{4,}(?![A-Za-z0-9_])")
MAX_VALUE_CHARS = 100  # as `tables.profile.LEXICON_CHARS`
# The last word of a column that holds what a question names by value ("Michael Bay",
# "Belgium", "DreamWorks"): `SchemaLinker.entities`.
NAME_WORDS = frozenset({"name", "title", "label", "nm", "caption", "alias"})
_QUOTED = re.compile(r"\"([^\"]+)\"|(?<![A-Za-z])'([^']+)'(?![A-Za-z])|\u201c([^\u201d]+)\u201d")
# capitalised words that name a date, not something a table holds by name
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
    "friday saturday sunday".split())
# what comes before a value that a text compares to a column, as SQL writes it (BIRD's
# evidence: "title = 'Four Rooms'", "name LIKE 'A%'"; "a name like 'Soisalon'" is English)
_COMPARED = re.compile(r"(?:[=<>]|\bLIKE|\b(?:IN|in)\s*\()\s*$")
# SQL's words as evidence writes them ("DIVIDE(SUM(...), COUNT(...))"), in capitals only
_SQL_WORDS = frozenset(
    "LIKE SUM COUNT AVG MAX MIN DIVIDE MULTIPLY SUBTRACT ADD CAST REAL BETWEEN DISTINCT SELECT "
    "WHERE IIF CASE WHEN THEN ELSE END SUBSTR STRFTIME ROUND LENGTH DATE IN AND OR NOT IS "
    "AS".split())
# how many words in a row an acronym name word may stand for (`SchemaLinker.acronyms`): two
# letters are too often a chance ("id" of "inspection date", "fl" of "flights landed")
ACRONYM_WORDS = (3, 5)
# how rare among the tables' name words a word of a column's name must be for a question to
# name the column only if it says that word (`SchemaLinker.named_columns`)
NAMED_IDF = 0.05
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&.-]*|[.?!;:]")


# `NAME_WORDS` as `content_words` gives them ("alias" -> "alia")
_NAME_STEMS = frozenset(map(plural_stem, NAME_WORDS))
# words between what a question names and the value that names it ("the movie titled 'Up'",
# "a company named Around the Horn"): `SchemaLinker.entities`
_NAMING = frozenset("named called titled entitled labelled labeled name title".split())
# words between a table's name and a number that names one of its rows by key ("the document
# with id 7", "department number 520"), and such a number ("10027602's" too)
_BY_ID = frozenset("with the a id ids number no num nr code identifier".split())
_NUMBER = re.compile(r"\d[\d-]*(?:'s)?$")


def content_words(text: str) -> list[str]:
    """Lower-cased, stemmed words of `text` without stopwords."""
    return [plural_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP]


def _singular_last(run: str) -> str:
    """A lower-case run of pieces with its last word read as its plural stem
    (`plural_stem`: "comedies" and "comedy" -> "comedy", "movies" and "movie" -> "movy"),
    where that stem keeps 4 letters or more ("news" stays, not "new")."""
    if not run.endswith(("s", "e")):  # `plural_stem` changes no other word
        return run
    head, _, last = run.rpartition(" ")
    stem = plural_stem(last) if last.isalpha() else last
    if len(stem) < 4 or stem == last:
        return run
    return f"{head} {stem}" if head else stem


def is_identifier(name: str) -> bool:
    """A name that is no plain word: it has an underscore or a digit (`hadm_id`, `icd10`) or
    a capital inside it (`OrderDetails`, `hadmId`)."""
    return bool(re.search(r"[_0-9]|[a-z][A-Z]", name))


def _idf(docs: list[set[str]]) -> dict[str, float]:
    """Normalised IDF over `docs`: log((M+1)/(df+0.5)) / log((M+1)/0.5), in (0, 1]."""
    m = len(docs)
    df: dict[str, int] = {}
    for d in docs:
        for w in d:
            df[w] = df.get(w, 0) + 1
    top = math.log((m + 1) / 0.5)
    return {w: max(0.0, math.log((m + 1) / (n + 0.5)) / top) for w, n in df.items()}


class SchemaLinker:
    """Lexical question-table features over a fixed list of tables.

    `tables` is an iterable of (table name, column names, sample values), optionally with the
    lexicon and then the names in words (one text per column, then the table's: the node
    texts, which carry catalog comments; by default `name_to_words` of the names).
    `features(questions)` -> float32 [Q, M, NUM_FEATURES].
    """

    def __init__(self, tables: Iterable[tuple]) -> None:
        tables = list(tables)
        words = [t[4] if len(t) > 4 else [name_to_words(c) for c in t[1]] +
                 [name_to_words(t[0], table=True)] for t in tables]
        tables = [(t[0], t[1], t[2], t[3] if len(t) > 3 else []) for t in tables]
        # Only identifier-like names link by exact mention: "patients" or "drug" in a question
        # is an English word (the word features see it), "d_icd_diagnoses" is a name.
        self.names = [t[0].lower() if is_identifier(t[0]) else None for t in tables]
        self.columns = [{c.lower() for c in cols if is_identifier(c)} for _, cols, _, _ in tables]
        # the words of each column name and of the table name, and as one set per table
        column_parts = [[content_words(w) for w in ws] for ws in words]
        # each column's name and its words (the table's name words are the last part)
        self._named = [list(zip(cols, parts)) for (_, cols, _, _), parts
                       in zip(tables, column_parts)]
        self._table_words = [set(parts[-1]) if parts else set() for parts in column_parts]
        self.column_words = [{w for part in parts for w in part} for parts in column_parts]
        self._name_words = set().union(*self.column_words)  # of every table (`without_request`)
        self.value_words = [{w for v in vals for w in content_words(v)}
                            for _, _, vals, _ in tables]
        # every word of any table's names or values (`question_features`)
        self.vocabulary = set().union(*self.column_words, *self.value_words)
        # word -> [(table, IDF)]: which tables' names or values hold a word (`word_cover`)
        self._by_column_word: dict[str, list[tuple[int, float]]] = {}
        self._by_value_word: dict[str, list[tuple[int, float]]] = {}
        values = [{v.strip() for v in vals if 2 <= len(v.strip()) <= MAX_VALUE_CHARS}
                  for _, _, vals, _ in tables]
        # the words of the names (in words and as written) and of the sample values (`respell`)
        self._surface = {w for ws in words for t in ws for w in _WORD.findall(t.lower())} \
            | {w for vs in values for v in vs for w in _WORD.findall(v.lower())} \
            | {w for t in tables for n in (t[0], *t[1]) for w in _WORD.findall(n.lower())}
        # {value: value in lower case} per table: its sample values and its lexicon, where a
        # value made only of stopwords ("at", "No") is no evidence for its table
        phrases: list[dict[str, str]] = []
        for vs, (_, _, _, lex) in zip(values, tables):
            # in order, so that of two values written alike ("New-York", "New - York"), the one
            # found is the same in every process (a set's order follows the hash seed)
            these = {v: v.lower() for v in sorted(vs)}
            for v in lex:
                v = v.strip()
                if v not in these and 2 <= len(v) <= MAX_VALUE_CHARS:
                    low = v.lower()
                    if any(w not in STOP for w in _WORD.findall(low)):
                        these[v] = low
            phrases.append(these)
        # each table's own name as words, in order (`entities`: "the movie 'Up'" -> `movie`)
        self._own_name: dict[tuple[str, ...], list[int]] = {}  # a table's name words -> tables
        for j, t in enumerate(tables):
            self._own_name.setdefault(tuple(content_words(name_to_words(t[0], table=True))),
                                      []).append(j)
        # tables with a column of names or titles (`entities`), by the column's last word
        self.holds_names = np.array(
            [any(ws and ws[-1] in _NAME_STEMS
                 for ws in map(content_words, map(name_to_words, cols)))
             for _, cols, _, _ in tables], dtype=np.float32)
        self.idf_columns = _idf(self.columns)
        self.idf_column_words = _idf(self.column_words)
        self.idf_value_words = _idf(self.value_words)
        # name words that read as abbreviations ("cstm", "amt", "scr"), by their first letter
        self._abbreviations: dict[str, list[str]] = {}
        for w in sorted(self._name_words):
            if is_abbreviation(w):
                self._abbreviations.setdefault(w[0], []).append(w)
        self._acronym_words = {w for ws in self._abbreviations.values() for w in ws}
        # how little the names say: the share of their words (alphabetic, 3+ letters) that
        # are no common English word ("cstm", "ordr", "prc" of an abbreviated schema)
        spelled = {w for ws in self.column_words for w in ws if len(w) >= 3 and w.isalpha()}
        self.names_unread = sum(not is_common(w) for w in spelled) / len(spelled) \
            if spelled else 0.0
        for words, idf, by in ((self.column_words, self.idf_column_words, self._by_column_word),
                               (self.value_words, self.idf_value_words, self._by_value_word)):
            for j, ws in enumerate(words):
                for w in ws:
                    by.setdefault(w, []).append((j, idf[w]))
        idf_values = _idf([set(vs.values()) for vs in phrases])
        # partial matches: each name's and each value's words with their IDF, and their sum
        self.column_cover = [self._weighted(parts, self.idf_column_words)
                             for parts in column_parts]
        self.value_cover = [self._weighted([content_words(v) for v in vs], self.idf_value_words)
                            for vs in values]
        # every value as its pieces joined by spaces -> {table: weight}: short values such as
        # "ED" or "MED" must match in case (`_cased`), longer ones ("Emergency Department") in
        # any case (`_lower`); a question is looked up by its runs of pieces (`_phrase_weights`)
        # (a loop over every value of the lexicon, 200,000 for the demo's hosp tables: kept
        # to plain local names, as it runs whenever a process loads an index)
        cased: dict[str, dict[int, tuple[float, str]]] = {}
        lower: dict[str, dict[int, tuple[float, str]]] = {}
        longest, pieces_of = 0, _PIECE.findall
        for j, vs in enumerate(phrases):
            for v, low in vs.items():
                pieces = pieces_of(v)
                if len(pieces) > longest:
                    longest = len(pieces)
                if len(v) <= 3:
                    cased.setdefault(" ".join(pieces), {})[j] = (idf_values[low], v)
                else:
                    key = " ".join(pieces).lower()
                    lower.setdefault(key, {})[j] = (idf_values[low], v)
                    # under its last word's plural stem too ("Documentaries", `found_values`);
                    # a value written so keeps its key
                    if (alike := _singular_last(key)) != key:
                        lower.setdefault(alike, {}).setdefault(j, (idf_values[low], v))
        self._cased, self._lower, self._longest = cased, lower, longest
        self._respeller = Respeller(self._respelling_words)
        # the words of the tables' names, as written, that read as abbreviations ("emps",
        # "cust", "shpmt"), by their plural stem (`with_abbreviations`); not of a table whose
        # catalog comment its node embeds beside the name ("emps (employees)")
        self._table_abbreviations: dict[str, set[str]] = {}
        for t, said in zip(tables, self._table_words):
            name = name_to_words(t[0], table=True)
            if said - set(content_words(name)):
                continue  # its node says more than its name: a comment
            for w in _WORD.findall(name.lower()):
                if w.isalpha() and is_abbreviation(stem := plural_stem(w)) and \
                        ABBREVIATIONS.get(w) != w:  # not a code such as "icd", "drg"
                    self._table_abbreviations.setdefault(stem, set()).add(w)

    def _respelling_words(self) -> set[str]:
        """The words of the names, sample values and lexicons (`respell`)."""
        return self._surface | {w for k in (*self._lower, *self._cased) for w in k.lower().split()}

    def without_request(self, question: str) -> str:
        """`question` without its sentences that only ask for tables or SQL, where another
        sentence remains:

        - every content word one of `REQUEST_WORDS` and none a word of these tables' names
          ("I am writing a SQL query for this request:", "Which tables do I need?";
          "question" of a `questions` table is the schema's);
        - or one of its words one of `DATABASE_WORDS` and none a word of these tables' names
          or values, found whole or in part (`word_cover`: "Can you locate the tables for this
          task?", "Identify the relevant tables.").

        The question itself when it is one sentence, or when nothing else would be left.
        Sentences end at `.?!:;` and space, not inside quotes nor after a title or a short form
        that no capital follows ("Dr. Smith", "No. 10252", `_sentences`)."""
        parts = self._sentences(question.strip())
        if len(parts) < 2:
            return question
        names = self._name_words

        def request(part: str) -> bool:
            words = content_words(part)
            if words and all(w in REQUEST_WORDS and w not in names for w in words):
                return True
            return any(w in DATABASE_WORDS and w not in names for w in words) and \
                not _NAMES_SOMETHING.search(part) and not self.word_cover(part).any()
        kept = [p for p in parts if not request(p)]
        return " ".join(kept) if kept and len(kept) < len(parts) else question

    @staticmethod
    def _sentences(text: str) -> list[str]:
        """`text`'s sentences (`_SENTENCE_END`), none split inside quotes, after a title
        (`_TITLES`) or after a short form (`_SHORT_FORMS`) that no capital follows."""
        quoted = [m.span() for m in _QUOTED.finditer(text)]
        parts, start = [], 0
        for m in _SENTENCE_END.finditer(text):
            before = _WORD.findall(text[start:m.start()].lower())
            last = before[-1] if before else ""
            capital = text[m.end():m.end() + 1].isupper()
            if last in _TITLES or (last in _SHORT_FORMS and not capital) or \
                    any(a < m.start() < b for a, b in quoted):
                continue
            parts.append(text[start:m.start()])
            start = m.end()
        return parts + [text[start:]]

    def respell(self, question: str) -> str:
        """`question` with its mistyped words written as the words of these tables' names,
        values and lexicons (or the English words) they were meant to be
        (`text.words.Respeller`): what a retriever's scores read."""
        return self._respeller(question)

    def read(self, question: str) -> str:
        """`question` as every score of a retriever reads it: its sentences that only ask for
        tables or SQL passed over (`without_request`), its mistyped words respelt
        (`respell`) and the abbreviations tables are named in put after the words they
        abbreviate (`with_abbreviations`). Training reads questions as written."""
        return self.with_abbreviations(self.respell(self.without_request(question)))

    def with_abbreviations(self, question: str) -> str:
        """`question` with each of its words (4 letters or more, not part of an identifier,
        not a stopword, not in quotes, not a word of these tables' names) followed by the
        abbreviations of it that tables without a comment are named in, in parentheses: "the
        oldest employee (emps)", "customers (cust)" where tables are `emps` and `cust_pmts`
        (a word a table's name begins or abbreviates letter by letter, `abbreviates`, that
        reads as no English word, `is_abbreviation`, and is no code kept as written,
        `ABBREVIATIONS`: "drg" stands for no "drug"). The text model embeds `emps` far from
        "employee"; what a retriever's scores read. Column names are left out: their
        abbreviations ("pid", "cal") read as words of a question more often than they stand
        for them. A table whose node embeds its catalog comment says what it holds already
        (with them, fold 0's abbreviated and commented BIRD databases lost 0.006 hit@1)."""
        if not self._table_abbreviations:
            return question
        quoted = [m.span() for m in _QUOTED.finditer(question)]
        out, at = [], 0
        for m in _PLAIN_WORD.finditer(question):
            low = m.group().lower()
            w = plural_stem(low)
            if low in STOP or w in self._name_words or \
                    any(a <= m.start() < b for a, b in quoted):
                continue
            found = sorted({f for stem, forms in self._table_abbreviations.items()
                            if stem != w and (w.startswith(stem) or abbreviates(stem, w))
                            for f in forms})
            if found:
                out += [question[at:m.end()], " (" + " ".join(found) + ")"]
                at = m.end()
        return "".join(out) + question[at:]

    @classmethod
    def from_nodes(cls, nodes: list[TableNodes]) -> "SchemaLinker":
        """Over tables given by their nodes: name, column names, value labels, lexicon and
        the names in words as their nodes embed them (with the catalog's comments)."""
        return cls((n.table, n.columns, n.values, n.lexicon, n.name_texts()) for n in nodes)

    def found_values(self, question: str) -> dict[int, list[tuple[float, str]]]:
        """{table: [(IDF, value)]} of the values (sample or lexicon) found as a whole run of
        the question's pieces, rarest first."""
        pieces = _PIECE.findall(question)
        found: dict[int, dict[str, float]] = {}
        for a in range(len(pieces)):
            for b in range(a + 1, min(len(pieces), a + self._longest) + 1):
                key = " ".join(pieces[a:b])
                low = key.lower()
                lookups = [(self._cased, key), (self._lower, low)]
                if (alike := _singular_last(low)) != low:  # "comedies" -> 'Comedy'
                    lookups.append((self._lower, alike))
                for index, k in lookups:
                    for j, (w, v) in index.get(k, {}).items():
                        found.setdefault(j, {})[v] = w
        return {j: sorted(((w, v) for v, w in vs.items()), key=lambda x: (-x[0], x[1]))
                for j, vs in found.items()}

    def _phrase_weights(self, question: str) -> dict[int, float]:
        """{table: IDF of its rarest value found as a whole run of the question's pieces}."""
        return {j: vs[0][0] for j, vs in self.found_values(question).items()}

    def word_cover(self, question: str,
                   found: dict[int, list[tuple[float, str]]] | None = None) -> np.ndarray:
        """Which table accounts for which of the question's content words: [M, W], W the
        question's content words in order, each entry in [0, 1]:

        - the word's IDF among the tables' name words when it is one of the table's name
          words, or 0.8 times the IDF of a name word of 3+ letters that it begins with
          ("disp" in "dispensed"), that abbreviates it ("cstm" for "customer") or whose
          initials it is one of ("ssn" for each of "social security number");
        - its IDF among the value words when it is a word of the table's sample values;
        - 1 when it is a word of a value (sample or lexicon) found whole in the question;

        the largest of these. The second stage reads, per table, what it adds to the best
        table (`joinstage.stage_features`): a question about "customers who ordered a
        product" has words only `orders` and `products` account for. `found`: the question's
        `found_values` when already looked up."""
        words = content_words(question)
        out = np.zeros((len(self.names), len(words)), dtype=np.float32)
        if not words:
            return out
        found = self.found_values(question) if found is None else found
        named = {j: {x for _, v in vs for x in content_words(v)} for j, vs in found.items()}
        spelled: dict[int, list[str]] = {}  # word position -> acronyms it is an initial of
        for a, b, name in self.acronyms(words):
            for k in range(a, b):
                spelled.setdefault(k, []).append(name)
        for k, w in enumerate(words):
            col = out[:, k]
            for j, idf in self._by_column_word.get(w, ()):
                col[j] = max(col[j], idf)
            # name words it begins with (longest first) or that abbreviate it
            for part in [w[:n] for n in range(len(w) - 1, 2, -1)] + self._abbreviated(w) + \
                    spelled.get(k, []):
                for j, idf in self._by_column_word.get(part, ()):
                    if w not in self.column_words[j]:
                        col[j] = max(col[j], 0.8 * idf)
            for j, idf in self._by_value_word.get(w, ()):
                col[j] = max(col[j], idf)
            for j, ws in named.items():
                if w in ws:
                    col[j] = 1.0
        return out

    def literals(self, question: str,
                 found: dict[int, list[tuple[float, str]]] | None = None) -> list[str]:
        """What the question names by value that no name of the schema and no value found in
        it accounts for: quoted text, and runs of capitalised words that do not begin a
        sentence ("Dariusz Wolski", "DreamWorks", "Belgium"; not "August"), but not a value
        the text compares to a column (`title = 'Four Rooms'`: that column holds it).
        `found`: the question's `found_values` when already looked up."""
        return [text for text, _ in self._literal_spans(question, found)]

    def _literal_spans(self, question: str, found: dict[int, list[tuple[float, str]]] | None
                       ) -> list[tuple[str, list[str]]]:
        """`literals`, each with the question's tokens before it (`_TOKEN`)."""
        found = self.found_values(question) if found is None else found
        known = self._by_column_word.keys() | {w for vs in found.values() for _, v in vs
                                               for w in content_words(v)}
        # the question's tokens with each quoted value read as a full stop, tokenised once:
        # a quoted value's tokens before it are those up to where it stands
        spans, compared, tokens, after = [], set(), [], 0
        for m in _QUOTED.finditer(question):
            tokens += _TOKEN.findall(question[after:m.start()])
            text = next(g for g in m.groups() if g)
            if _COMPARED.search(question[:m.start()]):
                compared.add(text.lower())  # the column it is compared to holds it
            else:
                spans.append((text, tokens[:]))
            tokens.append(".")
            after = m.end()
        tokens += _TOKEN.findall(question[after:]) + ["."]
        run: list[str] = []
        begun = 0  # where the run began
        start = True  # the next word begins a sentence
        for i, tok in enumerate(tokens):
            low = tok.lower().rstrip(".")
            if tok[0].isupper() and not start and low not in STOP and low not in _CALENDAR \
                    and tok not in _SQL_WORDS:
                if not run:
                    begun = i
                run.append(tok)
                continue
            if run:
                spans.append((" ".join(run), tokens[:begun]))
                run = []
            start = tok in ".?!;:"
        return [(s, before) for s, before in spans if s.lower() not in compared
                and any(w not in known for w in content_words(s))]

    def entities(self, question: str,
                 found: dict[int, list[tuple[float, str]]] | None = None) -> np.ndarray:
        """[M, 3] flags of what the question names by value, where the schema may have no
        rows to find it in:

        - column 0: 1 for a table with a column of names or titles (last word `NAME_WORDS`)
          when the question names something that nothing in the schema accounts for
          (`literals`): the table of people's names may hold "Michael Bay";
        - column 1: 1 for the table whose own name the question says right before such a
          value ("the movie 'Four Rooms'" -> `movie`, "a company named Around the Horn" ->
          `company`; `_NAMING` words and stopwords between them skipped);
        - column 2: 1 for a table named right before a number (`named_by_id`: "patient
          10027602"), one row of it named by its key.

        (second stage)."""
        out = np.zeros((len(self.names), 3), dtype=np.float32)
        spans = self._literal_spans(question, found)
        if spans:
            out[:, 0] = self.holds_names
        for _, before in spans:
            out[self._named_before(before, lambda w: w in STOP or w in _NAMING), 1] = 1.0
        out[self.named_by_id(question), 2] = 1.0
        return out

    def named_by_id(self, question: str) -> list[int]:
        """The tables whose own name the question says right before a number ("patient
        10027602", "the document with id 7"; `_BY_ID` words between them): one row of it
        named by its key, which a table that refers to it may hold alone ("the lab values
        of patient 10027602" need `labevents`, not `patients`)."""
        tokens = _TOKEN.findall(question)
        return sorted({j for i, tok in enumerate(tokens) if _NUMBER.match(tok)
                       for j in self._named_before(tokens[:i], _BY_ID.__contains__)})

    def _named_before(self, tokens: list[str], skip: Callable[[str], bool]) -> list[int]:
        """The tables whose own name the last words of `tokens` say (up to 3 words, after
        the words `skip` passes over at the end, within the sentence), the longest name
        that fits (`production_company` before `company`)."""
        tail: list[str] = []
        for tok in reversed(tokens):
            if tok in ".?!;:" or len(tail) >= 3:
                break
            if not tail and skip(tok.lower()):
                continue
            words = [w for w in content_words(tok) if not skip(w)]
            if not words or tok[-1] in ".?!;:":  # "movie." ends the sentence before it
                break
            tail = words + tail
        for k in range(len(tail), 0, -1):
            if named := self._own_name.get(tuple(tail[-k:])):
                return list(named)
        return []

    def stage_inputs(self, question: str,
                     found: dict[int, list[tuple[float, str]]] | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """What the second stage reads of the question beside its scores: its `word_cover`
        [M, W] and `entities` [M, 3], from one lookup of its values (`found`: the question's
        `found_values` when already looked up)."""
        found = self.found_values(question) if found is None else found
        return self.word_cover(question, found), self.entities(question, found)

    def named_columns(self, question: str, table: int) -> list[str]:
        """The columns of table `table` that `question` names: every word of the column's
        name that is rare among the tables' name words (IDF >= `NAMED_IDF`, so not "id") is
        found in it as the linking features find words (whole, begun, abbreviated or in an
        acronym: `ssn` for "social security number"), rarest names first. A column whose rare
        words are all the table's own name words (`cust_id` of `cust`) is named only with one
        of its other words too ("customer id", not "customer")."""
        found = self._found(content_words(question))
        own = self._table_words[table]
        named = []
        for column, words in self._named[table]:
            rare = [(w, self.idf_column_words.get(w, 0.0)) for w in set(words)]
            plain = [w for w, x in rare if x < NAMED_IDF]
            rare = [(w, x) for w, x in rare if x >= NAMED_IDF]
            if not rare or not all(w in found for w, _ in rare):
                continue
            if plain and all(w in own for w, _ in rare) and not any(w in found for w in plain):
                continue  # the table's own key (`cust_id` of `cust`), the table named alone
            named.append((-sum(x for _, x in rare), column))
        return [c for _, c in sorted(named)]

    def _share(self, words: list[str], docs: set[str], idf: dict[str, float]) -> float:
        den = sum(max(idf.get(w, 1.0), 0.1) for w in words)
        return sum(idf.get(w, 0.0) for w in words if w in docs) / den if den else 0.0

    @staticmethod
    def _weighted(parts: list[list[str]], idf: dict[str, float]
                  ) -> list[tuple[list[tuple[str, float]], float]]:
        """Each part's (word, IDF) pairs and IDF total, parts whose total is 0 left out."""
        out = []
        for words in parts:
            pairs = [(w, idf.get(w, 0.0)) for w in words]
            total = sum(x for _, x in pairs)
            if total > 0:
                out.append((pairs, total))
        return out

    @staticmethod
    def _cover(found: set[str], parts: list[tuple[list[tuple[str, float]], float]]) -> float:
        """Partial match: over `parts` (see `_weighted`), the best IDF-weighted share of a
        part's words in `found` (see `_found`) times the IDF of its rarest word found."""
        best = 0.0
        for pairs, total in parts:
            hit = [x for w, x in pairs if w in found]
            if hit:
                best = max(best, sum(hit) / total * max(hit))
        return best

    def _abbreviated(self, word: str) -> list[str]:
        """The schema's abbreviation-like name words that abbreviate `word` letter by letter
        (`words.abbreviates`: "amt" "amount", "cstm" "customer", "scr" "score")."""
        return [a for a in self._abbreviations.get(word[:1], ()) if abbreviates(a, word)]

    def acronyms(self, words: list[str]) -> list[tuple[int, int, str]]:
        """(start, end, name word) for each run `words[start:end]` of 3 to 5 words whose
        initials are an abbreviation-like name word of the schema: "diagnosis related group"
        for `drg`, "free reduced price meal" (stopwords gone) for `frpm`. `words`: a
        question's `content_words`."""
        out = []
        for a in range(len(words)):
            initials = words[a][:1]
            for b in range(a + 1, min(len(words), a + ACRONYM_WORDS[1])):
                initials += words[b][:1]
                if b + 1 - a >= ACRONYM_WORDS[0] and initials in self._acronym_words:
                    out.append((a, b + 1, initials))
        return out

    def _found(self, words: list[str]) -> set[str]:
        """The question's words, their prefixes of 3+ letters, the schema's abbreviations of
        them and its acronyms of runs of them: a name word matches a question word that it
        begins ("max" "maximum", "disp" "dispensed") or abbreviates ("amt" "amount"), or
        the words whose initials it is ("ssn" "social security number")."""
        found = {w[:k] for w in words for k in range(min(3, len(w)), len(w) + 1)}
        for w in words:
            found.update(self._abbreviated(w))
        found.update(name for _, _, name in self.acronyms(words))
        return found

    def features(self, questions: list[str]) -> np.ndarray:
        """Questions -> features [Q, M, NUM_FEATURES] (see the module docstring)."""
        out = np.zeros((len(questions), len(self.names), NUM_FEATURES), dtype=np.float32)
        for i, q in enumerate(questions):
            idents = set(_IDENT.findall(q.lower()))
            words = content_words(q)
            found = self._found(words)
            phrase = self._phrase_weights(q)
            for j in range(len(self.names)):
                f = out[i, j]
                f[0] = float(self.names[j] is not None and self.names[j] in idents)
                f[1] = max((self.idf_columns[c] for c in self.columns[j] if c in idents),
                           default=0.0)
                f[2] = self._share(words, self.column_words[j], self.idf_column_words)
                f[3] = self._share(words, self.value_words[j], self.idf_value_words)
                f[4] = phrase.get(j, 0.0)
                f[5] = self._cover(found, self.column_cover[j])
                f[6] = self._cover(found, self.value_cover[j])
        return out

    def question_features(self, questions: list[str],
                          link: np.ndarray | None = None) -> np.ndarray:
        """Questions -> [Q, 1 + NUM_FEATURES]: the share of a question's words (numbers
        aside) found among the words of any table's names or sample values, then each
        linking feature's best value over the tables. A question that asks for something
        the database does not hold ("the operating system of the patients") leaves words
        unmatched. `link`: the questions' `features` [Q, M, F] when already computed."""
        link = self.features(questions) if link is None else link  # [Q, M, F]
        out = np.zeros((len(questions), 1 + NUM_FEATURES), dtype=np.float32)
        for i, q in enumerate(questions):
            words = [w for w in content_words(q) if not w.isdigit()]
            out[i, 0] = float(np.mean([w in self.vocabulary for w in words])) if words else 1.0
        if link.shape[1]:
            out[:, 1:] = link.max(axis=1)
        return out

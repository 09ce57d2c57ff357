"""Identifiers in words: `name_to_words("hadm_id")` -> "hospital admission id",
`name_to_words("careplans")` -> "care plans", before a name is embedded or matched. No model,
no numpy."""

from __future__ import annotations

import bisect
import functools
import gzip
import math
import os
import re
from collections.abc import Callable, Iterable

# Abbreviations common in database column names, spelt out so the encoder can read them:
# only those with one reading in any database. Clinical shorthand that means something else
# elsewhere ("org" organism / organization, "ed" emergency department / education, "los"
# length of stay / Los Angeles, "rx" prescription / received, "px" procedure / price, "dx",
# "spec", "ab", "disp") is left as written: linking still matches it to the question's
# words letter by letter ("org" in "organism"). The names MIMIC-IV coined for its own tables
# and columns ("hadm", "poe", "emar", "omr", and the run-together names below) are spelt out
# too: round one's model read them so, and they occur in no other schema;
# docs/model-card.md says what the MIMIC numbers owe them.
ABBREVIATIONS: dict[str, str] = {
    "id": "id", "cd": "code", "dt": "date", "desc": "description", "seq": "sequence",
    "num": "number", "qty": "quantity", "uom": "unit of measure", "amt": "amount",
    "val": "value", "txt": "text", "dob": "date of birth", "dod": "date of death",
    "hadm": "hospital admission", "subj": "subject", "icd": "icd", "drg": "drg",
    "addr": "address", "pct": "percent", "cnt": "count", "nbr": "number", "no": "number",
    "yr": "year", "ts": "timestamp", "tm": "time",
    "poe": "provider order entry", "emar": "electronic medication administration record",
    "omr": "online medical record", "hcpcs": "hcpcs", "ndc": "ndc", "gsn": "gsn",
    "sched": "schedule", "hrs": "hours", "hr": "hour", "doses": "doses",
    "careunit": "care unit", "labevents": "lab events", "labitems": "lab items",
    "hcpcsevents": "hcpcs events", "microbiologyevents": "microbiology events",
    "chartevents": "chart events", "datetimeevents": "datetime events",
    "inputevents": "input events", "outputevents": "output events",
    "procedureevents": "procedure events", "ingredientevents": "ingredient events",
    "icustays": "icu stays", "drgcodes": "drg codes", "eventtype": "event type",
    "itemid": "item id", "chartdate": "chart date", "charttime": "chart time",
    "storetime": "store time", "storedate": "store date", "admittime": "admit time",
    "dischtime": "discharge time", "deathtime": "death time", "intime": "in time",
    "outtime": "out time", "starttime": "start time", "stoptime": "stop time",
    "endtime": "end time", "ordertime": "order time", "entertime": "enter time",
    "edregtime": "ed registration time", "edouttime": "ed out time",
    "transfertime": "transfer time", "scheduletime": "schedule time",
    "verifiedtime": "verified time", "expirationdate": "expiration date",
    "valuenum": "value number", "valueuom": "value unit of measure",
}


# Words that end a word rather than start one: a split that leaves one of them on its own
# ("bill able", "ship per", "trial ist") is refused.
SUFFIXES = frozenset({"able", "ible", "per", "ship", "ness", "less", "ment", "ful", "ing",
                      "ers", "ism", "ist", "ity", "ive", "ous", "tion"})
# Frequent in the word list but not English words on their own (Latin, German, French, and
# prefixes): "ref und", "pre valence", "iso pen bag" are refused.
FRAGMENTS = frozenset({"pre", "pro", "con", "com", "dis", "mis", "non", "und", "ref", "iso",
                       "des", "les", "der", "die", "das", "del", "ing", "ion"})
SHORT_PARTS = frozenset({"id", "no", "cd", "dt", "nr", "num", "qty", "amt"})
COMMON = 50_000  # a word this frequent (by rank) is never split: "restart", "payroll"
PART = 12_000  # every part of a split must be this frequent: "care", "zip", "lab"


@functools.cache
def _word_ranks() -> dict[str, int]:
    """English words by frequency rank (0 = most frequent), from the `wordninja` package's
    word list (126k words, built from Wikipedia)."""
    import wordninja

    path = os.path.join(os.path.dirname(wordninja.__file__), "wordninja",
                        "wordninja_words.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {w: i for i, w in enumerate(f.read().split())}


@functools.cache
def split_compound(token: str) -> tuple[str, ...]:
    """A lower-case token written without separators -> its words: "careplans" -> ("care",
    "plans"), "orderlineitem" -> ("order", "line", "item"), "productid" -> ("product", "id").

    Conservative, since a wrong split reads worse than none: only alphabetic tokens of 6 or
    more letters that are not themselves a common word or the plural of a known word; every
    part a frequent word of 3 or more letters (or a key abbreviation such as `id`), none but
    the first a suffix; the split with the fewest, most frequent parts (a unigram cost,
    log rank + 3 per part, as word segmenters use). Otherwise the token itself."""
    n = len(token)
    if n < 6 or not token.isalpha() or not token.islower():
        return (token,)
    ranks = _word_ranks()
    if ranks.get(token, COMMON) < COMMON or token[:-1] in ranks or \
            (token.endswith("es") and token[:-2] in ranks):
        return (token,)

    def cost(part: str) -> float | None:
        if part in SHORT_PARTS:
            return math.log(50)
        r = ranks.get(part)
        return None if r is None or len(part) < 3 or r > PART or part in FRAGMENTS \
            else math.log(r + 2)

    best: list[tuple[float, tuple[str, ...]] | None] = [(0.0, ())] + [None] * n
    for i in range(1, n + 1):
        for j in range(max(0, i - 20), i):
            c = cost(token[j:i]) if best[j] is not None else None
            if c is not None and (best[i] is None or best[j][0] + c + 3.0 < best[i][0]):
                best[i] = (best[j][0] + c + 3.0, best[j][1] + (token[j:i],))
    parts = best[n][1] if best[n] is not None else (token,)
    if len(parts) < 2 or any(p in SUFFIXES for p in parts[1:]):
        return (token,)
    return parts


def is_abbreviation(word: str) -> bool:
    """Whether a lower-case name word reads as an abbreviation of a longer word: 3 to 5
    letters and not a common English word, nor the plural stem of one (rank 10,000 or later
    in the word list: "amt", "cstm", "scr", "dept", "mgr"; not "cost", "name", "art", nor
    "statu" of "status")."""
    return 3 <= len(word) <= 5 and word.isalpha() and word.islower() and not is_common(word)


def plural_stem(w: str) -> str:
    """A light plural stem of a lower-case word, the same for a word and its plural (what
    schema linking compares): "codes" -> "code"; "countries" and "country" -> "country",
    "movies" and "movie" -> "movy" (a plural in "-ies" may be of either); "classes" ->
    "class", "coaches" -> "coach", "boxes" -> "box"; "class" stays. `is_common` reads these
    stems as the words they come from."""
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("ie"):
        return w[:-2] + "y"
    if len(w) > 4 and w.endswith(("sses", "ches", "shes", "xes")):
        return w[:-2]
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def is_common(word: str) -> bool:
    """Whether a lower-case word, or a word whose `plural_stem` it is, is among the 10,000
    most frequent English words ("cost", "name"; "statu" of "status", "movy" of "movie";
    not "amt", "cstm", "glycohemoglobin")."""
    ranks = _word_ranks()
    forms = [word, word + "s"]
    if word.endswith("y"):
        forms += [word[:-1] + "ie", word[:-1] + "ies"]
    return min(ranks.get(w, COMMON) for w in forms) < 10_000


_VOWELS = frozenset("aeiouy")


def abbreviates(short: str, word: str) -> bool:
    """Whether `short` abbreviates `word` letter by letter: the same first letter, the rest
    of its letters in order in `word` with at most one consonant passed over between them
    (vowels and "y" may all be dropped, the end of `word` cut off), and not its prefix: "amt"
    "amount", "mgr" "manager", "cstm" "customer"; not "drg" "discharge" (three consonants
    passed over) nor "cust" "customer" (a prefix, which matches as one)."""
    if not short or len(short) >= len(word) or short[0] != word[0] or word.startswith(short):
        return False

    def rest(i: int, j: int, skipped: int) -> bool:  # short[i:] from word[j:]
        if i == len(short):
            return True
        for k in range(j, len(word)):
            if word[k] == short[i] and rest(i + 1, k + 1, skipped):
                return True
            if word[k] not in _VOWELS:
                skipped += 1
                if skipped > 1:
                    return False
        return False
    return rest(1, 1, 0)


def name_to_words(name: str, table: bool = False) -> str:
    """Identifier -> words: `hadm_id` -> "hospital admission id", `itemId` -> "item id",
    `careplans` -> "care plans" (`split_compound`).

    For table names a leading `d` / `dim` (dictionary / dimension tables) is spelt out.
    """
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", s) if t]
    words = []
    for i, t in enumerate(tokens):
        low = t.lower()
        if table and i == 0 and low in ("d", "dim") and len(tokens) > 1:
            words.append("dictionary" if low == "d" else "dimension")
        elif low in ABBREVIATIONS:
            words.append(ABBREVIATIONS[low])
        else:
            words.extend(ABBREVIATIONS.get(p, p) for p in split_compound(low))
    return " ".join(words) if words else name


# A question word is respelt (`Respeller`) only if it has this many letters: a slip in a
# shorter one has too many readings ("rats", "tars", "star").
RESPELL_LETTERS = 5
# the English words a mistyped word may be read as where the vocabulary has none near it
RESPELL_ENGLISH = 10_000
# a question's words, each with what joins it to the next by a hyphen or digits; and its
# quoted literals
_TOKENS = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*")
_QUOTES = re.compile(r"\"[^\"]*\"|(?<![A-Za-z])'[^']*'(?![A-Za-z])|\u201c[^\u201d]*\u201d")


def _inflected(word: str) -> set[str]:
    """A word and its plural, or its singular where it reads as one ("-is", "-us" do not)."""
    forms = {word} if word.endswith(("is", "us", "ss")) else {word, plural_stem(word)}
    if word.endswith("y") and word[-2:-1] not in _VOWELS:
        forms.add(word[:-1] + "ies")
    elif word.endswith(("s", "x", "ch", "sh")):
        forms.add(word + "es")
    else:
        forms.add(word + "s")
    return forms


@functools.cache
def _english_by_letter() -> dict[str, list[str]]:
    """The `RESPELL_ENGLISH` most frequent English words of 4 letters or more (`_word_ranks`),
    by their first letter, most frequent first."""
    out: dict[str, list[str]] = {}
    for w, r in sorted(_word_ranks().items(), key=lambda x: x[1]):
        if r < RESPELL_ENGLISH and len(w) >= RESPELL_LETTERS - 1 and w.isalpha():
            out.setdefault(w[0], []).append(w)
    return out


class Respeller:
    """Mistyped question words read as the words they were meant to be: "creatinnine" ->
    "creatinine", "admision" -> "admission", "Goergia" -> "Georgia" where a vocabulary (a
    database's names and values) holds that word, and "avarage" -> "average".

    A word is respelt only if it has `RESPELL_LETTERS` letters or more, is no word (nor the
    plural of one) of the English word list (`_word_ranks`, 126k words) or of the
    vocabulary, nor the beginning of a word of the vocabulary (a short form), is not written
    in capitals (a code), not in quotes (a literal), not joined to
    other words by a hyphen or to digits ("Collet-Serra", "A320neo"). It is read as the
    vocabulary's word (or its plural or singular) one edit away (an inserted, dropped,
    replaced or two swapped letters; two for 8 letters or more) with its first letter, where
    all such words read as one (`plural_stem`: "cart" and "card" leave it as written); a
    word in lower case (or the first of the text) with no such word in the vocabulary, as the
    most frequent of the `RESPELL_ENGLISH` commonest English words one edit away. A name
    ("Dariusz", "Northwind") is never read as an English word. Misspelt names and values are
    what a retriever cannot read around: its words match nothing of the schema and its text
    embeds elsewhere."""

    def __init__(self, vocabulary: Callable[[], Iterable[str]]) -> None:
        """`vocabulary()`: the words (lower case) of the names and values; called once, when
        a question first has a word that no English word list holds."""
        self._vocabulary = vocabulary
        self._words: set[str] | None = None
        self._sorted: list[str] = []  # `_known`: a word that begins one is a short form of it
        self._by_letter: dict[str, list[str]] = {}  # words and their plurals, by first letter

    @property
    def known(self) -> set[str]:
        """The vocabulary's words of `RESPELL_LETTERS` - 1 letters or more."""
        if self._words is None:
            self._words = {w for w in self._vocabulary()
                           if len(w) >= RESPELL_LETTERS - 1 and w.isalpha()}
            self._sorted = sorted(self._words)
            for w in sorted({f for w in self._words for f in _inflected(w)}):
                self._by_letter.setdefault(w[0], []).append(w)
        return self._words

    def _known(self, word: str) -> bool:
        """A word of the English word list or the vocabulary, a plural of one, or the first
        letters of a word of the vocabulary (a name's or value's short form: "explor" of
        "exploration", "endovasc" of "endovascular")."""
        forms = {word, plural_stem(word), word[:-1] if word.endswith("s") else word}
        ranks = _word_ranks()
        if any(f in ranks for f in forms) or any(f in self.known for f in forms):
            return True
        i = bisect.bisect_left(self._sorted, word)
        return i < len(self._sorted) and self._sorted[i].startswith(word)

    def word(self, word: str, english: bool = True) -> str | None:
        """The word `word` (lower case) was meant to be; None: none, or it is a word
        already, or too short or ambiguous to say. `english`: may it be read as an English
        word the vocabulary lacks."""
        from rapidfuzz.distance import DamerauLevenshtein
        from rapidfuzz.process import extract

        if len(word) < RESPELL_LETTERS or not word.isalpha() or self._known(word):
            return None
        for choices, most, own in (
                (self._by_letter.get(word[0], []), 1 if len(word) < 8 else 2, True),
                (_english_by_letter().get(word[0], []) if english else [], 1, False)):
            found = extract(word, choices, scorer=DamerauLevenshtein.distance,
                            score_cutoff=most, limit=None)
            if not found:
                continue
            best = min(d for _, d, _ in found)
            near = [w for w, d, _ in found if d == best]  # in the order of `choices`
            if own and len({plural_stem(w) for w in near}) > 1:
                return None
            return near[0]
        return None

    def __call__(self, text: str) -> str:
        """`text` with each mistyped word respelt (its capital first letter kept)."""
        quoted = [m.span() for m in _QUOTES.finditer(text)]
        out, at = [], 0
        for m in _TOKENS.finditer(text):
            w = m.group()
            if not w.isalpha() or (w.isupper() and len(w) > 1) or \
                    any(a <= m.start() < b for a, b in quoted):
                continue
            new = self.word(w.lower(), english=w.islower() or m.start() == 0)
            if new is not None:
                out += [text[at:m.start()], new.capitalize() if w[0].isupper() else new]
                at = m.end()
        return "".join(out) + text[at:]

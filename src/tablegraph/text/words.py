"""Identifiers in words: `name_to_words("hadm_id")` -> "hospital admission id",
`name_to_words("careplans")` -> "care plans", before a name is embedded or matched. No model,
no numpy."""

from __future__ import annotations

import functools
import gzip
import math
import os
import re

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

"""Column profiles: a fixed 128-d statistics vector per column, computed in DuckDB.

The statistics are named and described in `tables.stats` (`tablegraph features` prints
them). Every value is
bounded (mostly in [0, 1], signed log scales in [-1, 1]) and finite for every input: empty and
zero-row tables, all-null columns, NaN and inf, mixed types, very long strings, bytes that are
not UTF-8, duplicate or empty column names.

No torch here. `profile_tables(refs)` returns `TableProfile`s, cached on disk by the source's
fingerprint (path, size, mtime), the sampling bound and the profile schema version.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import duckdb
import numpy as np
from tqdm import tqdm

from tablegraph.tables.catalog import read_keys
from tablegraph.tables.records import ColumnProfile, TableKeys, TableProfile
from tablegraph.tables.sources import (DEFAULT_MAX_ROWS, DEFAULT_SAMPLE_SEED, SERVER_URLS, Reader,
                                       TableRef, display_location, quote_ident)
from tablegraph.tables.stats import FEATURE_INDEX, FEATURES, PROFILE_VERSION, type_family
from tablegraph.utils import TableGraphError, atomic_write_text, cache_root, show_progress

TOP_K_VALUES = 10
# A text-like column's value lexicon: its most frequent distinct values of 2 to
# LEXICON_CHARS characters, at most LEXICON_SIZE of them, for linking a question's words to
# values beyond the few that become value nodes ("oxycodone" in `prescriptions.drug`). Read
# from the whole table when it has at most LEXICON_FULL_ROWS rows, not from the sample: a
# dictionary table (diagnosis titles, item labels) holds each value once, so a sample or a
# most-frequent cut would keep an arbitrary fifth of the values a question can name.
LEXICON_SIZE = 150_000
LEXICON_CHARS = 100
LEXICON_FULL_ROWS = 1_000_000
TEXT_PREFIX = 256  # characters of each value examined for character classes and patterns
# Numbers beyond this magnitude count as non-finite: their fourth powers (kurtosis) overflow.
MAX_ABS_NUMBER = 1e75


# --- SQL ---------------------------------------------------------------------------------

PATTERNS: dict[str, str] = {
    "pat_code": r"^[A-Z]?[0-9][0-9A-Z.]{1,7}$|^[A-Z][0-9]{2,6}[A-Z0-9]{0,3}$",
    "pat_alnum_token": r"^(?:[A-Z]+[0-9]|[0-9]+[A-Z])[A-Z0-9]{2,6}$",
    "pat_hyphen_id": r"^[0-9]+-[0-9]+$",
    "pat_long_integer": r"^[0-9]{6,}$",
    "pat_uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "pat_email": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    "pat_url": r"^(https?|ftp)://\S+$",
    "pat_date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "pat_datetime": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}.*$",
    "pat_time": r"^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$",
    "pat_integer": r"^[+-]?[0-9]+$",
    "pat_decimal": r"^[+-]?[0-9]*\.[0-9]+$",
    "pat_ratio": r"^[0-9]+/[0-9]+$",
    "pat_comparison": r"^(<=|>=|=>|=<|<|>|=)\s*[0-9.]+$",
    "pat_unit": r"^[a-zA-Z%#µ]{1,5}(/[a-zA-Z0-9]{1,5}){0,2}$",
    "pat_boolean": r"^(?i:0|1|true|false|t|f|y|n|yes|no)$",
    "pat_placeholder": r"^(?i:_+|\?+|na|n/a|unknown|none|null|-)$",
    "pat_title_case": r"^[A-Z][a-z]+( [A-Z][a-z]+)*$",
    "pat_upper_phrase": r"^[A-Z][A-Z/&,()-]*( [A-Z/&,()-]+)+$",
    "pat_sentence": r"^\S+(\s+\S+){3,}$",
}

_KEY_PATTERNS = ("pat_code", "pat_alnum_token", "pat_hyphen_id", "pat_long_integer", "pat_uuid")


def _projections(col: str, family: str) -> tuple[str, str, str, str]:
    """SQL expressions over one column of the sample `s`: (raw value as text, number, time,
    text). Every column's projections have the same types, so that the columns of a table
    stack into one long relation and one query profiles them all."""
    c = quote_ident(col)
    if family in ("type_integer", "type_float"):
        xexpr = f"CAST({c} AS DOUBLE)"
    elif family == "type_boolean":
        xexpr = f"CAST(CAST({c} AS INTEGER) AS DOUBLE)"
    elif family in ("type_text", "type_other"):
        xexpr = f"TRY_CAST(CAST({c} AS VARCHAR) AS DOUBLE)"
    else:
        xexpr = "CAST(NULL AS DOUBLE)"
    if family in ("type_date", "type_timestamp"):
        texpr = f"CAST({c} AS TIMESTAMP)"
    elif family in ("type_text", "type_other"):
        texpr = (f"CASE WHEN regexp_matches(left(CAST({c} AS VARCHAR), 40), "
                 f"'^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                 f"THEN TRY_CAST(left(CAST({c} AS VARCHAR), 40) AS TIMESTAMP) END")
    else:
        texpr = "CAST(NULL AS TIMESTAMP)"
    vexpr = "CAST(NULL AS VARCHAR)" if family in ("type_blob", "type_nested") else \
        f"CAST({c} AS VARCHAR)"
    # the raw value's text form: injective for every type, so distinct counts are the type's
    return f"CAST({c} AS VARCHAR)", xexpr, texpr, vexpr


# (key, aggregate) of every raw statistic of a column, over its projections
# raw, xr (number), x (finite number), xc (x centred), t (time), v (text prefix), l (text length)
AGGREGATES: list[tuple[str, str]] = [
    ("n", "count(*)"),
    ("nn", "count(raw)"),
    ("nd", "count(DISTINCT raw)"),
    ("nx_all", "count(xr)"),
    ("nx", "count(x)"),
    ("x_min", "min(x)"), ("x_max", "max(x)"), ("x_mean", "avg(x)"),
    ("x_std", "stddev_pop(x)"),
    ("x_q", "quantile_cont(x, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])"),
    ("x_int", "avg(CASE WHEN x = round(x) THEN 1.0 ELSE 0.0 END)"),
    ("x_zero", "avg(CASE WHEN x = 0 THEN 1.0 ELSE 0.0 END)"),
    ("x_neg", "avg(CASE WHEN x < 0 THEN 1.0 ELSE 0.0 END)"),
    ("x_unit", "avg(CASE WHEN x BETWEEN 0 AND 1 THEN 1.0 ELSE 0.0 END)"),
    ("x_m2", "avg(xc * xc)"), ("x_m3", "avg(xc * xc * xc)"), ("x_m4", "avg(xc * xc * xc * xc)"),
    ("x_mag", "avg(log10(1 + abs(x)))"),
    ("x_nd_int", "count(DISTINCT CASE WHEN x = round(x) THEN x END)"),
    ("x_year", "avg(CASE WHEN x = round(x) AND x BETWEEN 1900 AND 2300 THEN 1.0 ELSE 0.0 END)"),
    ("x_round", "avg(CASE WHEN x = round(x) AND x % 10 = 0 THEN 1.0 ELSE 0.0 END)"),
    ("v_dec", "avg(length(regexp_extract(v, '\\.([0-9]+)$', 1)))"),
    ("l_mean", "avg(l)"), ("l_std", "stddev_pop(l)"), ("l_min", "min(l)"), ("l_max", "max(l)"),
    ("l_q", "quantile_cont(l, [0.5, 0.9])"),
    ("v_empty", "avg(CASE WHEN l = 0 THEN 1.0 ELSE 0.0 END)"),
    ("v_ws", "avg(CASE WHEN contains(v, ' ') THEN 1.0 ELSE 0.0 END)"),
    ("v_words", "avg(len(string_split_regex(trim(v), '\\s+')))"),
    ("v_long", "avg(CASE WHEN l > 50 THEN 1.0 ELSE 0.0 END)"),
    ("l_nd", "count(DISTINCT l)"),
    ("v_cap", "avg(CASE WHEN regexp_matches(v, '^[A-Z]') THEN 1.0 ELSE 0.0 END)"),
    ("v_nonascii", "avg(CASE WHEN strlen(v) <> length(v) THEN 1.0 ELSE 0.0 END)"),
    ("c_letter", "avg(length(regexp_replace(v, '[^A-Za-z]', '', 'g')) / greatest(length(v), 1))"),
    ("c_digit", "avg(length(regexp_replace(v, '[^0-9]', '', 'g')) / greatest(length(v), 1))"),
    ("c_upper", "avg(length(regexp_replace(v, '[^A-Z]', '', 'g')) / greatest(length(v), 1))"),
    ("c_lower", "avg(length(regexp_replace(v, '[^a-z]', '', 'g')) / greatest(length(v), 1))"),
    ("c_space", "avg(length(regexp_replace(v, '[^\\s]', '', 'g')) / greatest(length(v), 1))"),
    ("c_punct", "avg(length(regexp_replace(v, '[^!-/:-@\\[-`{-~]', '', 'g')) / greatest(length(v), 1))"),
    ("c_other", "avg(length(regexp_replace(v, '[\\x00-\\x7F]', '', 'g')) / greatest(length(v), 1))"),
    ("v_alldigit", "avg(CASE WHEN regexp_full_match(v, '[0-9]+') THEN 1.0 ELSE 0.0 END)"),
    ("v_allupper", "avg(CASE WHEN regexp_matches(v, '[A-Za-z]') AND NOT regexp_matches(v, '[a-z]') THEN 1.0 ELSE 0.0 END)"),
    ("v_mix", "avg(CASE WHEN regexp_matches(v, '[A-Za-z]') AND regexp_matches(v, '[0-9]') THEN 1.0 ELSE 0.0 END)"),
] + [(key, f"avg(CASE WHEN regexp_matches(v, '{pat}') THEN 1.0 ELSE 0.0 END)")
     for key, pat in PATTERNS.items()] + [
    ("nt", "count(t)"),
    ("t_span", "date_diff('second', min(t), max(t)) / 86400.0"),
    ("t_midnight", "avg(CASE WHEN CAST(t AS TIME) = TIME '00:00:00' THEN 1.0 ELSE 0.0 END)"),
    ("t_sec", "avg(CASE WHEN second(t) <> 0 THEN 1.0 ELSE 0.0 END)"),
    ("t_min", "avg(CASE WHEN minute(t) <> 0 THEN 1.0 ELSE 0.0 END)"),
    ("t_hour", "avg(CASE WHEN minute(t) = 0 AND second(t) = 0 THEN 1.0 ELSE 0.0 END)"),
    ("t_days", "count(DISTINCT CAST(t AS DATE))"),
    ("t_year", "avg(year(t))"), ("t_year_std", "stddev_pop(year(t))"),
    ("t_future", "avg(CASE WHEN year(t) > 2100 THEN 1.0 ELSE 0.0 END)"),
    ("t_months", "count(DISTINCT month(t))"), ("t_dows", "count(DISTINCT dayofweek(t))"),
    ("t_hmean", "avg(hour(t))"), ("t_hstd", "stddev_pop(hour(t))"),
]


def _long_sql(columns: list[tuple[str, str]]) -> str:
    """The sample's columns stacked: one row per (column index ci, row) with the projections
    raw, xr, t and vv (`_projections`)."""
    return " UNION ALL ".join(
        f"SELECT {i} AS ci, {raw} AS raw, {x} AS xr, {t} AS t, {v} AS vv FROM s"
        for i, (raw, x, t, v) in ((i, _projections(c, f)) for i, (c, f) in enumerate(columns)))


def _table_sql(columns: list[tuple[str, str]], grouped: bool = True) -> str:
    """Every raw statistic (`AGGREGATES`) of every (name, family) column of the sample `s` in
    one query: one row per column index `ci`. Planning dominates the cost of profiling a small
    table, so a table is one query, not one per column. With `grouped` false, one row over
    all columns (a table without rows, whose columns all have the same statistics)."""
    part = "PARTITION BY ci" if grouped else ""
    # A value's first TEXT_PREFIX characters bound the cost of the regular expressions.
    return (
        "SELECT " + ("ci, " if grouped else "") +
        ", ".join(f"{expr} AS {key}" for key, expr in AGGREGATES) + " FROM ("
        f"SELECT *, x - avg(x) OVER ({part}) AS xc FROM ("
        f"SELECT ci, raw, xr, CASE WHEN isfinite(xr) AND abs(xr) <= {MAX_ABS_NUMBER} THEN xr "
        f"END AS x, t, left(vv, {TEXT_PREFIX}) AS v, length(vv) AS l FROM ("
        + _long_sql(columns) + ")))" + (" GROUP BY ci" if grouped else "")
    )


def _stacked_values(columns: dict[int, tuple[str, str]], relation: str = "s") -> str:
    """The non-null values of `columns` {ci: (name, family)} of `relation` stacked: one row
    (ci, v) per value, as text (a blob as the md5 of its bytes)."""
    parts = []
    for i, (col, family) in columns.items():
        c = quote_ident(col)
        if family == TEXT_LIST:  # each element of each list
            parts.append(f"SELECT ci, v FROM (SELECT {i} AS ci, unnest({c}) AS v FROM "
                         f"{relation}) WHERE v IS NOT NULL")
            continue
        v = f"md5(CAST({c} AS BLOB))" if family == "type_blob" else f"CAST({c} AS VARCHAR)"
        parts.append(f"SELECT {i} AS ci, {v} AS v FROM {relation} WHERE {c} IS NOT NULL")
    return " UNION ALL ".join(parts)


# a list of text (`VARCHAR[]`: a JSON array of strings, Parquet's list<string>): its elements
# are its values (tags, categories), which the statistics, as of any nested column, leave out
TEXT_LIST = "text_list"


# a column's distinct values `v` with their counts `n`, most frequent first (ties by hash)
_BY_FREQUENCY = "row_number() OVER (PARTITION BY ci ORDER BY n DESC, hash(v), v)"


def _values_sql(columns: list[tuple[str, str]], k: int) -> str:
    """Per column index `ci`: the count of non-null values, distinct values, sum(n ln n), the
    top count, singletons, the top-5 count and the k most frequent values (text)."""
    stacked = _stacked_values(dict(enumerate(columns)))
    return (
        f"WITH vc AS (SELECT ci, v, count(*) AS n FROM ({stacked}) GROUP BY ci, v), "
        f"rk AS (SELECT *, {_BY_FREQUENCY} AS r FROM vc) "
        f"SELECT ci, sum(n), count(*), sum(n * ln(n)), max(n), "
        f"sum(CASE WHEN n = 1 THEN 1 ELSE 0 END), sum(CASE WHEN r <= 5 THEN n END), "
        f"list(left(v, 200) ORDER BY r) FILTER (WHERE r <= {int(k)}) FROM rk GROUP BY ci"
    )


def _lexicon_sql(columns: dict[int, tuple[str, str]], relation: str) -> str:
    """Per column index `ci` of `columns` {ci: (name, family)}: its lexicon, the
    `LEXICON_SIZE` most frequent distinct values of 2 to `LEXICON_CHARS` characters in
    `relation`."""
    return (
        f"SELECT ci, list(v ORDER BY r) FROM (SELECT *, {_BY_FREQUENCY} AS r FROM (SELECT ci, "
        f"v, count(*) AS n FROM ({_stacked_values(columns, relation)}) WHERE length(trim(v)) "
        f">= 2 AND length(v) <= {LEXICON_CHARS} GROUP BY ci, v)) WHERE r <= {LEXICON_SIZE} "
        f"GROUP BY ci"
    )


# the values row of a column without a non-null value
_NO_VALUES = (None, 0, None, None, None, None, None)

KEY_SKETCH_SIZE = 128


def _sketch_sql(columns: dict[int, tuple[str, str]]) -> str:
    """Bottom-k sketches of the columns {ci: (name, DuckDB type)}: the smallest hashes of each
    column's distinct values (text form), one row per column index `ci`. A whole number kept as
    a float is hashed as an integer (1.0 as 1): a key stored as REAL, or read from a CSV whose
    missing values made pandas write floats, is the key its integer column refers to."""
    def text(c: str, dtype: str) -> str:
        c = quote_ident(c)
        if dtype.upper().startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")):
            return (f"CASE WHEN {c} = round({c}) AND abs({c}) < 1e15 THEN "
                    f"CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END")
        return f"CAST({c} AS VARCHAR)"
    parts = [f"SELECT DISTINCT {i} AS ci, hash({text(c, t)}) AS h FROM s "
             f"WHERE {quote_ident(c)} IS NOT NULL" for i, (c, t) in columns.items()]
    return (f"SELECT ci, list(h ORDER BY h) FROM (SELECT ci, h, row_number() OVER (PARTITION BY "
            f"ci ORDER BY h) AS r FROM ({' UNION ALL '.join(parts)})) WHERE r <= "
            f"{KEY_SKETCH_SIZE} GROUP BY ci")


def is_key_like(stats: np.ndarray) -> bool:
    """A column that may join tables: an id-like name or id-like values, mostly filled."""
    s = stats
    named = s[FEATURE_INDEX["name_id"]] > 0
    valued = max(s[FEATURE_INDEX[k]] for k in _KEY_PATTERNS) > 0.8 or \
        s[FEATURE_INDEX["type_integer"]] > 0
    return bool(named and valued and s[FEATURE_INDEX["null_frac"]] < 0.9)


def _slog(x: float | None) -> float:
    if x is None or not math.isfinite(x):
        return 0.0
    return max(-1.0, min(1.0, math.copysign(math.log1p(abs(x)), x) / 25.0))


def _f(x: object, default: float = 0.0) -> float:
    if x is None:
        return default
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def _clip01(x: float) -> float:
    return 0.0 if not math.isfinite(x) else max(0.0, min(1.0, x))


def _lg(x: float, top: float) -> float:
    return _clip01(math.log1p(max(0.0, x)) / math.log1p(top))


_NAME_RULES: dict[str, str] = {
    "name_time": r"(time|date|dt|day|year)",
    "name_text": r"(name|label|desc|title|text|comment|note)",
    "name_code": r"(code|^cd$|_cd|icd|ndc|drg|gsn)",
    "name_flag": r"(flag|^is_|^has_|_yn$)",
    "name_count": r"(seq|num|^no$|_no$|count|ordinal|qty|quantity)",
    "name_unit": r"(unit|uom)",
    "name_value": r"(value|val|amount|rate|dose|result)",
    "name_category": r"(type|category|status|class|kind|group)",
}


def _name_features(name: str, table: str) -> dict[str, float]:
    low = name.lower()
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()) if w]
    out = {k: float(bool(re.search(p, low))) for k, p in _NAME_RULES.items()}
    out["name_id"] = float(bool(re.search(r"(_id$|^id$|id$|_key$|_cd$)", low)))
    out["name_length"] = _clip01(len(name) / 40)
    out["name_tokens"] = _clip01(len(words) / 6)
    out["name_has_digit"] = float(any(ch.isdigit() for ch in name))
    twords = {w for w in re.split(r"[^a-z0-9]+", table.lower()) if len(w) > 2}
    out["name_in_table"] = float(any(w in low for w in twords))
    out["name_empty"] = float(not name.strip() or bool(re.fullmatch(r"column\d+", low)))
    return out


def _assemble(raw: dict[str, object], vals: tuple, family: str, name: str, table: str,
              position: int, n_cols: int, n_total: int, n_sampled: int) -> np.ndarray:
    """Turn the raw aggregates of one column into the bounded 128-d vector."""
    f: dict[str, float] = {k: 0.0 for k, _ in FEATURES}
    f[family] = 1.0
    n = _f(raw["n"])
    nn = _f(raw["nn"])
    nd = _f(raw["nd"])
    f["null_frac"] = 1.0 - nn / n if n else 1.0
    f["all_null"] = float(nn == 0)
    f["distinct_ratio"] = nd / nn if nn else 0.0
    f["distinct_log"] = _lg(nd, 20000)
    f["unique"] = float(nn > 0 and nd == nn)
    f["constant"] = float(nd == 1)
    f["binary"] = float(nd == 2)
    f["low_cardinality"] = float(0 < nd <= 20)
    tot, ndv, snlogn, top1, singles, top5 = (_f(x) for x in vals[:6])
    if tot > 0:
        entropy = math.log(tot) - snlogn / tot
        f["entropy_scaled"] = _clip01(entropy / math.log(20000))
        f["entropy_evenness"] = _clip01(entropy / math.log(ndv)) if ndv > 1 else 0.0
        f["top1_share"] = top1 / tot
        f["top5_share"] = top5 / tot
        f["singleton_share"] = singles / tot
    f["table_rows_log"] = _lg(n_total, 1e9)
    f["sample_rows_log"] = _lg(n_sampled, DEFAULT_MAX_ROWS)
    f["sample_fraction"] = n_sampled / n_total if n_total else 0.0
    f["column_position"] = position / (n_cols - 1) if n_cols > 1 else 0.0
    f["is_first_column"] = float(position == 0)
    f["table_columns_log"] = _lg(n_cols, 1000)
    # numeric
    nx = _f(raw["nx"])
    f["numeric_share"] = nx / nn if nn else 0.0
    if nx:
        q = raw["x_q"] or [None] * 7
        for key, val in zip(("num_q01", "num_q05", "num_q25", "num_q50", "num_q75", "num_q95",
                             "num_q99"), q):
            f[key] = _slog(_f(val))
        xmin, xmax, xmean, xstd = (_f(raw[k]) for k in ("x_min", "x_max", "x_mean", "x_std"))
        f["num_min"], f["num_max"], f["num_mean"] = _slog(xmin), _slog(xmax), _slog(xmean)
        f["num_std"], f["num_range"] = _slog(xstd), _slog(xmax - xmin)
        f["num_integer_share"] = _f(raw["x_int"])
        f["num_zero_share"] = _f(raw["x_zero"])
        f["num_negative_share"] = _f(raw["x_neg"])
        f["num_unit_interval_share"] = _f(raw["x_unit"])
        m2 = _f(raw["x_m2"])
        if m2 > 1e-12 * max(1.0, xmean * xmean):
            f["num_skewness"] = math.tanh(_f(raw["x_m3"]) / m2 ** 1.5 / 5)
            f["num_kurtosis"] = math.tanh((_f(raw["x_m4"]) / (m2 * m2) - 3) / 20)
        f["num_cv"] = math.tanh(xstd / abs(xmean)) if xmean else 0.0
        f["num_magnitude"] = _clip01(_f(raw["x_mag"]) / 12)
        span = xmax - xmin + 1
        f["num_id_density"] = _clip01(_f(raw["x_nd_int"]) / span) if span > 0 and \
            math.isfinite(span) else 0.0
        f["num_year_like_share"] = _f(raw["x_year"])
        f["num_round_share"] = _f(raw["x_round"])
    nx_all = _f(raw["nx_all"])
    f["num_nonfinite_share"] = (nx_all - nx) / nx_all if nx_all else 0.0
    f["num_decimal_places"] = _clip01(_f(raw["v_dec"]) / 6)
    # strings
    if raw["l_mean"] is not None:
        lq = raw["l_q"] or [0, 0]
        f["len_mean"] = _lg(_f(raw["l_mean"]), 1000)
        f["len_std"] = _lg(_f(raw["l_std"]), 1000)
        f["len_min"] = _lg(_f(raw["l_min"]), 1000)
        f["len_max"] = _lg(_f(raw["l_max"]), 1e5)
        f["len_median"] = _lg(_f(lq[0]), 1000)
        f["len_q90"] = _lg(_f(lq[1]), 1000)
        f["len_constant"] = float(raw["l_min"] == raw["l_max"])
        f["words_mean"] = _lg(_f(raw["v_words"]), 50)
        f["len_distinct"] = _lg(_f(raw["l_nd"]), 100)
        f["capitalised_share"] = _clip01(_f(raw["v_cap"]))
        for key, src in (("empty_string_share", "v_empty"), ("whitespace_share", "v_ws"),
                         ("long_text_share", "v_long"), ("non_ascii_share", "v_nonascii"),
                         ("char_letter", "c_letter"), ("char_digit", "c_digit"),
                         ("char_upper", "c_upper"), ("char_lower", "c_lower"),
                         ("char_space", "c_space"), ("char_punct", "c_punct"),
                         ("char_other", "c_other"), ("all_digit_share", "v_alldigit"),
                         ("all_upper_share", "v_allupper"), ("alnum_mix_share", "v_mix")):
            f[key] = _clip01(_f(raw[src]))
        for key in PATTERNS:
            f[key] = _clip01(_f(raw[key]))
    keyish = max(f["type_integer"], *(f[k] for k in _KEY_PATTERNS))
    f["key_likeness"] = f["distinct_ratio"] * (1 - f["null_frac"]) * keyish
    # temporal
    nt = _f(raw["nt"])
    if nt:
        f["temporal_share"] = nt / nn if nn else 0.0
        f["time_span"] = _lg(_f(raw["t_span"]), 1e5)
        f["time_date_only_share"] = _f(raw["t_midnight"])
        f["time_seconds_share"] = _f(raw["t_sec"])
        f["time_minutes_share"] = _f(raw["t_min"])
        f["time_hour_rounded_share"] = _f(raw["t_hour"])
        f["time_distinct_days"] = _clip01(_f(raw["t_days"]) / nt)
        f["time_year_mean"] = max(-1.0, min(1.0, (_f(raw["t_year"], 2000) - 2000) / 300))
        f["time_year_std"] = _lg(_f(raw["t_year_std"]), 100)
        f["time_future_share"] = _f(raw["t_future"])
        f["time_month_spread"] = _clip01(_f(raw["t_months"]) / 12)
        f["time_weekday_spread"] = _clip01(_f(raw["t_dows"]) / 7)
        f["time_hour_mean"] = _clip01(_f(raw["t_hmean"]) / 24)
        f["time_hour_std"] = _clip01(_f(raw["t_hstd"]) / 12)
    f.update(_name_features(name, table))
    vec = np.array([f[k] for k, _ in FEATURES], dtype=np.float32)
    return np.nan_to_num(np.clip(vec, -1.0, 1.0), nan=0.0, posinf=1.0, neginf=-1.0)


def _text_like(family: str, stats: np.ndarray) -> bool:
    """Columns whose frequent values carry meaning as text (not keys, numbers or times)."""
    if family not in ("type_text", "type_other", "type_boolean"):
        return False
    s = {k: stats[i] for k, i in FEATURE_INDEX.items()}
    keyish = max(s[k] for k in _KEY_PATTERNS) > 0.5
    return s["numeric_share"] < 0.5 and s["temporal_share"] < 0.5 and s["all_null"] == 0 and \
        not keyish


def profile_sample(reader: Reader, ref: TableRef, top_k: int = TOP_K_VALUES,
                   declared: TableKeys | None = None) -> TableProfile:
    """Profile one table through `reader` (no cache), with its `declared` keys: three queries
    (statistics, frequent values, sketches of key-like columns), whatever its width, one for
    the lexicons of its text-like columns (`_lexicons`) and, where a column is nearly unique,
    two for composite keys (`composite_keys`)."""
    tmp, total = reader.sample(ref)
    try:
        reader.con.execute(f"CREATE OR REPLACE TEMP VIEW s AS SELECT * FROM {tmp}")
        cols = reader.columns(tmp)
        n_sampled = reader.con.execute("SELECT count(*) FROM s").fetchone()[0]
        fams = [(name, type_family(dtype)) for name, dtype in cols]
        keys = [k for k, _ in AGGREGATES]
        raws: dict[int, dict] = {}
        vals: dict[int, tuple] = {}
        sketches: dict[int, list[int]] = {}
        try:
            if fams and n_sampled:
                for row in reader.con.execute(_table_sql(fams)).fetchall():
                    raws[row[0]] = dict(zip(keys, row[1:]))
                for row in reader.con.execute(_values_sql(fams, top_k)).fetchall():
                    vals[row[0]] = tuple(row[1:])
            elif fams:  # no rows: every column has the statistics of an empty column, which
                # one column's query gives (planning it over all of a wide table's columns
                # took 0.1 s a table, most of the time a schema-only database takes to read)
                empty = dict(zip(keys, reader.con.execute(_table_sql(fams[:1], False)).fetchone()))
                raws = {i: empty for i in range(len(fams))}
            stats = [_assemble(raws[i], vals.get(i, _NO_VALUES), fam, name, ref.name, i,
                               len(cols), total, n_sampled) for i, (name, fam) in enumerate(fams)]
            keyed = {i: cols[i] for i in range(len(fams)) if is_key_like(stats[i])}
            if keyed and n_sampled:
                sketches = {ci: [int(h) for h in hs] for ci, hs in
                            reader.con.execute(_sketch_sql(keyed)).fetchall()}
            unique_keys = composite_keys(reader, tmp, fams, raws, n_sampled)
            text = {i: (name, fam) for i, (name, fam) in enumerate(fams)
                    if n_sampled and _text_like(fam, stats[i])}
            lists = {i: (name, TEXT_LIST) for i, (name, dtype) in enumerate(cols)
                     if n_sampled and dtype.upper() == "VARCHAR[]"}
            if lists:  # their most frequent elements (their statistics stay a nested column's)
                order = sorted(lists)
                for row in reader.con.execute(_values_sql([lists[i] for i in order],
                                                          top_k)).fetchall():
                    vals[order[row[0]]] = tuple(row[1:])
            text |= lists
            lexicons = _lexicons(reader, tmp, n_sampled, text) if text else {}
        except duckdb.Error as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise TableGraphError(f"cannot profile table {ref.name}: {first}") from e
        declared = declared or TableKeys()
        types = dict(declared.column_types)
        notes = {c.lower(): text for c, text in declared.column_comments}  # any case
        profiles = []
        for i, ((name, dtype), (_, fam)) in enumerate(zip(cols, fams)):
            top = [str(v) for v in (vals.get(i, _NO_VALUES)[6] or [])] if i in text else []
            profiles.append(ColumnProfile(name, dtype, stats[i], [t for t in top if t.strip()],
                                          int(_f(raws[i]["nd"])), sketches.get(i, []),
                                          lexicons.get(i, []), types.get(name, ""),
                                          notes.get(name.lower(), "")))
        return TableProfile(ref.name, display_location(ref.location), total, int(n_sampled),
                            profiles, list(declared.primary_key), list(declared.foreign_keys),
                            unique_keys, declared.comment, ref.database, reader.nested_of(tmp))
    finally:
        reader.drop(tmp)


KEY_PARTNER_VALUES = 20  # a column completing a key (a version, a type) has at most this many


def _whole_first(reader: Reader, tmp: str, n_sampled: int, sql_of: Callable[[str], str]
                 ) -> list[tuple]:
    """Rows of the query `sql_of(relation)` over the whole table sampled in `tmp` when the
    sample left rows out and the table has at most `LEXICON_FULL_ROWS` rows, else over the
    sample `s`; also over the sample when the whole table cannot be read as the sample was (a
    SQLite table read as text)."""
    relation, total = reader.relation_of(tmp)
    if n_sampled < total <= LEXICON_FULL_ROWS:
        try:
            return reader.con.execute(sql_of(relation)).fetchall()
        except duckdb.Error:
            pass
    return reader.con.execute(sql_of("s")).fetchall()


def composite_keys(reader: Reader, tmp: str, fams: list[tuple[str, str]],
                   raws: dict[int, dict], n_sampled: int) -> list[list[str]]:
    """[[column, partner]] of the table sampled in `tmp` (the view `s`): a column without
    nulls, (nearly) unique over the sample (`tables.joins.NEAR_UNIQUE`), that repeats over
    the table, and a partner column of 2 to `KEY_PARTNER_VALUES` values, unique together: a
    code beside its version (`icd_code`, `icd_version`). Checked over the whole table where
    `_whole_first` can; one query for the candidates' repeats, one for the pairs; none in a
    table without a candidate."""
    from tablegraph.tables.joins import NEAR_UNIQUE

    if n_sampled < 2:
        return []
    cols = [i for i in raws if fams[i][1] != "type_blob"]
    nd = {i: _f(raws[i]["nd"]) for i in cols}
    near = [i for i in cols if _f(raws[i]["nn"]) == n_sampled and nd[i] >= NEAR_UNIQUE * n_sampled]
    partners = [i for i in cols if 2 <= nd[i] <= KEY_PARTNER_VALUES]
    if n_sampled >= reader.relation_of(tmp)[1]:  # the sample is the table: unique is a key
        near = [i for i in near if nd[i] < n_sampled]
    if not near or not partners:
        return []

    def text(i: int) -> str:
        return f"CAST({quote_ident(fams[i][0])} AS VARCHAR)"

    def single(relation: str) -> str:
        parts = [f"SELECT {i} AS k, {text(i)} AS a FROM {relation}" for i in near]
        return f"SELECT DISTINCT k FROM ({' UNION ALL '.join(parts)}) GROUP BY k, a " \
               f"HAVING count(*) > 1"

    def both(relation: str) -> str:
        parts = [f"SELECT {k} AS k, {text(i)} AS a, {text(j)} AS b FROM {relation}"
                 for k, (i, j) in enumerate(pairs)]
        return f"SELECT DISTINCT k FROM ({' UNION ALL '.join(parts)}) GROUP BY k, a, b " \
               f"HAVING count(*) > 1"

    repeats = sorted(i for (i,) in _whole_first(reader, tmp, n_sampled, single))
    pairs = [(i, j) for i in repeats for j in partners if i != j]
    if not pairs:
        return []
    repeated = {k for (k,) in _whole_first(reader, tmp, n_sampled, both)}
    return [[fams[i][0], fams[j][0]] for k, (i, j) in enumerate(pairs) if k not in repeated]


def _lexicons(reader: Reader, tmp: str, n_sampled: int,
              columns: dict[int, tuple[str, str]]) -> dict[int, list[str]]:
    """{ci: lexicon} of the text-like `columns` {ci: (name, family)} of the sample `tmp`, over
    the whole table where `_whole_first` can."""
    rows = _whole_first(reader, tmp, n_sampled, lambda relation: _lexicon_sql(columns, relation))
    return {ci: [str(v) for v in vs] for ci, vs in rows}


@dataclass(frozen=True)
class Skipped:
    """A table that could not be read, and why (one line)."""

    table: str
    source: str
    why: str


def _cache_path(fingerprint: str | None, ref: TableRef, max_rows: int, seed: int, top_k: int):
    if fingerprint is None:
        return None
    key = hashlib.sha256(
        f"{PROFILE_VERSION}|{fingerprint}|{max_rows}|{seed}|{top_k}|lexicon {LEXICON_SIZE} "
        f"{LEXICON_CHARS} {LEXICON_FULL_ROWS}|keys 2|declared types 3|comments|integral sketches|"
        f"decimal commas|control bytes|text lists|record fields|wrapped records|"
        f"{ref.name}".encode())
    return cache_root() / "profiles" / f"{key.hexdigest()[:32]}.json"


def profile_tables(refs: Iterable[TableRef], max_rows: int = DEFAULT_MAX_ROWS,
                   seed: int = DEFAULT_SAMPLE_SEED, top_k: int = TOP_K_VALUES,
                   use_cache: bool = True, progress: bool = False, strict: bool = False,
                   skipped: list[Skipped] | None = None) -> list[TableProfile]:
    """Profile every table, reusing cached profiles of unchanged tables.

    A table that cannot be read is left out and recorded in `skipped` (with `strict`, it is an
    error); when every table fails, the first failure is the error.
    """
    return list(iter_profiles(refs, max_rows, seed, top_k, use_cache, progress, strict,
                              skipped))


def iter_profiles(refs: Iterable[TableRef], max_rows: int = DEFAULT_MAX_ROWS,
                  seed: int = DEFAULT_SAMPLE_SEED, top_k: int = TOP_K_VALUES,
                  use_cache: bool = True, progress: bool = False, strict: bool = False,
                  skipped: list[Skipped] | None = None) -> Iterator[TableProfile]:
    """`profile_tables`, one profile at a time, as each table is read."""
    refs = list(refs)
    n_out = 0
    failed: list[tuple[Skipped, TableGraphError]] = []
    reader: Reader | None = None
    catalog: dict[str, TableKeys] | None = None  # read once, when a table is profiled

    def open_reader() -> Reader:
        nonlocal reader
        if reader is None:
            reader = Reader(max_rows=max_rows, seed=seed)
        return reader

    try:
        for ref in tqdm(refs, desc="profile", unit="table", disable=not show_progress(progress),
                        leave=False):
            try:
                # a file's fingerprint needs no connection; a database server's does
                fp = None if not use_cache else \
                    open_reader().fingerprint(ref) if ref.kind in SERVER_URLS else ref.fingerprint
                path = _cache_path(fp, ref, max_rows, seed, top_k)
                if path is not None and path.exists():
                    try:
                        cached = TableProfile.from_json(json.loads(path.read_text("utf-8")))
                    except (ValueError, KeyError):
                        cached = None  # a damaged cache entry is recomputed
                    if cached is not None:
                        n_out += 1
                        yield cached
                        continue
                if catalog is None:
                    catalog = read_keys(open_reader(), refs)
                prof = profile_sample(open_reader(), ref, top_k, catalog.get(ref.name))
            except TableGraphError as e:
                if strict:
                    raise
                failed.append((Skipped(ref.name, display_location(ref.location), str(e)), e))
                continue
            if path is not None:
                try:
                    atomic_write_text(path, json.dumps(prof.to_json()))
                except OSError:
                    pass  # an unwritable cache costs time, never the answer
            n_out += 1
            yield prof
    finally:
        if reader is not None:
            reader.close()
    if failed and not n_out:
        raise failed[0][1]
    if skipped is not None:
        skipped.extend(s for s, _ in failed)



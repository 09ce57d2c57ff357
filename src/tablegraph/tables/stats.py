"""The 128 column statistics: their names and meanings, in vector order (no DuckDB here).

`FEATURES` is the one place where every dimension is named and described; `tablegraph
features` prints it and docs/features.md is generated from it. `tables.profile` computes them.
"""

from __future__ import annotations

import re

STATS_DIM = 128
PROFILE_VERSION = 5  # bumped whenever a statistic's meaning or computation changes

# (name, description): the 128 statistics, in vector order.
FEATURES: list[tuple[str, str]] = [
    # dtype family (one-hot) --------------------------------------------------------------
    ("type_integer", "DuckDB type is an integer"),
    ("type_float", "type is FLOAT, DOUBLE or DECIMAL"),
    ("type_boolean", "type is BOOLEAN"),
    ("type_date", "type is DATE"),
    ("type_timestamp", "type is TIMESTAMP (any precision or zone)"),
    ("type_time_interval", "type is TIME or INTERVAL"),
    ("type_text", "type is VARCHAR"),
    ("type_blob", "type is BLOB or BIT"),
    ("type_nested", "type is LIST, STRUCT, MAP, ARRAY or UNION"),
    ("type_other", "any other type (UUID, ENUM, JSON, ...)"),
    # completeness, cardinality, distribution ---------------------------------------------
    ("null_frac", "share of sampled rows that are NULL"),
    ("all_null", "1 if every sampled value is NULL (or the table has no rows)"),
    ("distinct_ratio", "distinct non-null values / non-null values"),
    ("distinct_log", "log1p(distinct values) / log1p(20000), clipped to 1"),
    ("unique", "1 if every non-null value is distinct"),
    ("constant", "1 if there is exactly one distinct value"),
    ("binary", "1 if there are exactly two distinct values"),
    ("low_cardinality", "1 if there are at most 20 distinct values"),
    ("entropy_evenness", "value entropy / log(distinct values): 1 = uniform"),
    ("entropy_scaled", "value entropy (nats) / log(20000)"),
    ("top1_share", "share of non-null values equal to the most frequent value"),
    ("top5_share", "share of non-null values covered by the five most frequent values"),
    ("singleton_share", "share of non-null values that occur exactly once"),
    ("key_likeness", "distinct_ratio x completeness x (integer, code or id pattern)"),
    ("table_rows_log", "log1p(total rows of the table) / log1p(1e9)"),
    ("sample_rows_log", "log1p(rows sampled) / log1p(20000)"),
    ("sample_fraction", "rows sampled / total rows"),
    ("column_position", "ordinal position / (columns - 1)"),
    ("is_first_column", "1 for the table's first column"),
    ("table_columns_log", "log1p(columns in the table) / log1p(1000)"),
    # numeric ------------------------------------------------------------------------------
    ("numeric_share", "share of non-null values that read as finite numbers"),
    ("num_q01", "signed log of the 1st percentile (slog(x) = sign(x) log1p|x| / 25, clipped)"),
    ("num_q05", "slog of the 5th percentile"),
    ("num_q25", "slog of the 25th percentile"),
    ("num_q50", "slog of the median"),
    ("num_q75", "slog of the 75th percentile"),
    ("num_q95", "slog of the 95th percentile"),
    ("num_q99", "slog of the 99th percentile"),
    ("num_min", "slog of the minimum"),
    ("num_max", "slog of the maximum"),
    ("num_mean", "slog of the mean"),
    ("num_std", "slog of the standard deviation"),
    ("num_range", "slog of max - min"),
    ("num_integer_share", "share of numbers that are whole"),
    ("num_zero_share", "share of numbers equal to 0"),
    ("num_negative_share", "share of numbers below 0"),
    ("num_unit_interval_share", "share of numbers in [0, 1]"),
    ("num_skewness", "tanh(skewness / 5)"),
    ("num_kurtosis", "tanh(excess kurtosis / 20)"),
    ("num_cv", "tanh(std / |mean|)"),
    ("num_nonfinite_share", "share of numeric values that are NaN, infinite or beyond 1e75 in magnitude"),
    ("num_magnitude", "mean log10(1 + |x|) / 12"),
    ("num_id_density", "distinct integers / (max - min + 1): 1 = a dense id range"),
    ("num_decimal_places", "mean digits after the decimal point in the text form / 6"),
    ("num_year_like_share", "share of integers in [1900, 2300]"),
    ("num_round_share", "share of numbers that are multiples of 10"),
    # string lengths -----------------------------------------------------------------------
    ("len_mean", "log1p(mean length in characters) / log1p(1000)"),
    ("len_std", "log1p(std of length) / log1p(1000)"),
    ("len_min", "log1p(min length) / log1p(1000)"),
    ("len_max", "log1p(max length) / log1p(1e5), clipped"),
    ("len_median", "log1p(median length) / log1p(1000)"),
    ("len_q90", "log1p(90th percentile length) / log1p(1000)"),
    ("len_constant", "1 if every value has the same length"),
    ("empty_string_share", "share of values that are the empty string"),
    ("whitespace_share", "share of values containing a space"),
    ("words_mean", "log1p(mean words per value) / log1p(50)"),
    ("long_text_share", "share of values longer than 50 characters"),
    ("non_ascii_share", "share of values with a character outside ASCII"),
    ("len_distinct", "log1p(distinct value lengths) / log1p(100)"),
    ("capitalised_share", "share of values starting with an upper-case letter"),
    # character classes (mean share of the first 256 characters) -----------------------------
    ("char_letter", "mean share of letters"),
    ("char_digit", "mean share of digits"),
    ("char_upper", "mean share of upper-case letters"),
    ("char_lower", "mean share of lower-case letters"),
    ("char_space", "mean share of whitespace"),
    ("char_punct", "mean share of punctuation and symbols"),
    ("char_other", "mean share of anything else (non-ASCII)"),
    ("all_digit_share", "share of values made of digits only"),
    ("all_upper_share", "share of values with letters but no lower-case letter"),
    ("alnum_mix_share", "share of values with both letters and digits"),
    # value patterns (share of non-null values matching) ------------------------------------
    ("pat_code", "short code with a digit, e.g. ICD 4019, I10, 5A1955Z, A0428"),
    ("pat_alnum_token", "4-8 upper-case letters and digits, mixed, e.g. P03YMR"),
    ("pat_hyphen_id", "number-number identifier, e.g. 10002930-456"),
    ("pat_long_integer", "integer of 6 or more digits (typical surrogate key)"),
    ("pat_uuid", "UUID"),
    ("pat_email", "e-mail address"),
    ("pat_url", "URL"),
    ("pat_date", "date text YYYY-MM-DD"),
    ("pat_datetime", "date-time text YYYY-MM-DD HH:MM"),
    ("pat_time", "time of day text HH:MM[:SS]"),
    ("pat_integer", "integer text"),
    ("pat_decimal", "decimal number text"),
    ("pat_ratio", "ratio text n/n, e.g. 120/80"),
    ("pat_comparison", "comparison with a number, e.g. <=0.5, >60"),
    ("pat_unit", "short unit token, e.g. mg, mL/hr, mEq/L, %"),
    ("pat_boolean", "boolean word: 0/1, true/false, t/f, y/n, yes/no"),
    ("pat_placeholder", "placeholder: ___, ?, NA, N/A, UNKNOWN, none, null"),
    ("pat_title_case", "Title Case words"),
    ("pat_upper_phrase", "upper-case phrase with spaces, e.g. EMERGENCY ROOM"),
    ("pat_sentence", "free text: four or more words"),
    # temporal -------------------------------------------------------------------------------
    ("temporal_share", "share of non-null values that read as a date or time stamp"),
    ("time_span", "log1p(max - min in days) / log1p(1e5)"),
    ("time_date_only_share", "share of time stamps at exactly midnight (date granularity)"),
    ("time_seconds_share", "share of time stamps with non-zero seconds"),
    ("time_minutes_share", "share of time stamps with non-zero minutes"),
    ("time_hour_rounded_share", "share of time stamps on the full hour"),
    ("time_distinct_days", "distinct days / time stamps"),
    ("time_year_mean", "(mean year - 2000) / 300, clipped to [-1, 1]"),
    ("time_year_std", "log1p(std of year) / log1p(100)"),
    ("time_future_share", "share of years after 2100 (de-identified shifted dates)"),
    ("time_month_spread", "distinct months / 12"),
    ("time_weekday_spread", "distinct weekdays / 7"),
    ("time_hour_mean", "mean hour of day / 24"),
    ("time_hour_std", "std of hour of day / 12"),
    # column name ----------------------------------------------------------------------------
    ("name_id", "name ends in id / _id / _cd-like key suffix"),
    ("name_time", "name mentions time, date, dt, day, year"),
    ("name_text", "name mentions name, label, desc, title, text, comment"),
    ("name_code", "name mentions code, cd, icd, ndc, drg"),
    ("name_flag", "name mentions flag, is_, has_, yn"),
    ("name_count", "name mentions seq, num, no, count, ordinal, qty"),
    ("name_unit", "name mentions unit, uom, units"),
    ("name_value", "name mentions value, val, amount, rate, dose, result"),
    ("name_category", "name mentions type, category, status, class, kind, group"),
    ("name_length", "length of the name / 40, clipped"),
    ("name_tokens", "words in the name / 6, clipped"),
    ("name_has_digit", "name contains a digit"),
    ("name_in_table", "a word of the table name appears in the column name"),
    ("name_empty", "name is empty or generated by the reader (column0, ...)"),
]
assert len(FEATURES) == STATS_DIM, len(FEATURES)
FEATURE_INDEX = {name: i for i, (name, _) in enumerate(FEATURES)}


def features_markdown() -> str:
    """The table of the 128 statistics, for the README."""
    lines = ["| # | name | meaning |", "| --- | --- | --- |"]
    lines += [f"| {i} | `{n}` | {d} |" for i, (n, d) in enumerate(FEATURES)]
    return "\n".join(lines)


def type_family(dtype: str) -> str:
    """A DuckDB type name -> the one-hot feature of its family (`type_integer`, ...)."""
    t = dtype.upper()
    if t.endswith("[]") or t.startswith(("STRUCT", "MAP", "UNION", "LIST")) or re.search(r"\[\d+\]$", t):
        return "type_nested"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT"):
        return "type_integer"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "type_float"
    if t == "BOOLEAN":
        return "type_boolean"
    if t == "DATE":
        return "type_date"
    if t.startswith("TIMESTAMP"):
        return "type_timestamp"
    if t.startswith(("TIME", "INTERVAL")):
        return "type_time_interval"
    if t == "VARCHAR":
        return "type_text"
    if t in ("BLOB", "BIT"):
        return "type_blob"
    return "type_other"

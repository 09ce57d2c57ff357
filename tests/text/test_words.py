"""Identifiers written without separators are split into words, conservatively."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from tablegraph.text.words import abbreviates, is_abbreviation, name_to_words, split_compound


def test_compound_names_are_split_into_words():
    assert split_compound("careplans") == ("care", "plans")
    assert split_compound("orderlineitem") == ("order", "line", "item")
    assert split_compound("productid") == ("product", "id")
    assert name_to_words("careplans", table=True) == "care plans"
    assert name_to_words("l_shipdate") == "l ship date"
    assert name_to_words("CustomerZipcode") == "customer zip code"
    assert name_to_words("productnum") == "product number"  # a part's abbreviation spelt out


def test_words_and_fragments_stay_whole():
    for token in ("password", "restart", "payroll",  # common words
                  "prevalences", "allergies",  # the plural of a known word
                  "refund",  # "ref und": a fragment is no part
                  "billableperiod",  # "bill able period": a suffix is no part
                  "hadm", "custnmbr", "zip_code", "ab12cd", "Careplans"):
        assert split_compound(token) == (token,)
    assert name_to_words("hadm_id") == "hospital admission id"  # abbreviations come first


def test_shorthand_with_another_reading_elsewhere_is_left_as_written():
    """A spelt-out abbreviation must read right in any schema: clinical shorthand that means
    something else in other databases stays as written (an organisation's `org_id` is no
    organism, `los_angeles` no length of stay, a network's `rx_bytes` no prescription)."""
    assert name_to_words("org_id") == "org id"
    assert name_to_words("OrgUnit", table=True) == "org unit"
    assert name_to_words("los_angeles") == "los angeles"
    assert name_to_words("ed_level") == "ed level"
    assert name_to_words("rx_bytes") == "rx bytes"
    assert name_to_words("px_last") == "px last"
    assert name_to_words("spec_sheet") == "spec sheet"
    assert name_to_words("ab_test") == "ab test"
    assert name_to_words("disp_name") == "disp name"
    # what reads one way everywhere is still spelt out
    assert name_to_words("order_amt") == "order amount"
    assert name_to_words("ship_dt") == "ship date"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=24))
def test_a_split_only_cuts_the_token(token):
    parts = split_compound(token)
    assert "".join(parts) == token
    assert len(parts) == 1 or all(len(p) >= 2 for p in parts)


def test_abbreviations_are_short_words_that_are_no_common_words():
    for word in ("amt", "cstm", "scr", "dept", "mgr", "ordr", "itms"):
        assert is_abbreviation(word), word
    # common words, too short or too long a word, digits: no abbreviation
    for word in ("cost", "name", "art", "price", "nm", "customer", "icd10", "Cstm"):
        assert not is_abbreviation(word), word
    assert not is_abbreviation("statu")  # the plural stem of "status"


def test_an_abbreviation_keeps_the_first_letter_and_passes_over_one_consonant_at_most():
    for short, word in (("amt", "amount"), ("mgr", "manager"), ("pmt", "payment"),
                        ("dept", "department"), ("cstm", "customer"), ("scr", "score"),
                        ("bldg", "building"), ("ordr", "orders")):
        assert abbreviates(short, word), (short, word)
    for short, word in (("drg", "discharge"), ("icd", "increased"), ("dose", "diagnose"),
                        ("cust", "customer"), ("scr", "cars"), ("amt", "am")):
        assert not abbreviates(short, word), (short, word)

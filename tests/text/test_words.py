"""Identifiers written without separators are split into words, conservatively."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from tablegraph.text.words import (Respeller, abbreviates, is_abbreviation, name_to_words,
                                   split_compound)


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


VOCABULARY = {"creatinine", "admission", "georgia", "cards", "carts", "exploration",
              "microbiology", "student"}


def test_mistyped_words_are_read_as_the_schemas_words():
    respell = Respeller(lambda: VOCABULARY)
    assert respell("last creatinnine of each admision?") == "last creatinine of each admission?"
    assert respell("offices in Goergia") == "offices in Georgia"  # its capital kept
    assert respell("microbiolgy cultures") == "microbiology cultures"
    assert respell("the studnets") == "the students"  # its plural kept
    assert respell("the avarage salery") == "the average salary"  # frequent English words


def test_what_is_no_slip_stays_as_written():
    respell = Respeller(lambda: VOCABULARY)
    for text in ('offices in "Goergia"', "offices in 'Goergia'",  # a literal
                 "the GOERGIA code", "a Goergia-Tech team", "creatinnine2",  # a code, joined
                 "carxs",  # "carts" or "cards": two readings
                 "explor",  # the first letters of a word: a short form
                 "Dariusz and Northwind",  # a name is never read as an English word
                 "admision"[:4],  # too short to say
                 "the patients' creatinine"):  # words already
        assert respell(text) == text, text


def test_the_vocabulary_is_read_only_when_a_word_is_no_english_word():
    calls = []
    respell = Respeller(lambda: calls.append(1) or VOCABULARY)
    assert respell("which patients were admitted?") == "which patients were admitted?"
    assert calls == []
    respell("creatinnine")
    respell("admision")
    assert calls == [1]  # once


@given(st.text(alphabet=string.ascii_letters + " '\"-?", max_size=40))
@settings(max_examples=200, deadline=None)
def test_respelling_changes_letters_only_and_twice_is_once(text):
    respell = Respeller(lambda: VOCABULARY)
    once = respell(text)
    assert respell(once) == once
    assert [c for c in once if not c.isalpha()] == [c for c in text if not c.isalpha()]

"""Index terms in any language: identifiers stay whole, one-letter words stay, Unicode case
folding (Turkish i's included), a segmenter for Han, character pairs for other unspaced
scripts, each language's stemmer."""

from __future__ import annotations

import pytest

from parley_bot.knowledge.analysis import analyzer
from parley_bot.knowledge.text import query_terms, terms


@pytest.mark.parametrize(("text", "whole"), [
    ("Run it with --track-origins=yes.", "--track-origins=yes"),
    ("Use --track-origins to find them", "--track-origins"),
    ("Call fs.rm() on the folder", "fs.rm"),
    ("Written in C# and C++", "c#"),
    ("Written in C# and C++", "c++"),
    ("Put it in .valgrindrc", ".valgrindrc"),
    ("Set VALGRIND_OPTS first", "valgrind_opts"),
    ("The linker cannot find -lc", "-lc"),
])
def test_code_identifiers_stay_whole_and_give_their_parts(text: str, whole: str) -> None:
    found = analyzer("en").terms(text)
    assert whole in found
    assert "track" in analyzer("en").terms("--track-origins")


def test_one_letter_words_are_terms() -> None:
    assert {"c", "r", "x"} <= set(analyzer("en").terms("C, R and x are languages"))


def test_numbers_with_separators_also_match_without() -> None:
    assert {"20,000,000", "20000000"} <= set(analyzer("en").terms("20,000,000 bytes"))


@pytest.mark.parametrize(("form", "base"), [
    ("shown", "show"), ("written", "writes"), ("chose", "choosing"), ("overridden", "override"),
    ("Built", "build"), ("kept", "keeps"),
])
def test_an_irregular_english_form_is_the_term_of_its_verb(form: str, base: str) -> None:
    english = analyzer("en")
    assert english.terms(f"stack traces {form}") == english.terms(f"stack trace {base}")


def test_a_form_that_is_also_a_noun_stays_itself() -> None:
    english = analyzer("en")
    assert english.terms("bit left") != english.terms("bite leave")


def test_case_folding_keeps_the_dot_of_a_capital_i() -> None:
    assert analyzer("en").terms("İstanbul") == ["istanbul"]
    assert analyzer("tr").terms("İstanbul ISPARTA") == ["istanbul", "ıspar"]
    assert analyzer("de").terms("STRASSE Straße") == analyzer("de").terms("strasse strasse")


def test_each_language_has_its_stemmer() -> None:
    assert analyzer("pl").terms("zwroty zwrotu") == ["zwrot", "zwrot"]
    assert analyzer("ru").terms("магазины магазин") == ["магазин", "магазин"]
    assert analyzer("es").terms("devoluciones devolución") == ["devolu", "devolu"]
    assert analyzer(None).terms("returns") == ["returns"]  # no language, no stemming


def test_han_text_is_cut_into_words_and_other_unspaced_scripts_into_pairs() -> None:
    assert analyzer("zh").terms("黑豹队的防守在2015年") == ["黑豹", "队", "防守", "2015", "年"]
    assert analyzer("ja").terms("東京都に住む") == ["東京", "京都", "都に", "に住", "住む"]
    assert analyzer("th").terms("สวัสดีครับ") == ["สวั", "วัส", "สดี", "ดีค", "ครั", "รับ"]
    assert analyzer("km").terms("សួស្តី")  # a script nothing here knows still gets terms


def test_a_text_without_a_language_is_detected_and_read_in_it() -> None:
    assert terms("Gdzie jest wasz sklep w Warszawie?") == analyzer("pl").terms(
        "Gdzie jest wasz sklep w Warszawie?")


def test_a_query_too_short_to_tell_is_read_in_every_language_of_the_index() -> None:
    assert set(query_terms("zwroty?", ["en", "pl"])) == {"zwroti", "zwrot"}  # both readings
    assert query_terms("Where can I return boots?", ["en", "pl"]) == ["return", "boot"]

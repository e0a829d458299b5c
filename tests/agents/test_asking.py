"""What a question asks for: numbers in several languages, places, steps, definitions."""

from __future__ import annotations

import pytest

from parley_bot.agents.asking import (
    asks_number,
    defining,
    place_heading,
    searched,
    steps_heading,
)


@pytest.mark.parametrize(("question", "language", "numeric"), [
    ("how long does delivery take", "en", True),
    ("what is the weather like", "en", False),
    ("Jak długo trwa dostawa?", "pl", True),
    ("Czy wysyłacie za granicę?", "pl", False),
    ("¿Cuántos puntos anotaron los Panthers?", "es", True),
    ("İade süresi kaç gün?", "tr", True),
    ("Wann öffnet der Laden?", "de", True),
    ("Сколько длится гарантия?", "ru", True),
    ("退货期限是多久？", "zh", True),
    ("Où est votre magasin ?", "fr", False),
])
def test_questions_asking_for_a_number_are_told_in_their_language(
    question: str, language: str, numeric: bool
) -> None:
    assert asks_number(question, language) is numeric


def test_a_place_or_steps_question_prefers_a_section_headed_for_them() -> None:
    assert place_heading("where is your store", "Locations")
    assert not place_heading("where is your store", "In-store services")
    assert not place_heading("when are you open", "Locations")
    assert steps_heading("how do I return something", "How to start a return")
    assert not steps_heading("how long do I have to return an item", "How to start a return")
    assert not steps_heading("how do I return something", "Time limits")


def test_what_is_x_finds_the_sentence_that_says_what_x_is() -> None:
    race = defining("What is a data race?")
    assert race is not None
    assert race.search("A data race happens, or could happen, when two threads access memory")
    assert race.search("Data races (unsynchronised accesses) are hard to find.")
    assert not race.search("DRD prints a message every time it detects a data race.")
    ffi = defining("What does FFI stand for?")
    assert ffi is not None and ffi.search("FFI stands for Foreign Function Interface.")
    assert not ffi.search("The cif in ffi_cif stands for Call InterFace.")
    assert defining("What is the best way to write a suppression file for my program?") is None
    assert defining("how do I read a Massif output file?") is None


def test_the_adjective_of_how_big_is_not_searched_for() -> None:
    assert "big" not in searched("How big is the queue of freed blocks?")
    assert "queue of freed blocks" in searched("How big is the queue of freed blocks?")
    assert searched("Is a big block freed first?") == "Is a big block freed first?"

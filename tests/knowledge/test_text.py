"""Sentence splitting in any script: chunks end only where `sentences` says a sentence does."""

from __future__ import annotations

import pytest

from parley_bot.knowledge.text import Block, blocks, sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Returns are free. Refunds take five days.",
         ["Returns are free.", "Refunds take five days."]),
        ("Das Paket kommt morgen. Über die Rückgabe entscheiden wir.",
         ["Das Paket kommt morgen.", "Über die Rückgabe entscheiden wir."]),
        ("Η παράδοση είναι δωρεάν! Ένα δέμα φτάνει σε δύο ημέρες.",
         ["Η παράδοση είναι δωρεάν!", "Ένα δέμα φτάνει σε δύο ημέρες."]),
        ("Is it late? 30 days have passed.", ["Is it late?", "30 days have passed."]),
        ('He left. "Why?" she asked.', ["He left.", '"Why?" she asked.']),
        ("Two spaces.  Still two sentences.", ["Two spaces.", "Still two sentences."]),
        ("بالتأكيد. شكرا لك", ["بالتأكيد.", "شكرا لك"]),  # no case: a new sentence
    ],
)
def test_a_terminator_then_space_ends_a_sentence_unless_lowercase_follows(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Use a soft cloth, e.g. this one.",
        "C'est vital. école comprise.",
        "Αυτό είναι σημαντικό. ένα ακόμη.",
        "Version 2.5 ships soon.",
        "Wait.  then go.",  # a lowercase word after two spaces is no new sentence either
    ],
)
def test_a_lowercase_word_after_a_period_continues_the_sentence(text: str) -> None:
    assert sentences(text) == [text]


def test_cjk_terminators_end_a_sentence_without_a_space() -> None:
    assert sentences("配送は三日です。返品は無料です！本当ですか？はい。") == [
        "配送は三日です。", "返品は無料です！", "本当ですか？", "はい。"]
    assert sentences("退货免费。 运费另计。") == ["退货免费。", "运费另计。"]


def test_a_cjk_quote_closes_with_its_sentence() -> None:
    assert sentences("「はい。」と言った。次です。") == ["「はい。」と言った。", "次です。"]


def test_paragraphs_and_list_items_are_pieces_of_their_own() -> None:
    text = "Opening hours\n\nwe open at nine\nItems to bring:\n- a receipt\n- the box\n1. sign"
    assert sentences(text) == [
        "Opening hours", "we open at nine\nItems to bring:", "- a receipt", "- the box", "1. sign"]


@pytest.mark.parametrize(("text", "expected"), [
    ("दुकान खुली है। कल बंद रहेगी।", ["दुकान खुली है।", "कल बंद रहेगी।"]),
    ("هل المتجر مفتوح؟ نعم، حتى التاسعة.", ["هل المتجر مفتوح؟", "نعم، حتى التاسعة."]),
    ("Խանութը բաց է։ Վաղը փակ է։", ["Խանութը բաց է։", "Վաղը փակ է։"]),
    ("ሱቁ ክፍት ነው። ነገ ዝግ ነው።", ["ሱቁ ክፍት ነው።", "ነገ ዝግ ነው።"]),
    ("ဆိုင်ဖွင့်ထားသည်။ မနက်ဖြန်ပိတ်မည်။", ["ဆိုင်ဖွင့်ထားသည်။", "မနက်ဖြန်ပိတ်မည်။"]),
    ("It runs slower (eg. 20 to 30 times). Use -g, i.e. debug info.",
     ["It runs slower (eg. 20 to 30 times).", "Use -g, i.e. debug info."]),
    ("Das gilt z.B. Montags. Danach nicht.", ["Das gilt z.B. Montags.", "Danach nicht."]),
])
def test_sentence_ends_of_every_script_and_common_abbreviations(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


def test_blocks_keep_code_fences_whole_and_tell_lists_from_prose() -> None:
    text = ("Run this:\n\n```sh\nmake\n\nmake install\n```\n\n- one\n- two\n  - nested\n\n"
            "Done. Really.")
    assert blocks(text) == [
        Block("prose", "Run this:"),
        Block("code", "```sh\nmake\n\nmake install\n```"),
        Block("list", "- one\n- two\n  - nested"),
        Block("prose", "Done. Really."),
    ]

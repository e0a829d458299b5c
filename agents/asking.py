"""What kind of answer a question asks for, read from its wording: a number, a place, the
steps to do something, or what a term means. The extractive responder prefers the passages
and sentences shaped like that answer; the words it matches are the question's, so this is
only ever a tie-breaker between passages that hold them.

Numbers are recognised in eleven languages (the question words that ask for one), the other
kinds in English, the language people most often write documentation in.
"""

from __future__ import annotations

import regex

from parley_bot.knowledge.languages import language_of

# Questions that ask for a number, and the numbers they are answered with (English).
ASKS_NUMBER = regex.compile(
    r"^\W*(?:how\s+(?:many|much|long|big|large|old|often|far|soon|fast|heavy|tall|wide|high|"
    r"deep)|(?:in\s+)?what\s+(?:year|date|time|age|percentage)|when)\b", regex.IGNORECASE)
# The same questions in other languages, by the words that ask them wherever they stand (a
# Turkish or Polish question often puts them last: 'İade süresi kaç gün?'); Chinese has no
# spaces to bound them.
_ASKS_NUMBER_IN = {language: regex.compile(
    words if language == "zh" else rf"(?<!\w)(?:{words})(?!\w)", regex.IGNORECASE)
    for language, words in {
    "es": r"cu[aá]nt[oa]s?|cu[aá]ndo|(?:en\s+)?qu[eé]\s+(?:año|fecha|siglo|edad|porcentaje)",
    "pt": r"quant[oa]s?|quando|(?:em\s+)?que\s+(?:ano|data|século|idade)",
    "fr": r"combien|quand|(?:en\s+)?quelle\s+(?:année|date)|(?:en\s+)?quel\s+(?:siècle|âge)",
    "it": r"quant[oaie]|quando|(?:in\s+)?che\s+anno",
    "de": r"wie\s+(?:viele?|lange|alt|oft|weit|groß|hoch|schnell|schwer)|wann"
          r"|(?:in\s+)?welchem\s+jahr",
    "nl": r"hoeveel|hoe\s+(?:lang|oud|vaak|ver|groot)|wanneer|(?:in\s+)?welk\s+jaar",
    "pl": r"ile|ilu|jak\s+(?:długo|często|daleko|duż[ya]|stary)|kiedy|(?:w\s+)?którym\s+roku",
    "ru": r"сколько|когда|(?:в\s+)?каком\s+году",
    "tr": r"kaç|ne\s+zaman|ne\s+kadar|hangi\s+yıl",
    "zh": r"多少|多久|多长|几|哪一年|哪年|什么时候|何时",
}.items()}
NUMBER = regex.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|hundred|thousand|million|billion|dozen|twice|half)\b", regex.IGNORECASE)

# 'where is your store' asks for a place: a section headed 'Locations', 'Address', 'Find us'.
_ASKS_PLACE = regex.compile(r"^\W*where\s+(?:is|are)\b", regex.IGNORECASE)
_PLACE_HEADING = regex.compile(r"\b(?:locations?|address(?:es)?|directions|find\s+us|"
                               r"where)\b", regex.IGNORECASE)
# 'how do I return something' asks for steps: a section headed 'How to start a return'.
_ASKS_STEPS = regex.compile(r"^\W*how\s+(?:do|can|should|would)\s+(?:i|you|we)\b|^\W*how\s+to\b",
                            regex.IGNORECASE)
_STEPS_HEADING = regex.compile(r"^\W*(?:how\s+(?:to|do|can)|steps?\b)", regex.IGNORECASE)
# 'what is a data race?', 'what does FFI stand for?' ask what a term means: the sentence that
# says 'A data race happens when …', 'X is …', 'X stands for …'.
_ASKS_MEANING = regex.compile(
    r"^\W*what\s+(?:is|are|does)\s+(?:an?\s+|the\s+)?(?P<term>[^?]+?)"
    r"(?:\s+(?:mean|stand\s+for))?\W*$",
    regex.IGNORECASE)
_DEFINING = r"(?:is|are|means?|refers?\s+to|happens|occurs|stands\s+for)\b"


def asks_number(question: str, language: str | None) -> bool:
    """Whether `question` asks for a quantity, a time or a date, in its language (English
    when unknown)."""
    language = language or language_of(question)
    asks = _ASKS_NUMBER_IN.get(language or "en", ASKS_NUMBER)
    return bool(asks.search(question))


def searched(question: str) -> str:
    """`question` as the index is searched for it: without the adjective of 'how big', 'how
    old', which asks for a number and is no subject word ('how big is the queue' must not
    favour a passage about `--freelist-big-blocks`)."""
    asked = ASKS_NUMBER.search(question)
    if asked is None or not asked[0].lower().startswith("how"):
        return question
    return question[:asked.start()] + question[asked.end():]


def place_heading(question: str, heading: str) -> bool:
    """Whether `question` asks where something is and `heading` heads a section of places."""
    return bool(_ASKS_PLACE.search(question) and _PLACE_HEADING.search(heading))


def steps_heading(question: str, heading: str) -> bool:
    """Whether `question` asks how to do something and `heading` heads a how-to section."""
    return bool(_ASKS_STEPS.search(question) and _STEPS_HEADING.search(heading))


def defining(question: str) -> regex.Pattern[str] | None:
    """For 'what is X?', a pattern finding a sentence that says what X is; None for other
    questions (and for a term of more than four words, which is no term)."""
    asked = _ASKS_MEANING.search(question)
    if asked is None or len(asked["term"].split()) > 4:
        return None
    term = r"[\s-]+".join(map(regex.escape, asked["term"].split()))
    return regex.compile(rf"\b{term}s?\b(?:\s*\([^)]*\))?,?\s+(?:\w+\s+){{0,2}}?{_DEFINING}",
                         regex.IGNORECASE)

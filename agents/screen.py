"""The guard's screens: prompt injection (patterns, many languages) and a bot's denied topics.

An injection is a message that tries to replace the bot's instructions rather than ask
something. Such messages fall into a few families, which read alike in every language:

    override   'ignore / forget / disregard' + 'your / all / previous' + 'instructions / rules'
    reveal     naming the system prompt, or asking for what came before 'verbatim'
    persona    'you are now DAN / in developer mode', 'an AI with no restrictions'
    fake turn  a line that poses as the system ('SYSTEM: new instructions follow')

Each family is a handful of regular expressions over word lists in English, Spanish, German,
French, Portuguese, Italian, Polish, Russian, Turkish, Chinese and Japanese. They were written
from the `design` half of bench/data/injections.yaml only; `bench/guard.py` measures them on
the `held_out` half and on the example bot's own questions (false refusals). Ordinary
customer words alone ('ignore the care instructions', 'your return rules') do not match: an
override needs a marker of the bot's own instructions ('your', 'all', 'previous').
"""

from __future__ import annotations

import re
from functools import cache


def _any(*words: str) -> str:
    """One of `words`, each as whole words (but CJK, which has no spaces between words)."""
    return "(?:" + "|".join(w if _cjk(w[0]) else rf"(?<!\w)(?:{w})(?!\w)"
                            for w in words) + ")"


def _cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


def _near(first: str, second: str, gap: int = 40) -> str:
    """`first`, then `second` within `gap` characters of the same sentence."""
    return rf"{first}[^.!?。！？\n]{{0,{gap}}}?{second}"


IGNORE = _any(
    r"ignor(?:e|ing|ez|a|ar|iere|ieren|uj|iruj|ировать|ируй)", r"disregard", r"forget",
    r"override", r"bypass", r"set aside", r"throw away", r"discard",
    r"olvid(?:a|ar|e)", r"omit(?:e|ir)", r"descart(?:a|ar)", r"no hagas caso",
    r"vergiss", r"vergessen", r"missacht(?:e|en)", r"übergeh(?:e|en)",
    r"oubli(?:e|ez|er)", r"ne tiens (?:plus )?(?:pas )?compte",
    r"esque(?:ç|c)(?:a|er)", r"desconsider(?:e|ar)", r"dimentica", r"tralascia",
    r"zignoruj", r"zapomnij", r"(?:про)?игнорир\w*", r"забудь", r"забыть", r"не обращай внимания",
    r"yok say", r"unut", r"görmezden gel", r"忽略", r"无视", r"忘记", r"忘掉", r"無視", r"忘れ",
)
MINE = _any(
    r"all", r"your", r"previous", r"prior", r"above", r"earlier", r"preceding", r"original",
    r"initial", r"system", r"you were", r"you've been",
    r"todas", r"tus", r"tu", r"anteriores", r"previas", r"que te dieron",
    r"alle", r"deine", r"vorherigen", r"bisherigen", r"obigen", r"ursprünglichen",
    r"toutes", r"tes", r"vos", r"précédentes", r"antérieures",
    r"todas as", r"suas", r"seus", r"anteriores", r"te deram",
    r"tutte", r"tue", r"precedenti", r"wszystkie", r"poprzednie", r"swoje",
    r"все", r"свои", r"предыдущие", r"прежние", r"tüm", r"önceki", r"bütün",
    r"之前", r"以前", r"所有", r"你的", r"上面", r"これまでの", r"以前の", r"すべて",
)
RULES = _any(
    r"instructions?", r"rules", r"prompts?", r"guidelines", r"directions", r"directives?",
    r"programming", r"constraints", r"policies", r"everything",
    r"instrucciones", r"reglas", r"indicaciones", r"normas",
    r"anweisungen", r"regeln", r"vorgaben", r"instruktionen", r"befehle",
    r"consignes", r"règles", r"instruções", r"instrucoes", r"regras", r"diretrizes",
    r"istruzioni", r"regole", r"instrukcje", r"zasady", r"polecenia",
    r"инструкции", r"правила", r"указания", r"talimat\w*", r"kural\w*",
    r"指令", r"指示", r"规则", r"设定", r"提示", r"ルール", r"命令", r"設定",
)
SYSTEM_PROMPT = _any(
    r"system ?prompt", r"system message", r"(?:initial|original|hidden|secret) "
    r"(?:prompt|instructions)", r"prompt del sistema", r"systemprompt", r"prompt système",
    r"prompt de sistema", r"prompt di sistema", r"prompt systemowy", r"системн\w+ промпт",
    r"системн\w+ инструкци\w+", r"sistem (?:komut|istem|talimat)\w*", r"系统提示",
    r"初始指令", r"系统指令", r"システムプロンプト", r"初期の?指示",
)
VERBATIM = _any(r"verbatim", r"word for word", r"palabra por palabra", r"wortwörtlich",
                r"wort für wort", r"mot pour mot", r"palavra por palavra", r"parola per parola",
                r"дословно", r"слово в слово", r"原样", r"逐字", r"kelimesi kelimesine",
                r"そのまま")
ABOVE = _any(r"the text above", r"everything above", r"the (?:words|text) before this")
UNBOUND = _any(
    r"(?:no|without|any) (?:content )?(?:restrictions|limits|rules|filters|policy|"
    r"content policy|limitations|censorship)", r"unrestricted", r"uncensored",
    r"sin (?:restricciones|límites|reglas|filtros)", r"ohne (?:einschränkungen|regeln|"
    r"grenzen|filter)", r"sans (?:aucune )?(?:restrictions?|limites?|règles|filtres?)",
    r"sem (?:restrições|limites|regras|filtros)", r"senza (?:filtri|limiti|regole|restrizioni)",
    r"bez (?:ograniczeń|zasad|filtrów)", r"без (?:ограничений|правил|фильтров|цензуры)",
    r"kısıtlama\w* olmayan", r"sınırsız", r"没有(?:任何)?(?:限制|规则|过滤)", r"不受限制",
    r"制限のない", r"制限なし",
)
PERSONA = _any(
    r"you are now", r"from now on", r"act as", r"pretend", r"you are an? (?:ai|model|bot)",
    r"a partir de ahora", r"actúa como", r"ab jetzt", r"von nun an", r"du bist jetzt",
    r"à partir de maintenant", r"désormais", r"fais comme si", r"tu es (?:un|une)",
    r"a partir de agora", r"de agora em diante", r"aja como", r"d'ora in poi",
    r"od teraz", r"отныне", r"с этого момента", r"теперь ты", r"отвечай", r"从现在开始",
    r"现在你是", r"bundan sonra", r"gibi davran", r"今から", r"eres un", r"modelo", r"model",
    r"assistant", r"asistente", r"assistent", r"ai", r"ia", r"ии", r"yapay zeka",
)
MODES = _any(r"developer mode", r"dev mode", r"jailbreak", r"(?:you are|act as|become) dan",
             r"dan mode", r"god mode",
             r"modo desarrollador", r"entwicklermodus", r"mode développeur",
             r"modo (?:de )?desenvolvedor", r"режим разработчика", r"开发者模式", r"越狱")
FAKE_TURN = r"(?:^|\n)\s*(?:#+\s*)?(?:system|developer|admin)\s*:"
NEW_ORDERS = _any(r"new instructions", r"new rules?", r"your new (?:task|role|job|purpose)",
                  r"override:", r"nuevas instrucciones", r"neue anweisungen",
                  r"nouvelles instructions", r"novas instruções", r"новые инструкции", r"新指令")
DISOBEY = _near(_any(r"no longer", r"stop", r"don't", r"do not", r"never"),
                _any(r"follow(?:ing)?", r"obey(?:ing)?") + r"\W+" + MINE, 20)

INJECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("override", _near(IGNORE, MINE + r"[^.!?。！？\n]{0,40}?" + RULES, 30)),
    ("override", _near(IGNORE, RULES + r"[^.!?。！？\n]{0,30}?" + MINE, 30)),
    ("override", _near(MINE, RULES + r"[^.!?。！？\n]{0,30}?" + IGNORE, 30)),  # verb last
    ("override", IGNORE + r"\W+(?:everything|all) (?:you were told|above|before)"),
    ("override", DISOBEY),
    ("reveal", SYSTEM_PROMPT),
    ("reveal", _near(_any(r"repeat", r"print", r"output", r"show", r"reveal", r"tell"),
                     ABOVE, 20)),
    ("reveal", _near(_any(r"print", r"output", r"repeat", r"reveal", r"show", r"gib", r"aus",
                          r"输出", r"显示", r"выведи", r"покажи", r"表示"), VERBATIM, 60)),
    ("persona", _near(PERSONA, UNBOUND, 60)),
    ("persona", _near(UNBOUND, PERSONA, 60)),
    ("persona", MODES),
    ("fake_turn", FAKE_TURN),
    ("fake_turn", NEW_ORDERS),
)
"""(family, pattern): the first that matches names why a message was refused."""


@cache
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((family, re.compile(pattern, re.I)) for family, pattern in INJECTION_PATTERNS)


def injection(text: str) -> str | None:
    """The family of prompt injection `text` reads as ('override', 'reveal', 'persona',
    'fake_turn'), or None for an ordinary message."""
    for family, pattern in _compiled():
        if pattern.search(text):
            return family
    return None


def deny_pattern(entry: str) -> re.Pattern[str]:
    """The pattern of one `guard.deny` entry: a word or phrase matches as whole words (any
    case); an entry with regex syntax is a regular expression, searched case-insensitively.

    Raises:
        ValueError: the entry is not a valid regular expression.
    """
    if re.fullmatch(r"[\w\s'-]+", entry):
        return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, entry.split())) + r"(?!\w)",
                          re.I)
    try:
        return re.compile(entry, re.I)
    except re.error as exc:
        raise ValueError(f"{entry!r} is not a valid regular expression: {exc}") from None

"""The guard's screens: prompt injection (patterns, many languages) and a bot's denied topics.

An injection is a message that tries to replace the bot's instructions rather than ask
something. Such messages fall into a few families, each with its own structure, which reads
alike in every language; a pattern is that structure over word lists, never one string:

    override   a verb of dropping ('ignore / forget / disregard') + the bot's own rules
               ('your / all / previous' + 'instructions'), or + everything before ('all of
               the above'); or the rules declared void ('your instructions are cancelled')
    reveal     naming the system prompt; or a verb of showing + *your* instructions or
               prompt; or the text above asked for verbatim / 'starting with'
    persona    a change of identity ('you are now', 'act as', 'from now on you are') + freedom
               from rules ('without restrictions'); or a named mode ('developer mode')
               ('stop following your rules'); the rules declared lapsed ('the previous rules
               no longer apply')
    reveal     ... also the bot's tools and their parameters, secrets ('API keys', 'admin
               password', 'internal codes'), the text above + 'word for word' in any order
    persona    ... also an identity dropped ('you are no longer a support agent') or swapped
               for a machine ('you are now a Linux terminal'); restrictions declared lifted
    fake turn  a line or tag posing as the system ('SYSTEM:', '[system]') + an order;
               'your new instructions', 'new rule:'; a made-up transcript ('User:' and
               'Assistant:' lines), chat markup ('</user>', '<|im_start|>'), a note addressed
               to the AI ('P.S. for the assistant:') + an order
    tool abuse a verb of calling + a tool's snake_case name ('call refund_order'), a name
               + 'for all orders', or a tool used on all of something

Ordinary customer words alone do not match: 'ignore the care instructions', 'your return
rules', 'this tent model has no restrictions', 'SYSTEM: the site shows an error', 'repeat
the text above' all lack the other half of their family's structure.

Before matching, the text is normalised (`normalise`): NFKC (full-width letters, ligatures),
format characters such as zero-width spaces dropped, Cyrillic and Greek look-alikes inside
Latin words mapped to Latin, and digits inside words read as letters ('1gn0re'). Letters
spelt out one by one ('i g n o r e') are joined back, and base64 in the message is decoded
and read as well.

Every string of bench/data/injections.yaml was seen while writing the patterns; the rates
worth quoting come from `bench/guard.py --held-out FILE`, on injections nobody tuned on.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from functools import cache


def _any(*words: str) -> str:
    """One of `words`, each as whole words (but CJK, which has no spaces between words)."""
    spaced = [w for w in words if not _cjk(w[0])]  # one boundary check around them all:
    joined = [rf"(?<!\w)(?:{'|'.join(spaced)})(?!\w)"] if spaced else []  # not one per word
    return "(?:" + "|".join(joined + [w for w in words if _cjk(w[0])]) + ")"


def _cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


def _either(*patterns: str) -> str:
    """Any of `patterns`, each already a whole pattern (its own word boundaries)."""
    return "(?:" + "|".join(patterns) + ")"


def _near(first: str, second: str, gap: int = 40) -> str:
    """`first`, then `second` within `gap` characters of the same sentence."""
    return rf"{first}[^.!?。！？\n]{{0,{gap}}}?{second}"


_LOOKALIKES = str.maketrans("аеорсухкмтвніјѕԁɡοεαικντρχΑΒΕΗΙΚΜΝΟΡΤΧΥΖАВЕКМНОРСТХ",
                            "aeopcyxkmtbhijsdgoeaikvtpxABEHIKMNOPTXYZABEKMHOPCTX")
_LEET = str.maketrans("013457@$", "oieastas")
_LATIN = re.compile(r"[a-z]", re.I)
_MIXED = re.compile(r"[^\W_]*[^\W\d_][^\W_]*|[\w@$]+")


def normalise(text: str) -> str:
    """`text` as the patterns read it: NFKC, no format characters (zero-width spaces, joiners,
    direction marks), look-alike letters and digits inside Latin words turned into the
    letters they imitate. Words wholly in Cyrillic, Greek or digits are left alone."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c) != "Cf")

    def fold(match: re.Match[str]) -> str:
        word = match.group()
        if not _LATIN.search(word):
            return word
        word = word.translate(_LOOKALIKES)
        return word.translate(_LEET) if re.search(r"[a-z]", word, re.I) and re.search(
            r"[\d@$]", word) and not word.isdigit() else word

    return re.sub(r"[\w@$]+", fold, text)


IGNORE = _any(
    r"ignor(?:e|ing|ez|a|ar|iere|ieren|uj|iruj|ировать|ируй)", r"disregard", r"forget",
    r"override", r"bypass", r"set aside", r"throw away", r"discard", r"drop",
    r"olvid(?:a|ar|e)", r"omit(?:e|ir)", r"descart(?:a|ar)", r"no hagas caso",
    r"vergiss", r"vergessen", r"missacht(?:e|en)", r"übergeh(?:e|en)",
    r"oubli(?:e|ez|er)", r"ne tiens (?:plus )?(?:pas )?compte",
    r"esque(?:ç|c)(?:a|er)", r"desconsider(?:e|ar)", r"dimentica", r"tralascia",
    r"zignoruj", r"zapomnij", r"(?:про)?игнорир\w*", r"забудь", r"забыть", r"не обращай внимания",
    r"yok say", r"unut", r"görmezden gel", r"忽略", r"无视", r"忘记", r"忘掉", r"無視", r"忘れ",
)
MINE = _any(
    r"all", r"your", r"previous", r"prior", r"above", r"earlier", r"preceding", r"original",
    r"initial", r"system", r"you were", r"you've been", r"current",
    r"todas", r"tus", r"tu", r"anteriores", r"previas", r"que te dieron",
    r"alle", r"deine", r"vorherigen", r"bisherigen", r"obigen", r"ursprünglichen",
    r"toutes", r"tes", r"vos", r"précédentes", r"antérieures",
    r"todas as", r"suas", r"seus", r"anteriores", r"te deram",
    r"tutte", r"tue", r"le tue", r"precedenti", r"wszystkie", r"poprzednie", r"swoje", r"twoje",
    r"твои", r"ваши", r"deinen", r"swoich", r"twoich", r"своим", r"твоим", r"вашим",
    r"все", r"свои", r"предыдущие", r"прежние", r"tüm", r"önceki", r"bütün",
    r"之前", r"以前", r"所有", r"你的", r"上面", r"これまでの", r"以前の", r"すべて",
)
RULES = _any(
    r"instructions?", r"rules", r"prompts?", r"guidelines", r"directions", r"directives?",
    r"programming", r"constraints", r"policies", r"orders",
    r"instrucciones", r"reglas", r"indicaciones", r"normas",
    r"anweisungen", r"regeln", r"vorgaben", r"instruktionen", r"befehle",
    r"consignes", r"règles", r"instruções", r"instrucoes", r"regras", r"diretrizes",
    r"istruzioni", r"regole", r"instrukcje", r"zasady", r"polecenia",
    r"инструкции", r"правила", r"указания", r"talimat\w*", r"kural\w*",
    r"指令", r"指示", r"规则", r"设定", r"提示", r"ルール", r"命令", r"設定",
    r"zasad", r"instrukcji", r"правилам", r"инструкциям", r"restrictions", r"safeguards",
    r"linee guida", r"wytyczne", r"richtlinien",
    r"directrices", r"lignes directrices", r"restricciones", r"einschränkungen",
    r"ограничения", r"kısıtlamalar\w*", r"限制", r"制限",
)
TOTAL = _any(r"all", r"everything", r"todo", r"alles", r"tout", r"tudo", r"tutto",
             r"wszystko", r"все", r"всё", r"her şeyi", r"一切", r"所有", r"全部", r"すべて")
PRIOR = _any(r"(?:the )?above", r"before", r"previous(?:ly)?", r"prior", r"earlier", r"so far",
             r"you were told", r"you have been told", r"lo anterior", r"anterior(?:es)?",
             r"lo que te (?:dijeron|han dicho)", r"bisherige", r"vorherige", r"obige", r"vorher",
             r"bisher", r"ce qui précède", r"précédent\w*", r"acima", r"o que te disseram",
             r"precedente", r"sopra", r"wcześniej", r"выше", r"ранее", r"предыдущ\w*",
             r"öncesini", r"önceki", r"之前", r"以前", r"上面", r"以上", r"これまで", r"前の")
VOID = _any(r"(?:are|is|have been|has been) (?:now )?(?:cancell?ed|void|revoked|null|obsolete|"
            r"overridden|replaced|suspended|lifted|disabled)", r"no longer (?:apply|valid|count)",
            r"(?:quedan|están|son) (?:anuladas|canceladas|revocadas)",
            r"(?:sind|wurden) (?:aufgehoben|ungültig|annulliert)", r"(?:sont|ont été) annulées",
            r"(?:foram|estão) (?:canceladas|anuladas)", r"(?:sono|sono state) annullate",
            r"отменены", r"(?:iptal edildi|geçersiz)", r"(?:已|被)?(?:取消|作废|失效)")
SYSTEM_PROMPT = _any(
    r"system ?prompt", r"system (?:message|instructions)", r"(?:initial|original|hidden|secret) "
    r"(?:prompt|instructions)", r"prompt del sistema", r"systemprompt", r"prompt système",
    r"prompt de sistema", r"prompt di sistema", r"prompt systemowy", r"системн\w+ промпт",
    r"системн\w+ инструкци\w+", r"sistem (?:komut|istem|talimat)\w*", r"系统提示",
    r"初始指令", r"系统指令", r"システムプロンプト", r"初期の?指示",
)
SHOW = _any(r"show(?: me)?", r"print", r"reveal", r"output", r"display", r"tell me", r"give me",
            r"list", r"repeat", r"write out", r"what (?:are|were)", r"zeig(?:e)?(?: mir)?",
            r"gib(?: mir)?", r"nenne", r"muestra(?:me)?", r"muéstrame", r"dime", r"revela",
            r"montre(?:-moi)?", r"affiche", r"révèle", r"dis-moi", r"mostr[ae](?:-me)?",
            r"diga", r"rivela", r"pokaż", r"wypisz", r"покажи", r"выведи", r"расскажи",
            r"напиши", r"göster", r"yaz", r"söyle", r"显示", r"输出", r"告诉我", r"给我",
            r"展示", r"打印", r"見せて", r"表示", r"教えて", r"出力", r"repit[ae]", r"wiederhole",
            r"répète", r"ripeti", r"powtórz", r"повтори", r"tekrar(?:la| et)", r"重复", r"繰り返")
YOURS = _any(r"your", r"deine[nr]?", r"dein", r"tus", r"tu", r"vos", r"tes", r"ton", r"ta",
             r"suas", r"seus", r"seu", r"sua", r"le tue", r"tue", r"twoje", r"swoje", r"свои",
             r"твои", r"ваши", r"senin", r"你的", r"あなたの")
OWN = r"(?:\W+" + _any(r"own", r"original", r"initial", r"hidden", r"secret", r"full", r"exact",
                       r"current", r"internal", r"ursprünglichen", r"originales", r"internas",
                       r"cachées", r"secretas", r"初始", r"隐藏") + r")?"
PROMPT = _any(r"instructions", r"prompt", r"directives", r"configuration", r"system prompt",
              r"anweisungen", r"instruktionen", r"konfiguration", r"instrucciones",
              r"consignes", r"instruções", r"istruzioni", r"instrukcje", r"инструкции",
              r"промпт", r"talimatlar\w*", r"提示词", r"提示", r"指令", r"设定", r"プロンプト",
              r"指示", r"設定")
NOT_FOR = r"(?![^\S\n]+(?:for|on|about|to|de|para|für|pour|zu|per|для)\b)"
BOOST = _any(r"verbatim", r"word for word", r"starting with", r"from the (?:start|beginning)",
             r"palabra por palabra", r"wortwörtlich", r"wort für wort", r"mot pour mot",
             r"palavra por palavra", r"parola per parola", r"дословно", r"слово в слово",
             r"原样", r"逐字", r"kelimesi kelimesine", r"そのまま", r"dosłownie",
             r"including (?:the |your )?(?:hidden |secret |system )?(?:instructions|prompt)",
             r"(?:instruções|instrucciones|istruzioni|instructions|anweisungen|instrukcje|"
             r"инструкции|talimatlar) (?:ocultas|cachées|nascoste|versteckten|ukryte|скрытые|"
             r"gizli)", r"(?:hidden|versteckten|ukryte|скрытые|gizli) (?:instructions|anweisungen|"
             r"instrukcje|инструкции|talimatlar\w*)", r"隐藏的?指令", r"隠された指示")
ABOVE = _any(
    r"(?:the )?(?:text|words|everything|all) (?:above|before this)", r"everything above",
    r"(?:above|before) this (?:message|line)",
    r"(?:el )?texto (?:que (?:aparece|está|hay) )?(?:de )?(?:arriba|anterior)",
    r"todo lo (?:que (?:aparece|está|hay) )?(?:de )?arriba", r"(?:den )?text (?:oben|darüber)",
    r"alles (?:oben|darüber|über dieser nachricht)", r"(?:le )?texte (?:ci-dessus|au-dessus)",
    r"tout ce qui (?:est|précède)(?: au-dessus)?", r"(?:o )?texto (?:acima|anterior)",
    r"tudo (?:o )?que (?:está|vem) acima", r"(?:il )?testo (?:qui )?sopra", r"tutto (?:quello|ciò) "
    r"(?:che è )?sopra", r"tekst (?:powyżej|wyżej)", r"wszystko (?:powyżej|wyżej)",
    r"текст выше", r"всё выше", r"все выше", r"yukarıdaki (?:metni|her şeyi|yazıyı)",
    r"上面的(?:文字|内容|文本)", r"以上(?:的)?(?:文字|内容)", r"上記の(?:テキスト|文章|内容)")
UNBOUND = _any(
    r"(?:no|without(?: any)?) (?:content )?(?:restrictions|limits|rules|filters|"
    r"content policy|limitations|censorship|guidelines|boundaries)",
    r"(?:has|have|with) no (?:rules|limits|restrictions|filters)",
    r"unrestricted", r"uncensored", r"unfiltered", r"jailbroken",
    r"sin (?:restricciones|límites|reglas|filtros|censura)", r"ohne (?:einschränkungen|regeln|"
    r"grenzen|filter|zensur)", r"sans (?:aucune )?(?:restrictions?|limites?|règles|filtres?)",
    r"sem (?:restrições|limites|regras|filtros)", r"senza (?:filtri|limiti|regole|restrizioni)",
    r"bez (?:żadnych )?(?:ograniczeń|zasad|filtrów|cenzury)",
    r"без (?:каких-либо |всяких )?(?:ограничений|правил|фильтров|цензуры)",
    r"sin (?:ningun[oa]s? )?(?:restricciones|límites|reglas|filtros|censura)",
    r"ohne (?:jegliche |irgendwelche )?(?:einschränkungen|regeln|grenzen|filter|zensur)",
    r"sem (?:nenhuma )?(?:restrições|limites|regras|filtros)",
    r"senza (?:alcun\w* )?(?:filtri|limiti|regole|restrizioni)",
    r"kısıtlama\w* olmayan", r"kısıtlamasız", r"sınırsız", r"sansürsüz",
    r"没有(?:任何)?(?:限制|规则|过滤)", r"不受(?:任何)?限制", r"无限制", r"制限のない", r"制限なし",
)
SHIFT = _any(
    r"you are now", r"you're now", r"from now on,? you(?:'re| are| will)?", r"act as",
    r"pretend(?: to be| you are| you're)?", r"role-?play as", r"you will now be",
    r"you are (?:an? )?(?:\w+ ){0,2}(?:ai|model|assistant|\w*bot|gpt|dan)",
    r"a partir de ahora,? (?:eres|serás|actúa)", r"ahora eres", r"eres ahora", r"actúa como",
    r"finge", r"du bist (?:jetzt|ab jetzt|nun|ab sofort)", r"(?:ab jetzt|von nun an|ab sofort)"
    r",? bist du", r"tu es (?:maintenant|désormais)", r"(?:à partir de maintenant|désormais),? "
    r"tu (?:es|seras)", r"fais comme si", r"agis comme", r"a partir de agora,? (?:você é|és|aja)",
    r"aja como", r"finja", r"d'ora in poi,? (?:sei|agisci)", r"sei ora", r"fingi",
    r"od teraz,? (?:jesteś|działasz)", r"jesteś teraz", r"udawaj", r"теперь ты", r"отныне,? ты",
    r"с этого момента,? ты", r"притворись", r"веди себя как", r"отвечай",
    r"bundan sonra", r"artık sen", r"gibi davran", r"从现在开始,?你是", r"现在你是",
    r"你现在是", r"假装", r"扮演", r"今からあなたは", r"あなたは今",
)
MODE = _any(r"(?:developer|dev|god|dan|jailbreak|unrestricted|unfiltered|uncensored|admin|"
            r"sudo|debug) mode", r"jailbreak", r"(?:you are|act as|become) dan",
            r"modo (?:de )?(?:desarrollador|desenvolvedor|sin restricciones|dios)",
            r"entwicklermodus", r"entwickler-modus", r"mode (?:développeur|dev|sans restriction)",
            r"режим\w* (?:разработчика|бога|без ограничений)", r"modalità (?:sviluppatore|dio|"
            r"senza (?:filtri|limiti))", r"tryb\w* (?:dewelopera|programisty|deweloperski\w*|boga)",
            r"geliştirici mod\w*", r"do anything now", r"(?:stay in|break(?:ing)?) character",
            r"开发者模式", r"开发模式", r"越狱", r"開発者モード", r"デベロッパーモード")
ORDER = _any(r"you (?:must|will|shall|are to|should)", r"obey", r"ignore", r"reveal",
             r"override", r"new instructions", r"from now on", r"the assistant (?:must|will|"
             r"should)", r"respond only", r"disable", r"do not refuse")
FAKE_TAG = (r"(?:(?:^|\n)\s*(?:#+\s*)?(?:system|developer|admin)\s*:|\[/?(?:system|inst|admin)\]"
            r"|<\|?(?:system|im_start\|>system)\|?>|<<sys>>)")
NEW_ORDERS = _any(r"your new (?:instructions|rules?|task|role|job|purpose|orders)",
                  r"new (?:instructions|rules?|orders)\s*:", r"override:",
                  r"tus nuevas instrucciones", r"nuevas instrucciones\s*:",
                  r"deine neuen anweisungen", r"neue anweisungen\s*:", r"tes nouvelles "
                  r"instructions", r"nouvelles instructions\s*:", r"suas novas instruções",
                  r"твои новые инструкции", r"новые инструкции\s*:", r"你的新指令", r"新指令[:：]")
DISOBEY = _near(_any(r"no longer", r"stop", r"don't", r"do not", r"never"),
                _any(r"follow(?:ing)?", r"obey(?:ing)?") + r"\W+" + MINE
                + r"[^.!?。！？\n]{0,20}?" + RULES, 20)
ROLE_LINE = (r"(?:^|\n)\s*(?:assistant|ai|bot|chatbot|gpt|asistente|assistent|assistente|"
             r"asystent|ассистент|asistan|助手|アシスタント)\s*[:：]")
USER_LINE = (r"(?:^|\n)\s*(?:user|human|customer|usuario|benutzer|utilisateur|usuário|utente|"
             r"użytkownik|пользователь|kullanıcı|用户|ユーザー)\s*[:：]")
CHAT_MARKUP = r"</(?:user|assistant|system|human)>|<\|(?:im_start|im_end|endoftext)\|>|\[/inst\]"
TO_THE_AI = (r"(?<!\w)(?:note|message|instructions?|p\.\s?s\.|ps)?\s*(?:to|for|per|para|für|an|"
             r"pour|dla|для) (?:the |l'|la |el |die |o |a )?(?:ai|ia|ki|llm|assistant|asistente|"
             r"assistente|asystenta|ии|ассистента|bot|chatbot|model)\s*[:：]")
NO_LONGER = _any(r"you are no longer", r"you're no longer", r"ya no eres", r"du bist nicht mehr",
                 r"du bist kein\w* \w+ mehr", r"tu n'es plus", r"você não é mais", r"não és mais",
                 r"non sei più", r"nie jesteś już", r"już nie jesteś", r"ты больше не",
                 r"ты уже не", r"你不再是", r"もう\w*ではありません")
ROLE = _any(r"assistant", r"agent\w*", r"bot", r"chatbot", r"ai", r"model", r"support\w*",
            r"helper", r"asistente", r"assistent\w*", r"asystent\w*", r"ассистент\w*",
            r"помощник\w*", r"бот\w*", r"asistan\w*", r"助手", r"客服", r"アシスタント")
IMPERSONATE = _any(r"(?:linux |unix |bash |windows )?(?:terminal|shell|console|command line|"
                   r"interpreter|sql database|python interpreter)", r"терминал\w*",
                   r"終端", r"终端", r"ターミナル")
CALL = _any(r"call", r"run", r"invoke", r"execute", r"trigger", r"use the", r"ruf(?:e)?",
            r"aufrufen", r"führe", r"llama(?:r)?(?: a)?", r"ejecuta(?:r)?", r"invoca(?:r)?",
            r"appelle(?:r)?", r"exécute(?:r)?", r"lance", r"chame", r"chamar", r"execut[ae]",
            r"chiama(?:re)?", r"esegui", r"wywołaj", r"uruchom", r"вызови", r"вызвать",
            r"запусти", r"выполни", r"çağır", r"çalıştır", r"调用", r"执行", r"呼び出", r"実行")
IDENTIFIER = r"(?-i:(?<![\w.@/])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.@/]))"  # a tool's name
CALL_LAST = _any(r"aufrufen", r"ausführen", r"çağır", r"çalıştır", r"を?実行", r"を?呼び出",
                 r"调用", r"执行")
TOOL = _any(r"tool", r"function", r"herramienta", r"función", r"werkzeug", r"funktion", r"outil",
            r"fonction", r"ferramenta", r"função", r"strumento", r"funzione", r"narzędzie",
            r"funkcj\w+", r"инструмент\w*", r"функци\w+", r"araç\w*", r"工具", r"函数", r"ツール")
BULK = _any(r"for (?:all|every|each)", r"all (?:orders|accounts|customers|users)",
            r"every (?:order|account|customer)", r"para tod[oa]s", r"für alle", r"pour tou(?:te)?s",
            r"per tutt[ie]", r"dla wszystkich", r"для всех", r"tüm", r"所有",
            r"全部", r"すべての")
TOOLS = _any(r"tools", r"functions", r"herramientas", r"funciones", r"werkzeuge", r"funktionen",
             r"outils", r"fonctions", r"ferramentas", r"funções", r"strumenti", r"funzioni",
             r"narzędzia", r"funkcje", r"инструменты", r"функции", r"araçlar\w*", r"fonksiyon\w*",
             r"工具", r"函数", r"ツール", r"関数")
TOOL_DETAILS = _any(r"you can (?:call|use|access|invoke)", r"can you (?:call|invoke)",
                    r"(?:do )?you have access to", r"available to you",
                    r"(?:parameters|arguments|schemas?)", r"parámetros", r"parameter",
                    r"paramètres", r"parâmetros", r"parametri", r"parametry", r"параметр\w*",
                    r"parametre\w*", r"参数", r"パラメータ", r"puoi (?:chiamare|usare)",
                    r"puedes (?:llamar|usar)", r"kannst du (?:aufrufen|nutzen)",
                    r"peux (?:appeler|utiliser)", r"podes (?:chamar|usar)", r"możesz wywołać",
                    r"можешь вызвать")
SECRETS = _any(r"api[ -]?keys?", r"admin(?:istrator)? (?:password|credentials|login)",
               r"(?:access|auth|bearer) tokens?", r"secret keys?", r"credentials",
               r"(?:internal|staff|employee) (?:\w+ ){0,2}(?:codes?|keys|passwords?|tokens?)",
               r"codes? promo internes", r"codes? internes", r"internen? \w*codes?",
               r"códigos? (?:de descuento |promocionales? )?internos?",
               r"códigos? (?:promocionais )?internos?", r"codici (?:sconto )?interni",
               r"wewnętrzne kody", r"внутренни\w+ (?:промокод\w*|код\w*|ключ\w*|парол\w*)",
               r"dahili (?:kod|şifre|anahtar)\w*", r"内部\w{0,4}?(?:优惠码|密码|密钥|代码)",
               r"社内の?\w{0,4}?(?:コード|パスワード|キー)",
               r"内部の\w{0,4}?(?:コード|パスワード|キー)", r"wewnętrzne (?:\w+ )?kody",
               r"iç (?:\w+ )?(?:kod|şifre)\w*", r"(?:/etc/passwd|env vars|"
               r"environment variables)")
LIFTED = _near(_any(r"restrictions", r"limits", r"filters", r"safety", r"restricciones",
                    r"einschränkungen", r"beschränkungen", r"restrições", r"limitazioni",
                    r"restrizioni", r"ograniczenia", r"ограничения", r"kısıtlamalar", r"限制",
                    r"制限"),
               _any(r"(?:are|have been) (?:now )?(?:lifted|removed|disabled|off|gone)",
                    r"(?:están|fueron) (?:desactivadas|eliminadas|levantadas)",
                    r"(?:sind|wurden) (?:aufgehoben|deaktiviert|entfernt)",
                    r"(?:sont|ont été) (?:levées|désactivées|supprimées)",
                    r"(?:foram|estão) (?:removidas|desativadas)", r"(?:sono|sono state) (?:rimosse|"
                    r"disattivate)", r"(?:zostały|są) (?:zniesione|wyłączone|usunięte)",
                    r"(?:сняты|отключены|сняли)", r"(?:kaldırıldı|devre dışı)",
                    r"(?:已|被)?(?:解除|取消|关闭)", r"解除"), 20)
STOP = _any(r"stop", r"quit", r"cease", r"no longer", r"don't", r"do not", r"never", r"deja de",
            r"ya no", r"no", r"hör auf", r"nicht mehr", r"arrête de", r"ne plus", r"pare de",
            r"para de", r"não", r"smetti di", r"non", r"przestań", r"nie", r"перестань",
            r"хватит", r"больше не", r"не", r"不要再", r"不再", r"别再", r"停止")
FOLLOW = _any(r"follow(?:ing)?", r"obey(?:ing)?", r"seguir", r"sigas", r"folgen", r"befolgen",
              r"suivre", r"respecter", r"obedecer", r"seguire", r"rispettare", r"przestrzegać",
              r"słuchać", r"следовать", r"соблюдать", r"подчиняться", r"遵守", r"遵循", r"服从")
YOUR_RULES = _either(MINE, YOURS) + r"[^.!?。！？\n]{0,20}?" + RULES
NO_LONGER_APPLY = _any(
    r"no longer (?:apply|applies|valid|count|matter)", r"ya no (?:aplican|valen|son válidas|rigen)",
    r"gelten nicht mehr", r"ne s'appliquent plus", r"ne sont plus valables",
    r"não se aplicam mais", r"já não (?:valem|se aplicam)", r"non (?:valgono|si applicano) più",
    r"już nie obowiązują", r"nie obowiązują już", r"больше не действуют", r"не действуют",
    r"artık geçerli değil", r"不再适用", r"不再有效", r"已失效", r"もう適用されません", r"無効です")
LAPSED = _either(VOID, NO_LONGER_APPLY)
TURKISH_OBJECT = r"(?<!\w)(?:kural|talimat|komut)\w*n[ıi](?!\w)"  # '-ını': your … (object)

INJECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("override", _near(IGNORE, MINE + r"[^.!?。！？\n]{0,40}?" + RULES, 30)),
    ("override", _near(IGNORE, RULES + r"[^.!?。！？\n]{0,30}?" + MINE, 30)),
    ("override", _near(MINE, RULES + r"[^.!?。！？\n]{0,30}?" + IGNORE, 30)),  # verb last
    ("override", _near(TURKISH_OBJECT, IGNORE, 20)),
    ("override", _near(IGNORE, TOTAL + r"[^.!?。！？\n]{0,25}?" + PRIOR, 10)),
    ("override", IGNORE + r"\W+(?:all (?:of )?)?(?:the|everything) (?:above|preceding|foregoing)"),
    ("override", _near(YOURS + r"[^.!?。！？\n]{0,20}?" + RULES, VOID, 20)),
    ("override", DISOBEY),
    ("override", _near(_near(STOP, FOLLOW, 15), YOUR_RULES, 20)),
    ("override", _near(STOP, YOUR_RULES + r"[^.!?。！？\n]{0,15}?" + FOLLOW, 15)),
    ("override", _near(RULES, _any(r"uy\w+ bırak", r"に?従うのを(?:やめ|止め)",
                                   r"を?守るのを(?:やめ|止め)"), 10)),
    ("override", _near(_either(MINE, YOURS, PRIOR), _near(RULES, LAPSED, 30), 20)),
    ("override", _near(RULES, _near(_either(PRIOR, MINE), LAPSED, 30), 10)),
    ("reveal", SYSTEM_PROMPT),
    ("reveal", _near(SHOW, YOURS + OWN + r"\W*" + PROMPT + NOT_FOR, 20)),
    ("reveal", _near(SHOW, ABOVE + r"[^.!?。！？\n]{0,20}?" + BOOST, 20)),
    ("persona", _near(SHIFT, UNBOUND, 60)),
    ("persona", _near(UNBOUND, SHIFT, 60)),
    ("persona", MODE),
    ("fake_turn", _near(FAKE_TAG, ORDER, 80)),
    ("fake_turn", NEW_ORDERS),
    ("fake_turn", ROLE_LINE + r"[\s\S]{0,400}?" + USER_LINE),
    ("fake_turn", USER_LINE + r"[\s\S]{0,400}?" + ROLE_LINE),
    ("fake_turn", CHAT_MARKUP),
    ("fake_turn", _near(TO_THE_AI, _either(ORDER, IGNORE, SHOW), 80)),
    ("persona", _near(NO_LONGER, ROLE, 40)),
    ("persona", _near(_either(SHIFT, _any(r"you are", r"eres", r"du bist", r"tu es", r"você é",
                                         r"sei", r"jesteś", r"ты", r"你是", r"あなたは")),
                      IMPERSONATE, 20)),
    ("persona", LIFTED),
    ("tool_abuse", _near(CALL, IDENTIFIER, 20)),
    ("tool_abuse", IDENTIFIER + r"\s*\("),
    ("tool_abuse", _near(IDENTIFIER, BULK, 30)),
    ("tool_abuse", _near(IDENTIFIER, CALL_LAST, 20)),
    ("tool_abuse", _near(_near(CALL, TOOL, 30), BULK, 30)),
    ("reveal", _near(TOOLS, TOOL_DETAILS, 40)),
    ("reveal", _near(_either(SHOW, _any(r"dame", r"donne(?:-moi)?", r"dammi", r"podaj", r"дай",
                          r"выдай", r"ver", r"给我", r"read", r"recite", r"leer", r"lies",
                          r"lire", r"ler", r"leggi", r"czytaj", r"прочитай", r"oku", r"读", r"読")),
                     SECRETS, 60)),
    ("reveal", _near(SECRETS, _any(r"教えて", r"見せて", r"告诉我", r"给我", r"göster", r"ver"),
                     20)),
    ("reveal", _near(ABOVE, BOOST, 40)),
    ("reveal", _near(BOOST, ABOVE, 40)),
    ("reveal", _near(SHOW, _any(r"(?:above|before) this (?:message|line)", r"acima desta mensagem",
                                r"encima de este mensaje", r"über dieser nachricht",
                                r"au-dessus de ce message", r"sopra questo messaggio",
                                r"powyżej tej wiadomości", r"выше этого сообщения"), 40)),
)
"""(family, pattern): the first that matches names why a message was refused."""


@cache
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((family, re.compile(pattern, re.I)) for family, pattern in INJECTION_PATTERNS)


_BASE64 = re.compile(r"(?<![\w+/])[A-Za-z0-9+/_-]{16,}={0,2}(?![\w+/=])")
_SPACED = re.compile(r"(?<!\w)(?:\w[ .*_-]){2,}\w(?!\w)")
_WIDE_GAP = re.compile(r" {2,}| ?/ ?|\t|\u3000")


def _decoded(text: str) -> list[str]:
    """The texts hidden in `text` as base64 (what decodes to readable UTF-8 words)."""
    hidden = []
    for match in _BASE64.finditer(text):
        token = match.group()
        try:
            plain = base64.b64decode(token.replace("-", "+").replace("_", "/")
                                     + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if plain.isprintable() and " " in plain:
            hidden.append(plain)
    return hidden


def _unspaced(text: str) -> str:
    """`text` with letters spelt out one by one ('i g n o r e') joined back into words; a
    wider gap (two spaces, a slash) between such runs is read as a space between words."""
    def join(match: re.Match[str]) -> str:
        return re.sub(r"[ .*_-]", "", match.group())

    return " ".join(_SPACED.sub(join, part) for part in _WIDE_GAP.split(text))


def injection(text: str) -> str | None:
    """The family of prompt injection `text` reads as ('override', 'reveal', 'persona',
    'fake_turn', 'tool_abuse'), or None for an ordinary message. Base64 inside the message
    is decoded and read too, and letters spelt out one by one are joined back."""
    plain = normalise(text)
    said = "\n".join([plain, *(normalise(hidden) for hidden in _decoded(text))])
    if _SPACED.search(said):
        said += "\n" + _unspaced(said)
    for family, pattern in _compiled():
        if pattern.search(said):
            return family
    return None


REGEX_PREFIX = "re:"
"""A `guard.deny` entry starting with this is a regular expression; any other is literal."""


def deny_pattern(entry: str) -> re.Pattern[str]:
    """The pattern of one `guard.deny` entry, matched on the normalised message (any case).

    A plain entry is literal text ('$100 gift cards' means those characters): words match
    whole, with any spacing between them; an entry in a script written without spaces
    (Chinese, Japanese) matches anywhere. An entry starting with 're:' is a regular
    expression ('re:\bcrypto(currency)?\b'), for whoever wants one, explicitly.

    Raises:
        ValueError: the entry is empty, or 're:' + not a valid regular expression.
    """
    if entry.startswith(REGEX_PREFIX):
        expression = entry.removeprefix(REGEX_PREFIX).strip()
        if not expression:
            raise ValueError("an empty regular expression would deny every message")
        try:
            return re.compile(expression, re.I)
        except re.error as exc:
            raise ValueError(f"{entry!r} is not a valid regular expression: {exc}") from None
    words = normalise(entry).split()
    if not words:
        raise ValueError("an empty entry would deny every message")
    body = r"\s+".join(map(re.escape, words))
    start = "" if _cjk(words[0][0]) or not re.match(r"\w", words[0]) else r"(?<!\w)"
    end = "" if _cjk(words[-1][-1]) or not re.search(r"\w$", words[-1]) else r"(?!\w)"
    return re.compile(start + body + end, re.I)


def denied(patterns: list[re.Pattern[str]], text: str) -> bool:
    """Whether `text` (normalised as for the injection screen) matches a deny pattern."""
    said = normalise(text)
    return any(pattern.search(said) for pattern in patterns)

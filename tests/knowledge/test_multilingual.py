"""Documents in Chinese, Polish, Turkish and Russian: the right passage is found and quoted for
a question in the same language, and a folder in two languages answers each from its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from tests.conftest import configure
from tests.utils.messages import inbound
from tests.utils.shops import write_pages


@pytest.mark.parametrize(("language", "question", "quoted", "cited"), [
    ("zh", "退货期限是多久？", "自收货之日起30天内", "退货政策.md"),
    ("zh", "运费多少钱？", "订单满300元免运费", "配送.md"),
    ("pl", "Ile mam dni na zwrot butów?", "Buty można zwrócić w ciągu 30 dni", "zwroty.md"),
    ("pl", "Jaki jest koszt dostawy?", "darmowa przy zamówieniach powyżej 200 zł", "dostawa.md"),
    ("pl", "Jak długo trwa dostawa?", "od 2 do 4 dni roboczych", "dostawa.md"),
    ("tr", "İade süresi kaç gün?", "14 gün içinde iade edebilirsiniz", "iade.md"),
    ("tr", "Mağazalar pazar günü saat kaçta açılıyor?", "Pazar günleri 12:00'de açılır",
     "magazalar.md"),
    ("ru", "Какова стоимость доставки?", "бесплатна при заказе от 3000 рублей", "dostavka.md"),
    ("ru", "Сколько длится гарантия на технику?", "гарантия два года", "garantiya.md"),
])
async def test_a_question_is_answered_from_a_document_in_its_language(
    bot_dir: Path, language: str, question: str, quoted: str, cited: str
) -> None:
    write_pages(bot_dir / "docs", language)
    config = configure(bot_dir, skills=[],
                       knowledge={"sources": [{"name": "docs", "path": "docs"}]})
    async with Bot.open(config) as bot:
        reply = await bot.handle(inbound(question))
    assert quoted in reply.text
    assert [c.uri for c in reply.citations] == [cited]


async def test_a_bilingual_folder_answers_each_language_from_its_own_documents(
    bot_dir: Path,
) -> None:
    docs = write_pages(bot_dir / "docs", "pl")
    (docs / "returns.md").write_text(
        "# Returns\n\n## Time limits\n\nYou have 60 days from delivery to return unused items. "
        "Boots can be returned within 60 days if they were only worn indoors.\n")
    config = configure(bot_dir, skills=[],
                       knowledge={"sources": [{"name": "docs", "path": "docs"}]})
    async with Bot.open(config) as bot:
        polish = await bot.handle(inbound("Ile mam dni na zwrot butów?", "pl"))
        english = await bot.handle(inbound("How many days do I have to return boots?", "en"))
    assert "30 dni" in polish.text and [c.uri for c in polish.citations] == ["zwroty.md"]
    assert "60 days" in english.text and [c.uri for c in english.citations] == ["returns.md"]


async def test_each_section_is_read_in_its_own_language(bot_dir: Path) -> None:
    (bot_dir / "docs").mkdir()
    (bot_dir / "docs" / "help.md").write_text(
        "# Help\n\n## Opening hours\n\nOur shop opens at nine and closes at six, Monday to "
        "Saturday.\n\n## Godziny otwarcia\n\nNasz sklep w Warszawie jest otwarty od poniedziałku "
        "do soboty, w godzinach od dziewiątej do osiemnastej.\n", encoding="utf-8")
    config = configure(bot_dir, skills=[],
                       knowledge={"sources": [{"name": "docs", "path": "docs"}]})
    async with Bot.open(config) as bot:
        reply = await bot.handle(inbound("W jakich godzinach sklep jest otwarty?"))
    assert "od dziewiątej do osiemnastej" in reply.text
    assert [c.location for c in reply.citations] == ["Help › Godziny otwarcia"]

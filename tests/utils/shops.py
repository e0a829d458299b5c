"""Small help pages of a shop in several languages, shaped like real ones (a title, a few
sections), for the multilingual tests."""

from __future__ import annotations

from pathlib import Path

PAGES: dict[str, dict[str, str]] = {
    "zh": {
        "退货政策.md": "# 退货政策\n\n## 退货期限\n\n"
                   "自收货之日起30天内，未使用的商品可以申请全额退款。"
                   "鞋类商品只要仅在室内试穿过，同样可以在30天内退货。\n\n## 退款方式\n\n"
                   "退款将在仓库收到商品后5个工作日内退回到原支付方式。\n",
        "配送.md": "# 配送说明\n\n## 配送时间\n\n"
                 "标准配送需要3到5个工作日。加急配送需要1到2个工作日。\n\n"
                 "## 运费\n\n订单满300元免运费，否则运费为15元。\n",
    },
    "pl": {
        "zwroty.md": "# Zwroty\n\n## Termin zwrotu\n\nMasz 30 dni od daty dostawy na zwrot "
                     "nieużywanego towaru. Buty można zwrócić w ciągu 30 dni, jeśli były noszone "
                     "tylko w domu.\n\n## Zwrot pieniędzy\n\nPieniądze wracają na konto w ciągu 5 "
                     "dni roboczych od otrzymania paczki przez nasz magazyn.\n",
        "dostawa.md": "# Dostawa\n\n## Czas dostawy\n\nStandardowa dostawa trwa od 2 do 4 dni "
                      "roboczych. Paczki do paczkomatów docierają zwykle następnego dnia.\n\n"
                      "## Koszt dostawy\n\n"
                      "Dostawa jest darmowa przy zamówieniach powyżej 200 zł.\n",
    },
    "tr": {
        "iade.md": "# İade ve değişim\n\n## İade süresi\n\n"
                   "Ürünü teslim aldığınız tarihten itibaren "
                   "14 gün içinde iade edebilirsiniz. İstanbul mağazamızdan alınan ürünler "
                   "mağazaya da iade edilebilir.\n\n## Kargo ücreti\n\nİade kargo ücreti "
                   "müşteriye aittir.\n",
        "magazalar.md": "# Mağazalarımız\n\n## Çalışma saatleri\n\n"
                        "Mağazalarımız hafta içi 10:00 ile "
                        "21:00 arasında açıktır. Pazar günleri 12:00'de açılır.\n",
    },
    "ru": {
        "dostavka.md": "# Доставка\n\n## Сроки доставки\n\nСтандартная доставка по России "
                       "занимает от 3 до 7 рабочих дней. Экспресс-доставка по Москве "
                       "осуществляется на следующий день.\n\n## Стоимость доставки\n\n"
                       "Доставка бесплатна при заказе от 3000 рублей.\n",
        "garantiya.md": "# Гарантия\n\n## Срок гарантии\n\nНа всю технику действует гарантия "
                        "два года с момента покупки. Сохраняйте чек.\n",
    },
}


def write_pages(folder: Path, *languages: str) -> Path:
    """The pages of `languages` in `folder` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for language in languages:
        for name, text in PAGES[language].items():
            (folder / name).write_text(text, encoding="utf-8")
    return folder

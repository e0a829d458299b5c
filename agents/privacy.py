"""Personal data out of what models, logs and exports see: the `privacy:` section at work.

Each kind is found by a library made for it where one exists:

    email   a pattern (no offline library finds addresses in running text)
    phone   libphonenumber's matcher (`phonenumbers`): numbers in international form, and
            national ones for the regions in `phone_regions`
    card    13 to 19 digits, in groups or not, that pass the Luhn check (`stdnum.luhn`)
    iban    the country format and mod-97 check of `stdnum.iban`
    ip      IPv4 and IPv6 addresses, checked by the standard library's `ipaddress`

A found value becomes `<EMAIL>` ('mask') or `<EMAIL:1f2e3d4c>` ('hash': a keyed digest of the
normalised value, so the same address gives the same token all conversation long and a
dictionary of phone numbers cannot reverse it). Output holds no value a detector finds, so
redacting twice changes nothing.

What the bot's own logic reads (the InboundMessage, form slots, tool arguments) keeps the real
values; redaction applies where text leaves for a model, a log line or an export.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from stdnum import iban, luhn

from parley_bot.agents.config import PiiKind, PrivacyConfig
from parley_bot.agents.errors import PrivacyError
from parley_bot.agents.safelog import hide
from parley_bot.channels.messages import Turn

# Local part and domain of RFC 5322 addresses as people write them; no quoted local parts.
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"(?<![^\W_])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![^\W_])", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_NON_DIGITS = re.compile(r"\D")

Span = tuple[int, int, str]
"""(start, end, normalised value) of one finding."""


_NUMBER_KEY = re.compile(r"(?<=whatsapp:)\+[1-9][0-9]{6,14}\b")


def _emails(text: str, regions: tuple[str, ...]) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end(), match.group().lower()


def _phones(text: str, regions: tuple[str, ...]) -> Iterator[Span]:
    # A conversation key names its number ('whatsapp:+15551234567'): masked even where
    # libphonenumber's matcher, which wants a number valid today, would let it through.
    for key in _NUMBER_KEY.finditer(text):
        yield key.start(), key.end(), key.group()
    # "ZZ" (no region) finds numbers written with their country code only.
    for region in regions or ("ZZ",):
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            yield match.start, match.end, e164


def _cards(text: str, regions: tuple[str, ...]) -> Iterator[Span]:
    for match in _CARD.finditer(text):
        digits = _NON_DIGITS.sub("", match.group())
        if luhn.is_valid(digits):
            yield match.start(), match.end(), digits


def _ibans(text: str, regions: tuple[str, ...]) -> Iterator[Span]:
    """IBANs compact or in groups of four; groups after the last one that validates (a word
    that happens to follow) are left alone."""
    for match in _IBAN.finditer(text):
        groups = match.group().split(" ")
        for count in range(len(groups), 0, -1):
            candidate = " ".join(groups[:count])
            if iban.is_valid(candidate):
                yield match.start(), match.start() + len(candidate), iban.compact(candidate)
                break


def _ips(text: str, regions: tuple[str, ...]) -> Iterator[Span]:
    for pattern in (_IPV4, _IPV6):
        for match in pattern.finditer(text):
            try:
                address = ipaddress.ip_address(match.group())
            except ValueError:  # a time (12:30:45), a MAC address, 999.1.1.1
                continue
            if not address.is_unspecified:  # '::' in code is no one's address
                yield match.start(), match.end(), address.compressed


Detector = Callable[[str, tuple[str, ...]], Iterator[Span]]

# Tried in this order; an earlier kind's finding wins where two overlap (an IBAN's digits are
# not also a card number, a card number is not also a phone number).
_DETECTORS: dict[PiiKind, Detector] = {
    "email": _emails, "iban": _ibans, "card": _cards, "ip": _ips, "phone": _phones,
}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data in a text."""

    kind: PiiKind
    start: int
    end: int
    value: str
    """Normalised: lower-case e-mail, E.164 phone, card digits, compact IBAN."""


class Redactor:
    """Replaces the configured kinds of personal data in text.

    Args:
        kinds: what to look for.
        mode: 'mask' (`<EMAIL>`) or 'hash' (`<EMAIL:1f2e3d4c>`).
        key: the HMAC key for 'hash'.
        phone_regions: ISO 3166 codes whose national phone formats are recognised.
    """

    def __init__(self, kinds: Iterable[PiiKind], *, mode: str = "mask", key: bytes = b"",
                 phone_regions: Iterable[str] = ()) -> None:
        if mode == "hash" and not key:
            raise ValueError("hash mode needs a key")
        wanted = set(kinds)
        self._detectors = [(kind, find) for kind, find in _DETECTORS.items() if kind in wanted]
        self._mode = mode
        self._key = key
        self._regions = tuple(phone_regions)
        # The history sent to a model repeats every turn: each text is searched once.
        self._redacted = lru_cache(maxsize=4096)(self._redact)

    @classmethod
    def from_config(cls, privacy: PrivacyConfig) -> Redactor | None:
        """The redactor `privacy` asks for; None when it lists no kinds.

        Raises:
            PrivacyError: 'hash' mode and the key's environment variable is unset.
        """
        if not privacy.redact:
            return None
        key = b""
        if privacy.mode == "hash":
            value = os.environ.get(privacy.hash_key_env, "")
            if not value:
                raise PrivacyError(f"privacy.mode is 'hash' but the environment variable "
                                   f"{privacy.hash_key_env} (privacy.hash_key_env) is not set")
            hide(value)
            key = value.encode()
        return cls(privacy.redact, mode=privacy.mode, key=key,
                   phone_regions=privacy.phone_regions)

    def find(self, text: str) -> list[Finding]:
        """Every finding in `text`, in order, none overlapping."""
        taken: list[Finding] = []
        for kind, detect in self._detectors:
            for start, end, value in detect(text, self._regions):
                if all(end <= t.start or start >= t.end for t in taken):
                    taken.append(Finding(kind, start, end, value))
        return sorted(taken, key=lambda f: f.start)

    def __call__(self, text: str) -> str:
        """`text` with every finding replaced by its token."""
        return self._redacted(text)

    def _redact(self, text: str) -> str:
        findings = self.find(text)
        if not findings:
            return text
        parts: list[str] = []
        at = 0
        for finding in findings:
            parts += [text[at:finding.start], self._token(finding)]
            at = finding.end
        parts.append(text[at:])
        return "".join(parts)

    def turn(self, turn: Turn) -> Turn:
        """A stored turn with what the user and the bot said redacted (for exports)."""
        return turn.model_copy(update={"user_text": self(turn.user_text),
                                       "reply": self(turn.reply)})

    def _token(self, finding: Finding) -> str:
        label = finding.kind.upper()
        if self._mode == "mask":
            return f"<{label}>"
        digest = hmac.new(self._key, f"{finding.kind}:{finding.value}".encode(), hashlib.sha256)
        return f"<{label}:{digest.hexdigest()[:8]}>"

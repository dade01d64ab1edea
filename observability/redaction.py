"""The built-in PII detector: finds personal data in text and replaces it with a placeholder.

Kinds and placeholders: ``[CARD]`` (Luhn-checked, known card ranges), ``[SSN]``, ``[EMAIL]``,
``[PHONE]`` (international, US, UK, German, French and other trunk-0 formats), ``[IBAN]``
(mod-97 and country length checked), ``[IP]`` (v4 and v6), ``[API_KEY]`` (``sk-…``, ``AKIA…``,
``ghp_…``, Slack, Google, JWTs, long tokens after "key"/"token"/"secret") and ``[PASSWORD]``
("my password is hunter2", "pw: …"). Findings carry the kind and where it was — never the value.
Overlapping findings merge into one span, so no part of a value survives.

Pure: no I/O, no ``core`` imports. ``default_redactor`` is the callable instrumentations use.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from enum import StrEnum


class PiiKind(StrEnum):
    """A kind of personal data; listed from the most to the least specific."""

    API_KEY = "API_KEY"
    EMAIL = "EMAIL"
    IBAN = "IBAN"
    CARD = "CARD"
    SSN = "SSN"
    IP = "IP"
    PHONE = "PHONE"
    PASSWORD = "PASSWORD"

    @property
    def placeholder(self) -> str:
        """What replaces a value of this kind, e.g. ``[CARD]``."""
        return f"[{self.value}]"


_PRIORITY = {kind: rank for rank, kind in enumerate(PiiKind)}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found at ``text[start:end]`` of the original text."""

    kind: PiiKind
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """Redacted text and what was removed from it (kinds and positions, never the values)."""

    text: str
    findings: tuple[Finding, ...]

    def counts(self) -> dict[PiiKind, int]:
        """How many values of each kind were removed."""
        return dict(Counter(f.kind for f in self.findings))


Span = tuple[PiiKind, int, int]

# ---- validators -------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum (card numbers do)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# (prefix range, allowed lengths): Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro.
_CARD_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),
    (51, 55, frozenset({16})),
    (2221, 2720, frozenset({16})),
    (34, 34, frozenset({15})),
    (37, 37, frozenset({15})),
    (6011, 6011, frozenset(range(16, 20))),
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (300, 305, frozenset(range(14, 20))),
    (36, 36, frozenset(range(14, 20))),
    (38, 39, frozenset(range(14, 20))),
    (3528, 3589, frozenset(range(16, 20))),
    (62, 62, frozenset(range(16, 20))),
    (50, 50, frozenset(range(16, 20))),
    (56, 58, frozenset(range(16, 20))),
)
_CARD_FIRST_DIGITS = frozenset("23456")


def card_ok(digits: str) -> bool:
    """Whether digits look like a real card number: a known brand range and length, and Luhn."""
    if digits[:1] not in _CARD_FIRST_DIGITS:
        return False
    for low, high, lengths in _CARD_RANGES:
        prefix = int(digits[: len(str(low))])
        if low <= prefix <= high and len(digits) in lengths:
            return luhn_ok(digits)
    return False


_IBAN_LENGTHS = {
    entry[:2]: int(entry[2:])
    for entry in re.findall(
        r"[A-Z]{2}\d\d",
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 "
        "DO28 EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 "
        "IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 "
        "MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 "
        "ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20",
    )
}


def iban_ok(iban: str) -> bool:
    """Whether a compact IBAN has its country's length and a valid mod-97 check."""
    iban = iban.upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def ssn_ok(digits: str) -> bool:
    """Whether nine digits can be a US Social Security number (area, group, serial rules)."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


# ---- detectors --------------------------------------------------------------------------------

_KEY_PATTERNS = re.compile(
    r"(?<![\w-])(?:sk-[A-Za-z0-9_-]{20,}|sk_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
)
_KEY_AFTER_WORD = re.compile(
    r"(?i)\b(?:api[ _-]?key|access[ _-]?key|secret(?:[ _-]?key)?|token|key|bearer)"
    r"(?:\s+(?:is|was))?\s*[:=]?\s*[\"']?(?P<value>[A-Za-z0-9_\-./+=]{16,})"
)
# Letters of any script on both sides of the @: josé.garcía@correo.es, jürgen@straße.de.
_EMAIL = re.compile(r"(?<![\w.+-])[^\W_][\w.%+'-]*@[^\W_][\w-]*(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_IBAN = re.compile(r"(?i)(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
# Groups of digits split by a space, a dash or a line break (a number wrapped by the chat box).
_DIGIT_GROUPS = re.compile(r"(?<![\w-])\d+(?:(?:[ -]|[ \t]*\r?\n[ \t]*)\d+)*(?![\w]|-\d)")
_DIGITS = re.compile(r"\d+")
_SSN_DASHED = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_SSN_NEAR_WORD = re.compile(
    r"(?i)\b(?:ssn|social security(?: number| no\.?| #)?)\b[^\d\n]{0,20}"
    r"(?P<value>(?<!\d)\d{3}[ -]?\d{2}[ -]?\d{4}(?!\d))"
)
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w]|\.\d)"
)
_VERSION_BEFORE = re.compile(r"(?i)\b(?:v|version|ver\.?|firmware|release)\s*$")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d+){0,3}")
_PHONE_END = r"(?![\w\-:/]|[.,]\d)"
_PHONE_PATTERNS = (
    # international: +44 20 7946 0958, 0049 30 123456, +1 (206) 555-0142, +4915123456789
    re.compile(
        r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(0\))?(?:[ .-]?(?:\(\d{1,5}\)|\d{1,5})){1,6}"
        + _PHONE_END
    ),
    # North America: (206) 555-0142, 206-555-0142, 1-800-555-0199
    re.compile(
        r"(?<![\w+\-.])(?:1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}"
        + _PHONE_END
    ),
    # trunk-0 national: 020 7946 0958, 07700 900123, 030/12345678, 06 12 34 56 78
    re.compile(r"(?<![\w+\-./])\(?0[1-9]\d{0,3}\)?(?:[ .\-/]\d{2,8}){1,4}" + _PHONE_END),
    # bare digits right after a phone word: "call me on 07700900123"
    re.compile(
        r"(?i)\b(?:phone|mobile|cell|tel|telephone|call me|text me|whatsapp|reach me)\b"
        r"[^\d\n+]{0,15}(?P<value>\+?\d{9,15})(?!\d)"
    ),
)
_PASSWORD = re.compile(
    r"(?i)(?:(?P<mine>\bmy)\s+(?:\w+\s+)?)?\b(?:pass(?:word|wd|code|phrase)|pwd|pw)\b"
    r"(?:\s+(?:is|was)(?:\s+(?:now|still))?\s*[:=]?|\s*[:=]|\s+-)\s*"
    r"(?:[\"'“‘](?P<quoted>[^\"'”’\n]{1,64})[\"'”’]|(?P<bare>[^\s\"'“”]+))"
)
_NOT_A_PASSWORD = frozenset(
    re.findall(
        r"\w+",
        "a an the my your not wrong incorrect invalid expired too same correct right working reset "
        "changed locked missing lost forgotten required case weak strong at least must should "
        "needed protected different new old still",
    )
)
_TRAILING_PUNCTUATION = ".,;:!?)]"


def _api_keys(text: str) -> Iterator[Span]:
    for match in _KEY_PATTERNS.finditer(text):
        yield PiiKind.API_KEY, match.start(), match.end()
    for match in _KEY_AFTER_WORD.finditer(text):
        value = match.group("value").rstrip(".")
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            yield PiiKind.API_KEY, match.start("value"), match.start("value") + len(value)


def _emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield PiiKind.EMAIL, match.start(), match.end()


def _ibans(text: str) -> Iterator[Span]:
    for match in _IBAN.finditer(text):
        raw = match.group()
        end = _end_of_compact(raw, _IBAN_LENGTHS.get(raw[:2].upper(), 0))
        if end and not raw[end : end + 1].isalnum() and iban_ok(raw[:end].replace(" ", "")):
            yield PiiKind.IBAN, match.start(), match.start() + end


def _end_of_compact(raw: str, length: int) -> int:
    """The index in ``raw`` just after its first ``length`` non-space characters (0 if short)."""
    taken = 0
    for index, char in enumerate(raw, start=1):
        taken += char != " "
        if taken == length:
            return index
    return 0


def _cards(text: str) -> Iterator[Span]:
    for match in _DIGIT_GROUPS.finditer(text):
        groups = list(_DIGITS.finditer(text, match.start(), match.end()))
        yield from _card_in_groups(groups)


def _card_in_groups(groups: list[re.Match[str]]) -> Iterator[Span]:
    """The longest valid card number made of whole consecutive groups, left to right."""
    first = 0
    while first < len(groups):
        best, digits = None, ""
        for last in range(first, len(groups)):
            digits += groups[last].group()
            if len(digits) > 19:
                break
            if len(digits) >= 13 and card_ok(digits):
                best = last
        if best is None:
            first += 1
            continue
        yield PiiKind.CARD, groups[first].start(), groups[best].end()
        first = best + 1


def _ssns(text: str) -> Iterator[Span]:
    for match in _SSN_DASHED.finditer(text):
        if ssn_ok("".join(match.groups())):
            yield PiiKind.SSN, match.start(), match.end()
    for match in _SSN_NEAR_WORD.finditer(text):
        if ssn_ok(re.sub(r"\D", "", match.group("value"))):
            yield PiiKind.SSN, match.start("value"), match.end("value")


def _ips(text: str) -> Iterator[Span]:
    for match in _IPV4.finditer(text):
        if not _VERSION_BEFORE.search(text, max(0, match.start() - 12), match.start()):
            yield PiiKind.IP, match.start(), match.end()
    for match in _IPV6_CANDIDATE.finditer(text):
        candidate = match.group()
        if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield PiiKind.IP, match.start(), match.end()


def _phones(text: str) -> Iterator[Span]:
    for pattern in _PHONE_PATTERNS:
        for match in pattern.finditer(text):
            group = "value" if "value" in pattern.groupindex else 0
            digits = re.sub(r"\D", "", match.group(group))
            if 9 <= len(digits) <= 16:
                yield PiiKind.PHONE, match.start(group), match.end(group)


def _looks_secret(value: str) -> bool:
    """A digit, a symbol or a capital after the first letter: not a word of instructions."""
    return any(c.isdigit() or not c.isalnum() for c in value) or any(c.isupper() for c in value[1:])


def _passwords(text: str) -> Iterator[Span]:
    for match in _PASSWORD.finditer(text):
        group = "quoted" if match.group("quoted") else "bare"
        value = match.group(group)
        if group == "bare":
            value = value.rstrip(_TRAILING_PUNCTUATION)
            if not value or value.lower() in _NOT_A_PASSWORD:
                continue
            if not (match.group("mine") or _looks_secret(value)):
                continue
        yield PiiKind.PASSWORD, match.start(group), match.start(group) + len(value)


_DETECTORS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _api_keys,
    _emails,
    _ibans,
    _cards,
    _ssns,
    _ips,
    _phones,
    _passwords,
)

# ---- redaction --------------------------------------------------------------------------------


def _normalise(value: str) -> str:
    return "".join(char for char in value.lower() if char.isalnum())


def _is_allowed(kind: PiiKind, value: str, allowed: frozenset[str]) -> bool:
    key = _normalise(value)
    if key in allowed:
        return True
    if kind is PiiKind.PHONE and len(key) >= 9:
        return any(a.isdigit() and (a.endswith(key) or key.endswith(a)) for a in allowed)
    return False


def _merge(spans: list[Span]) -> list[Finding]:
    merged: list[Finding] = []
    for kind, start, end in sorted(spans, key=lambda s: (s[1], -s[2])):
        if merged and start < merged[-1].end:
            last = merged[-1]
            best = min(last.kind, kind, key=_PRIORITY.__getitem__)
            merged[-1] = Finding(best, last.start, max(last.end, end))
        else:
            merged.append(Finding(kind, start, end))
    return merged


def find_pii(text: str, *, allow: Collection[str] = ()) -> tuple[Finding, ...]:
    """Every piece of personal data in ``text``, in order, overlaps merged.

    ``allow`` lists values that are not personal data here (the company's own published support
    e-mail or phone); they are compared ignoring case, spaces and punctuation.
    """
    allowed = frozenset(_normalise(value) for value in allow)
    spans = [
        span
        for detect in _DETECTORS
        for span in detect(text)
        if not (allowed and _is_allowed(span[0], text[span[1] : span[2]], allowed))
    ]
    return tuple(_merge(spans))


def redact_text(text: str, *, allow: Collection[str] = ()) -> Redaction:
    """Replace personal data in ``text`` with placeholders such as ``[CARD]``.

    >>> redact_text("Card 4111 1111 1111 1111, mail jo@example.com").text
    'Card [CARD], mail [EMAIL]'
    """
    findings = find_pii(text, allow=allow)
    if not findings:
        return Redaction(text, ())
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces += [text[cursor : finding.start], finding.kind.placeholder]
        cursor = finding.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), findings)


CARD_LIKE = "[card-like number]"
_CARD_LIKE_DIGITS = range(13, 20)


def hide_card_like(text: str) -> str:
    """``text`` with every number shaped like a card (13–19 digits, in groups or not) replaced by
    ``[card-like number]``, whether or not it passes the checksum.

    For labels a number should never become — a conversation's title, a queue row — not for the
    message itself, where a number that is not a card is kept as typed.

    >>> hide_card_like("My card 4532-1234-5678-9010 was declined")
    'My card [card-like number] was declined'
    """
    return _DIGIT_GROUPS.sub(_card_like_or_kept, text)


def _card_like_or_kept(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group())
    return CARD_LIKE if digits in _CARD_LIKE_DIGITS else match.group()


def default_redactor(text: str) -> str:
    """The built-in redactor for span content: ``text`` with every kind of PII replaced."""
    return redact_text(text).text

"""Finding values in free text: order numbers, dates, times, names, e-mails, services, places.

Pure functions over a string (and today's date for relative dates), so the composer, tool-call
arguments and structured output all read the conversation the same way.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

ORDER_NUMBER = re.compile(
    r"(?:\bORD[-\s]?|\border\s+(?:number\s+|no\.?\s*|num\.?\s*)?#?\s?|(?<![\w#])#\s?)"
    r"(\d{4,})\b",
    re.IGNORECASE,
)
"""``ORD-10042``, ``ORD 10042``, ``order 10042``, ``order number 10042``, ``order #10042`` and
``#10042`` (a bare number is not an order number)."""
_BACK_REFERENCE = re.compile(
    r"\b(?:it|that|this|that one|the same|same order|that order|this order|the order)\b", re.I
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:\b|(?=t\d))", re.IGNORECASE)
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_IN_DAYS = re.compile(r"\bin\s+(\d{1,2}|a|one|two|three)\s+(day|week)s?\b", re.IGNORECASE)
_WEEKDAY = re.compile(r"\b(?:(next|this|on|coming)\s+)?(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)", re.IGNORECASE)
_24H = re.compile(r"\b(?:at\s+)?([01]?\d|2[0-3]):([0-5]\d)\b")
_AT_HOUR = re.compile(r"\bat\s+(\d{1,2})\b(?!\s*(?:days?|weeks?|%|:))", re.IGNORECASE)
_NAME_CUES = re.compile(
    r"(?i:my name is|i'm|this is|name:|for|signed,?|thanks,|regards,|cheers,)\s+"
    r"([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?)"
)
_NOT_NAMES = (
    frozenset(_WEEKDAYS)
    | {"january", "february", "march", "april", "june", "july", "august", "september"}
    | {"october", "november", "december", "dec", "nov", "oct", "sept", "jan", "feb"}
    | {"the", "a", "an", "my", "order", "help", "trail", "northwind", "seattle", "portland"}
)
_BOOKING = re.compile(
    r"\b(?:booking|appointment|reservation)\s*(?:id|number|no\.?)?\s*#?\s*"
    r"(BK-?\d+|\d+)\b",
    re.IGNORECASE,
)
_TODAY = re.compile(r"\btoday is ([^\n]+?)(?:\.\s|\.?$)", re.IGNORECASE | re.MULTILINE)
_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3}
SERVICES = {
    "gear fitting": ("fitting", "fit", "boot", "pack fitting", "gear fitting"),
    "repair drop-off": ("repair", "fix", "drop off", "drop-off", "broken zip"),
    "bike service": ("bike", "bicycle", "tune-up", "tune up"),
    "virtual consultation": ("virtual", "video", "online consultation", "consultation"),
}
LOCATIONS = {
    "Seattle store": ("seattle",),
    "Portland store": ("portland",),
    "Online (video call)": ("online", "video call", "virtual", "remote"),
}


def find_order_numbers(text: str) -> list[str]:
    """Order numbers in canonical form (``ORD-10001``), in order of appearance, no repeats."""
    found = [f"ORD-{digits}" for digits in ORDER_NUMBER.findall(text)]
    return list(dict.fromkeys(found))


def refers_back(text: str) -> bool:
    """True when ``text`` points at something said before ("cancel it", "that order")."""
    return _BACK_REFERENCE.search(text) is not None


def find_emails(text: str) -> list[str]:
    """E-mail addresses in order of appearance."""
    return list(dict.fromkeys(EMAIL.findall(text)))


def find_booking_id(text: str) -> str | None:
    """A booking reference after "booking", "appointment" or "reservation"."""
    match = _BOOKING.search(text)
    return match.group(1) if match else None


def find_date(text: str, today: date) -> date | None:
    """The first date the text names: ISO, "Dec 3", "3 December", "12/3", "tomorrow",
    "next Tuesday" (the first Tuesday after today), "in 3 days", "next week" (its Monday)."""
    lowered = text.lower()
    for finder in (_absolute_date, _relative_date):
        found = finder(lowered, today)
        if found is not None:
            return found
    return None


def find_today(text: str) -> date | None:
    """The date a prompt gives as today ("Today is Thursday 19 November 2026" or ISO)."""
    match = _TODAY.search(text)
    if match is None:
        return None
    stated = match.group(1).strip().rstrip(".")
    for pattern in ("%A %d %B %Y", "%d %B %Y", "%A, %B %d, %Y", "%B %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(stated, pattern).date()
        except ValueError:
            continue
    return None


def find_time(text: str) -> time | None:
    """A time of day: "3pm", "3:30 p.m.", "15:00", "at 10" (10:00; 1–7 read as afternoon),
    "noon", "morning" (10:00), "afternoon" (14:00), "evening" (17:00)."""
    if match := _CLOCK.search(text):
        hour = int(match.group(1)) % 12
        if match.group(3).lower().startswith("p"):
            hour += 12
        return time(hour, int(match.group(2) or 0))
    if match := _24H.search(text):
        return time(int(match.group(1)), int(match.group(2)))
    if match := _AT_HOUR.search(text):
        hour = int(match.group(1))
        if hour <= 12:
            return time(hour + 12 if 1 <= hour <= 7 else hour % 24)
    for word, hour in (("noon", 12), ("morning", 10), ("afternoon", 14), ("evening", 17)):
        if re.search(rf"\b{word}\b", text, re.IGNORECASE):
            return time(hour)
    return None


def find_name(text: str) -> str | None:
    """A person's name after a cue such as "my name is", "I'm", "for" or a sign-off."""
    for match in _NAME_CUES.finditer(text):
        candidate = match.group(1).strip()
        if candidate.split()[0].lower() not in _NOT_NAMES:
            return candidate
    return None


def find_keyed(text: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The key of ``table`` whose cue words appear earliest in the text."""
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for key, cues in table.items():
        for cue in cues:
            position = lowered.find(cue)
            if position >= 0 and (best is None or position < best[0]):
                best = (position, key)
    return best[1] if best else None


def find_numbers(text: str) -> list[float]:
    """Plain numbers in the text, skipping order numbers, dates and times."""
    cleaned = ORDER_NUMBER.sub(" ", _ISO_DATE.sub(" ", _CLOCK.sub(" ", _24H.sub(" ", text))))
    return [float(value) for value in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", cleaned)]


def _absolute_date(lowered: str, today: date) -> date | None:
    if match := _ISO_DATE.search(lowered):
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _MONTH_DAY.search(lowered):
        return _next_occurrence(_MONTHS.index(match.group(1)) + 1, int(match.group(2)), today)
    if match := _DAY_MONTH.search(lowered):
        return _next_occurrence(_MONTHS.index(match.group(2)) + 1, int(match.group(1)), today)
    if match := _US_DATE.search(lowered):
        year = match.group(3)
        if year:
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            return _safe_date(full_year, int(match.group(1)), int(match.group(2)))
        return _next_occurrence(int(match.group(1)), int(match.group(2)), today)
    return None


def _relative_date(lowered: str, today: date) -> date | None:
    if "day after tomorrow" in lowered:
        return today + timedelta(days=2)
    if "tomorrow" in lowered:
        return today + timedelta(days=1)
    if "today" in lowered or "tonight" in lowered:
        return today
    if match := _WEEKDAY.search(lowered):
        ahead = (_WEEKDAYS.index(match.group(2)) - today.weekday()) % 7
        return today + timedelta(days=ahead or 7)
    if match := _IN_DAYS.search(lowered):
        count = _SMALL_NUMBERS.get(match.group(1)) or int(match.group(1))
        return today + timedelta(days=count * (7 if match.group(2) == "week" else 1))
    if "next week" in lowered:
        return today + timedelta(days=7 - today.weekday())
    return None


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    candidate = _safe_date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None

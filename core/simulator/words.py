"""Words too common to say what a message is about: function words, contractions, fillers.

Contractions are listed whole (``doesn't``), without their apostrophe (``doesnt``, as people
type them) and cut at it (``doesn``, what a tokenizer splitting on ``'`` leaves).
"""

from __future__ import annotations

import re

_COMMON = """
a an and are as at be but by can do does did for from has have how i if in is it its me my of on
or our so that the their them then there this to was we what when where which who why will with
would you your yours please could should tell know want need about any also get got just like than
they these those into out up use been being hi hello thanks thank not no yes
something anything everything nothing someone anyone somebody anybody much
after before during since ago still already ever last yesterday one two three four five
"""
_CONTRACTIONS = """
don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't wouldn't shouldn't haven't
hasn't hadn't i'm i've i'll i'd you're you've you'll you'd it's that's there's what's let's we're
we've we'll they're they've
"""


_SUFFIXES = ("ing", "ed", "es", "s")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ ]+[A-Z][a-z]+)+\b")
"""A name of several capitalised words: "European Union", "United States"."""


def _contraction_forms(contraction: str) -> set[str]:
    head = contraction.split("'")[0]
    cut = {head} if contraction.endswith("n't") else set()
    return {contraction, contraction.replace("'", ""), *cut}


STOPWORDS = frozenset(_COMMON.split()).union(
    *(_contraction_forms(word) for word in _CONTRACTIONS.split())
)


def normalise_apostrophes(text: str) -> str:
    """``doesn’t`` → ``doesn't``: typographic apostrophes as the plain one."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def content_words(text: str) -> list[str]:
    """The non-trivial words in order, crudely stemmed (see ``stem``), then the initials of
    each name of several capitalised words ("European Union" → "eu"), so a customer who writes
    "EU" finds it. Hyphenated words stay whole, so "out-of-warranty" is not "warranty"."""
    words = re.findall(r"[a-z0-9][a-z0-9'-]*", normalise_apostrophes(text.lower()))
    initials = ["".join(word[0] for word in name.split()).lower() for name in _NAME.findall(text)]
    kept = [stem(word) for word in words if word not in STOPWORDS and len(word) > 1]
    return kept + [letters for letters in initials if letters not in STOPWORDS]


def stem(word: str) -> str:
    """A crude stem: one ending ("-ing", "-ed", "-es", "-s") off, a doubled last consonant
    and a final "e" dropped, cut to five letters, so size, sizes, sized and sizing meet, and
    ship, shipped and shipping."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word[:5]


def content_stems(text: str) -> set[str]:
    """The set of ``content_words``."""
    return set(content_words(text))


def lower_first(text: str) -> str:
    """``Return window`` → ``return window`` to sit inside a sentence; names such as ``Trail
    Club members``, ``PayPal`` or ``I`` keep their capitals."""
    first, _, rest = text.partition(" ")
    if len(first) < 2 or not _is_capitalised(first) or _is_capitalised(rest.split(" ")[0]):
        return text
    return first[0].lower() + text[1:]


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and word[1:] == word[1:].lower()

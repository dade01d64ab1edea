"""Words too common to say what a message is about: function words, contractions, fillers.

Contractions are listed whole (``doesn't``), without their apostrophe (``doesnt``, as people
type them) and cut at it (``doesn``, what a tokenizer splitting on ``'`` leaves).
"""

from __future__ import annotations

_COMMON = """
a an and are as at be but by can do does did for from has have how i if in is it its me my of on
or our so that the their them then there this to was we what when where which who why will with
would you your yours please could should tell know want need about any also get got just like than
they these those into out up use been being hi hello thanks thank not no yes
something anything everything nothing someone anyone somebody anybody much
"""
_CONTRACTIONS = """
don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't wouldn't shouldn't haven't
hasn't hadn't i'm i've i'll i'd you're you've you'll you'd it's that's there's what's let's we're
we've we'll they're they've
"""


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

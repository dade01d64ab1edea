"""Words too common to say what a message is about."""

from __future__ import annotations

_COMMON = """
a an and are as at be but by can do does did for from has have how i if in is it its me my of on
or our so that the their them then there this to was we what when where which who why will with
would you your yours please could should tell know want need about any also get got just like than
they these those into out up use been being hi hello thanks thank not no yes
"""
STOPWORDS = frozenset(_COMMON.split())

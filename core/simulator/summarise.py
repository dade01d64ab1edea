"""Extractive summaries: the sentences that carry the text's most frequent content words.

A request counts as summarisation when the system prompt or the user's last message asks to
"summarise", "summarize", "recap", "tl;dr" or "write a summary" (a prompt that merely carries
"Summary of the earlier conversation" is not a request). Tool lines of a transcript are read
as plain sentences. The text summarised is what follows the request
in the same message (after a colon or in a fenced/quoted block); for a bare "summarise this" the
document in the sources (its passages in page order, each cited); or else the conversation so far.
"""

from __future__ import annotations

import re
from collections import Counter

from core.simulator.extract import find_name, find_order_numbers
from core.simulator.messages import Role, SimRequest
from core.simulator.sources import Source, parse_sources, split_sentences
from core.simulator.tool_answers import describe_tool_result
from core.simulator.values import first_sentence
from core.simulator.words import content_stems

_ASK = re.compile(
    r"\b(summari[sz]e|recap|tl;?dr|sum up"
    r"|(write|give|make|provide)( me)? an? (short |brief )?summary)\b",
    re.IGNORECASE,
)
_ONE_SENTENCE = re.compile(r"\b(one|single|1)[- ]sentence\b|\bone line\b", re.IGNORECASE)
_COUNT = re.compile(r"\b([2-6]|two|three|four|five)\s+(?:bullet|sentence|point|line)s?\b", re.I)
_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5}
_LINE = re.compile(r"^\s*(user|customer|assistant|agent|support|tool)\s*:\s*(.+)$", re.I | re.M)
_CUSTOMER = frozenset({"user", "customer"})
_SUPPORT = frozenset({"assistant", "agent", "support"})
_DOCUMENT = re.compile(
    r"\b(?:this|the|attached|my)\s+(?:document|file|pdf|attachment|doc)\b|\.(?:pdf|txt|md)\b"
    r"|\bsummari[sz]e\s+(?:this|it)\b",
    re.IGNORECASE,
)
_PAGE = re.compile(r"\s*[—-]\s*p\.\s*(\d+)\s*$")
_NO_PAGE = 10**6
MAX_SECTIONS = 6
_GREETING_OR_NAME = re.compile(r"^(hi|hello|hey|thanks|my name is|this is)\b[^.?!]*[.!]?$", re.I)


def is_summary_request(request: SimRequest) -> bool:
    """True when the system prompt or the last user message asks for a summary."""
    return bool(_ASK.search(request.system) or _ASK.search(request.last_user_text()[:300]))


def summarise_request(request: SimRequest) -> str:
    """A short extractive summary of the text the request wants summarised: the text given, the
    attached document in the sources ("summarise this"), or the conversation so far."""
    instruction = f"{request.system}\n{request.last_user_text()[:300]}"
    text = _text_to_summarise(request)
    asks_document = _DOCUMENT.search(request.last_user_text()[:300]) is not None
    if asks_document or (text == request.last_user_text() and not _ASK.search(request.system)):
        document = summarise_document(parse_sources(request.system))
        if document is not None:
            return document
    limit = _sentence_limit(instruction)
    sentences = summarise_text(text, limit)
    if not sentences:
        return "There is nothing to summarise yet."
    orders = find_order_numbers(text)
    tail = f" Order numbers mentioned: {', '.join(orders)}." if orders else ""
    if "bullet" in instruction.lower():
        return "\n".join(f"- {sentence}" for sentence in sentences) + (f"\n-{tail}" if tail else "")
    return " ".join(sentences) + tail


def summarise_document(sources: list[Source]) -> str | None:
    """The first source's document summarised section by section (a sentence per passage, in
    page order, each cited), or None when there are no sources."""
    if not sources:
        return None
    title = _document_title(sources[0].title)
    own = [source for source in sources if _document_title(source.title) == title]
    own.sort(key=lambda source: (_page(source.title), source.number))
    lines = []
    for source in own[:MAX_SECTIONS]:
        sentences = summarise_text(source.text, 1)
        if sentences:
            page = _page(source.title)
            where = f"p.{page}: " if page < _NO_PAGE else ""
            lines.append(f"- {where}{sentences[0].rstrip('.')} [{source.number}].")
    if not lines:
        return None
    return f"Here is a summary of {title}:\n" + "\n".join(lines)


def recap_conversation(request: SimRequest) -> str:
    """What was said before the last message: the first question and its answer, and what was
    asked since."""
    earlier = [turn for turn in request.turns if turn.role in (Role.USER, Role.ASSISTANT)][:-1]
    asked = [turn.text.strip() for turn in earlier if turn.role is Role.USER and turn.text.strip()]
    if not asked:
        return "This is the start of our conversation, so there is nothing to recap yet."
    first = earlier.index(next(t for t in earlier if t.role is Role.USER))
    answers = [t.text for t in earlier[first + 1 :] if t.role is Role.ASSISTANT and t.text.strip()]
    recap = f"At the start you asked: “{first_sentence(asked[0])}”"
    recap += f", and I answered: {first_sentence(answers[0])}" if answers else "."
    if not recap.endswith((".", "?", "!")):
        recap += "."
    if len(asked) > 1:
        since = "; ".join(f"“{first_sentence(text)}”" for text in asked[1:4])
        recap += f" Since then you asked: {since}."
    return recap


def _document_title(header: str) -> str:
    return _PAGE.sub("", header).strip()


def _page(header: str) -> int:
    found = _PAGE.search(header)
    return int(found.group(1)) if found else _NO_PAGE


def summarise_text(text: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` summary sentences: for a ``Customer:``/``Assistant:`` transcript what
    was asked, what was found, what was said and what is still open; for other text the
    sentences with the most frequent content words, in their original order."""
    lines = _LINE.findall(text)
    if sum(1 for speaker, _ in lines if speaker.lower() in _CUSTOMER) >= 1 and len(lines) >= 2:
        return _summarise_transcript(lines)[: max(1, limit)]
    sentences = split_sentences(text)
    if len(sentences) <= limit:
        return sentences
    frequency = Counter(stem for sentence in sentences for stem in content_stems(sentence))
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: (
            -sum(frequency[s] for s in content_stems(sentences[i]))
            / (1 + len(content_stems(sentences[i])) ** 0.5)
        ),
    )
    return [sentences[i] for i in sorted(ranked[:limit])]


def _summarise_transcript(lines: list[tuple[str, str]]) -> list[str]:
    customer = [text for speaker, text in lines if speaker.lower() in _CUSTOMER]
    facts = list(
        dict.fromkeys(describe_tool_result("", t) for s, t in lines if s.lower() == "tool")
    )
    said = [text for speaker, text in lines if speaker.lower() in _SUPPORT]
    who = find_name(" ".join(customer)) or "The customer"
    summary = [f"{who} wrote about: {_main_point(customer[0])}"]
    if facts:
        summary.append("Found: " + " ".join(facts))
    if said and not content_stems(said[-1]) <= content_stems(" ".join(facts)):
        summary.append(f"The assistant replied: {first_sentence(said[-1])}")
    last_speaker = lines[-1][0].lower()
    if len(customer) > 1 and last_speaker in _CUSTOMER:
        summary.append("Still open: " + " ".join(split_sentences(customer[-1])[-2:]))
    return summary


def _main_point(message: str) -> str:
    sentences = [s for s in split_sentences(message) if not _GREETING_OR_NAME.match(s)]
    questions = [s for s in sentences if s.endswith("?")]
    chosen = questions[-1] if questions else (sentences[0] if sentences else message.strip())
    return chosen if chosen[-1:] in ".?!" else chosen + "."


def _text_to_summarise(request: SimRequest) -> str:
    last = request.last_user_text()
    match = _ASK.search(last)
    if match:
        after = last[match.end() :]
        body = re.split(r":\s*\n?|\n", after, maxsplit=1)
        if len(body) == 2 and len(body[1].strip()) > 40:
            return body[1].strip().strip("`\"'")
    if not match and sum(turn.role is Role.USER for turn in request.turns) == 1:
        return last
    skip = last if match else None
    lines = [
        f"{'Customer' if turn.role is Role.USER else 'Agent'}: {turn.text.strip()}"
        for turn in request.turns
        if turn.role in (Role.USER, Role.ASSISTANT) and turn.text.strip() and turn.text != skip
    ]
    return "\n".join(lines) if lines else last


def _sentence_limit(instruction: str) -> int:
    if _ONE_SENTENCE.search(instruction):
        return 1
    if match := _COUNT.search(instruction):
        value = match.group(1).lower()
        return _WORDS.get(value) or int(value)
    return 3

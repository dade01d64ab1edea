"""False positives of the PII redactor on our own content, and its throughput.

    python bench/bench_pii.py              # findings on the knowledge base, then timing
    python bench/bench_pii.py --rounds 50

False positives: every paragraph of ``seed/articles/*.md`` and ``seed/pdf_sources/*.md`` and a
sentence about every seed order (number, tracking number, ETA, items, amount) go through
``redact_text``; every finding is printed with its file and line. The company's published
support contacts are allowed (``core.pii.PUBLISHED_CONTACTS``); findings without that allow-list
are counted too, to show what it saves.

Throughput: the same paragraphs plus the labelled PII corpus, redacted ``--rounds`` times;
messages per second and the p95 time per message in microseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core.pii import PUBLISHED_CONTACTS
from observability.redaction import redact_text
from seed.orders import build_orders

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "seed" / "articles", ROOT / "seed" / "pdf_sources")
CORPUS = ROOT / "tests" / "data" / "pii_corpus.json"


@dataclass(frozen=True)
class Passage:
    where: str
    text: str


def knowledge_base() -> list[Passage]:
    """Every non-empty paragraph of the seed articles and PDF sources, with file:line."""
    passages: list[Passage] = []
    for folder in SOURCES:
        for path in sorted(folder.glob("*.md")):
            line = 1
            for block in path.read_text(encoding="utf-8").split("\n\n"):
                if block.strip():
                    where = f"{path.relative_to(ROOT)}:{line}"
                    passages.append(Passage(where, block))
                line += block.count("\n") + 2
    return passages


def order_sentences() -> list[Passage]:
    """A support-style sentence about each seed order, as a tool result would phrase it."""
    sentences = []
    for order in build_orders(date(2026, 5, 14), customer_count=40):
        items = ", ".join(f"{i['quantity']} × {i['name']} ({i['sku']})" for i in order.items)
        text = (
            f"Order {order.number} ({order.status.value}) via {order.carrier}, tracking "
            f"{order.tracking_number}, ETA {order.eta}: {items}; total ${order.amount}."
        )
        sentences.append(Passage(f"order {order.number}", text))
    return sentences


def report_findings(passages: list[Passage]) -> None:
    with_allow: Counter[str] = Counter()
    without_allow = 0
    for passage in passages:
        without_allow += len(redact_text(passage.text).findings)
        for finding in redact_text(passage.text, allow=PUBLISHED_CONTACTS).findings:
            with_allow[finding.kind.value] += 1
            value = passage.text[finding.start : finding.end]
            print(f"  {passage.where}: {finding.kind.value} {value!r}")
    print(
        f"{len(passages)} passages: {sum(with_allow.values())} findings with the published "
        f"contacts allowed {dict(with_allow)}, {without_allow} without the allow-list"
    )


def report_throughput(texts: list[str], rounds: int) -> None:
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            begin = time.perf_counter_ns()
            redact_text(text, allow=PUBLISHED_CONTACTS)
            timings.append((time.perf_counter_ns() - begin) / 1000)
    elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(timings, n=20)[-1]
    mean_chars = sum(map(len, texts)) / len(texts)
    print(
        f"throughput: {len(timings) / elapsed:,.0f} messages/s over {len(timings):,} messages "
        f"(mean {mean_chars:.0f} chars); p50 {statistics.median(timings):.0f} µs, "
        f"p95 {p95:.0f} µs per message"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the texts (timing)")
    args = parser.parse_args()

    kb = knowledge_base()
    if not kb:
        print("no seed articles or PDF sources found under seed/ — knowledge base skipped")
    print("Knowledge base findings (each is a false positive unless it is customer data):")
    report_findings(kb)
    print("Seed order sentences (order numbers, tracking numbers, dates, prices, SKUs):")
    report_findings(order_sentences())

    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    chat = [c["text"] for c in corpus["positive"]] + [c["text"] for c in corpus["negative"]]
    report_throughput([p.text for p in kb] + chat, args.rounds)


if __name__ == "__main__":
    main()

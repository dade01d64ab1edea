"""The PII detector against the labelled corpus: every value redacted, nothing else touched."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from observability.redaction import Finding, PiiKind, default_redactor, redact_text

CORPUS = json.loads(
    (Path(__file__).parents[1] / "data" / "pii_corpus.json").read_text(encoding="utf-8")
)
POSITIVE: list[dict[str, Any]] = CORPUS["positive"]
NEGATIVE: list[dict[str, Any]] = CORPUS["negative"]


def _compact(text: str) -> str:
    return re.sub(r"[\s().\-/]", "", text)


def test_corpus_covers_every_kind_with_enough_cases() -> None:
    kinds = {case["kind"] for case in POSITIVE}

    assert len(POSITIVE) >= 60 and len(NEGATIVE) >= 20
    assert {kind.value for kind in PiiKind} <= kinds


@pytest.mark.parametrize("case", POSITIVE, ids=lambda c: c["text"][:40])
def test_personal_data_is_replaced_by_its_placeholder(case: dict[str, Any]) -> None:
    assert redact_text(case["text"]).text == case["expected"]


def test_no_secret_leaks_even_with_separators_removed() -> None:
    leaks = [
        (case["text"], secret)
        for case in POSITIVE
        for secret in case["secrets"]
        if secret in (out := redact_text(case["text"]).text) or _compact(secret) in _compact(out)
    ]

    assert leaks == []


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c["what"])
def test_support_text_without_personal_data_is_unchanged(case: dict[str, Any]) -> None:
    redaction = redact_text(case["text"])

    assert redaction.text == case["text"]
    assert redaction.findings == ()


def test_findings_name_kind_and_place_but_never_the_value() -> None:
    text = "Mail jo@example.com or call +44 20 7946 0958"

    redaction = redact_text(text)

    assert [f.name for f in fields(Finding)] == ["kind", "start", "end"]
    assert [(f.kind, text[f.start : f.end]) for f in redaction.findings] == [
        (PiiKind.EMAIL, "jo@example.com"),
        (PiiKind.PHONE, "+44 20 7946 0958"),
    ]
    assert redaction.counts() == {PiiKind.EMAIL: 1, PiiKind.PHONE: 1}


def test_published_support_contacts_pass_when_allowed_in_any_format() -> None:
    allow = ("support@northwind.example", "+1 800 555 0199")
    text = "Write to Support@Northwind.example or call 1-800-555-0199; I'm on (206) 555-0142."

    redaction = redact_text(text, allow=allow)

    assert redaction.text == (
        "Write to Support@Northwind.example or call 1-800-555-0199; I'm on [PHONE]."
    )


def test_overlapping_values_merge_so_no_fragment_survives() -> None:
    text = "my password is jo@example.com99 thanks"

    redaction = redact_text(text)

    assert redaction.text == "my password is [EMAIL] thanks"
    assert [(f.start, f.end) for f in redaction.findings] == [(15, 31)]


def test_default_redactor_is_the_plain_string_form() -> None:
    assert default_redactor("ssn 078-05-1120") == "ssn [SSN]"
    assert default_redactor("") == ""

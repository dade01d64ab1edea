"""The whole PII corpus through the whole engine: nothing sensitive reaches a provider, a span
or a row. One shared engine on the simulator at speed 0."""

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.conversation import TurnRequest, TurnStatus
from tests.core.conversation.conftest import App

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "data" / "pii_corpus.json").read_text(encoding="utf-8")
)["positive"]
ROW_QUERIES = {
    "messages": "SELECT content, citations, tool_calls, quality_reasons, error FROM messages "
    "WHERE conversation_id IN :ids",
    "conversations": "SELECT title, flag_reasons FROM conversations WHERE id IN :ids",
    "tickets": "SELECT subject, description, handoff_summary FROM tickets "
    "WHERE conversation_id IN :ids",
    "pii audit": "SELECT pii_type, location FROM pii_audit_events WHERE conversation_id IN :ids",
    "trace store": "SELECT name, status_message, attributes, events FROM spans "
    "WHERE trace_id IN :traces",
}


def test_no_secret_of_the_corpus_reaches_a_provider_a_span_or_a_row(fresh: App) -> None:
    customer = fresh.customer(24)
    results = [
        fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=case["text"]))
        for case in CORPUS
    ]
    fresh.services.observatory.force_flush()

    assert len(CORPUS) >= 50
    assert all(r.status is TurnStatus.ANSWERED for r in results)
    places = {
        "provider requests": "\n".join(r.text for r in fresh.recorder.requests),
        "spans": "\n".join(_span_text(span) for span in fresh.finished_spans()),
        **_rows(fresh, results),
    }
    assert "[" in places["provider requests"] and len(fresh.recorder.requests) >= len(CORPUS)
    leaks = [
        (case["text"], where)
        for case in CORPUS
        for secret in case["secrets"]
        for where, seen in places.items()
        if any(form in seen for form in _forms(secret))
    ]
    assert leaks == []


def _forms(secret: str) -> set[str]:
    """The secret as typed, lower-cased, and as bare digits when it was grouped."""
    forms = {secret, secret.lower()}
    digits = re.sub(r"\D", "", secret)
    if len(digits) >= 9 and digits != secret:
        forms.add(digits)
    return forms


def _span_text(span: Any) -> str:
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    return json.dumps(
        [span.name, dict(span.attributes or {}), events, span.status.description],
        default=str,
        ensure_ascii=False,
    )


def _rows(app: App, results: list[Any]) -> dict[str, str]:
    values = {
        "ids": [r.conversation_id for r in results],
        "traces": [r.trace_id for r in results],
    }
    found: dict[str, str] = {}
    with Session(app.services.db) as session:
        for where, query in ROW_QUERIES.items():
            name = "traces" if ":traces" in query else "ids"
            statement = text(query).bindparams(bindparam(name, expanding=True))
            rows = session.connection().execute(statement, {name: values[name]}).all()
            assert rows or where in {"tickets"}, f"nothing stored in {where}?"
            found[where] = json.dumps([list(row) for row in rows], default=str, ensure_ascii=False)
    return found

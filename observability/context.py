"""Conversation, user, experiment and environment ids carried in the OpenTelemetry context.

``with context(conversation_id=...):`` puts the ids in the current OTel context; the
``ContextStampProcessor`` copies them onto every span started inside, including spans made by
the SDK instrumentations and by code that only knows the plain OpenTelemetry API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from observability import attributes as attr

_IDS_KEY = otel_context.create_key("observatory.ids")
_EMPTY: Mapping[str, str] = MappingProxyType({})


@contextmanager
def context(
    *,
    conversation_id: str | None = None,
    user_id: str | None = None,
    experiment: str | None = None,
    variant: str | None = None,
    scenario: str | None = None,
    environment: str | None = None,
) -> Iterator[Mapping[str, str]]:
    """Stamp these ids on every span started inside the block; nested blocks add to them.

    ``None`` leaves an id as the enclosing block set it. ``environment`` stamps
    ``deployment.environment.name`` on the spans, over the resource's (``"demo"`` marks the
    generated demo history, so charts can leave it out). Yields the ids now in force.
    """
    given = {
        attr.CONVERSATION_ID: conversation_id,
        attr.USER_ID: user_id,
        attr.EXPERIMENT_NAME: experiment,
        attr.EXPERIMENT_VARIANT: variant,
        attr.SCENARIO: scenario,
        attr.DEPLOYMENT_ENVIRONMENT: environment,
    }
    merged = {**current_ids(), **{k: str(v) for k, v in given.items() if v is not None}}
    ids = MappingProxyType(merged)
    token = otel_context.attach(otel_context.set_value(_IDS_KEY, ids))
    try:
        yield ids
    finally:
        otel_context.detach(token)


def current_ids(parent: otel_context.Context | None = None) -> Mapping[str, str]:
    """The ids in force in ``parent`` (or the current context), as span attributes."""
    ids = otel_context.get_value(_IDS_KEY, parent)
    return ids if isinstance(ids, Mapping) else _EMPTY


class ContextStampProcessor(SpanProcessor):
    """Copies the ids of the enclosing ``context(...)`` onto each span as it starts."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        """Set the ids as attributes; a span's own attributes win."""
        ids = current_ids(parent_context)
        if not ids:
            return
        own = span.attributes or {}
        missing = {k: v for k, v in ids.items() if k not in own}
        if missing:
            span.set_attributes(missing)

    def on_end(self, span: ReadableSpan) -> None:
        """Nothing to do when a span ends."""

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True

"""The trace store's tables, in SQLAlchemy Core: one schema for SQLite, PostgreSQL and TimescaleDB.

``spans`` holds every span; ``traces`` one row per trace; the rollups hold per-minute and
per-hour sums of LLM calls (maintained on write, or continuous aggregates on TimescaleDB) so
the analytics queries read thousands of rows, not millions. Missing dimension values are stored
in rollups as ``''`` so that upserts find their row (NULLs never conflict).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(16.0 * 2 ** (i / 4) for i in range(57))
"""Upper bounds of the latency histogram bins: 16 ms … 262 s, four bins per doubling (±19 %)."""
HISTOGRAM_BINS = len(LATENCY_BOUNDS_MS) + 1
DURATION_BINS = tuple(f"d{i:02d}" for i in range(HISTOGRAM_BINS))
TTFC_BINS = tuple(f"t{i:02d}" for i in range(HISTOGRAM_BINS))


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC timestamp: ``timestamptz`` on PostgreSQL, naive-UTC text on SQLite; always aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store in UTC (naive on SQLite, which has no time zones)."""
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value.replace(tzinfo=UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonText = Text()
"""JSON written as text once, on every backend: the server takes it without parsing it, and the
trace list's text search reads it without converting JSONB back to text (twice as fast)."""
Money = Float()
"""US dollars in double precision: costs reach the store as float span attributes and are summed
as floats, so a ``numeric`` column would only look more exact, and cost a microsecond per value
to write."""

metadata = MetaData()

spans = Table(
    "spans",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("span_id", String(16), primary_key=True),
    Column("start_time", UtcDateTime, primary_key=True),
    Column("parent_span_id", String(16)),
    Column("name", Text, nullable=False),
    Column("kind", String(16)),
    Column("service", Text),
    Column("end_time", UtcDateTime),
    Column("duration_ms", Float),
    Column("status", String(8), nullable=False),
    Column("status_message", Text),
    Column("operation", String(64)),
    Column("provider", String(64)),
    Column("request_model", String(128)),
    Column("response_model", String(128)),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("cache_read_tokens", BigInteger),
    Column("cache_write_tokens", BigInteger),
    Column("cost_usd", Money),
    Column("cost_status", String(16)),
    Column("ttfc_ms", Float),
    Column("error_type", String(128)),
    Column("conversation_id", String(128)),
    Column("user_id", String(128)),
    Column("experiment", String(128)),
    Column("variant", String(128)),
    Column("scenario", String(128)),
    Column("attempt", Integer),
    Column("fallback_reason", String(64)),
    Column("cache_hit", Boolean),
    Column("simulated", Boolean),
    Column("attributes", JsonText),
    Column("events", JsonText),
    Column("environment", String(64)),
)
Index("ix_spans_start_time", spans.c.start_time)
Index("ix_spans_conversation", spans.c.conversation_id)
Index("ix_spans_name", spans.c.name, spans.c.start_time)
"""The PII chart reads the ``redact_pii`` spans by name."""
Index(
    "ix_spans_redaction_user",
    spans.c.user_id,
    spans.c.start_time,
    postgresql_where=spans.c.name == "redact_pii",
    sqlite_where=spans.c.name == "redact_pii",
)
"""One customer's ``redact_pii`` spans (the PII chart with a customer filter), without reading
every customer's."""

SPAN_COLUMNS: tuple[str, ...] = tuple(c.name for c in spans.columns)

traces = Table(
    "traces",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("start_time", UtcDateTime, nullable=False),
    Column("end_time", UtcDateTime, nullable=False),
    Column("root_name", Text),
    Column("service", Text),
    Column("span_count", Integer, nullable=False),
    Column("call_count", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cost_usd", Money),
    Column("provider", String(64)),
    Column("model", String(128)),
    Column("conversation_id", String(128)),
    Column("user_id", String(128)),
    Column("environment", String(64)),
    Column("experiment", String(128)),
    Column("variant", String(128)),
    Column("scenario", String(128)),
    # What the trace's chat turn came to (NULL in rows written before these columns): its
    # ``turn`` spans, quality score, whether it was answered (1/0), hand-offs to a human
    # (``summarise_escalation`` spans) and the latest vote on its answer (+1/-1).
    Column("turns", Integer),
    Column("quality", Float),
    Column("answered", Integer),
    Column("escalated", Integer),
    Column("vote", Integer),
)
Index("ix_traces_start_time", traces.c.start_time, traces.c.trace_id)
Index("ix_traces_conversation", traces.c.conversation_id)
Index("ix_traces_user", traces.c.user_id)
Index("ix_traces_cost", traces.c.cost_usd)

CALL_DIMENSIONS = ("provider", "model", "experiment", "variant", "scenario", "environment")
"""Keys of the per-minute/per-hour call rollups (besides ``bucket``)."""
SPENDER_DIMENSIONS = ("user_id", "conversation_id", *CALL_DIMENSIONS)
"""Keys of the per-hour spender rollup (besides ``bucket``): every filter of the Analytics page
applies to its breakdowns by customer and conversation."""
SUM_METRICS = (
    "requests",
    "errors",
    "unpriced",
    "unpriced_tokens",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "duration_ms_sum",
    "ttfc_count",
    "ttfc_ms_sum",
    "attempts",
    "retries",
    "fallbacks",
    "cache_hits",
)


def _metric_column(name: str) -> Column[Any]:
    column_type = Money if name == "cost_usd" else Float if name.endswith("_sum") else BigInteger
    return Column(name, column_type, nullable=False, default=0)


def _rollup(name: str, keys: tuple[str, ...], *, histograms: bool) -> Table:
    bins = DURATION_BINS + TTFC_BINS if histograms else ()
    table = Table(
        name,
        metadata,
        Column("bucket", UtcDateTime, primary_key=True),
        *(Column(key, String(128), primary_key=True, default="") for key in keys),
        *(_metric_column(metric) for metric in SUM_METRICS),
        *(Column(b, Integer, nullable=False, default=0) for b in bins),
    )
    Index(f"ix_{name}_bucket", table.c.bucket)
    return table


rollup_minute = _rollup("span_rollup_minute", CALL_DIMENSIONS, histograms=True)
rollup_hour = _rollup("span_rollup_hour", CALL_DIMENSIONS, histograms=True)
rollup_day = _rollup("span_rollup_day", CALL_DIMENSIONS, histograms=True)
"""Per UTC day: a month's charts read 30 rows a key instead of 720 (the hour rows fill in the
ragged ends of a range)."""
rollup_spenders = _rollup("span_rollup_spender_hour", SPENDER_DIMENSIONS, histograms=False)
ROLLUPS = (rollup_minute, rollup_hour, rollup_spenders, rollup_day)
TURN_METRICS = ("turns", "scored", "quality_sum", "resolved", "escalated", "up", "down")
"""What the ``traces`` rows with a chat turn add up to (see ``AnalyticsQueries.outcomes``)."""
turn_rollup_day = Table(
    "turn_rollup_day",
    metadata,
    Column("bucket", UtcDateTime, primary_key=True),
    *(Column(key, String(128), primary_key=True, default="") for key in CALL_DIMENSIONS),
    *(
        Column(m, Float if m == "quality_sum" else BigInteger, nullable=False, default=0)
        for m in TURN_METRICS
    ),
)
"""Per UTC day of a trace's start and its provider, model and ids: the sums of its turn
figures. The writer keeps it in step with ``traces`` (a batch takes out what the traces it
touches added before and adds what they add now)."""
Index("ix_turn_rollup_day_bucket", turn_rollup_day.c.bucket)
SPENDER_DAY_SUMS = ("requests", "input_tokens", "output_tokens", "cost_usd", "unpriced")
rollup_spender_day = Table(
    "span_rollup_spender_day",
    metadata,
    Column("bucket", UtcDateTime, primary_key=True),
    Column("user_id", String(128), primary_key=True, default=""),
    Column("conversation_id", String(128), primary_key=True, default=""),
    *(_metric_column(metric) for metric in SPENDER_DAY_SUMS),
    Column("last_seen", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)
"""The spender rollup's rows of a UTC day summed over every key but customer and conversation,
with the latest hour among them: the breakdowns without a filter on calls read a month in a
quarter of the rows. Its key starts with the day, so a range is read in key order (on SQLite
the rows are stored in that order: a month is one range of the table, not 50,000 lookups)."""
REDACTION_DIMENSIONS = ("kind", "experiment", "variant", "scenario", "environment")
redaction_rollup_day = Table(
    "redaction_rollup_day",
    metadata,
    Column("bucket", UtcDateTime, primary_key=True),
    *(Column(key, String(128), primary_key=True, default="") for key in REDACTION_DIMENSIONS),
    Column("texts", BigInteger, nullable=False, default=0),
)
"""Per UTC day of a ``redact_pii`` span's start, kind of PII and the span's own ids: how many
texts had that kind redacted (a span's provider and model are its trace's, so a filter on them
reads the spans)."""
ROLLUP_COLUMNS: dict[str, tuple[str, ...]] = {t.name: tuple(t.c.keys()) for t in ROLLUPS}
PLAIN_TABLES = (
    spans,
    traces,
    *ROLLUPS,
    rollup_spender_day,
    turn_rollup_day,
    redaction_rollup_day,
)

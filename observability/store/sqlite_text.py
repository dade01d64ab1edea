"""Text search index on SQLite: an FTS5 trigram table over the spans, filled by the idle writer.

``span_text`` indexes each span's name and attributes (``detail=none``: which spans hold each
trigram, not where, so it adds about a fifth to the store rather than more than doubling it;
LIKE still checks every candidate). It keeps no copy of the text: it reads it from ``spans``
by rowid. Spans are only ever appended, and a new span gets a rowid above every other, so
``span_text_progress`` holds one number, the last rowid indexed. The store writer indexes the
spans after it a chunk at a time when idle (``index_new_spans``, about 40 µs a span), and text
search (``text_table_arms``) reads indexed spans through the table and scans only the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, column, literal_column, select, table, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import ColumnClause

from observability.store.schema import spans

logger = logging.getLogger("observability.store")

CHUNK = 10_000
"""Spans indexed per idle step (about 0.4 s of the writer's time)."""
_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS span_text USING fts5(name, attributes, "
    "content='spans', content_rowid='rowid', tokenize='trigram', detail='none')"
)
_PROGRESS = "CREATE TABLE IF NOT EXISTS span_text_progress (indexed_upto INTEGER NOT NULL)"
_span_text = table("span_text", column("rowid"), column("name"), column("attributes"))
_rowid: ColumnClause[int] = literal_column("spans.rowid")


def create_text_table(engine: Engine) -> None:
    """Create ``span_text`` and its progress row unless they exist; without FTS5's trigram
    tokenizer (SQLite before 3.34) log a warning, and text search scans."""
    try:
        with engine.begin() as conn:
            conn.execute(text(_TABLE))
            conn.execute(text(_PROGRESS))
            conn.execute(
                text(
                    "INSERT INTO span_text_progress SELECT 0 "
                    "WHERE NOT EXISTS (SELECT 1 FROM span_text_progress)"
                )
            )
    except OperationalError as exc:
        logger.warning("no text index (text search will scan): %s", str(exc.orig).strip())


def indexed_upto(conn: Connection) -> int | None:
    """The last rowid indexed, or ``None`` when the store has no ``span_text``."""
    try:
        return conn.execute(text("SELECT indexed_upto FROM span_text_progress")).scalar()
    except OperationalError:
        return None


def index_new_spans(engine: Engine, *, limit: int = CHUNK) -> int:
    """Index up to ``limit`` spans written since the last call; returns how many."""
    with engine.begin() as conn:
        upto = indexed_upto(conn)
        if upto is None:
            return 0
        after = select(_rowid.label("id")).select_from(spans).where(_rowid > upto)
        chunk = after.order_by(_rowid).limit(limit).subquery()
        last = conn.execute(select(literal_column("max(id)")).select_from(chunk)).scalar()
        if last is None:
            return 0
        added = conn.execute(
            text(
                "INSERT INTO span_text (rowid, name, attributes) "
                "SELECT rowid, name, attributes FROM spans WHERE rowid > :upto AND rowid <= :last"
            ),
            {"upto": upto, "last": last},
        ).rowcount
        conn.execute(text("UPDATE span_text_progress SET indexed_upto = :last"), {"last": last})
    return int(added)


def text_table_arms(
    upto: int, since: datetime | None, pattern: str, condition: Any
) -> list[Select[Any]]:
    """Selects of ``trace_id`` whose union is every span since ``since`` meeting
    ``condition``, which must imply that its name or attributes are LIKE ``pattern``: indexed
    spans are found through ``span_text`` (a LIKE per column, which FTS5 answers from its
    trigrams), the rest by a scan of the spans after ``upto``."""
    since_clause = [spans.c.start_time >= since] if since is not None else []
    arms = [
        select(spans.c.trace_id)
        .select_from(_span_text.join(spans, _rowid == _span_text.c.rowid))
        .where(_span_text.c[name].like(pattern), condition, *since_clause)
        for name in ("name", "attributes")
    ]
    arms.append(select(spans.c.trace_id).where(_rowid > upto, condition, *since_clause))
    return arms

"""TimescaleDB: ``spans`` as a hypertable with compression and retention policies.

The rollups stay ordinary tables that the writer keeps in the same transaction as the spans, as
on plain PostgreSQL, so they count every span whatever its timestamp (continuous aggregates
refresh a window behind now: loaded history, late spans and outages longer than the window never
reached them). Stores made by earlier versions, whose rollups were continuous aggregates, get
their views replaced by tables filled from the spans on their next start.

The extension's functions are called by their schema, so a store in any schema (or with any
``search_path``) finds them; a new extension goes into ``public`` when there is one, so that
dropping one store's schema never drops it for the others.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from observability.store.dialect import StoreDialect
from observability.store.schema import (
    PLAIN_TABLES,
    metadata,
)
from observability.store.upgrade import ROLLUP_SOURCES, fill_rollup

EXTENSION = "timescaledb"
COMPRESS_SEGMENT_BY = "provider"
"""Compressed batches per provider (NULL for the spans that are not calls)."""
COMPRESS_ORDER_BY = "start_time DESC, trace_id, span_id"
"""Each compressed batch keeps the first and last start time it holds: a trace is read from a
compressed chunk by its own time range (see ``TraceQueries.trace_spans``), which decompresses
the few batches covering it instead of every batch of the chunk."""


def prepare_timescale(conn: Connection, *, compress_after_days: int, drop_after_days: int) -> None:
    """Create (or bring up to date) the TimescaleDB layout of the store in ``conn``'s schema:
    the extension, the tables, ``spans`` as a hypertable with its policies, and rollup tables
    in place of any continuous aggregates of earlier versions. Idempotent; run in one
    transaction that holds an advisory lock, so stores starting together take turns."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('support-observatory-store'))"))
    schema = ensure_extension(conn)
    replaced = drop_continuous_aggregates(conn)
    metadata.create_all(conn, tables=list(PLAIN_TABLES))
    fill_rollups(conn, replaced)
    for statement in timescale_statements(
        schema,
        compress_after_days=compress_after_days,
        drop_after_days=drop_after_days,
    ):
        conn.execute(text(statement))


def ensure_extension(conn: Connection) -> str:
    """The schema holding the extension, created first (in ``public`` if it exists, else in
    the current schema) if the database does not have it yet."""
    schema = conn.execute(
        text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = :name"),
        {"name": EXTENSION},
    ).scalar()
    if schema is not None:
        return str(schema)
    target = conn.execute(
        text("SELECT coalesce(to_regnamespace('public')::text, current_schema())")
    ).scalar_one()
    conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION} SCHEMA {target}"))
    return str(target)


def timescale_statements(
    schema: str, *, compress_after_days: int, drop_after_days: int
) -> list[str]:
    """The idempotent DDL that turns the plain ``spans`` table into a hypertable with its
    compression and retention policies; ``schema`` holds the extension. Compression settings
    are applied on every start (chunks compressed before keep the settings they had)."""
    return [
        f"SELECT {schema}.create_hypertable('spans', 'start_time', chunk_time_interval => "
        "INTERVAL '1 day', if_not_exists => TRUE, migrate_data => TRUE)",
        "ALTER TABLE spans SET (timescaledb.compress, timescaledb.compress_segmentby = "
        f"'{COMPRESS_SEGMENT_BY}', timescaledb.compress_orderby = '{COMPRESS_ORDER_BY}')",
        f"SELECT {schema}.remove_compression_policy('spans', if_exists => TRUE)",
        f"SELECT {schema}.add_compression_policy('spans', INTERVAL "
        f"'{int(compress_after_days)} days')",
        f"SELECT {schema}.remove_retention_policy('spans', if_exists => TRUE)",
        f"SELECT {schema}.add_retention_policy('spans', INTERVAL '{int(drop_after_days)} days')",
    ]


def drop_continuous_aggregates(conn: Connection) -> list[str]:
    """Drop the rollups' continuous aggregates that earlier versions made in this schema;
    returns their names."""
    names = [str(t.name) for t in PLAIN_TABLES if t.name.startswith("span_rollup")]
    found = (
        conn.execute(
            text(
                "SELECT view_name FROM timescaledb_information.continuous_aggregates "
                "WHERE view_schema = current_schema() AND view_name = ANY(:names)"
            ),
            {"names": names},
        )
        .scalars()
        .all()
    )
    for name in found:
        conn.execute(text(f"DROP MATERIALIZED VIEW {name} CASCADE"))
    return [str(n) for n in found]


def fill_rollups(conn: Connection, names: list[str]) -> None:
    """Sum every stored span into the rollup tables named ``names``, just made in place of
    continuous aggregates (the other rollups were tables already and keep their rows)."""
    for table, grain, keys, histograms in ROLLUP_SOURCES:
        if table.name in names:
            fill_rollup(conn, StoreDialect.POSTGRESQL, table, grain, keys, histograms=histograms)


def is_timescale_store(conn: Connection) -> bool:
    """Whether ``spans`` in ``conn``'s schema is a TimescaleDB hypertable."""
    if conn.execute(text("SELECT to_regclass('timescaledb_information.hypertables')")).scalar():
        return bool(
            conn.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE "
                    "format('%I.%I', hypertable_schema, hypertable_name)::regclass = "
                    "to_regclass('spans'))"
                )
            ).scalar()
        )
    return False

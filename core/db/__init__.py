"""The app database: tables (``models``), engines and schema set-up (``engine``)."""

from core.db.engine import check_connection, create_db_engine, init_schema, normalise_url

__all__ = ["check_connection", "create_db_engine", "init_schema", "normalise_url"]

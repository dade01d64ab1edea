"""A PostgreSQL database whose user may connect but not create tables (for permission errors)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


@contextmanager
def database_without_create(admin_url: str) -> Iterator[str]:
    """A fresh database and a login role without CREATE on its ``public`` schema; the URL the
    role connects with. Both are dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    database, role, password = f"so_test_{suffix}", f"so_reader_{suffix}", uuid.uuid4().hex
    admin = make_url(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
    try:
        scratch = admin.set(database=database).render_as_string(hide_password=False)
        with psycopg.connect(scratch, autocommit=True) as conn:
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        yield admin.set(username=role, password=password, database=database).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')

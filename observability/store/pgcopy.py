"""Binary COPY into PostgreSQL for the writer (psycopg 3).

Binary rows cost a fraction of text rows to format here and to parse on the server, above all
the wide rollup rows of small integers. COPY BINARY carries no type names, so each column's
type is read once from the server's catalogue; two dumpers take the writer's values as they
are into the column types of trace stores made by earlier versions: JSON already encoded as text
(for ``jsonb``) and float money (for ``numeric``, through its shortest ``repr``, exactly as text
COPY would parse it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Dumper
from psycopg.pq import Format

_JSONB_OID = 3802
_NUMERIC_OID = 1700
_COLUMN_TYPES = """
    SELECT attname, atttypid::int FROM pg_attribute
    WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
"""


class _JsonTextDumper(Dumper):
    """JSON text as binary ``jsonb``: a version byte, then the text (for trace stores made
    before the attribute columns became plain text)."""

    format = Format.BINARY
    oid = _JSONB_OID

    def dump(self, obj: str) -> Buffer:
        """The binary ``jsonb`` value of the JSON text ``obj``."""
        return b"\x01" + obj.encode()


class _MoneyDumper(Dumper):
    """A float, int or Decimal as binary ``numeric``, going through the float's ``repr`` (for
    trace stores made before money became double precision)."""

    format = Format.BINARY
    oid = _NUMERIC_OID
    _decimal = psycopg.adapters.get_dumper_by_oid(_NUMERIC_OID, Format.BINARY)(Decimal)

    def dump(self, obj: float | int | Decimal) -> Buffer | None:
        """The binary ``numeric`` value of ``obj``."""
        value = obj if isinstance(obj, Decimal) else Decimal(repr(obj))
        return self._decimal.dump(value)


class BinaryCopier:
    """Opens binary COPYs; remembers each table's column types after the first lookup."""

    def __init__(self) -> None:
        self._types: dict[str, dict[str, int]] = {}

    @contextmanager
    def copy(
        self,
        cursor: psycopg.Cursor[Any],
        table: str,
        columns: Sequence[str],
        *,
        into: str | None = None,
    ) -> Iterator[psycopg.Copy]:
        """A COPY of ``columns`` into ``into`` (default ``table``), whose columns have the
        types of ``table``'s; write rows with ``write_row`` in ``columns`` order."""
        types = self._types.get(table)
        if types is None:
            types = dict(cursor.execute(_COLUMN_TYPES, (table,)).fetchall())
            self._types[table] = types
        cursor.adapters.register_dumper(None, _JsonTextDumper)
        cursor.adapters.register_dumper(None, _MoneyDumper)
        statement = f"COPY {into or table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with cursor.copy(statement) as copy:
            copy.set_types([types[column] for column in columns])
            yield copy

"""API clients: an id, a hashed secret, scopes and a tier, kept in the trace store's database.

A secret is made here, shown once (in ``NewClient``) and stored only as a salted scrypt hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from observability.api.config import Scope, Tier
from observability.store.schema import UtcDateTime

metadata = MetaData()
api_clients = Table(
    "api_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("tier", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("revoked", Boolean, nullable=False, default=False),
)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class ClientError(ValueError):
    """A client cannot be created or revoked as asked; the message says what to change."""


@dataclass(frozen=True)
class ApiClient:
    """A client as stored (never with its secret)."""

    client_id: str
    name: str
    scopes: tuple[Scope, ...]
    tier: Tier
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class NewClient:
    """A client just made, with the one and only copy of its secret."""

    client: ApiClient
    secret: str


class ClientRegistry:
    """Create, list, revoke and check API clients."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine, checkfirst=True)

    def create(self, name: str, scopes: Iterable[str], tier: str = Tier.STANDARD) -> NewClient:
        """A new client; its secret is in the answer and nowhere else."""
        name = name.strip()
        if not name:
            raise ClientError("Give the client a name (who or what will use it).")
        chosen = _scopes(scopes)
        level = _tier(tier)
        client_id = "oc_" + secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            conn.execute(
                insert(api_clients).values(
                    client_id=client_id,
                    name=name,
                    secret_hash=_hash(secret),
                    scopes=" ".join(chosen),
                    tier=level,
                    created_at=now,
                    revoked=False,
                )
            )
        return NewClient(ApiClient(client_id, name, chosen, level, now, False), secret)

    def list(self) -> list[ApiClient]:
        """Every client, newest first, revoked ones included."""
        query = select(api_clients).order_by(api_clients.c.created_at.desc())
        with self._engine.connect() as conn:
            return [_client(row) for row in conn.execute(query).mappings()]

    def revoke(self, client_id: str) -> ApiClient:
        """Revoke a client: its secret stops working and its tokens are refused."""
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(api_clients)
                .where(api_clients.c.client_id == client_id)
                .values(revoked=True, revoked_at=datetime.now(UTC))
            ).rowcount
        if not changed:
            raise ClientError(f"There is no API client {client_id!r}; list them to see the ids.")
        found = self.get(client_id)
        assert found is not None
        return found

    def get(self, client_id: str) -> ApiClient | None:
        """The client with this id, or ``None``."""
        query = select(api_clients).where(api_clients.c.client_id == client_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _client(row) if row is not None else None

    def verify(self, client_id: str, secret: str) -> ApiClient | None:
        """The active client whose id and secret these are, or ``None``."""
        query = select(api_clients).where(api_clients.c.client_id == client_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["revoked"] or not _matches(secret, row["secret_hash"]):
            return None
        return _client(row)


def _scopes(given: Iterable[str]) -> tuple[Scope, ...]:
    chosen: list[Scope] = []
    for value in given:
        try:
            scope = Scope(value.strip())
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ClientError(f"{value!r} is not a scope; use some of: {known}.") from None
        if scope not in chosen:
            chosen.append(scope)
    if not chosen:
        raise ClientError("Give the client at least one scope.")
    return tuple(chosen)


def _tier(value: str) -> Tier:
    try:
        return Tier(value)
    except ValueError:
        known = ", ".join(t.value for t in Tier)
        raise ClientError(f"{value!r} is not a tier; use one of: {known}.") from None


def _hash(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _matches(secret: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    given = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(given.hex(), digest)


def _client(row: RowMapping) -> ApiClient:
    return ApiClient(
        client_id=row["client_id"],
        name=row["name"],
        scopes=tuple(Scope(s) for s in row["scopes"].split()),
        tier=Tier(row["tier"]),
        created_at=row["created_at"],
        revoked=bool(row["revoked"]),
    )

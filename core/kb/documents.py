"""Knowledge-base document rows (``KbDocument``) and their bytes (``KbDocumentFile``).

Rows come back detached (``expire_on_commit=False``) so pages can read them after the session
closes. Database errors become ``StorageError`` here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.db.models import DocumentStatus, KbDocument, KbDocumentFile, utcnow
from core.errors import KnowledgeBaseError, StorageError


@dataclass(frozen=True)
class NewDocument:
    title: str
    filename: str
    mime_type: str
    content_hash: str
    data: bytes
    source: str
    scope: str


@contextmanager
def _session(engine: Engine) -> Iterator[Session]:
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    except SQLAlchemyError as exc:
        raise StorageError(
            f"The app database refused a knowledge-base change ({type(exc).__name__}); "
            "check that it is reachable and try again."
        ) from exc


def find_by_hash(engine: Engine, scope: str, content_hash: str) -> KbDocument | None:
    """The document of this scope with exactly these bytes, if any."""
    with _session(engine) as session:
        statement = select(KbDocument).where(
            KbDocument.scope == scope, KbDocument.content_hash == content_hash
        )
        return session.exec(statement).first()


def find_same_name(engine: Engine, new: NewDocument, keep_id: int) -> list[KbDocument]:
    """Earlier versions: same scope, filename and source, another id."""
    with _session(engine) as session:
        statement = select(KbDocument).where(
            KbDocument.scope == new.scope,
            KbDocument.filename == new.filename,
            KbDocument.source == new.source,
            KbDocument.id != keep_id,
        )
        return list(session.exec(statement))


def add_document(engine: Engine, new: NewDocument) -> KbDocument:
    """Insert a pending row and its bytes."""
    with _session(engine) as session:
        row = KbDocument(
            title=new.title,
            filename=new.filename,
            mime_type=new.mime_type,
            content_hash=new.content_hash,
            size_bytes=len(new.data),
            source=new.source,
            scope=new.scope,
        )
        session.add(row)
        session.flush()
        session.add(KbDocumentFile(document_id=_id(row), content=new.data))
        session.commit()
        return row


def mark_indexed(engine: Engine, document_id: int, *, pages: int, chunks: int) -> KbDocument:
    """Record a successful indexing."""
    with _session(engine) as session:
        row = _get(session, document_id)
        row.page_count, row.chunk_count = pages, chunks
        row.status, row.error, row.indexed_at = DocumentStatus.INDEXED, None, utcnow()
        session.add(row)
        session.commit()
        return row


def mark_failed(engine: Engine, document_id: int, error: str) -> None:
    """Record why indexing failed (the row and bytes stay for a later re-index)."""
    with _session(engine) as session:
        row = _get(session, document_id)
        row.status, row.error, row.chunk_count = DocumentStatus.FAILED, error, 0
        session.add(row)
        session.commit()


def note_error(engine: Engine, document_id: int, error: str) -> None:
    """Record a failed re-index of an indexed document, whose status and chunks stay."""
    with _session(engine) as session:
        row = _get(session, document_id)
        row.error = error
        session.add(row)
        session.commit()


def list_documents(engine: Engine, scope: str | None = None) -> list[KbDocument]:
    """Every document (of one scope), newest first."""
    with _session(engine) as session:
        statement = select(KbDocument).order_by(col(KbDocument.created_at).desc())
        if scope is not None:
            statement = statement.where(KbDocument.scope == scope)
        return list(session.exec(statement))


def stored_scopes(engine: Engine) -> set[str]:
    """The scopes that have at least one document."""
    with _session(engine) as session:
        return set(session.exec(select(KbDocument.scope).distinct()))


def get_document(engine: Engine, document_id: int) -> KbDocument:
    """One document; ``KnowledgeBaseError`` when it does not exist."""
    with _session(engine) as session:
        return _get(session, document_id)


def read_content(engine: Engine, document_id: int) -> bytes:
    """The original bytes of a document."""
    with _session(engine) as session:
        stored = session.get(KbDocumentFile, document_id)
        if stored is None:
            raise KnowledgeBaseError(f"Document {document_id} has no stored file to re-index.")
        return stored.content


def remove_document(engine: Engine, document_id: int) -> None:
    """Delete a document's bytes and row."""
    with _session(engine) as session:
        stored = session.get(KbDocumentFile, document_id)
        if stored is not None:
            session.delete(stored)
            session.flush()
        session.delete(_get(session, document_id))
        session.commit()


def _get(session: Session, document_id: int) -> KbDocument:
    row = session.get(KbDocument, document_id)
    if row is None:
        raise KnowledgeBaseError(f"Document {document_id} does not exist (it may be deleted).")
    return row


def _id(row: KbDocument) -> int:
    if row.id is None:
        raise StorageError("The database did not assign an id to the new document.")
    return row.id

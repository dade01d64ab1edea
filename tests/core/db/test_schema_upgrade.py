"""The columns the engine added are added to an existing database at start, rows kept."""

from sqlalchemy import inspect, text

from core.db import create_db_engine, init_schema


def test_an_older_database_gains_the_quality_reasons_and_handoff_columns(
    database_url: str,
) -> None:
    engine = create_db_engine(database_url)
    init_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE messages DROP COLUMN quality_reasons"))
        conn.execute(text("ALTER TABLE tickets DROP COLUMN handoff_summary"))
        conn.execute(
            text(
                "INSERT INTO users (name, email, role, created_at) "
                "VALUES ('Old Row', 'old@example.com', 'CUSTOMER', CURRENT_TIMESTAMP)"
            )
        )

    changes = init_schema(engine)

    assert {"added column messages.quality_reasons", "added column tickets.handoff_summary"} <= set(
        changes
    )
    columns = inspect(engine)
    assert "quality_reasons" in {c["name"] for c in columns.get_columns("messages")}
    assert "handoff_summary" in {c["name"] for c in columns.get_columns("tickets")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM users")).scalars().all() == ["old@example.com"]

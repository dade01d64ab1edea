import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from core.db import check_connection, create_db_engine, init_schema
from core.db.models import User
from core.errors import StorageError


def test_schema_set_up_twice_changes_nothing_and_keeps_rows(database_url: str) -> None:
    engine = create_db_engine(database_url)
    created = init_schema(engine)
    with Session(engine) as session:
        session.add(User(name="Ada Customer", email="ada@example.com"))
        session.commit()

    again = init_schema(engine)

    assert "created table messages" in created
    assert again == []
    with Session(engine) as session:
        assert [u.email for u in session.exec(select(User))] == ["ada@example.com"]


def test_schema_upgrade_adds_a_missing_column_without_losing_rows(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "email VARCHAR NOT NULL, role VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (id, name, email, role, created_at) "
                "VALUES (1, 'Old Row', 'old@example.com', 'CUSTOMER', CURRENT_TIMESTAMP)"
            )
        )

    changes = init_schema(engine)

    assert "added column users.city" in changes
    assert {c["name"] for c in inspect(engine).get_columns("users")} >= {"city", "phone"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email, city FROM users")).all() == [
            ("old@example.com", None)
        ]


def test_unreachable_database_is_one_sentence_naming_the_setting() -> None:
    engine = create_db_engine("postgresql://app:topsecret@127.0.0.1:1/app")

    with pytest.raises(StorageError) as raised:
        check_connection(engine)

    message = str(raised.value)
    assert message.startswith("DATABASE_URL points to postgresql+psycopg://app:***@127.0.0.1:1/app")
    assert "topsecret" not in message
    assert "unset DATABASE_URL" in message


def test_sqlite_folder_is_created(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "nested" / "data"
    engine = create_db_engine(f"sqlite:///{folder / 'app.db'}")

    init_schema(engine)

    assert (folder / "app.db").is_file()

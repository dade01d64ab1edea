"""Every way the app database can be misconfigured is one sentence naming the setting."""

import pytest

from core.db import check_connection, create_db_engine, init_schema
from core.errors import SettingsError, StorageError
from tests.core.db.postgres_roles import database_without_create


@pytest.mark.parametrize(
    "url", ["postgresql://u:pw@localhost:abc/db", "postgresql://u:pw@localhost:12:34/db"]
)
def test_a_port_that_is_not_a_number_is_named(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        create_db_engine(url)

    message = str(raised.value)
    assert message.startswith("DATABASE_URL is not a database URL: 'postgresql://u:***@localhost:")
    assert ":pw@" not in message


def test_a_sqlite_folder_that_cannot_be_made_names_data_dir() -> None:
    with pytest.raises(SettingsError) as raised:
        create_db_engine("sqlite:////proc/nope/app.db")

    assert str(raised.value) == (
        "The SQLite database folder /proc/nope cannot be created (No such file or directory); "
        "set DATA_DIR to a folder this user can write, or DATABASE_URL to a database server."
    )


def test_a_sqlite_file_that_cannot_be_opened_names_data_dir() -> None:
    engine = create_db_engine("sqlite:////proc/app.db")

    with pytest.raises(StorageError) as raised:
        check_connection(engine)

    message = str(raised.value)
    assert message.startswith("The SQLite file /proc/app.db could not be opened (")
    assert message.endswith(
        "set DATA_DIR to a folder this user can write, or DATABASE_URL to a database server."
    )


def test_a_user_who_may_not_create_tables_is_told_which_permission(postgres_server: str) -> None:
    with database_without_create(postgres_server) as url:
        engine = create_db_engine(url)
        check_connection(engine)
        with pytest.raises(StorageError) as raised:
            init_schema(engine)
        engine.dispose()

    user = url.split("://", 1)[1].split(":", 1)[0]
    database = url.rsplit("/", 1)[1]
    assert str(raised.value) == (
        f"DATABASE_URL connects as user {user!r}, which may not create or alter tables in "
        f"database {database!r} (permission denied for schema public); grant that user CREATE "
        "on that schema, or point DATABASE_URL at a database it owns."
    )


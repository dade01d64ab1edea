"""Signing in maps an e-mail to a user by the settings' rules; admins invite, change roles and
deactivate, each audited. On both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from core.audit import list_audit
from core.db import create_db_engine, init_schema
from core.db.models import AuditAction, Role, User
from core.settings import AuthSettings, UnknownEmail
from core.users import (
    SignInRefused,
    UserChangeRefused,
    change_role,
    deactivate_user,
    find_user,
    invite_user,
    list_people,
    reactivate_user,
    sign_in,
    signed_in_user,
)

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
BOSS = "boss@example.com"
OPEN = AuthSettings(admin_emails=[BOSS])
INVITE_ONLY = AuthSettings(admin_emails=[BOSS], unknown_email=UnknownEmail.REFUSE)


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = create_db_engine(database_url)
    init_schema(engine)
    return engine


def _actions(db: Engine) -> list[tuple[str, AuditAction, str, str]]:
    return [(e.actor, e.action, e.target, e.detail) for e in reversed(list_audit(db, LONG_AGO))]


def test_the_first_admin_comes_from_the_setting_and_the_sign_in_is_audited(db: Engine) -> None:
    user = sign_in(db, " Boss@Example.com ", "The Boss", OPEN)

    assert (user.email, user.role, user.name, user.active) == (BOSS, Role.ADMIN, "The Boss", True)
    assert user.last_sign_in_at is not None
    assert _actions(db) == [(BOSS, AuditAction.SIGN_IN, BOSS, "signed in as admin")]


def test_an_unknown_email_becomes_a_customer_with_a_customer_id_of_their_own(db: Engine) -> None:
    user = sign_in(db, "new.person@example.com", None, OPEN)

    assert user.role is Role.CUSTOMER and user.id is not None
    assert user.name == "New Person"
    assert signed_in_user(db, "new.person@example.com", OPEN).id == user.id


def test_an_unknown_email_is_refused_when_the_setting_says_so(db: Engine) -> None:
    with pytest.raises(SignInRefused, match="ask an admin of this app to invite you"):
        sign_in(db, "stranger@example.com", None, INVITE_ONLY)

    assert find_user(db, "stranger@example.com") is None
    assert _actions(db)[-1][1] is AuditAction.SIGN_IN_REFUSED


def test_an_invited_person_signs_in_with_the_role_they_were_given(db: Engine) -> None:
    invite_user(db, BOSS, "Agent.Smith@example.com", Role.AGENT)

    user = sign_in(db, "agent.smith@example.com", "Agent Smith", INVITE_ONLY)

    assert user.role is Role.AGENT
    assert (BOSS, AuditAction.USER_INVITED, "agent.smith@example.com", "invited as agent") in (
        _actions(db)
    )


def test_a_deactivated_person_is_refused_in_a_sentence_even_mid_session(db: Engine) -> None:
    invite_user(db, BOSS, "cy@example.com", Role.AGENT)
    sign_in(db, "cy@example.com", None, OPEN)

    deactivate_user(db, BOSS, "cy@example.com", OPEN)

    with pytest.raises(SignInRefused, match=r"cy@example\.com has been deactivated"):
        signed_in_user(db, "cy@example.com", OPEN)
    with pytest.raises(SignInRefused, match="deactivated"):
        sign_in(db, "cy@example.com", None, OPEN)
    reactivate_user(db, BOSS, "cy@example.com", OPEN)
    assert sign_in(db, "cy@example.com", None, OPEN).role is Role.AGENT


def test_a_role_change_takes_effect_at_the_next_page_view_and_is_audited(db: Engine) -> None:
    invite_user(db, BOSS, "dee@example.com", Role.CUSTOMER)

    change_role(db, BOSS, "dee@example.com", Role.AGENT, OPEN)

    assert signed_in_user(db, "dee@example.com", OPEN).role is Role.AGENT
    assert (BOSS, AuditAction.ROLE_CHANGED, "dee@example.com", "customer → agent") in _actions(db)


def test_admins_cannot_lock_themselves_or_the_settings_admins_out(db: Engine) -> None:
    sign_in(db, BOSS, None, OPEN)
    invite_user(db, BOSS, "second@example.com", Role.ADMIN)

    with pytest.raises(UserChangeRefused, match="cannot deactivate yourself"):
        deactivate_user(db, "second@example.com", "second@example.com", OPEN)
    with pytest.raises(UserChangeRefused, match="AUTH__ADMIN_EMAILS"):
        change_role(db, "second@example.com", BOSS, Role.CUSTOMER, OPEN)
    assert signed_in_user(db, BOSS, OPEN).role is Role.ADMIN


def test_a_settings_admin_who_was_a_customer_is_promoted_at_sign_in(db: Engine) -> None:
    invite_user(db, "someone@example.com", BOSS, Role.CUSTOMER)

    assert sign_in(db, BOSS, None, OPEN).role is Role.ADMIN
    assert ("AUTH__ADMIN_EMAILS", AuditAction.ROLE_CHANGED, BOSS, "customer → admin") in (
        _actions(db)
    )


@pytest.mark.parametrize("email", ["", "not-an-email", "two@@example.com"])
def test_an_invite_needs_an_email_address(db: Engine, email: str) -> None:
    with pytest.raises(UserChangeRefused, match="is not an e-mail address"):
        invite_user(db, BOSS, email, Role.AGENT)


def test_inviting_someone_twice_says_they_have_an_account(db: Engine) -> None:
    invite_user(db, BOSS, "eve@example.com", Role.AGENT)

    with pytest.raises(UserChangeRefused, match="already has an account \\(agent\\)"):
        invite_user(db, BOSS, "EVE@example.com", Role.ADMIN)


def test_people_are_listed_admins_first(db: Engine) -> None:
    invite_user(db, BOSS, "zed@example.com", Role.CUSTOMER)
    invite_user(db, BOSS, "amy@example.com", Role.AGENT)
    sign_in(db, BOSS, "Boss", OPEN)

    assert [u.email for u in list_people(db)] == [BOSS, "amy@example.com", "zed@example.com"]


def test_people_from_before_sign_in_existed_are_active(database_url: str) -> None:
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
                "VALUES (1, 'Old Row', 'old@example.com', 'AGENT', CURRENT_TIMESTAMP)"
            )
        )

    init_schema(engine)

    with Session(engine) as session:
        old = session.get(User, 1)
    assert old is not None and old.active and old.last_sign_in_at is None
    assert signed_in_user(engine, "old@example.com", OPEN).role is Role.AGENT

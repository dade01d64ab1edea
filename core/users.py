"""Who may use the hosted app, as what: a signed-in e-mail becomes a row of the users table.

The page layer knows whether sign-in is on (Streamlit's ``[auth]`` secrets) and calls
``sign_in`` once per session with the e-mail the OpenID provider vouched for, then
``signed_in_user`` on every page view, so a deactivation or a role change takes effect at
the next click. Admins manage the table with ``invite_user``, ``change_role``,
``deactivate_user`` and ``reactivate_user``; every change and every sign-in is audited.

Rules:

- an e-mail in ``AUTH__ADMIN_EMAILS`` is always an admin (the first admins of a deployment,
  who cannot be locked out from the app: change the setting instead);
- an unknown e-mail becomes a customer or is refused, by ``AUTH__UNKNOWN_EMAIL``;
- a deactivated person is refused with a sentence saying so;
- an admin cannot change or deactivate themselves (another admin can).
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.audit import record_audit
from core.db.models import AuditAction, Role, User, utcnow
from core.errors import ObservatoryError
from core.settings import AuthSettings, UnknownEmail

SETTINGS_ACTOR = "AUTH__ADMIN_EMAILS"
"""The actor of a role change the setting made."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignInRefused(ObservatoryError):
    """The signed-in e-mail may not use the app; the message says why, for that person."""


class UserChangeRefused(ObservatoryError):
    """An admin's change to the users table that cannot be made; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def sign_in(db: Engine, email: str, name: str | None, auth: AuthSettings) -> User:
    """The user ``email`` signs in as, made on first sign-in by the rules above; records the
    sign-in (or its refusal) and when. Raises ``SignInRefused``."""
    address = normalise_email(email)
    try:
        user = _sign_in(db, address, name, auth)
    except SignInRefused as exc:
        record_audit(db, address or "(no e-mail)", AuditAction.SIGN_IN_REFUSED, address, str(exc))
        raise
    record_audit(db, address, AuditAction.SIGN_IN, address, f"signed in as {user.role.value}")
    return user


def signed_in_user(db: Engine, email: str, auth: AuthSettings) -> User:
    """The user behind a session's e-mail, checked again on each page view (nothing is
    written). Raises ``SignInRefused`` once they are deactivated or gone."""
    address = normalise_email(email)
    user = find_user(db, address)
    if user is None:
        raise SignInRefused(f"{address} no longer has an account here; ask an admin to invite you.")
    _refuse_inactive(user)
    if address in auth.admin_emails and user.role is not Role.ADMIN:
        return user.model_copy(update={"role": Role.ADMIN})
    return user


def find_user(db: Engine, email: str) -> User | None:
    with Session(db, expire_on_commit=False) as session:
        statement = select(User).where(func.lower(User.email) == normalise_email(email))
        return session.exec(statement).first()


def list_people(db: Engine) -> list[User]:
    """Everyone in the users table: admins, then agents, then customers, each by name."""
    order = {Role.ADMIN: 0, Role.AGENT: 1, Role.CUSTOMER: 2}
    with Session(db, expire_on_commit=False) as session:
        users = list(session.exec(select(User).order_by(col(User.name))))
    return sorted(users, key=lambda user: order[user.role])


def invite_user(db: Engine, actor: str, email: str, role: Role, name: str = "") -> User:
    """Add ``email`` with ``role`` before they first sign in. Raises ``UserChangeRefused``."""
    address = normalise_email(email)
    if not _EMAIL.match(address):
        raise UserChangeRefused(f"{email.strip() or 'An empty e-mail'} is not an e-mail address.")
    existing = find_user(db, address)
    if existing is not None:
        raise UserChangeRefused(
            f"{address} already has an account ({existing.role.value}); change its role instead."
        )
    user = User(name=name.strip() or _name_from(address), email=address, role=role)
    try:
        with Session(db, expire_on_commit=False) as session:
            session.add(user)
            session.commit()
    except IntegrityError as exc:
        raise UserChangeRefused(f"{address} already has an account.") from exc
    record_audit(db, actor, AuditAction.USER_INVITED, address, f"invited as {role.value}")
    return user


def change_role(db: Engine, actor: str, email: str, role: Role, auth: AuthSettings) -> User:
    """Give ``email`` the role ``role``. Raises ``UserChangeRefused``."""
    user = _changeable(db, actor, email, "change the role of", auth)
    if user.role is role:
        raise UserChangeRefused(f"{user.email} is already {_article(role)} {role.value}.")
    before = user.role
    changed = _update(db, user, role=role)
    record_audit(db, actor, AuditAction.ROLE_CHANGED, user.email, f"{before.value} → {role.value}")
    return changed


def deactivate_user(db: Engine, actor: str, email: str, auth: AuthSettings) -> User:
    """Stop ``email`` signing in (their history stays). Raises ``UserChangeRefused``."""
    user = _changeable(db, actor, email, "deactivate", auth)
    if not user.active:
        raise UserChangeRefused(f"{user.email} is already deactivated.")
    changed = _update(db, user, active=False)
    record_audit(db, actor, AuditAction.USER_DEACTIVATED, user.email, f"was {user.role.value}")
    return changed


def reactivate_user(db: Engine, actor: str, email: str, auth: AuthSettings) -> User:
    """Let a deactivated ``email`` sign in again. Raises ``UserChangeRefused``."""
    user = _changeable(db, actor, email, "reactivate", auth)
    if user.active:
        raise UserChangeRefused(f"{user.email} is active already.")
    changed = _update(db, user, active=True)
    record_audit(db, actor, AuditAction.USER_REACTIVATED, user.email, f"as {user.role.value}")
    return changed


def _sign_in(db: Engine, address: str, name: str | None, auth: AuthSettings) -> User:
    if not _EMAIL.match(address):
        raise SignInRefused(
            "Your sign-in did not give an e-mail address, which this app needs to know who you "
            "are; ask your identity provider's admin to share it."
        )
    admin = address in auth.admin_emails
    user = find_user(db, address)
    if user is None:
        if not admin and auth.unknown_email is UnknownEmail.REFUSE:
            raise SignInRefused(
                f"{address} has no account here: ask an admin of this app to invite you."
            )
        role = Role.ADMIN if admin else Role.CUSTOMER
        user = User(name=(name or "").strip() or _name_from(address), email=address, role=role)
        with Session(db, expire_on_commit=False) as session:
            session.add(user)
            session.commit()
    _refuse_inactive(user)
    if admin and user.role is not Role.ADMIN:
        record_audit(
            db, SETTINGS_ACTOR, AuditAction.ROLE_CHANGED, address,
            f"{user.role.value} → admin",
        )  # fmt: skip
        user = _update(db, user, role=Role.ADMIN)
    return _update(db, user, last_sign_in_at=utcnow())


def _refuse_inactive(user: User) -> None:
    if not user.active:
        raise SignInRefused(
            f"The account {user.email} has been deactivated; ask an admin of this app if you "
            "need it again."
        )


def _changeable(db: Engine, actor: str, email: str, verb: str, auth: AuthSettings) -> User:
    address = normalise_email(email)
    if address == normalise_email(actor):
        raise UserChangeRefused(f"You cannot {verb} yourself: another admin can.")
    if address in auth.admin_emails:
        raise UserChangeRefused(
            f"{address} is an admin by the {SETTINGS_ACTOR} setting; take it out of that "
            "setting first."
        )
    user = find_user(db, address)
    if user is None:
        raise UserChangeRefused(f"{address} has no account here.")
    return user


def _update(db: Engine, user: User, **changes: object) -> User:
    with Session(db, expire_on_commit=False) as session:
        stored = session.get(User, user.id)
        if stored is None:
            raise UserChangeRefused(f"{user.email} has no account here.")
        for name, value in changes.items():
            setattr(stored, name, value)
        session.add(stored)
        session.commit()
        return stored


def _name_from(address: str) -> str:
    """``ada.lovelace@example.com`` → ``Ada Lovelace``."""
    local = address.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._+-]+", local) if part) or address


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"

"""Staff accounts: creation and password checks (werkzeug hashes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from central.models import User
from central.services.errors import Conflict, InvalidParameter

ROLES: Final = ("admin", "invigilator", "reviewer")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
# Checked when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str


def _info(user: User) -> UserInfo:
    return UserInfo(id=user.id, username=user.username, role=user.role)


def _check_role_and_password(role: str, password: str) -> None:
    if role not in ROLES:
        raise InvalidParameter("role", f"must be one of {', '.join(ROLES)}")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidParameter(
            "password", f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


def create_user(session: Session, username: str, password: str, role: str) -> UserInfo:
    """Add a user (the caller commits). Raises InvalidParameter or Conflict."""
    if not _USERNAME_RE.match(username):
        raise InvalidParameter("username", "must be 1-64 letters, digits, '_', '.', '@', '-'")
    _check_role_and_password(role, password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"user {username!r} already exists") from None
    return _info(user)


def authenticate(session: Session, username: str, password: str) -> UserInfo | None:
    """The user if the password is right, else None (same cost whether or not the user exists)."""
    if len(password) > MAX_PASSWORD_LENGTH or len(username) > 64:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return _info(user)


def get_user(session: Session, user_id: int) -> UserInfo | None:
    user = session.get(User, user_id)
    return _info(user) if user is not None else None


def set_password(session: Session, username: str, password: str, role: str) -> UserInfo:
    """Create the user, or give an existing one this password and role (the caller commits)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return create_user(session, username, password, role)
    _check_role_and_password(role, password)
    user.password_hash = generate_password_hash(password)
    user.role = role
    session.flush()
    return _info(user)

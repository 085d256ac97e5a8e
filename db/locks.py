"""Locks every replica takes, held in the database itself (atomic sign-in throttling, video quotas)."""

from __future__ import annotations

from sqlalchemy import String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from softskills.db.base import Base


class NamedLock(Base):
    """One row per lock name; `hold_lock` writes it to serialise a read-check-write across processes."""

    __tablename__ = "named_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)


def hold_lock(session: Session, name: str) -> None:
    """Holds `name` until the session's transaction ends, on every replica: the UPDATE takes the row's lock on
    PostgreSQL and the database's write lock on SQLite. Call it first in the transaction, so that the counts read
    after it include every transaction that held it before."""
    locked = update(NamedLock).where(NamedLock.name == name).values(name=name)
    if session.execute(locked).rowcount:
        return
    try:  # the lock's first use
        with session.begin_nested():
            session.execute(insert(NamedLock).values(name=name))
    except IntegrityError:  # another transaction created it first (PostgreSQL): wait for it as for any holder
        session.execute(locked)

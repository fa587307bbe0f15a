"""Database plumbing: the declarative base, engine and session factory, and column helpers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, MetaData, create_engine, event, func, text
from sqlalchemy.dialects.postgresql.base import ischema_names as postgresql_ischema_names
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.types import UserDefinedType

# Stable constraint names, so migrations can refer to them and autogenerate stays quiet.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def one_of(column: str, values: Iterable[str], name: str | None = None) -> CheckConstraint:
    """A CHECK that keeps a text column within a closed vocabulary (easier to evolve than ENUM)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_allowed")


def geometry_ok(column: str) -> CheckConstraint:
    """Valid, non-empty, finite and within lon/lat range: see rs_geometry_ok() in the migrations."""
    return CheckConstraint(f"rs_geometry_ok({column})", name=f"{column}_valid")


def sqlalchemy_url(url: str) -> str:
    """Accept the plain libpq form too (postgresql://…), and use psycopg 3 for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, transaction_pooling: bool = False, **kwargs: object) -> Engine:
    # Sessions are UTC; JIT adds ~150 ms to heavy spatial queries and saves nothing here.
    connect_args: dict[str, object] = {"options": "-c timezone=UTC -c jit=off"}
    if transaction_pooling:
        # Behind PgBouncer in transaction mode a session spans many server connections: no
        # server-side prepared statements (psycopg prepares after 5 runs), and no startup
        # options: the database's own defaults must say UTC and jit off (deploy/README.md).
        connect_args = {"prepare_threshold": None}
    return create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        connect_args=connect_args | {"application_name": "rangersync"},
        **kwargs,
    )


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


STATEMENT_TIMEOUT = "rangersync.statement_timeout_ms"


def limit_statements(session: Session, seconds: float) -> None:
    """From now on, every statement of `session` may run at most `seconds`; PostgreSQL cancels
    it past that (psycopg raises QueryCanceled, answered as a 503 problem). Set per transaction
    (SET LOCAL), so a pooled connection goes back to the pool without it, PgBouncer included."""
    ms = max(1, int(seconds * 1000))
    session.info[STATEMENT_TIMEOUT] = ms
    if session.in_transaction():
        _set_local_timeout(session.connection(), ms)


@event.listens_for(Session, "after_begin")
def _limit_new_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    if ms := session.info.get(STATEMENT_TIMEOUT):
        _set_local_timeout(connection, ms)


def _set_local_timeout(connection: Connection, ms: int) -> None:
    connection.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(ms)})


class XID8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id: what commit-ordered sync cursors compare."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


class ChangeTracked:
    """Rows a device pulls carry the id of the transaction that last changed them (set by the
    rs_track_change trigger). A pull cursor is a snapshot: the rows to send are those whose
    transaction the snapshot did not see, which is exact even when a long transaction commits
    after a short one — unlike a sequence number or an updated_at column."""

    change_xid = mapped_column(
        XID8(), server_default=text("pg_current_xact_id()"), nullable=False, index=True
    )


# Let reflection (Alembic's autogenerate) recognise the type instead of warning about it.
postgresql_ischema_names["xid8"] = XID8

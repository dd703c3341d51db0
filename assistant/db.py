"""The feedback and conversations database: SQLAlchemy tables, Alembic migrations, and failures as 503s.

SQLite under the data dir by default; PostgreSQL (or any SQLAlchemy URL) with `LVA_DATABASE_URL`. The schema is
brought to the newest migration on first use, so an API that starts while the database is down still answers
questions and picks the database up when it comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import JSON, CheckConstraint, Float, Integer, String, Text, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from assistant.config import Settings
from assistant.errors import StorageUnavailable

log = logging.getLogger("lva.db")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "feedback.sqlite3"  # the name predates conversations; kept so existing data dirs carry over
RETRY_AFTER_S = 5
_PG_MIGRATION_LOCK = 7_142_014  # any constant: serialises migrations of several workers on one PostgreSQL


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    """One rating of one answer."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating IN ('up', 'down')", name="feedback_rating"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    answer: Mapped[str] = mapped_column(Text, nullable=False)
    rating: Mapped[str] = mapped_column(String(8), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class ConversationRow(Base):
    """A saved chat: its turns as one JSON document, replaced whole on every save."""

    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    turns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


def database_url(settings: Settings) -> str:
    """The configured URL, or SQLite under the data dir; `postgresql://` means the psycopg 3 driver."""
    if settings.database_url is None:
        return f"sqlite:///{settings.resolved_data_dir() / SQLITE_FILE}"
    url = settings.database_url.get_secret_value()
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


class Database:
    """An engine, its migrations (run once, on first use) and sessions whose connection failures are 503s."""

    def __init__(self, url: str, timeout_s: float = 3.0) -> None:
        self.url = make_url(url)
        self.sqlite_path: Path | None = None
        if self.url.get_backend_name() == "sqlite":
            self.sqlite_path = Path(self.url.database or "").expanduser().resolve()
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            # Several API workers may write at once: wait for the lock rather than fail at once.
            self.engine: Engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_wal)
        else:
            connect_args: dict[str, Any] = {}
            if self.url.drivername.startswith("postgres"):
                # A host that vanishes mid-query (no RST) is noticed by the kernel, not after TCP's ~15 minutes.
                connect_args = {"connect_timeout": max(1, round(timeout_s)), "tcp_user_timeout": 10_000}
            self.engine = create_engine(
                url,
                pool_pre_ping=True,  # a restarted server leaves dead connections in the pool: test each before use
                pool_timeout=timeout_s,
                connect_args=connect_args,
            )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._migrated = False
        self._lock = threading.Lock()
        self._down_since: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database the settings name."""
        return cls(database_url(settings), settings.database_timeout_s)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe with several processes at once)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.sqlite_path is None:
            yield
            return
        with FileLock(str(self.sqlite_path) + ".migrate.lock", timeout=60):
            yield

    def ensure_schema(self) -> None:
        """Run the migrations once per process; until they succeed, every call tries again."""
        if self._migrated:
            return
        with self._lock:
            if self._migrated:
                return
            with self._failures_are_unavailable():
                self.upgrade()
            self._migrated = True

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed on success; connection failures raise `StorageUnavailable`."""
        self.ensure_schema()
        with self._failures_are_unavailable(), self.sessions.begin() as session:
            yield session

    @contextmanager
    def _failures_are_unavailable(self) -> Iterator[None]:
        try:
            yield
            if self._down_since is not None:
                log.warning("database is back after %.0fs", time.monotonic() - self._down_since)
                self._down_since = None
        except (DBAPIError, PoolTimeout, OSError) as exc:
            if isinstance(exc, DBAPIError) and not _is_connection_failure(exc):
                raise
            if self._down_since is None:  # logged once per outage, not once per request
                self._down_since = time.monotonic()
                log.warning("database unavailable (%s); feedback and conversations answer 503", _reason(exc))
            raise StorageUnavailable(
                f"the feedback and conversations database is unavailable ({_reason(exc)}); retry shortly"
            ) from None

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_wal(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _is_connection_failure(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    first = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{inner.__class__.__name__}: {first}"[:200]

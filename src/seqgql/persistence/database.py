"""The engine and the two kinds of unit of work: read and write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from seqgql.caching import LRU
from seqgql.persistence.direct_reads import DirectReads, PreparedRead

log = logging.getLogger("seqgql.persistence")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long a write waits for its turn among the process's SQLite writes (see Database)
# before it fails as the database being unavailable, as the busy timeout made it before.
SQLITE_WRITE_TURN_SECONDS = 30.0
_TOUCHED = "seqgql.touched_sequences"

CommitListener = Callable[[set[int]], None]


def mark_sequences_changed(conn: AsyncConnection, sequence_ids: Iterable[int]) -> None:
    """Note that this transaction wrote events for these sequences (or, like the engine's
    sends, changed their enrollments' steps); once it commits, the database's commit
    listeners hear of them (never before, never on rollback)."""
    conn.info.setdefault(_TOUCHED, set()).update(sequence_ids)


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether an error means the database cannot be reached for now (a restart, a
    dropped connection, a refused one): the request may be retried as it is."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated or isinstance(
            exc, (sa.exc.InterfaceError, sa.exc.OperationalError)
        ):
            return True
        return _sqlstate(exc.orig) in _UNAVAILABLE_STATES or _sqlstate(exc.orig)[:2] == "08"
    if isinstance(exc, asyncpg.InterfaceError):  # DirectReads: a connection lost, say
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return _sqlstate(exc) in _UNAVAILABLE_STATES or _sqlstate(exc)[:2] == "08"
    return isinstance(exc, (OSError, TimeoutError))


def first_line(exc: BaseException) -> str:
    """What to log of an error in one line: its message's first line, or its type."""
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


T = TypeVar("T")


async def patiently(read: Callable[[], Awaitable[T]], *, max_delay: float = 2.0) -> T:
    """``read()``, tried again while the database is out of reach (after 0.1 s, then
    twice as long each time, at most ``max_delay`` apart): for work that has no one to
    answer an error to, like a live subscription, which should see only a delay."""
    delay = 0.1
    while True:
        try:
            return await read()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning("the database is unavailable (retry in %.1f s): %s", delay, first_line(exc))
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


# connections refused: shutting down, starting up, not accepting connections
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "55000"})


def _sqlstate(error: BaseException | None) -> str:
    """PostgreSQL's SQLSTATE of a driver error (through what wraps it), or ""."""
    while error is not None:
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str):
            return state
        error = error.__cause__
    return ""


def async_url(url: str | URL) -> URL:
    """Accept the URLs users write (postgresql://, sqlite:///) and pick the async driver."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}.get(
        parsed.drivername
    )
    if parsed.drivername == "sqlite":
        driver = "sqlite+aiosqlite"
    return parsed.set(drivername=driver) if driver else parsed


class Database:
    """Owns the engine. ``write()`` is one transaction that may change rows.

    On SQLite a write transaction starts with BEGIN IMMEDIATE so that it holds the
    write lock from its first read: what it reads cannot change before it writes.
    SQLite takes one writer at a time, and left to its busy timeout the writers waiting
    poll for the lock: whoever polls at the right moment wins, and an unlucky one waited
    up to the whole timeout while later ones went first (32 concurrent bulk clients: p99
    6.1 s, max 16.6 s). So in one process the writes of one Database take turns, first
    come first served (``_turn``); the busy timeout remains for other processes.
    """

    def __init__(self, url: str | URL, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = async_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            # no pre-ping (a round trip per checkout); connections are recycled instead.
            # LIFO: under a light load the same few connections serve (their prepared
            # statements warm), and the ones past what the load needs stay idle
            kwargs.update(
                pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, pool_use_lifo=True
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # Reads on PostgreSQL run in autocommit: no BEGIN/COMMIT round trips per read.
        self._read_engine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            self._read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.commit_listeners: list[CommitListener] = []
        # True on SQLite: writes take turns (``_turn``); set to False, SQLite's busy
        # timeout alone decides who writes next (bench/sqlite_writes.py measures both)
        self.queue_writes = self.is_sqlite
        self._write_turn = asyncio.Lock()  # first come, first served
        self._writing: asyncio.Task[Any] | None = None  # the task whose turn it is
        # statements built once per shape by the services (see enrollments/page.py)
        self.statements: LRU[tuple[Any, ...], sa.Executable] = LRU(maxsize=512)
        # the page's statements straight through asyncpg (PostgreSQL only)
        self.direct = None if self.is_sqlite else DirectReads(self.url, pool_size)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading. On PostgreSQL it runs in autocommit (each statement
        sees the latest committed data; no BEGIN/COMMIT round trips); on SQLite, one
        read transaction."""
        if self.is_sqlite:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
        else:
            async with self._read_engine.connect() as conn:
                yield conn

    def prepare(self, statement: sa.Executable, params: dict[str, Any]) -> PreparedRead:
        """A read statement built once per shape (see ``statements``) with its values,
        ready for ``rows`` (on PostgreSQL compiled with its arguments: ``DirectReads``)."""
        if self.direct is not None:
            return self.direct.prepare(statement, params)
        return PreparedRead(statement, params)

    async def rows(self, prepared: PreparedRead, *, raw: bool = False) -> list[Any]:
        """The rows of a prepared read, each a sequence of its columns' values: on
        PostgreSQL through asyncpg directly (``DirectReads``; ``raw``: its records as
        asyncpg reads them), on SQLite as SQLAlchemy rows (read as ``read()`` does)."""
        if self.direct is not None:
            return await self.direct.fetch(prepared, raw=raw)
        async with self.read() as conn:
            return list((await conn.execute(prepared.statement, prepared.params)).all())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._turn(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
            # what an earlier, rolled-back transaction on this connection noted is
            # forgotten here (not on failure: the connection may be gone by then)
            conn.info.pop(_TOUCHED, None)
            async with conn.begin():
                yield conn
            touched: set[int] = conn.info.pop(_TOUCHED, set())
        if touched:
            for listener in self.commit_listeners:
                listener(touched)

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """On SQLite, wait for this write's turn (see the class); elsewhere, nothing."""
        if not self.queue_writes:
            yield
            return
        task = asyncio.current_task()
        if task is not None and task is self._writing:
            # it would wait for itself forever
            raise RuntimeError("a write inside a write of the same task (one at a time)")
        try:
            async with asyncio.timeout(SQLITE_WRITE_TURN_SECONDS):
                await self._write_turn.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"no turn to write within {SQLITE_WRITE_TURN_SECONDS:g} s (SQLite is busy)"
            ) from None
        try:
            self._writing = task
            yield
        finally:
            self._writing = None
            self._write_turn.release()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self.direct is not None:
            await self.direct.close()
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

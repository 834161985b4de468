"""Opening the store: the engine, SQLite pragmas, and the Alembic upgrade to the latest revision.

Start-up cost matters (``tokendash report`` must answer in well under a second), so a store that is
already at ``HEAD`` is recognised with one query and Alembic is imported only when there is work to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tokendash.errors import StoreError

# The newest revision in migrations/versions; tests/unit/test_store_schema.py keeps this honest.
from tokendash.store.reader import SCHEMA_HEAD as HEAD

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: a cold ingest inserts ~10^5 random keys
    cur.execute("PRAGMA foreign_keys=ON")
    # Checkpoint the WAL every ~40 MB instead of every 4 MB: a cold ingest commits ~10^4 rows at a time,
    # each dirtying more than 4 MB of index pages, and a checkpoint (with its fsync) after every commit
    # cost a third of the writer's time. The file is cut back to 64 MB after a checkpoint.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.execute("PRAGMA journal_size_limit=67108864")
    cur.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The driver's own transaction handling commits before DDL, so a crash in the middle of the
        # first migration would leave half a schema. Autocommit in the driver plus an explicit BEGIN
        # (SQLAlchemy's documented recipe) makes every transaction, DDL included, all or nothing.
        engine = create_engine(url, connect_args={"timeout": 10, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "connect", _postgres_session)
    return engine


def _postgres_session(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # No JIT: tokendash's queries are short, and PostgreSQL compiles a plan whose row estimate is large
    # (a stale estimate of a small table is enough) for ~0.3 s, more than the query itself takes. A SET
    # rather than a startup option, which connection poolers such as PgBouncer refuse.
    cur = dbapi_conn.cursor()
    cur.execute("SET jit = off")
    cur.close()
    dbapi_conn.commit()


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema (no-op when already at HEAD)."""
    if revision == "head" and current_revision(engine) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as conn:
            if not is_sqlite(engine):
                # Sidecars of a team starting together on a new database: one migrates, the others wait
                # here and then find the schema current (SQLite serialises on its write lock instead).
                conn.execute(text("SELECT pg_advisory_xact_lock(7235350)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as e:
        raise StoreError(f"could not migrate the store: {type(e).__name__}: {e.orig if hasattr(e, 'orig') else e}") from e


def open_store(url: str) -> Engine:
    try:
        engine = make_engine(url)
        migrate(engine)
    except SQLAlchemyError as e:
        raise StoreError(f"could not open the store {redact_url(url)}: {type(e).__name__}") from e
    if is_sqlite(engine):
        path = url[len("sqlite:///") :]
        if path and os.path.exists(path):
            os.chmod(path, 0o600)
    return engine


def redact_url(url: str) -> str:
    import re

    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1****@", url)

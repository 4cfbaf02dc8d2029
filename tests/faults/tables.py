"""Hold MariaDB table locks from a separate connection, so that ingest is stuck between
receiving a batch and committing it for as long as a test wants."""

from __future__ import annotations

import pymysql
import sqlalchemy as sa

LOCKED_TABLES = ("events", "device_messages")


def _connect(database_url: str) -> pymysql.Connection[pymysql.cursors.Cursor]:
    url = sa.make_url(database_url)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=url.database,
        autocommit=True,
    )


class TableLock:
    """`LOCK TABLES ... WRITE` on the tables every acknowledged message goes to."""

    def __init__(self, database_url: str) -> None:
        self._conn = _connect(database_url)
        self._database = sa.make_url(database_url).database
        with self._conn.cursor() as cur:
            cur.execute("LOCK TABLES " + ", ".join(f"{t} WRITE" for t in LOCKED_TABLES))
            cur.execute("SELECT CONNECTION_ID()")
            row = cur.fetchone()
        assert row is not None
        self._own_id = int(row[0])

    def waiters(self) -> int:
        """Other connections of this database waiting for the lock (ingest, mid-transaction)."""
        with self._conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                " WHERE DB = %s AND ID <> %s AND STATE LIKE %s",
                (self._database, self._own_id, "%lock%"),
            )
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def release(self) -> None:
        with self._conn.cursor() as cur:
            cur.execute("UNLOCK TABLES")
        self._conn.close()

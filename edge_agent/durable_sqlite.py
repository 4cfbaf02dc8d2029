"""The kiosk's durable SQLite files (outbox, evidence index): one place for the rule that a
committed row survives a power cut: WAL journal (refused if the file system cannot do WAL)
and synchronous=FULL."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) with explicit transactions and `schema` applied."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"journal_mode is {mode}, WAL is required")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(schema)
    except sqlite3.Error:
        conn.close()
        raise
    return conn

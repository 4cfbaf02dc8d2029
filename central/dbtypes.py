"""Column types shared by the models and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MYSQL = ("mysql", "mariadb")

# Microsecond precision on MySQL/MariaDB (plain DATETIME drops the fraction).
DATETIME_TYPE: TypeEngine[datetime] = DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
# Payloads up to 64 KiB: MySQL's BLOB holds 65535 bytes, one short.
PAYLOAD_TYPE: TypeEngine[bytes] = LargeBinary().with_variant(mysql.MEDIUMBLOB(), *MYSQL)
# SQLite only autoincrements INTEGER PRIMARY KEY.
BIG_ID_TYPE: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
JSON_TYPE: TypeEngine[Any] = JSON(none_as_null=True)
ID_LEN = 64  # protocol ids: letters, digits, '_', '.', '-', at most 64
UUID_LEN = 36  # canonical text form of a UUID
TOPIC_LEN = 255  # dead letters keep the first 255 characters of the topic
# Case-sensitive ids on MySQL too (the default collation would make "A-1" equal "a-1").
MYSQL_TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC. Naive datetimes are refused: their zone is unknown."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: give times with a timezone (UTC preferred)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)

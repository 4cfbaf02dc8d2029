"""Central's settings, read from PROCTOR_* environment variables.

Every field has a default and a description; unknown keys are rejected. Secrets (the broker and
database passwords, the Flask secret key) are never part of the repr, so the settings can be
logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
)

from protocol.broker_url import BrokerUrl
from protocol.models import MAX_EVIDENCE_BYTES

ENV_PREFIX = "PROCTOR_"


def _parse_broker(value: Any) -> BrokerUrl:
    if isinstance(value, BrokerUrl):
        return value
    if not isinstance(value, str):
        raise ValueError("broker URL must be a string such as mqtt://host:1883")
    return BrokerUrl.parse(value)  # BrokerUrlError is a ValueError: pydantic reports it


BrokerUrlField = Annotated[
    BrokerUrl,
    PlainValidator(_parse_broker),
    PlainSerializer(lambda url: url.to_url(redact=True), return_type=str),
]

# field name -> environment variable (without the prefix); public for generated docs
ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "broker_url": "BROKER_URL",
    "secret_key": "SECRET_KEY",
    "ingest_client_id": "INGEST_CLIENT_ID",
    "ingest_share_group": "INGEST_SHARE_GROUP",
    "ingest_batch_size": "INGEST_BATCH_SIZE",
    "ingest_batch_wait_ms": "INGEST_BATCH_WAIT_MS",
    "cookie_secure": "COOKIE_SECURE",
    "evidence_dir": "EVIDENCE_DIR",
    "evidence_max_bytes": "EVIDENCE_MAX_BYTES",
    "rate_limit_storage": "RATE_LIMIT_STORAGE",
    "centre_dir": "CENTRE_DIR",
}


class CentralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = Field(
        default="sqlite:///var/central.sqlite3",
        description="SQLAlchemy URL of the database. The default is a SQLite file under ./var; "
        "MySQL/MariaDB: mysql+pymysql://user:pass@host:3306/db.",
        repr=False,  # may hold a password
        min_length=1,
    )
    broker_url: BrokerUrlField = Field(
        default_factory=lambda: BrokerUrl.parse("mqtt://127.0.0.1:1883"),
        description="MQTT broker: mqtt[s]://user:pass@host:port[?version=3.1.1&ca=/path/ca.pem].",
    )
    secret_key: str = Field(
        default="",
        description="Flask session signing key. Empty: a random key per process (logins do not "
        "survive a restart and do not work across several web workers).",
        repr=False,
    )
    ingest_client_id: str = Field(
        default="central-ingest-1",
        description="Stable MQTT client id of this ingest worker; the broker keeps its session "
        "(and unacknowledged messages) under this id.",
        min_length=1,
        max_length=128,
    )
    ingest_share_group: str = Field(
        default="ingest",
        description="MQTT shared-subscription group; empty for a plain subscription (the "
        "embedded demo broker has no $share support).",
        pattern=r"^[A-Za-z0-9_.-]*$",
    )
    ingest_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Most messages stored in one transaction."
    )
    ingest_batch_wait_ms: int = Field(
        default=50, ge=0, le=10_000, description="How long a batch waits to fill up."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark session cookies Secure (send over HTTPS only). Set true behind TLS.",
    )
    evidence_dir: str = Field(
        default="var/evidence",
        description="Directory where uploaded evidence files (clips, snapshots) are stored.",
        min_length=1,
    )
    evidence_max_bytes: int = Field(
        default=MAX_EVIDENCE_BYTES,
        ge=1,
        le=MAX_EVIDENCE_BYTES,
        description="Largest evidence upload accepted, in bytes; larger ones get HTTP 413.",
    )

    rate_limit_storage: str = Field(
        default="memory://",
        description="Where failed-login counts live (Flask-Limiter storage URI): memory:// "
        "counts per web process; redis://host:6379 shares them between workers.",
        min_length=1,
        repr=False,
    )

    centre_dir: str = Field(
        default="",
        description="The provisioning centre directory (registry, CA, bundles): kiosks that "
        "enrol with a one-time token wait here for an admin's approval. Empty: no enrolment.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> CentralConfig:
        """Settings from PROCTOR_* variables; keyword overrides that are not None win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, name in ENV_NAMES.items():
            raw = env.get(ENV_PREFIX + name)
            if raw is not None:
                values[field] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


def describe_errors(error: ValidationError) -> str:
    """What is wrong, by environment variable, without echoing values (they may be secrets)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        name = ENV_PREFIX + ENV_NAMES[field] if field in ENV_NAMES else field or "(settings)"
        parts.append(f"{name}: {item['msg']}")
    return "; ".join(parts)

"""The centre's provisioning settings: chosen at `init-centre`, kept in the registry file, so
every later command renders the broker files and bundles the same way."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from protocol.topics import ID_PATTERN


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerSettings(Section):
    host: str = Field(
        "broker.centre.local",
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$",
        description="Name kiosks use to reach the broker; in the server certificate's SAN.",
    )
    tls_port: int = Field(8883, ge=1, le=65535, description="TLS listener for kiosks.")
    local_port: int | None = Field(
        1883,
        ge=1,
        le=65535,
        description="Plain listener on 127.0.0.1 for central's own processes; None: TLS only.",
    )
    broker_dir: Path = Field(
        Path("broker"), description="Where the broker's files live (absolute once rendered)."
    )
    pid_file: Path = Field(
        Path("/run/mosquitto/mosquitto.pid"),
        description="Where Mosquitto writes its pid; register/revoke/rotate reload it from there.",
    )
    autosave_interval_s: int = Field(
        5, ge=1, le=300, description="Seconds between persistence saves; a crash loses these."
    )
    max_queued_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        description="Per-client queue bound in bytes (max_queued_messages is 0: no count limit).",
    )
    max_inflight_messages: int = Field(
        1000,
        ge=20,
        le=65535,
        description="QoS 1 messages sent to one client and not yet acked. Mosquitto's default, "
        "20, holds an ingest worker (which acks only after its commit) to batches of 20.",
    )
    max_packet_size: int = Field(
        1024 * 1024,
        ge=64 * 1024,
        le=256 * 1024 * 1024,
        description="Largest MQTT packet (Mosquitto 2 prefers it to message_size_limit); "
        "events only, evidence goes over HTTPS.",
    )
    persistent_client_expiration: str = Field(
        "14d", pattern=r"^[0-9]+[hdwmy]$", description="Drop sessions of clients gone this long."
    )


class CentreSettings(Section):
    centre_id: str = Field("centre-1", pattern=ID_PATTERN, description="Exam centre id.")
    broker: BrokerSettings = Field(default_factory=BrokerSettings, description="The broker.")
    central_url: str = Field(
        "",
        description="Central's web address for evidence uploads; empty: https://<broker host>.",
    )
    ingest_workers: int = Field(
        2,
        ge=1,
        le=64,
        description="Ingest worker accounts (central-ingest-1..N): the username is the client id.",
    )
    kiosk_config_dir: Path = Field(
        Path("/etc/proctor"), description="Where the bundle installs config and keys on a kiosk."
    )
    kiosk_data_dir: Path = Field(
        Path("/var/lib/proctor"), description="Writable data partition on a kiosk (outbox)."
    )
    kiosk_ui_url: str = Field(
        "http://127.0.0.1:8080/", description="Local kiosk screen address Chromium opens."
    )

    def web_url(self) -> str:
        return self.central_url or f"https://{self.broker.host}"

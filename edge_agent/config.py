"""Kiosk configuration: a tree of small pydantic models loaded from TOML.

Every field has a default and a description, unknown keys are rejected, and a validation
error names the key path (``publisher.max_in_flight: ...``). The broker password may come
from the environment (``PROCTOR_BROKER_PASSWORD``) so config files can be shared.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from protocol.broker_url import BrokerUrl, BrokerUrlError
from protocol.topics import ID_PATTERN

PASSWORD_ENV = "PROCTOR_BROKER_PASSWORD"  # noqa: S105 (the name of the variable, not a secret)

Id = Annotated[str, Field(pattern=ID_PATTERN)]


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


def _default_device_id() -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()).strip("-.") or "kiosk"
    return name[:64]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityConfig(Section):
    centre_id: Id = Field("centre-1", description="Exam centre this kiosk belongs to.")
    device_id: Id = Field(
        default_factory=_default_device_id,
        description="This kiosk's id; also its MQTT client id and username. Default: hostname.",
    )
    seat_id: Id | None = Field(None, description="Seat the kiosk stands at, if fixed.")
    simulated: bool = Field(
        False, description="Mark everything this kiosk sends as simulated (demos, rehearsals)."
    )
    signing_key: Path | None = Field(
        None,
        description="Ed25519 private key (PEM) from provisioning: every outbox message is "
        "chained to the previous one and signed. Unset: messages go unsigned.",
    )


class BrokerConfig(Section):
    url: str = Field(
        "mqtt://127.0.0.1:1883",
        description="mqtt[s]://user:pass@host:port?version=5&ca=/path/ca.pem",
    )
    password: SecretStr | None = Field(
        None, description=f"Broker password; overrides the URL's. Env {PASSWORD_ENV} wins."
    )
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive in seconds.")
    session_expiry_s: int = Field(
        86_400, ge=0, description="MQTT v5 session expiry: commands queued offline survive this."
    )

    @field_validator("url")
    @classmethod
    def _url_parses(cls, value: str) -> str:
        try:
            BrokerUrl.parse(value)
        except BrokerUrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    def broker_url(self) -> BrokerUrl:
        """The parsed URL with the configured password applied."""
        url = BrokerUrl.parse(self.url)
        if self.password is not None:
            url = url.with_credentials(url.username, self.password.get_secret_value())
        return url


class OutboxConfig(Section):
    filename: str = Field("outbox.sqlite3", description="Outbox database file inside data_dir.")
    max_bytes: int | None = Field(
        512 * 1024 * 1024,
        ge=64 * 1024,
        description="Cap on the outbox database size; beyond it new messages are refused.",
    )


class PublisherConfig(Section):
    ack_timeout_s: float = Field(
        30.0, gt=0, description="Resend a message (same id) if central has not acked it by then."
    )
    max_in_flight: int = Field(
        500, ge=1, le=10_000, description="Most messages sent and not yet acked by central."
    )
    reconnect_min_s: int = Field(1, ge=1, description="First reconnect delay in seconds.")
    reconnect_max_s: int = Field(60, ge=1, description="Reconnect delay doubles up to this.")
    poll_interval_s: float = Field(
        0.5, gt=0, le=10, description="How often the sender looks for due work when idle."
    )

    @model_validator(mode="after")
    def _backoff_is_ordered(self) -> Self:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self


class HeartbeatConfig(Section):
    interval_s: float = Field(10.0, gt=0, description="Seconds between heartbeats (QoS 0).")


class ClockConfig(Section):
    synced: bool | None = Field(
        None, description="Force the 'clock synced' flag; unset: ask systemd-timesyncd."
    )


class AgentConfig(Section):
    identity: IdentityConfig = Field(default_factory=IdentityConfig, description="Who I am.")
    broker: BrokerConfig = Field(default_factory=BrokerConfig, description="MQTT broker.")
    data_dir: Path = Field(
        Path("/var/lib/proctor"), description="Writable directory for the outbox and evidence."
    )
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="Durable outbox.")
    publisher: PublisherConfig = Field(
        default_factory=PublisherConfig, description="Sending and resending."
    )
    heartbeat: HeartbeatConfig = Field(default_factory=HeartbeatConfig, description="Health.")
    clock: ClockConfig = Field(default_factory=ClockConfig, description="Time sync.")

    def outbox_path(self) -> Path:
        return self.data_dir / self.outbox.filename


def describe_errors(error: ValidationError) -> str:
    """One line per problem, each starting with the dotted key path."""
    lines = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"{path}: {item['msg']}")
    return "\n".join(lines)


ConfigT = TypeVar("ConfigT", bound=AgentConfig)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str] | None = None) -> AgentConfig:
    """Validate a config mapping; the password env var overrides broker.password."""
    return parse_config_as(AgentConfig, data, env)


def parse_config_as(
    model: type[ConfigT], data: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> ConfigT:
    """Validate a config mapping as `model` (AgentConfig or an extension of it)."""
    env = os.environ if env is None else env
    tree = dict(data)
    password = env.get(PASSWORD_ENV)
    broker = tree.get("broker", {})
    if password and isinstance(broker, Mapping):
        tree["broker"] = {**broker, "password": password}
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> AgentConfig:
    """Load and validate a TOML config file (or defaults when path is None)."""
    return load_config_as(AgentConfig, path, env)


def load_config_as(
    model: type[ConfigT], path: Path | None, env: Mapping[str, str] | None = None
) -> ConfigT:
    """Load a TOML config file as `model` (AgentConfig or an extension of it)."""
    if path is None:
        return parse_config_as(model, {}, env)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    try:
        return parse_config_as(model, data, env)
    except ConfigError as exc:
        raise ConfigError(f"config {path} is invalid:\n{exc}") from None

"""Mosquitto 2.0 configuration, password file and ACL file, rendered in full from the registry.

The settings follow the architecture notes: no anonymous access, a password file and an ACL
file, the username as client id (a kiosk cannot pose as another by choosing its client id),
persistence with a short autosave, no count limit on queued messages (Mosquitto drops QoS 1
messages past `max_queued_messages` without a word) but a byte bound, and a size limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provisioning import accounts
from provisioning.files import PUBLIC, write_file, write_private
from provisioning.passwd import PasswordEntry, render_password_file
from provisioning.registry import Registry
from provisioning.settings import BrokerSettings


@dataclass(frozen=True)
class BrokerPaths:
    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def password_file(self) -> Path:
        return self.root / "passwd"

    @property
    def acl_file(self) -> Path:
        return self.root / "acl"

    @property
    def cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def key(self) -> Path:
        return self.root / "server.key"

    @property
    def data(self) -> Path:
        return self.root / "data"


def broker_paths(centre_dir: Path, settings: BrokerSettings) -> BrokerPaths:
    root = settings.broker_dir
    return BrokerPaths((root if root.is_absolute() else centre_dir / root).resolve())


def render_conf(settings: BrokerSettings, paths: BrokerPaths) -> str:
    lines = [
        "# Mosquitto 2.0 configuration written by `python -m provisioning init-centre`.",
        "# The password and ACL files are re-rendered by register-kiosk/revoke/rotate.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"pid_file {settings.pid_file}",
        f"password_file {paths.password_file}",
        f"acl_file {paths.acl_file}",
        "",
        "persistence true",
        f"persistence_location {paths.data}/",
        f"autosave_interval {settings.autosave_interval_s}",
        f"persistent_client_expiration {settings.persistent_client_expiration}",
        "# 0 = no count limit: past a count Mosquitto drops QoS 1 messages silently.",
        "max_queued_messages 0",
        f"max_queued_bytes {settings.max_queued_bytes}",
        f"max_packet_size {settings.max_packet_size}",
        "# Ingest acks a message only after committing it: let a whole batch be in flight.",
        f"max_inflight_messages {settings.max_inflight_messages}",
        "connection_messages true",
        "",
        "# Kiosks: TLS only.",
        f"listener {settings.tls_port}",
        "protocol mqtt",
        f"certfile {paths.cert}",
        f"keyfile {paths.key}",
        "tls_version tlsv1.2",
        "use_username_as_clientid true",
    ]
    if settings.local_port is not None:
        lines += [
            "",
            "# Central's own processes on this server: loopback only.",
            f"listener {settings.local_port} 127.0.0.1",
            "protocol mqtt",
            "use_username_as_clientid true",
        ]
    return "\n".join(lines) + "\n"


def render_acl(registry: Registry) -> str:
    centre = registry.settings.centre_id
    blocks = ["# Written by `python -m provisioning` from registry.json; edits are lost."]
    for service in sorted(registry.services, key=lambda s: s.username):
        rules = accounts.central_rules(centre, service.role)
        blocks.append(_block(service.username, [r.line() for r in rules]))
    for device in sorted(registry.active_devices(), key=lambda d: d.device_id):
        rules = accounts.device_rules(centre, device.device_id)
        blocks.append(_block(device.device_id, [r.line() for r in rules]))
    return "\n\n".join(blocks) + "\n"


def _block(username: str, lines: list[str]) -> str:
    return "\n".join([f"user {username}", *lines])


def render_passwords(registry: Registry) -> str:
    entries = [PasswordEntry(s.username, s.password_hash) for s in registry.services]
    entries += [PasswordEntry(d.device_id, d.password_hash) for d in registry.active_devices()]
    return render_password_file(entries)


def write_access_files(centre_dir: Path, registry: Registry) -> BrokerPaths:
    """Password and ACL files from the registry (the broker reads both again on SIGHUP)."""
    paths = broker_paths(centre_dir, registry.settings.broker)
    write_private(paths.password_file, render_passwords(registry))
    write_file(paths.acl_file, render_acl(registry), PUBLIC)
    return paths


def write_conf(centre_dir: Path, registry: Registry) -> BrokerPaths:
    paths = broker_paths(centre_dir, registry.settings.broker)
    paths.data.mkdir(parents=True, exist_ok=True)
    write_file(paths.conf, render_conf(registry.settings.broker, paths), PUBLIC)
    return paths

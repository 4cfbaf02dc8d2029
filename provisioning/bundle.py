"""A kiosk's bundle: everything copied onto one Raspberry Pi, as a directory and a tarball.

etc/kiosk.toml      agent config (loads with edge_agent.kiosk_config), no secret in it
etc/broker.env      PROCTOR_BROKER_PASSWORD (0600), read by systemd's EnvironmentFile
etc/ca.pem          the centre's CA: the kiosk trusts the broker through it
etc/signing.key     the kiosk's Ed25519 private key (0600); central holds the public half
systemd/*.service   agent (Type=notify, watchdog), kiosk UI, Chromium in kiosk mode
bin/proctor-chromium, install.sh
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from protocol.broker_url import BrokerUrl
from provisioning import units
from provisioning.files import EXECUTABLE, PUBLIC, write_file, write_private
from provisioning.install_script import install_script
from provisioning.settings import CentreSettings

BUNDLES_DIR = "bundles"


@dataclass(frozen=True)
class KioskIdentity:
    device_id: str
    seat_id: str


@dataclass(frozen=True)
class KioskSecrets:
    password: str
    signing_key_pem: bytes


def bundle_dir(centre_dir: Path, device_id: str) -> Path:
    return centre_dir / BUNDLES_DIR / device_id


def tarball_path(centre_dir: Path, device_id: str) -> Path:
    return centre_dir / BUNDLES_DIR / f"{device_id}.tar.gz"


def kiosk_paths(settings: CentreSettings) -> units.KioskPaths:
    return units.KioskPaths(
        PurePosixPath(settings.kiosk_config_dir), PurePosixPath(settings.kiosk_data_dir)
    )


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def kiosk_config_toml(settings: CentreSettings, kiosk: KioskIdentity) -> str:
    paths = kiosk_paths(settings)
    broker = BrokerUrl(
        host=settings.broker.host,
        port=settings.broker.tls_port,
        tls=True,
        username=kiosk.device_id,
        ca_file=str(paths.ca_file),
    )
    lines = [
        "# Written by `python -m provisioning register-kiosk`. The broker password is in",
        f"# {paths.env_file} (PROCTOR_BROKER_PASSWORD), not here.",
        f"data_dir = {_toml_str(str(paths.data_dir))}",
        "",
        "[identity]",
        f"centre_id = {_toml_str(settings.centre_id)}",
        f"device_id = {_toml_str(kiosk.device_id)}",
        f"seat_id = {_toml_str(kiosk.seat_id)}",
        f"signing_key = {_toml_str(str(paths.signing_key))}",
        "",
        "[broker]",
        f"url = {_toml_str(broker.to_url())}",
        "",
        "[capture]",
        'type = "picamera2"',
        "",
        "[local_api]  # the kiosk screen's API, on 127.0.0.1",
        "enabled = true",
        "",
        "[audio]",
        "enabled = true",
        'type = "sounddevice"',
        "",
        "# The admin copies the YOLOX-nano model here; until then the object stage reports",
        "# itself disabled in the heartbeat (and a device_fault names the missing file).",
        "[vision.objects]",
        f"model_path = {_toml_str(str(paths.config_dir / 'models' / 'yolox_nano.onnx'))}",
        "",
        "[evidence.upload]",
        f"url = {_toml_str(settings.web_url())}",
        f"username = {_toml_str(kiosk.device_id)}",
        f"ca_file = {_toml_str(str(paths.ca_file))}",
    ]
    return "\n".join(lines) + "\n"


def broker_env(password: str) -> str:
    return f"PROCTOR_BROKER_PASSWORD={password}\n"


def write_bundle(
    centre_dir: Path, settings: CentreSettings, kiosk: KioskIdentity, secrets: KioskSecrets
) -> Path:
    """Write the bundle directory and its tarball; returns the tarball's path."""
    root = bundle_dir(centre_dir, kiosk.device_id)
    paths = kiosk_paths(settings)
    ca_pem = (centre_dir / "ca" / "ca.pem").read_bytes()
    write_file(root / "etc" / "kiosk.toml", kiosk_config_toml(settings, kiosk), PUBLIC)
    write_file(root / "etc" / "ca.pem", ca_pem, PUBLIC)
    write_private(root / "etc" / "broker.env", broker_env(secrets.password))
    write_private(root / "etc" / "signing.key", secrets.signing_key_pem)
    write_file(root / "systemd" / units.AGENT_UNIT, units.agent_unit(paths), PUBLIC)
    write_file(
        root / "systemd" / units.UI_UNIT, units.kiosk_ui_unit(paths, settings.kiosk_ui_url), PUBLIC
    )
    write_file(root / "systemd" / units.CHROMIUM_UNIT, units.chromium_unit(), PUBLIC)
    launcher = units.chromium_launcher(settings.kiosk_ui_url)
    write_file(root / "bin" / units.LAUNCHER.name, launcher, EXECUTABLE)
    write_file(root / "install.sh", install_script(paths, settings.broker.host), EXECUTABLE)
    return write_tarball(centre_dir, kiosk.device_id)


def replace_password(centre_dir: Path, device_id: str, password: str) -> Path:
    """Rotation: only broker.env changes; the signing key and everything else stay."""
    root = bundle_dir(centre_dir, device_id)
    write_private(root / "etc" / "broker.env", broker_env(password))
    return write_tarball(centre_dir, device_id)


def remove_bundle(centre_dir: Path, device_id: str) -> None:
    """After revocation the secrets in the bundle are worthless; do not leave them around."""
    root = bundle_dir(centre_dir, device_id)
    for secret in (root / "etc" / "broker.env", root / "etc" / "signing.key"):
        secret.unlink(missing_ok=True)
    tarball_path(centre_dir, device_id).unlink(missing_ok=True)


def write_tarball(centre_dir: Path, device_id: str) -> Path:
    root = bundle_dir(centre_dir, device_id)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = tar.gettarinfo(str(path), arcname=f"{device_id}/{path.relative_to(root)}")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    # Private: it holds the broker password and the signing key.
    return write_private(tarball_path(centre_dir, device_id), buffer.getvalue())

"""`init-centre`: the CA, the broker's certificate and files, and central's broker logins."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocol.broker_url import BrokerUrl
from provisioning import accounts, broker_files, central_units, registry
from provisioning.files import PUBLIC, write_file, write_private
from provisioning.passwd import generate_password, hash_password
from provisioning.pki import KeyAndCert, make_ca, make_server_cert
from provisioning.registry import Registry, RegistryError, ServiceAccount
from provisioning.settings import CentreSettings

CA_KEY = Path("ca") / "ca.key"
CA_CERT = Path("ca") / "ca.pem"
CENTRAL_DIR = Path("central")


@dataclass(frozen=True)
class CentreFiles:
    registry: Path
    ca_cert: Path
    broker_conf: Path
    service_env_files: list[Path]


def ca_cert_path(centre_dir: Path) -> Path:
    return centre_dir / CA_CERT


def init_centre(centre_dir: Path, settings: CentreSettings) -> CentreFiles:
    """Create a new centre in an empty (or absent) directory; never overwrites an existing one."""
    if registry.registry_path(centre_dir).exists():
        raise RegistryError(f"{centre_dir} already holds a centre; refusing to overwrite it")
    with registry.locked(centre_dir):
        ca = make_ca(settings.centre_id)
        write_private(centre_dir / CA_KEY, ca.key_pem)
        write_file(centre_dir / CA_CERT, ca.cert_pem, PUBLIC)
        reg = Registry(settings=settings)
        paths = broker_files.broker_paths(centre_dir, settings.broker)
        _write_server_cert(paths, ca, settings.broker.host)
        _write_web_cert(centre_dir / CENTRAL_DIR, ca, settings.broker.host)
        env_files = _create_service_accounts(centre_dir, reg)
        central_units.write_central_units(centre_dir / CENTRAL_DIR)
        registry.save(centre_dir, reg)
        broker_files.write_conf(centre_dir, reg)
        broker_files.write_access_files(centre_dir, reg)
    return CentreFiles(
        registry.registry_path(centre_dir), centre_dir / CA_CERT, paths.conf, env_files
    )


def _write_server_cert(paths: broker_files.BrokerPaths, ca: KeyAndCert, host: str) -> None:
    server = make_server_cert(ca, host)
    write_private(paths.key, server.key_pem)
    write_file(paths.cert, server.cert_pem, PUBLIC)


def _write_web_cert(central_dir: Path, ca: KeyAndCert, host: str) -> None:
    """Central's own HTTPS certificate (its own key), for the same host name as the broker:
    kiosks reach both at the centre server's address."""
    web = make_server_cert(ca, host)
    write_private(central_dir / central_units.WEB_TLS_KEY, web.key_pem)
    write_file(central_dir / central_units.WEB_TLS_CERT, web.cert_pem, PUBLIC)


def _create_service_accounts(centre_dir: Path, reg: Registry) -> list[Path]:
    names: list[tuple[str, accounts.Role]] = [
        (accounts.ingest_user(n), "ingest") for n in range(1, reg.settings.ingest_workers + 1)
    ]
    names.append((accounts.WEB_USER, "web"))
    env_files = []
    for username, role in names:
        password = generate_password()
        reg.services.append(
            ServiceAccount(username=username, role=role, password_hash=hash_password(password))
        )
        url = central_broker_url(centre_dir, reg.settings, username, password)
        lines = [f"PROCTOR_BROKER_URL={url.to_url(redact=False)}"]
        if role == "ingest":
            lines.append(f"PROCTOR_INGEST_CLIENT_ID={username}")
        env_file = centre_dir / CENTRAL_DIR / f"{username}.env"
        env_files.append(write_private(env_file, "\n".join(lines) + "\n"))
    return env_files


def central_broker_url(
    centre_dir: Path, settings: CentreSettings, username: str, password: str
) -> BrokerUrl:
    """Central connects on the loopback listener when there is one, else over TLS."""
    broker = settings.broker
    if broker.local_port is not None:
        return BrokerUrl("127.0.0.1", broker.local_port, False, username, password)
    ca = str(ca_cert_path(centre_dir).resolve())
    return BrokerUrl(broker.host, broker.tls_port, True, username, password, "5", ca)

"""systemd units for the centre server: central web (gunicorn, gevent workers), N ingest
workers as instances of one template (`proctor-ingest@1`, `@2`, ...), each with its own broker
login, because the broker makes the username the client id, and a daily timer that deletes
evidence the exams' retention policies let go (docs/retention.md)."""

from __future__ import annotations

import secrets
from pathlib import Path

from provisioning.files import PUBLIC, write_file, write_private
from provisioning.units import INSTALL_PREFIX

WEB_UNIT = "proctor-central-web.service"
WEB_TLS_CERT = "tls/web.pem"  # central's HTTPS certificate, from the centre's CA
WEB_TLS_KEY = "tls/web.key"
INGEST_UNIT = "proctor-ingest@.service"
PURGE_UNIT = "proctor-evidence-purge.service"
PURGE_TIMER = "proctor-evidence-purge.timer"
COMMON_ENV = "central-common.env"


def common_env() -> str:
    return (
        "# Shared by every central process. Set the database URL before starting them.\n"
        "PROCTOR_DATABASE_URL=mysql+pymysql://proctor:CHANGE-ME@127.0.0.1:3306/proctor"
        "?charset=utf8mb4\n"
        f"PROCTOR_SECRET_KEY={secrets.token_urlsafe(48)}\n"
        "PROCTOR_COOKIE_SECURE=true\n"
        "PROCTOR_EVIDENCE_DIR=/var/lib/proctor-central/evidence\n"
    )


# The same account, sandbox and restart policy for every central process.
_RUN_AS_SANDBOXED_SERVICE = """\
User=proctor
Group=proctor
WorkingDirectory=/var/lib/proctor-central
Restart=always
RestartSec=2
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ReadWritePaths=/var/lib/proctor-central

[Install]
WantedBy=multi-user.target
"""


def web_unit(central_dir: Path, web_workers: int = 4) -> str:
    return f"""\
[Unit]
Description=Proctor central web (console, admin, REST API, evidence uploads)
Wants=network-online.target
After=network-online.target mosquitto.service mariadb.service
StartLimitIntervalSec=0

[Service]
Type=simple
EnvironmentFile={central_dir / COMMON_ENV}
EnvironmentFile={central_dir / "central-web.env"}
# HTTPS on 443 for kiosks (evidence uploads, enrolment) and staff: the certificate is signed
# by the centre's CA, which every kiosk bundle carries. The key reaches the unprivileged
# service as a systemd credential; binding 443 needs only CAP_NET_BIND_SERVICE.
LoadCredential=web.key:{central_dir / WEB_TLS_KEY}
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
ExecStart={INSTALL_PREFIX}/venv/bin/gunicorn --worker-class gevent --workers {web_workers} \\
    --bind 0.0.0.0:443 --certfile {central_dir / WEB_TLS_CERT} \\
    --keyfile ${{CREDENTIALS_DIRECTORY}}/web.key "central.web:create_app()"
{_RUN_AS_SANDBOXED_SERVICE}"""


def ingest_unit(central_dir: Path) -> str:
    return f"""\
[Unit]
Description=Proctor ingest worker %i (MQTT to database, acks after commit)
Wants=network-online.target
After=network-online.target mosquitto.service mariadb.service
StartLimitIntervalSec=0

[Service]
Type=simple
EnvironmentFile={central_dir / COMMON_ENV}
EnvironmentFile={central_dir}/central-ingest-%i.env
ExecStart={INSTALL_PREFIX}/venv/bin/python -m central.ingest
{_RUN_AS_SANDBOXED_SERVICE}"""


def purge_unit(central_dir: Path) -> str:
    """One run of the retention purge; started by the timer (or by hand, any time)."""
    return f"""\
[Unit]
Description=Proctor evidence purge (deletes evidence the retention policies let go)
After=network-online.target mariadb.service

[Service]
Type=oneshot
EnvironmentFile={central_dir / COMMON_ENV}
ExecStart={INSTALL_PREFIX}/venv/bin/python -m central purge-evidence
User=proctor
Group=proctor
WorkingDirectory=/var/lib/proctor-central
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ReadWritePaths=/var/lib/proctor-central
"""


def purge_timer() -> str:
    # Persistent: a day missed while the server was off is caught up at the next boot.
    return f"""\
[Unit]
Description=Daily proctor evidence purge

[Timer]
OnCalendar=*-*-* 03:30:00
RandomizedDelaySec=30min
Persistent=true
Unit={PURGE_UNIT}

[Install]
WantedBy=timers.target
"""


def write_central_units(central_dir: Path) -> list[Path]:
    central_dir = central_dir.resolve()
    write_private(central_dir / COMMON_ENV, common_env())
    systemd = central_dir / "systemd"
    return [
        write_file(systemd / WEB_UNIT, web_unit(central_dir), PUBLIC),
        write_file(systemd / INGEST_UNIT, ingest_unit(central_dir), PUBLIC),
        write_file(systemd / PURGE_UNIT, purge_unit(central_dir), PUBLIC),
        write_file(systemd / PURGE_TIMER, purge_timer(), PUBLIC),
    ]

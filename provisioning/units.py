"""systemd units and the Chromium launcher installed on a kiosk.

The agent is `Type=notify`: it reports READY=1 once the outbox is open and pings WATCHDOG=1 from
the frame loop, so a loop that hangs (a stuck camera read, a deadlock) is restarted by systemd
even though the process is still alive. No unit has a start limit: a kiosk must keep trying for
the whole exam rather than give up after five quick failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

INSTALL_PREFIX = PurePosixPath("/opt/proctor")
VENV_PYTHON = INSTALL_PREFIX / "venv" / "bin" / "python"
LAUNCHER = INSTALL_PREFIX / "bin" / "proctor-chromium"
AGENT_UNIT = "proctor-agent.service"
UI_UNIT = "proctor-kiosk-ui.service"
CHROMIUM_UNIT = "proctor-chromium.service"
SERVICE_USER = "proctor"
SCREEN_USER = "proctor-screen"
WATCHDOG_S = 30

# Chromium flags for an unattended seat: no first-run screens, no "restore pages?" or crash
# bubbles after a power cut, no translate bar, no pinch zoom or swipe-back away from the exam.
CHROMIUM_FLAGS = (
    "--kiosk",
    "--noerrdialogs",
    "--disable-infobars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-session-crashed-bubble",
    "--disable-features=Translate,TranslateUI,InfiniteSessionRestore",
    "--disable-pinch",
    "--overscroll-history-navigation=0",
    "--password-store=basic",
    "--check-for-update-interval=31536000",
    "--ozone-platform-hint=auto",
)


@dataclass(frozen=True)
class KioskPaths:
    config_dir: PurePosixPath
    data_dir: PurePosixPath

    @property
    def config_file(self) -> PurePosixPath:
        return self.config_dir / "kiosk.toml"

    @property
    def env_file(self) -> PurePosixPath:
        return self.config_dir / "broker.env"

    @property
    def ca_file(self) -> PurePosixPath:
        return self.config_dir / "ca.pem"

    @property
    def signing_key(self) -> PurePosixPath:
        return self.config_dir / "signing.key"


def agent_unit(paths: KioskPaths) -> str:
    return f"""\
[Unit]
Description=Proctor edge agent (camera, vision, rules, durable outbox)
Wants=network-online.target time-sync.target
After=network-online.target time-sync.target
RequiresMountsFor={paths.data_dir}
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
WatchdogSec={WATCHDOG_S}
ExecStart={VENV_PYTHON} -m edge_agent run --config {paths.config_file}
EnvironmentFile={paths.env_file}
User={SERVICE_USER}
Group={SERVICE_USER}
SupplementaryGroups=video audio
WorkingDirectory={paths.data_dir}
Restart=always
RestartSec=2
TimeoutStopSec=20
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=yes
ReadWritePaths={paths.data_dir}

[Install]
WantedBy=multi-user.target
"""


def kiosk_ui_unit(paths: KioskPaths, kiosk_ui_url: str) -> str:
    """The candidate's screen on 127.0.0.1 at the port Chromium opens, talking to the agent's
    local API (its default port, [local_api] in kiosk.toml)."""
    port = urlsplit(kiosk_ui_url).port or 80
    return f"""\
[Unit]
Description=Proctor kiosk screens (local web UI for the candidate)
Wants={AGENT_UNIT}
After={AGENT_UNIT}
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart={VENV_PYTHON} -m kiosk_ui --db {paths.data_dir / "screen.sqlite3"} \\
    --agent-url http://127.0.0.1:8771 --port {port}
User={SERVICE_USER}
Group={SERVICE_USER}
WorkingDirectory={paths.data_dir}
Restart=always
RestartSec=2
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=yes
ReadWritePaths={paths.data_dir}

[Install]
WantedBy=multi-user.target
"""


def chromium_unit() -> str:
    return f"""\
[Unit]
Description=Chromium in kiosk mode on the seat screen
Wants={UI_UNIT}
After={UI_UNIT} graphical.target
StartLimitIntervalSec=0

[Service]
Type=simple
User={SCREEN_USER}
PAMName=login
TTYPath=/dev/tty7
ExecStart={LAUNCHER}
Restart=always
RestartSec=2

[Install]
WantedBy=graphical.target
"""


def chromium_launcher(kiosk_ui_url: str) -> str:
    flags = " \\\n    ".join(CHROMIUM_FLAGS)
    return f"""\
#!/bin/sh
# Chromium on the seat screen, pointed at the local kiosk UI. Started by {CHROMIUM_UNIT}.
set -eu
URL="${{PROCTOR_KIOSK_URL:-{kiosk_ui_url}}}"
PROFILE="${{HOME:-/var/lib/{SCREEN_USER}}}/chromium-kiosk"
mkdir -p "$PROFILE/Default"
# After a power cut Chromium would offer to restore the session: mark the last exit clean.
PREFS="$PROFILE/Default/Preferences"
if [ -f "$PREFS" ]; then
  sed -i -e 's/"exited_cleanly":false/"exited_cleanly":true/' \\
    -e 's/"exit_type":"[^"]*"/"exit_type":"Normal"/' "$PREFS"
fi
# Wait for the kiosk UI so the first page is never an error page.
i=0
while [ "$i" -lt 60 ] && ! wget -q -O /dev/null "$URL" 2>/dev/null; do i=$((i + 1)); sleep 1; done
BROWSER=$(command -v chromium-browser || command -v chromium)
exec "$BROWSER" \\
    {flags} \\
    --user-data-dir="$PROFILE" \\
    "$URL"
"""

"""The kiosk's install script (Raspberry Pi OS Bookworm 64-bit), shipped in every bundle.

`PROCTOR_ROOT=/scratch` installs into a scratch root with the same Debian tools and skips what
needs the real machine (apt, users, the venv, starting services), so it can be tried anywhere.
"""

from __future__ import annotations

from provisioning.units import (
    AGENT_UNIT,
    CHROMIUM_UNIT,
    INSTALL_PREFIX,
    LAUNCHER,
    SCREEN_USER,
    SERVICE_USER,
    UI_UNIT,
    KioskPaths,
)

APT_PACKAGES = (
    "python3-venv",
    "python3-picamera2",  # from apt only: libcamera's Python bindings are not on PyPI
    "python3-cryptography",
    "chromium-browser",
    "systemd-timesyncd",
    "wget",
)
# nofail: a missing data partition must not stop the boot; the agent then refuses to start
# (RequiresMountsFor) instead of writing the outbox onto the read-only root.
FSTAB_OPTIONS = "defaults,noatime,nofail,x-systemd.device-timeout=10s"


def install_script(paths: KioskPaths, ntp_server: str) -> str:
    return f"""\
#!/bin/bash
# Install this kiosk bundle on Raspberry Pi OS Bookworm 64-bit. Run as root from the unpacked
# bundle:  sudo ./install.sh
#   PROCTOR_SRC=path/or/wheel   the proctor package to install into the venv (required unless
#                               PROCTOR_ROOT is set)
#   PROCTOR_DATA_DEVICE=/dev/X  a partition to mount on {paths.data_dir} (outbox, evidence) when
#                               the root file system is read-only (overlay root)
#   PROCTOR_ROOT=/scratch       install into a scratch root: files only, no apt, users or venv
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${{PROCTOR_ROOT:-}}"
SCRATCH=0; [ -n "$ROOT" ] && SCRATCH=1
say() {{ echo "install: $*"; }}

if [ "$SCRATCH" = 0 ]; then
  [ "$(id -u)" = 0 ] || {{ echo "install: run as root" >&2; exit 1; }}
  . /etc/os-release
  [ "${{VERSION_CODENAME:-}}" = bookworm ] || \\
    say "warning: made for Bookworm, this is ${{VERSION_CODENAME:-unknown}}"
  [ "$(uname -m)" = aarch64 ] || \\
    say "warning: made for 64-bit Raspberry Pi OS, this is $(uname -m)"
  : "${{PROCTOR_SRC:?set PROCTOR_SRC to the proctor wheel or source directory}}"
  say "apt packages"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y {" ".join(APT_PACKAGES)}
  say "users"
  id -u {SERVICE_USER} >/dev/null 2>&1 || useradd --system --home-dir {paths.data_dir} \\
    --shell /usr/sbin/nologin --groups video,audio {SERVICE_USER}
  id -u {SCREEN_USER} >/dev/null 2>&1 || useradd --create-home \\
    --shell /usr/sbin/nologin --groups video,render,input {SCREEN_USER}
fi

owner() {{ [ "$SCRATCH" = 1 ] || chown "$@"; }}

say "data partition {paths.data_dir}"
install -d -m 0750 "$ROOT{paths.data_dir}"
if [ -n "${{PROCTOR_DATA_DEVICE:-}}" ]; then
  mkdir -p "$ROOT/etc"
  touch "$ROOT/etc/fstab"
  grep -q " {paths.data_dir} " "$ROOT/etc/fstab" || \\
    echo "$PROCTOR_DATA_DEVICE {paths.data_dir} ext4 {FSTAB_OPTIONS} 0 2" >> "$ROOT/etc/fstab"
  [ "$SCRATCH" = 1 ] || mount {paths.data_dir} || true
fi
owner -R {SERVICE_USER}:{SERVICE_USER} "$ROOT{paths.data_dir}"

say "configuration {paths.config_dir}"
install -d -m 0755 "$ROOT{paths.config_dir}"
install -m 0644 "$HERE/etc/kiosk.toml" "$ROOT{paths.config_file}"
install -m 0644 "$HERE/etc/ca.pem" "$ROOT{paths.ca_file}"
install -m 0600 "$HERE/etc/broker.env" "$ROOT{paths.env_file}"
install -m 0640 "$HERE/etc/signing.key" "$ROOT{paths.signing_key}"
owner root:{SERVICE_USER} "$ROOT{paths.signing_key}"

say "launcher and units"
install -d -m 0755 "$ROOT{LAUNCHER.parent}" "$ROOT/etc/systemd/system"
install -m 0755 "$HERE/bin/{LAUNCHER.name}" "$ROOT{LAUNCHER}"
for unit in {AGENT_UNIT} {UI_UNIT} {CHROMIUM_UNIT}; do
  install -m 0644 "$HERE/systemd/$unit" "$ROOT/etc/systemd/system/$unit"
done

say "time sync from {ntp_server}"
install -d -m 0755 "$ROOT/etc/systemd/timesyncd.conf.d"
printf '[Time]\\nNTP={ntp_server}\\n' > "$ROOT/etc/systemd/timesyncd.conf.d/proctor.conf"

if [ "$SCRATCH" = 1 ]; then
  systemctl --root="$ROOT" enable {AGENT_UNIT} {UI_UNIT} {CHROMIUM_UNIT}
  say "scratch root done; skipped: apt, users, venv, starting services"
  exit 0
fi

say "virtual environment (system site packages, for picamera2 from apt)"
python3 -m venv --system-site-packages {INSTALL_PREFIX}/venv
{INSTALL_PREFIX}/venv/bin/pip install --upgrade pip
{INSTALL_PREFIX}/venv/bin/pip install "$PROCTOR_SRC[kiosk]"

timedatectl set-ntp true
systemctl daemon-reload
systemctl enable --now systemd-timesyncd.service {AGENT_UNIT} {UI_UNIT} {CHROMIUM_UNIT}
say "done"
"""

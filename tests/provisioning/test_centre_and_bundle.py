"""`init-centre` and `register-kiosk` through the CLI: files, modes, certificates, the kiosk
config the agent loads, refusals with clear errors, systemd units and the install script."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from cryptography import x509

from edge_agent.kiosk_config import load_kiosk_config
from provisioning.__main__ import main
from provisioning.bundle import bundle_dir, tarball_path
from tests.support.services import require_binary


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    root = tmp_path / "centre"
    assert (
        main(
            [
                "init-centre",
                "--out",
                str(root),
                "--centre-id",
                "hall-centre",
                "--broker-host",
                "broker.exam.local",
                "--ingest-workers",
                "2",
                # Never the machine's own /run/mosquitto/mosquitto.pid: no test signals it.
                "--broker-pid-file",
                str(tmp_path / "broker.pid"),
            ]
        )
        == 0
    )
    return root


def test_init_centre_writes_private_files_0600(centre: Path) -> None:
    for secret in (
        "ca/ca.key",
        "broker/server.key",
        "broker/passwd",
        "registry.json",
        "central/central-ingest-1.env",
        "central/central-ingest-2.env",
        "central/central-web.env",
        "central/central-common.env",
    ):
        assert mode(centre / secret) == 0o600, secret
    registry = json.loads((centre / "registry.json").read_text())
    assert (
        "PROCTOR_BROKER_URL=mqtt://central-web:" in (centre / "central/central-web.env").read_text()
    )
    assert "password" not in json.dumps(registry).replace("password_hash", "")


def test_server_certificate_chains_to_the_ca_with_host_and_loopback_names(centre: Path) -> None:
    openssl = require_binary("openssl", "verifies the chain as the broker's clients do")
    ca, cert = centre / "ca/ca.pem", centre / "broker/server.pem"
    result = subprocess.run(
        [
            openssl,
            "verify",
            "-CAfile",
            str(ca),
            "-verify_hostname",
            "broker.exam.local",
            "-purpose",
            "sslserver",
            str(cert),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    san = (
        x509.load_pem_x509_certificate(cert.read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert san.get_values_for_type(x509.DNSName) == ["broker.exam.local", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_broker_configuration_has_the_required_settings(centre: Path) -> None:
    conf = (centre / "broker/mosquitto.conf").read_text().splitlines()
    for line in (
        f"pid_file {centre.parent / 'broker.pid'}",
        "allow_anonymous false",
        "persistence true",
        "max_queued_messages 0",
        "use_username_as_clientid true",
        "autosave_interval 5",
        "listener 1883 127.0.0.1",
        "listener 8883",
    ):
        assert line in conf, line
    assert any(line.startswith("max_queued_bytes ") for line in conf)
    assert "max_inflight_messages 1000" in conf  # not Mosquitto's 20: batches, not trickles
    assert any(line.startswith("max_packet_size ") for line in conf)
    assert f"password_file {(centre / 'broker/passwd').resolve()}" in conf


def test_init_centre_refuses_to_overwrite_a_centre(
    centre: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = (centre / "ca/ca.key").read_bytes()
    assert main(["init-centre", "--out", str(centre)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (centre / "ca/ca.key").read_bytes() == key


def test_bad_centre_id_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["init-centre", "--out", str(tmp_path / "c"), "--centre-id", "bad/id"])
    assert exit_info.value.code == 2
    assert "centre_id" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_register_kiosk_bundle_loads_as_the_agents_config(centre: Path) -> None:
    assert main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"]) == 0
    root = bundle_dir(centre, "kiosk-b-12")
    password = (root / "etc/broker.env").read_text().strip().split("=", 1)[1]
    config = load_kiosk_config(root / "etc/kiosk.toml", {"PROCTOR_BROKER_PASSWORD": password})
    assert (config.identity.centre_id, config.identity.device_id, config.identity.seat_id) == (
        "hall-centre",
        "kiosk-b-12",
        "B-12",
    )
    url = config.broker.broker_url()
    assert (url.tls, url.host, url.port, url.username, url.password, url.ca_file) == (
        True,
        "broker.exam.local",
        8883,
        "kiosk-b-12",
        password,
        "/etc/proctor/ca.pem",
    )
    assert password not in (root / "etc/kiosk.toml").read_text()
    # A kiosk listens and looks for objects; the admin supplies the model file.
    assert config.audio.enabled
    assert config.local_api.enabled
    assert str(config.identity.signing_key) == "/etc/proctor/signing.key"
    assert config.audio.type == "sounddevice"
    assert str(config.vision.objects.model_path) == "/etc/proctor/models/yolox_nano.onnx"
    assert mode(root / "etc/signing.key") == 0o600
    assert mode(root / "etc/broker.env") == 0o600
    assert mode(tarball_path(centre, "kiosk-b-12")) == 0o600
    assert (root / "etc/ca.pem").read_bytes() == (centre / "ca/ca.pem").read_bytes()


def test_register_kiosk_adds_a_login_and_only_its_own_topics(centre: Path) -> None:
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    passwd = (centre / "broker/passwd").read_text()
    assert passwd.count("kiosk-b-12:$7$101$") == 1
    acl = (centre / "broker/acl").read_text()
    block = acl.split("user kiosk-b-12\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert all("/hall-centre/kiosk-b-12/" in line for line in block)
    assert "topic read proctor/v1/hall-centre/kiosk-b-12/command" in block
    assert "topic write proctor/v1/hall-centre/kiosk-b-12/event" in block
    assert "pattern" not in acl
    ingest = acl.split("user central-ingest-1\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "topic write proctor/v1/hall-centre/+/ack" in ingest
    assert not any(line.startswith("topic write") and "command" in line for line in ingest)


def test_tarball_holds_the_whole_bundle(centre: Path) -> None:
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    with tarfile.open(tarball_path(centre, "kiosk-b-12")) as tar:
        names = set(tar.getnames())
    assert {
        "kiosk-b-12/etc/kiosk.toml",
        "kiosk-b-12/etc/signing.key",
        "kiosk-b-12/install.sh",
        "kiosk-b-12/systemd/proctor-agent.service",
        "kiosk-b-12/bin/proctor-chromium",
    } <= names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hall", "B", "--seat", "12"], "already registered"),
        (["--hall", "B", "--seat", "12", "--device-id", "other"], "seat B-12 already has"),
        (["--hall", "C", "--seat", "1", "--device-id", "central-web"], "reserved"),
        (["--hall", "C", "--seat", "1/2"], "not a valid id"),
    ],
)
def test_register_refusals_say_why(
    centre: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    capsys.readouterr()
    assert main(["register-kiosk", "--centre", str(centre), *args]) == 1
    assert message in capsys.readouterr().err


def test_a_revoked_id_is_never_reused_and_its_secrets_are_removed(
    centre: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    assert main(["revoke", "--centre", str(centre), "kiosk-b-12", "--reason", "lost"]) == 0
    assert "still accepts it until reloaded" in capsys.readouterr().out
    assert "kiosk-b-12" not in (centre / "broker/passwd").read_text()
    assert "kiosk-b-12" not in (centre / "broker/acl").read_text()
    assert not (bundle_dir(centre, "kiosk-b-12") / "etc/signing.key").exists()
    assert not tarball_path(centre, "kiosk-b-12").exists()
    assert main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"]) == 1
    assert "never reused" in capsys.readouterr().err
    # The seat itself is free again for a new kiosk under a new id.
    assert (
        main(
            [
                "register-kiosk",
                "--centre",
                str(centre),
                "--hall",
                "B",
                "--seat",
                "12",
                "--device-id",
                "kiosk-b-12-r2",
            ]
        )
        == 0
    )


def test_commands_on_a_missing_centre_or_device_fail_clearly(
    tmp_path: Path, centre: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["revoke", "--centre", str(tmp_path / "none"), "kiosk-x"]) == 1
    assert "init-centre" in capsys.readouterr().err
    assert main(["rotate", "--centre", str(centre), "kiosk-x"]) == 1
    assert "no device 'kiosk-x'" in capsys.readouterr().err
    assert (
        main(
            ["revoke", "--centre", str(centre), "kiosk-x", "--pid-file", str(tmp_path / "nope.pid")]
        )
        == 1
    )


def _scratch_root_with_executables(tmp_path: Path) -> Path:
    """A root where the units' ExecStart binaries exist, so `verify` checks the units."""
    root = tmp_path / "root"
    for executable in (
        "opt/proctor/venv/bin/python",
        "opt/proctor/venv/bin/gunicorn",
        "opt/proctor/bin/proctor-chromium",
    ):
        target = root / executable
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("#!/bin/sh\n")
        target.chmod(0o755)
    # The host's own units (sysinit.target, network-online.target, ...) seen from that root.
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    return root


def _verify(analyze: str, root: Path, unit: Path, template: str = "") -> list[str]:
    """Problems `systemd-analyze verify` reports about one unit. systemd 252 exits 0 on unknown
    keys and bad values (it only warns), so its messages about the unit are the verdict."""
    result = subprocess.run(
        [analyze, "verify", f"--root={root}", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (result.stdout + result.stderr).splitlines()
    names = [unit.name, *([template] if template else [])]  # an instance's errors name its template
    problems = [line for line in lines if any(name in line for name in names)]
    if result.returncode != 0:
        problems.append(f"exit status {result.returncode}")
    return problems


def test_generated_units_pass_systemd_analyze_verify(centre: Path, tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze", "verifies the generated units")
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    root = _scratch_root_with_executables(tmp_path)
    units = root / "etc/systemd/system"
    shutil.copytree(bundle_dir(centre, "kiosk-b-12") / "systemd", units)
    for unit in sorted(units.iterdir()):
        assert _verify(analyze, root, unit) == [], unit.name
    # The check can fail: a misspelt key in a copy is reported.
    broken = units / "broken-agent.service"
    broken.write_text(
        (units / "proctor-agent.service").read_text().replace("WatchdogSec=", "WatchdogSecs=")
    )
    assert any("WatchdogSecs" in line for line in _verify(analyze, root, broken))
    agent = (units / "proctor-agent.service").read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=always", "StartLimitIntervalSec=0"):
        assert line in agent


def test_install_script_runs_in_a_scratch_root(centre: Path, tmp_path: Path) -> None:
    require_binary("systemctl", "enables the units in the scratch root")
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    root = tmp_path / "scratch"
    script = bundle_dir(centre, "kiosk-b-12") / "install.sh"
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "PROCTOR_ROOT": str(root),
        "PROCTOR_DATA_DEVICE": "/dev/mmcblk0p3",
    }
    result = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert mode(root / "etc/proctor/broker.env") == 0o600
    assert mode(root / "etc/proctor/signing.key") == 0o640
    assert load_kiosk_config(root / "etc/proctor/kiosk.toml", {}).identity.device_id == "kiosk-b-12"
    assert "/dev/mmcblk0p3 /var/lib/proctor ext4" in (root / "etc/fstab").read_text()
    wants = root / "etc/systemd/system/multi-user.target.wants/proctor-agent.service"
    assert wants.is_symlink()
    assert (
        "NTP=broker.exam.local" in (root / "etc/systemd/timesyncd.conf.d/proctor.conf").read_text()
    )
    # Run twice: a re-install must not duplicate the fstab line.
    subprocess.run(["bash", str(script)], env=env, capture_output=True, check=True)
    assert (root / "etc/fstab").read_text().count("/var/lib/proctor") == 1


def test_chromium_launcher_suppresses_first_run_and_crash_bubbles(centre: Path) -> None:
    main(["register-kiosk", "--centre", str(centre), "--hall", "B", "--seat", "12"])
    launcher = (bundle_dir(centre, "kiosk-b-12") / "bin/proctor-chromium").read_text()
    for flag in ("--kiosk", "--no-first-run", "--disable-session-crashed-bubble", "--noerrdialogs"):
        assert flag in launcher
    syntax = subprocess.run(
        ["sh", "-n"], input=launcher, text=True, capture_output=True, check=False
    )
    assert syntax.returncode == 0, syntax.stderr


def test_central_units_pass_systemd_analyze_verify(centre: Path, tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze", "verifies the generated units")
    root = _scratch_root_with_executables(tmp_path)
    units = root / "etc/systemd/system"
    shutil.copytree(centre / "central/systemd", units)
    web, ingest = units / "proctor-central-web.service", units / "proctor-ingest@.service"
    assert _verify(analyze, root, web) == []
    instance = units / "proctor-ingest@2.service"
    instance.symlink_to(ingest.name)
    assert _verify(analyze, root, instance, ingest.name) == []
    assert "--worker-class gevent" in web.read_text()
    assert f"{(centre / 'central').resolve()}/central-ingest-%i.env" in ingest.read_text()


def test_evidence_purge_timer_and_service_pass_systemd_analyze_verify(
    centre: Path, tmp_path: Path
) -> None:
    analyze = require_binary("systemd-analyze", "verifies the generated units")
    root = _scratch_root_with_executables(tmp_path)
    units = root / "etc/systemd/system"
    shutil.copytree(centre / "central/systemd", units)
    service = units / "proctor-evidence-purge.service"
    timer = units / "proctor-evidence-purge.timer"
    assert _verify(analyze, root, service) == []
    assert _verify(analyze, root, timer) == []
    assert "Type=oneshot" in service.read_text()
    assert "-m central purge-evidence" in service.read_text()
    assert "Restart=" not in service.read_text()  # a failed run waits for the next day
    assert "Persistent=true" in timer.read_text()
    assert "Unit=proctor-evidence-purge.service" in timer.read_text()

"""`make demo`: the whole system on one machine with nothing installed.

Starts the embedded MQTT broker, migrates a SQLite database, creates a demo admin login,
starts central ingest and the web service, and simulated kiosks that publish through their
real outboxes. Prints the URLs and the login; Ctrl-C stops everything cleanly.

    python -m central.demo [--kiosks 6] [--web-port 8000] [--broker-port 1884]
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from central.demo_exam import DEMO_EXAM_ID, demo_exam
from central.supervisor import Supervisor, child_env, port_or_free, wait_for_port

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_CENTRE = "demo-centre"
ADMIN_USER = "admin"
CAMERA_KIOSK = "kiosk-cam-01"
INVIGILATOR_USER = "invigilator"  # assigned to the demo hall (central.demo_seed)
CAMERA_SEAT = "seat-cam-01"
DEMO_CANDIDATE_NUMBER = "C-1001"
# A real recording of a candidate whose eyes turn left for 5 s, stored sideways.
DEMO_VIDEO = REPO_ROOT.parent / "shared" / "fixtures" / "video" / "center_left_center.mp4"
# The camera kiosk's "microphone": typing at the next desk, which must never count as speech.
DEMO_AUDIO = REPO_ROOT.parent / "shared" / "fixtures" / "audio" / "clips" / "noise_keyboard.wav"
DEMO_OBJECT_MODEL = REPO_ROOT.parent / "shared" / "fixtures" / "models" / "yolox_nano.onnx"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the proctoring system locally.")
    parser.add_argument("--kiosks", type=int, default=6, help="simulated kiosks (default 6)")
    parser.add_argument("--rate", type=float, default=0.2, help="events/s per kiosk")
    parser.add_argument("--web-port", type=int, default=8000)
    parser.add_argument("--broker-port", type=int, default=1884)
    parser.add_argument(
        "--screen-port", type=int, default=8780, help="the camera kiosk's candidate screen"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO_ROOT / "var" / "demo",
        help="where the database, outboxes and logs are kept",
    )
    parser.add_argument(
        "--video",
        type=Path,
        default=DEMO_VIDEO,
        help="recording the camera-pipeline kiosk replays in a loop",
    )
    return parser.parse_args(argv)


def _secret_key(data_dir: Path) -> str:
    """Stable across demo runs so browser sessions survive a restart."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _run_step(env: dict[str, str], *args: str) -> None:
    """A one-shot command (migration, user set-up); its output is shown only on failure."""
    # Our own interpreter and module names only; no shell, no user-supplied program.
    result = subprocess.run(  # noqa: S603
        [sys.executable, *args], env=env, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` failed:\n{result.stderr.decode()[-3000:]}")


def _camera_kiosk_config(
    args: argparse.Namespace, broker_url: str, web_url: str, agent_api_port: int
) -> Path:
    """A kiosk running the real camera pipeline on a recording instead of a camera. It uploads
    evidence with the demo admin's login (the provisioning work gives kiosks their own)."""
    path: Path = args.data_dir / f"{CAMERA_KIOSK}.toml"
    path.write_text("\n".join([
        f'data_dir = "{args.data_dir / CAMERA_KIOSK}"',  # top-level keys before any [table]
        "[identity]", f'centre_id = "{DEMO_CENTRE}"', f'device_id = "{CAMERA_KIOSK}"',
        f'seat_id = "{CAMERA_SEAT}"', "simulated = true",
        "[broker]", f'url = "{broker_url}"',
        "[capture]", 'type = "file"', f'path = "{args.video}"', 'rotate = "90cw"',
        "loop = true",
        # Without the fixture model the object stage reports itself off in the heartbeat.
        "[vision.objects]", f'model_path = "{DEMO_OBJECT_MODEL}"',
        "[local_api]", "enabled = true", f"port = {agent_api_port}",
        *(["[audio]", "enabled = true", 'type = "file"', f'path = "{DEMO_AUDIO}"', "loop = true"]
          if DEMO_AUDIO.exists() else []),
        "[evidence.upload]", f'url = "{web_url}"', f'username = "{ADMIN_USER}"', "",
    ]))  # fmt: skip
    return path


def _preload_candidate(args: argparse.Namespace, env: dict[str, str]) -> None:
    """The camera kiosk's seat gets the demo exam and the recording's person as the enrolled
    candidate, as central's load_exam and enrol commands would give them."""
    data = args.data_dir
    exam_file, enrolment_file = data / "demo-exam.json", data / "demo-enrolment.json"
    exam_file.write_text(demo_exam().model_dump_json(indent=2))
    enrolment_file.write_text(json.dumps({
        "session_id": "demo-session-cam", "candidate_id": "demo-candidate",
        "candidate_number": DEMO_CANDIDATE_NUMBER, "display_name": "Demo Candidate",
        "exam_id": DEMO_EXAM_ID, "seat_id": CAMERA_SEAT,
    }))  # fmt: skip
    _run_step(env, "-m", "edge_agent.seat.preload", "--data-dir", str(data / CAMERA_KIOSK),
              "--device-id", CAMERA_KIOSK, "--seat-id", CAMERA_SEAT, "--exam", str(exam_file),
              "--enrolment", str(enrolment_file), "--enrol-video", str(args.video),
              "--rotate", "90cw", "--frame", "10")  # fmt: skip


def _banner(
    web_url: str,
    broker_url: str,
    password: str,
    args: argparse.Namespace,
    screen_url: str | None = None,
) -> str:
    data = args.data_dir
    return "\n".join(
        [
            "",
            "=" * 72,
            " Proctoring demo is running",
            f"   Central service : {web_url}",
            f"   Login           : {ADMIN_USER} / {password}",
            f"   Invigilator     : {INVIGILATOR_USER} / {password}  (the demo hall only)",
            f"   Events API      : {web_url}/api/v1/events  (HTTP Basic with the login above)",
            f"   MQTT broker     : {broker_url}  (embedded, MQTT 3.1.1)",
            f"   Kiosks          : {args.kiosks} simulated (marked SIMULATED in the UI and data)",
            f"                     {_camera_line(args)}",
            *_screen_lines(screen_url),
            f"   Data            : {data}  (database central.sqlite3, kiosks/, logs/)",
            " Press Ctrl-C to stop.",
            "=" * 72,
            "",
        ]
    )


def _screen_lines(screen_url: str | None) -> list[str]:
    if screen_url is None:
        return []
    return [
        f"   Kiosk screen    : {screen_url}  (the candidate's screen of {CAMERA_KIOSK})",
        f"                     candidate number {DEMO_CANDIDATE_NUMBER}; the face to match is"
        " the recording's",
    ]


def _camera_line(args: argparse.Namespace) -> str:
    if not args.video.exists():
        return f"no camera-pipeline kiosk: {args.video} not found"
    return f"+ {CAMERA_KIOSK}: the real camera pipeline replaying {args.video.name}"


def run(args: argparse.Namespace) -> int:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    web_port = port_or_free(args.web_port)
    broker_port = port_or_free(args.broker_port)
    screen_port = port_or_free(args.screen_port)
    agent_api_port = port_or_free(0)
    broker_url = f"mqtt://127.0.0.1:{broker_port}?version=3.1.1"
    web_url = f"http://127.0.0.1:{web_port}"
    env = child_env(
        {
            "PROCTOR_DATABASE_URL": f"sqlite:///{args.data_dir / 'central.sqlite3'}",
            "PROCTOR_BROKER_URL": broker_url,
            "PROCTOR_INGEST_SHARE_GROUP": "",  # amqtt has no shared subscriptions
            "PROCTOR_SECRET_KEY": _secret_key(args.data_dir),
            "PROCTOR_EVIDENCE_DIR": str(args.data_dir / "evidence"),
        }
    )
    password = secrets.token_urlsafe(9)
    env["PROCTOR_EVIDENCE_PASSWORD"] = password  # the camera kiosk's uploads
    _run_step(env, "-m", "central", "migrate")
    for user, role in ((ADMIN_USER, "admin"), (INVIGILATOR_USER, "invigilator")):
        _run_step(env, "-m", "central", "create-user", user, "--role", role,
                  "--password", password, "--update")  # fmt: skip
    seed = ["--kiosks", str(args.kiosks), "--camera-kiosk", CAMERA_KIOSK, "--admin", ADMIN_USER]
    _run_step(env, "-m", "central.demo_seed", *seed, "--password", password)

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    sup = Supervisor(args.data_dir / "logs", env)
    try:
        broker = sup.spawn("broker", ["-m", "central.embedded_broker", "--port", str(broker_port)])
        wait_for_port(broker_port, 30, broker)
        sup.spawn("ingest", ["-m", "central.ingest"])
        sup.spawn("commands", ["-m", "central.command_publisher"])  # console -> kiosks
        web = sup.spawn(
            "web", ["-m", "central", "web", "--host", "127.0.0.1", "--port", str(web_port)]
        )
        wait_for_port(web_port, 30, web)
        sup.spawn(
            "kiosks",
            [
                "-m",
                "edge_agent",
                "simulate",
                "--kiosks",
                str(args.kiosks),
                "--rate",
                str(args.rate),
                "--broker-url",
                broker_url,
                "--centre",
                DEMO_CENTRE,
                "--data-dir",
                str(args.data_dir / "kiosks"),
            ],
        )
        screen_url = None
        if args.video.exists():
            config = _camera_kiosk_config(args, broker_url, web_url, agent_api_port)
            _preload_candidate(args, env)
            sup.spawn(CAMERA_KIOSK, ["-m", "edge_agent", "run", "--config", str(config)])
            screen = sup.spawn("kiosk-screen", [
                "-m", "kiosk_ui", "--db", str(args.data_dir / "kiosk-screen.sqlite3"),
                "--agent-url", f"http://127.0.0.1:{agent_api_port}", "--port", str(screen_port),
            ])  # fmt: skip
            wait_for_port(screen_port, 30, screen)
            screen_url = f"http://127.0.0.1:{screen_port}/"
        print(_banner(web_url, broker_url, password, args, screen_url), flush=True)
        while not stop.wait(0.5):
            exited = sup.first_exited()
            if exited is not None:
                logger.error(
                    "%s exited with code %s; see %s",
                    exited.name,
                    exited.proc.returncode,
                    exited.log_path,
                )
                return 1
        return 0
    finally:
        sup.stop_all()
        print("Demo stopped; data kept in", args.data_dir, flush=True)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo: %(message)s")
    try:
        sys.exit(run(parse_args(argv)))
    except (RuntimeError, TimeoutError) as exc:
        logger.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()

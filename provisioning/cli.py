"""Command handlers of `python -m provisioning`: each prints what it did and where."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pydantic import ValidationError

from provisioning import broker_control, centre, devices, enrolment, registry
from provisioning.settings import BrokerSettings, CentreSettings


class UsageError(ValueError):
    """Bad arguments; the message says which and why."""


def settings_from_args(args: argparse.Namespace) -> CentreSettings:
    try:
        broker = BrokerSettings(
            host=args.broker_host,
            tls_port=args.tls_port,
            local_port=None if args.local_port == 0 else args.local_port,
            pid_file=args.broker_pid_file,
        )
        return CentreSettings(
            centre_id=args.centre_id,
            broker=broker,
            ingest_workers=args.ingest_workers,
            central_url=args.central_url,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(problems) from None


def init_centre(args: argparse.Namespace) -> None:
    files = centre.init_centre(args.out, settings_from_args(args))
    print(f"centre created in {args.out}")
    print(f"  registry          {files.registry}")
    print(f"  CA certificate    {files.ca_cert}  (copy to every kiosk; bundles include it)")
    print(f"  broker config     {files.broker_conf}  (mosquitto -c {files.broker_conf})")
    for env_file in files.service_env_files:
        print(f"  central login     {env_file}  (EnvironmentFile= of a central unit)")


def register_kiosk(args: argparse.Namespace) -> None:
    result = devices.register_kiosk(args.centre, args.hall, args.seat, args.device_id)
    print(f"registered {result.device.device_id} for seat {result.device.seat_id}")
    print(f"  bundle   {result.bundle_dir}")
    print(f"  tarball  {result.tarball}  (holds secrets: copy it to the kiosk, then delete)")
    _reload(args)


def revoke(args: argparse.Namespace) -> None:
    device = devices.revoke(args.centre, args.device_id, args.reason)
    print(f"revoked {device.device_id} at {device.revoked_at}")
    if not _reload(args):
        print("  the broker still accepts it until reloaded (kill -HUP <mosquitto pid>)")


def rotate(args: argparse.Namespace) -> None:
    device, tarball = devices.rotate(args.centre, args.device_id)
    print(f"new password for {device.device_id} (version {device.credential_version})")
    print(f"  install {tarball}'s etc/broker.env on the kiosk; its outbox keeps queued events")
    _reload(args)


def enrolment_token(args: argparse.Namespace) -> None:
    ttl = dt.timedelta(hours=args.ttl_hours)
    token = enrolment.issue_token(args.centre, args.hall, args.seat, ttl)
    print(f"enrolment token for seat {args.hall}-{args.seat}, valid {args.ttl_hours:g} h, once:")
    print(f"  {token}")
    print("  on the kiosk: python -m edge_agent enrol --central <central URL> --token <token>")


def enrolments(args: argparse.Namespace) -> None:
    waiting = enrolment.pending(args.centre)
    if not waiting:
        print("no kiosk is waiting for approval")
    for request in waiting:
        host = f" (host {request.hostname})" if request.hostname else ""
        print(f"{request.request_id}  seat {request.hall}-{request.seat}{host}"
              f"  since {request.requested_at.isoformat()}")  # fmt: skip


def approve(args: argparse.Namespace) -> None:
    request = enrolment.approve(args.centre, args.request_id, args.by)
    print(f"approved {request.request_id}: {request.device_id} for seat {request.hall}-"
          f"{request.seat}; the kiosk downloads its bundle at its next poll")  # fmt: skip
    _reload(args)


def reject(args: argparse.Namespace) -> None:
    request = enrolment.reject(args.centre, args.request_id, args.by, args.reason)
    print(f"rejected {request.request_id} (seat {request.hall}-{request.seat})")


def _reload(args: argparse.Namespace) -> bool:
    """SIGHUP to --broker-pid, else the pid in --pid-file, else in the centre's configured pid
    file when it exists (the broker writes it at start)."""
    pid: int | None = args.broker_pid
    pid_file: Path | None = args.pid_file
    if pid is None and pid_file is None:
        configured = registry.load(args.centre).settings.broker.pid_file
        pid_file = configured if configured.exists() else None
    if pid is None and pid_file is not None:
        pid = broker_control.read_pid_file(pid_file)
    if pid is None:
        print("  broker not reloaded (no --broker-pid, --pid-file or running broker's pid file)")
        return False
    broker_control.reload_broker(pid)
    print(f"  broker (pid {pid}) reloaded its password and ACL files")
    return True


def add_reload_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--centre", type=Path, required=True, help="centre directory")
    parser.add_argument("--broker-pid", type=int, help="send SIGHUP to this mosquitto")
    parser.add_argument("--pid-file", type=Path, help="or to the pid in this file")

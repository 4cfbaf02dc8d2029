"""`python -m provisioning <command>`: set up a centre, register, revoke and rotate kiosks.

python -m provisioning init-centre --out /etc/proctor/centre --broker-host broker.local
python -m provisioning register-kiosk --centre /etc/proctor/centre --hall A --seat 07
python -m provisioning revoke --centre /etc/proctor/centre kiosk-a-07 --broker-pid 1234
python -m provisioning rotate --centre /etc/proctor/centre kiosk-a-07 --pid-file PIDFILE
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from provisioning import cli
from provisioning.broker_control import BrokerControlError
from provisioning.registry import RegistryError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m provisioning",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init-centre", help="CA, broker certificate and configuration")
    init.add_argument("--out", type=Path, required=True, help="new centre directory")
    init.add_argument("--centre-id", default="centre-1", help="exam centre id")
    init.add_argument("--broker-host", default="broker.centre.local", help="broker host name")
    init.add_argument("--tls-port", type=int, default=8883, help="TLS listener for kiosks")
    init.add_argument(
        "--local-port", type=int, default=1883, help="loopback listener for central (0: none)"
    )
    init.add_argument(
        "--broker-pid-file",
        type=Path,
        default=Path("/run/mosquitto/mosquitto.pid"),
        help="pid_file of the broker (later commands reload it through this file)",
    )
    init.add_argument("--ingest-workers", type=int, default=2, help="ingest worker logins")
    init.add_argument("--central-url", default="", help="central's https address (evidence)")
    init.set_defaults(handler=cli.init_centre)

    register = commands.add_parser("register-kiosk", help="credentials and bundle for a seat")
    cli.add_reload_arguments(register)
    register.add_argument("--hall", required=True, help="hall id, e.g. A")
    register.add_argument("--seat", required=True, help="seat number in the hall, e.g. 07")
    register.add_argument("--device-id", help="default: kiosk-<hall>-<seat>")
    register.set_defaults(handler=cli.register_kiosk)

    revoke = commands.add_parser("revoke", help="remove a kiosk's access, disconnect it")
    cli.add_reload_arguments(revoke)
    revoke.add_argument("device_id", help="kiosk to revoke")
    revoke.add_argument("--reason", default="", help="why (kept in the registry)")
    revoke.set_defaults(handler=cli.revoke)

    rotate = commands.add_parser("rotate", help="new broker password for a kiosk")
    cli.add_reload_arguments(rotate)
    rotate.add_argument("device_id", help="kiosk whose password changes")
    rotate.set_defaults(handler=cli.rotate)

    token = commands.add_parser("enrolment-token", help="one-time token a new kiosk enrols with")
    token.add_argument("--centre", type=Path, required=True, help="centre directory")
    token.add_argument("--hall", required=True, help="hall id, e.g. A")
    token.add_argument("--seat", required=True, help="seat number in the hall, e.g. 07")
    token.add_argument("--ttl-hours", type=float, default=24.0, help="valid this long")
    token.set_defaults(handler=cli.enrolment_token)

    pending = commands.add_parser("enrolments", help="kiosks waiting for approval")
    pending.add_argument("--centre", type=Path, required=True, help="centre directory")
    pending.set_defaults(handler=cli.enrolments)

    approve = commands.add_parser("approve", help="register a waiting kiosk for its seat")
    cli.add_reload_arguments(approve)
    approve.add_argument("request_id", help="from `enrolments`")
    approve.add_argument("--by", default="admin", help="who approves (kept in the registry)")
    approve.set_defaults(handler=cli.approve)

    reject = commands.add_parser("reject", help="refuse a waiting kiosk")
    reject.add_argument("--centre", type=Path, required=True, help="centre directory")
    reject.add_argument("request_id", help="from `enrolments`")
    reject.add_argument("--by", default="admin", help="who rejects (kept in the registry)")
    reject.add_argument("--reason", default="", help="why")
    reject.set_defaults(handler=cli.reject)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except cli.UsageError as exc:
        parser.error(str(exc))
    except (RegistryError, BrokerControlError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

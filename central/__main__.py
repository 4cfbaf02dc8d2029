"""Admin commands: `python -m central migrate | create-user NAME --role ROLE |
sync-devices --centre DIR | purge-evidence [--dry-run] [--now ISO8601] | web`."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from central.config import CentralConfig, describe_errors
from central.db import create_db_engine, make_sessionmaker, redact, upgrade_database
from central.retention_cli import cmd_purge_evidence, moment
from central.services import ROLES, ServiceError, create_user, set_password
from central.services.integrity import RegisteredKey, sync_device_keys
from central.web import create_app
from provisioning.registry import RegistryError
from provisioning.registry import load as load_registry

log = logging.getLogger("central")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m central", description=__doc__)
    parser.add_argument("--database-url", help="default: $PROCTOR_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database schema")
    user = commands.add_parser("create-user", help="add a staff account")
    user.add_argument("username")
    user.add_argument("--role", choices=ROLES, required=True)
    user.add_argument("--password", help="default: prompt (or one line from stdin)")
    user.add_argument(
        "--update", action="store_true", help="if the user exists, set its password and role"
    )
    sync = commands.add_parser(
        "sync-devices",
        help="load the kiosks' signing keys and revocations from the provisioning registry",
    )
    sync.add_argument("--centre", type=Path, required=True, help="the centre directory")
    purge = commands.add_parser(
        "purge-evidence", help="delete evidence files the exams' retention policies let go"
    )
    purge.add_argument("--dry-run", action="store_true", help="say what would go; change nothing")
    purge.add_argument(
        "--now", type=moment, help="judge the policies at this time (ISO 8601; default: now)"
    )
    web = commands.add_parser("web", help="run the web service (werkzeug server)")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    return parser.parse_args(argv)


def _read_password(given: str | None) -> str:
    if given is not None:
        return given
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ServiceError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_create_user(config: CentralConfig, args: argparse.Namespace) -> int:
    password = _read_password(args.password)
    engine = create_db_engine(config.database_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            if args.update:
                info = set_password(session, args.username, password, args.role)
            else:
                info = create_user(session, args.username, password, args.role)
    finally:
        engine.dispose()
    print(f"user {info.username} ({info.role}) saved")
    return 0


def cmd_sync_devices(config: CentralConfig, args: argparse.Namespace) -> int:
    """After `provisioning register-kiosk | rotate | revoke`: central learns the keys it
    checks signatures with, and stops storing anything from a revoked kiosk."""
    try:
        registry = load_registry(args.centre)
    except RegistryError as exc:
        raise ServiceError(str(exc)) from exc
    keys = [
        RegisteredKey(d.device_id, d.signing_public_key, d.revoked_at)
        for d in registry.devices.values()
    ]
    engine = create_db_engine(config.database_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            counts = sync_device_keys(session, keys)
    finally:
        engine.dispose()
    print("device keys: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


def cmd_web(config: CentralConfig, args: argparse.Namespace) -> int:
    app = create_app({"DATABASE_URL": config.database_url})
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_args(argv)
    try:
        config = CentralConfig.from_env(database_url=args.database_url)
    except ValidationError as exc:
        log.error("invalid configuration: %s", describe_errors(exc))
        return 2
    try:
        return _run(config, args)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


def _run(config: CentralConfig, args: argparse.Namespace) -> int:
    if args.command == "migrate":
        upgrade_database(config.database_url)
        print(f"database {redact(config.database_url)} is up to date")
        return 0
    if args.command == "create-user":
        return cmd_create_user(config, args)
    if args.command == "sync-devices":
        return cmd_sync_devices(config, args)
    if args.command == "purge-evidence":
        return cmd_purge_evidence(config, dry_run=args.dry_run, now=args.now)
    return cmd_web(config, args)


if __name__ == "__main__":
    sys.exit(main())

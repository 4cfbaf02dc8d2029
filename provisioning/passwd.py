"""Mosquitto password hashes in Mosquitto's own format, as `mosquitto_passwd` writes them.

Mosquitto 2 uses ``$7$<iterations>$<base64 salt>$<base64 hash>``: PBKDF2-HMAC-SHA512 over the
raw 12-byte salt, 101 iterations by default, a 64-byte derived key. A file written here is
read by the broker, and a line written by ``mosquitto_passwd -b`` verifies here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

ITERATIONS = 101  # mosquitto_passwd's default; the broker reads the count from each line
SALT_BYTES = 12
KEY_BYTES = 64
PASSWORD_BYTES = 24  # random bytes behind a generated password (32 url-safe characters)


class PasswordFileError(ValueError):
    """A password file line that Mosquitto would not understand."""


def generate_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The ``$7$...`` hash of `password`."""
    if not password:
        raise ValueError("empty password")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, KEY_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches a ``$7$`` hash (False for any other or malformed hash)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except binascii.Error:
        return False
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(key, expected)


@dataclass(frozen=True)
class PasswordEntry:
    username: str
    password_hash: str

    def line(self) -> str:
        return f"{self.username}:{self.password_hash}"


def parse_password_file(text: str) -> list[PasswordEntry]:
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        username, sep, encoded = line.partition(":")
        if not sep or not username or not encoded:
            raise PasswordFileError(f"line {number}: expected 'username:hash'")
        entries.append(PasswordEntry(username, encoded))
    return entries


def render_password_file(entries: list[PasswordEntry]) -> str:
    return "".join(entry.line() + "\n" for entry in sorted(entries, key=lambda e: e.username))

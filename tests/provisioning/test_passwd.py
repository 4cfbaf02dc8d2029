"""Password hashes match Mosquitto's own tool both ways (the broker side is covered by
test_broker_acceptance, where the broker accepts logins from files written here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from provisioning.passwd import (
    ITERATIONS,
    PasswordFileError,
    generate_password,
    hash_password,
    parse_password_file,
    verify_password,
)
from tests.support.services import require_binary


def test_a_hash_made_by_mosquitto_passwd_verifies_here(tmp_path: Path) -> None:
    tool = require_binary("mosquitto_passwd", "the reference implementation of the format")
    password_file = tmp_path / "passwd"
    password_file.touch()
    subprocess.run([tool, "-b", str(password_file), "kiosk-a-01", "s3cret pass"], check=True)
    (entry,) = parse_password_file(password_file.read_text())
    assert entry.username == "kiosk-a-01"
    assert entry.password_hash.startswith(f"$7${ITERATIONS}$")
    assert verify_password("s3cret pass", entry.password_hash)
    assert not verify_password("s3cret pass ", entry.password_hash)


def test_a_hash_made_here_has_mosquittos_shape_and_verifies() -> None:
    password = generate_password()
    encoded = hash_password(password)
    _, scheme, iterations, salt, key = encoded.split("$")
    assert (scheme, iterations, len(salt), len(key)) == ("7", "101", 16, 88)  # 12 and 64 bytes
    assert verify_password(password, encoded)
    assert not verify_password(password + "x", encoded)
    assert hash_password(password) != encoded, "every hash has its own salt"


@pytest.mark.parametrize(
    "encoded", ["", "$6$abc$def", "$7$x$AAAA$AAAA", "$7$101$not base64!$AAAA", "plain"]
)
def test_malformed_or_foreign_hashes_never_verify(encoded: str) -> None:
    assert not verify_password("anything", encoded)


def test_a_password_file_line_without_a_hash_is_reported_with_its_line_number() -> None:
    with pytest.raises(PasswordFileError, match="line 2"):
        parse_password_file("a:$7$101$AAAA$AAAA\nbroken-line\n")

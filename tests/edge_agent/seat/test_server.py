"""The local API server: loopback only, a clean stop, and a restart that keeps everything."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from edge_agent.outbox import Outbox
from edge_agent.seat.commands import apply_command
from edge_agent.seat.local_api import LocalApi
from edge_agent.seat.messages import Sender
from edge_agent.seat.server import LocalApiServer, NotLoopbackError
from edge_agent.seat.state import SeatState
from protocol import CommandType, uuid7
from tests.edge_agent.seat.builders import command, enrolment_json
from tests.edge_agent.seat.conftest import FakeSensors


def _app(tmp_path: Path, sender: Sender) -> tuple[LocalApi, SeatState, Outbox]:
    state = SeatState(tmp_path / "seat.sqlite3")
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    return LocalApi(state, outbox, sender, FakeSensors()), state, outbox


def _outward_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never reached, only routed
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("host", ["0.0.0.0", "", "192.168.1.10", "localhost", "::"])
def test_any_host_but_the_loopback_address_is_refused(
    tmp_path: Path, sender: Sender, host: str
) -> None:
    api, state, outbox = _app(tmp_path, sender)
    with pytest.raises(NotLoopbackError):
        LocalApiServer(api, host=host, port=0)
    state.close()
    outbox.close()


def test_it_listens_on_127_0_0_1_only(tmp_path: Path, sender: Sender) -> None:
    api, state, outbox = _app(tmp_path, sender)
    with LocalApiServer(api, port=0) as server:
        assert server.host == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}/v1"
        assert requests.get(f"{server.url}/state", timeout=10).status_code == 200
        outward = _outward_address()
        if outward is not None:  # the same port on the machine's real address is closed
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((outward, server.port), timeout=2).close()
    state.close()
    outbox.close()


def test_stop_closes_the_port_and_returns_promptly(tmp_path: Path, sender: Sender) -> None:
    api, state, outbox = _app(tmp_path, sender)
    server = LocalApiServer(api, port=0)
    server.start()
    port = server.port
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    server.stop()  # a second stop is harmless
    state.close()
    outbox.close()


def test_after_a_restart_state_and_taken_ids_are_still_there(
    tmp_path: Path, sender: Sender
) -> None:
    api, state, outbox = _app(tmp_path, sender)
    apply_command(state, command(CommandType.ENROL, enrolment=enrolment_json()))
    apply_command(state, command(CommandType.PAUSE))
    message_id = str(uuid7())
    body = {"id": message_id, "kind": "answer", "question_id": "q1", "answer": "b"}
    with LocalApiServer(api, port=0) as server:
        first = requests.post(f"{server.url}/messages", json=body, timeout=10)
    state.close()
    outbox.close()

    api, state, outbox = _app(tmp_path, sender)
    with LocalApiServer(api, port=0) as server:
        again = requests.post(f"{server.url}/messages", json=body, timeout=10)
        seen = requests.get(f"{server.url}/state", timeout=10).json()
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"id": message_id, "seq": 0, "duplicate": True}
    assert seen["control"]["paused"] is True
    assert seen["enrolment"]["session_id"] == "sess-1"
    assert seen["health"]["outbox_depth"] == 1
    state.close()
    outbox.close()

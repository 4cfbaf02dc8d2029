"""Forwarding queued messages to the agent: in order, retried with the same id, a refused body
set aside instead of blocking the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify, request

from kiosk_ui.agent_client import AgentClient
from kiosk_ui.forwarder import forward_pending
from kiosk_ui.store import QuizStore
from protocol.ids import uuid7
from tests.kiosk_ui.fake_agent import serve


class ScriptedAgent:
    """Answers POSTs with the next scripted status (201 once the script is used up)."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.received: list[dict[str, Any]] = []
        self.violation_ids: list[str] = []

    def app(self) -> Flask:
        app = Flask("scripted")

        @app.post("/v1/<path:_>")
        def take(_: str) -> tuple[Any, int]:
            body = request.get_json()
            status = self.script.pop(0) if self.script else 201
            self.received.append({"status": status, **body})
            if status >= 400:
                return jsonify({"error": {"code": "x", "message": "scripted"}}), status
            self.violation_ids.append(str(uuid7()))
            reply = {"id": body.get("id"), "seq": 1, "violation_id": self.violation_ids[-1]}
            return jsonify(reply), status

        return app


@pytest.fixture
def scripted() -> Iterator[tuple[ScriptedAgent, AgentClient]]:
    agent = ScriptedAgent()
    with serve(agent.app()) as url:
        yield agent, AgentClient(url)


def answer(n: int) -> dict[str, Any]:
    return {"id": str(uuid7()), "kind": "answer", "question_id": f"q{n}", "answer": "a"}


def test_messages_go_in_order_and_once(
    store: QuizStore, scripted: tuple[ScriptedAgent, AgentClient]
) -> None:
    agent, client = scripted
    bodies = [answer(n) for n in range(3)]
    for body in bodies:
        store.queue(body)
    assert forward_pending(store, client) == 3
    assert forward_pending(store, client) == 0
    assert [r["id"] for r in agent.received] == [b["id"] for b in bodies]


def test_busy_agent_keeps_the_order_and_the_id(
    store: QuizStore, scripted: tuple[ScriptedAgent, AgentClient]
) -> None:
    agent, client = scripted
    first, second = answer(1), answer(2)
    store.queue(first)
    store.queue(second)
    agent.script = [503, 409]
    assert forward_pending(store, client) == 0  # 503: stop this round
    assert forward_pending(store, client) == 0  # 409 no_session: later, nothing overtakes it
    assert forward_pending(store, client) == 2
    assert [r["id"] for r in agent.received] == [first["id"]] * 3 + [second["id"]]
    assert store.pending_count() == 0


def test_refused_body_is_set_aside(
    store: QuizStore, scripted: tuple[ScriptedAgent, AgentClient]
) -> None:
    agent, client = scripted
    bad, good = answer(1), answer(2)
    store.queue(bad)
    store.queue(good)
    agent.script = [400]
    assert forward_pending(store, client) == 1
    assert store.pending_count() == 0
    assert [r["status"] for r in agent.received] == [400, 201]


def test_agent_away_keeps_everything(store: QuizStore) -> None:
    store.queue(answer(1))
    nobody = AgentClient("http://127.0.0.1:9", timeout_s=0.5)
    assert forward_pending(store, nobody) == 0
    assert store.pending_count() == 1


def test_lockdown_violation_becomes_the_flag_to_explain(
    store: QuizStore, scripted: tuple[ScriptedAgent, AgentClient]
) -> None:
    agent, client = scripted
    store.queue({"kind": "lockdown", "signal": "focus_lost", "detail": ""}, "/v1/signals")
    store.queue({"kind": "raise_hand"}, "/v1/signals")  # a raised hand is not a flag
    forward_pending(store, client)
    assert store.get("last_violation") == agent.violation_ids[0]

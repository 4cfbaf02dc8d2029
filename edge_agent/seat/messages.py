"""Protocol messages from the local API's bodies and from applied commands.

The screen sends a session message's own fields (`docs/kiosk-local-api.md`); the agent adds
what only it knows: the subject (from the enrolment), the origin, the clock and the seq. The
body is checked by the protocol model itself, through JSON as if it had come off the wire, so
the local API accepts exactly what central would. Violations and receipts reuse the agent's
builders (`rules.wire.violation_factory`, `messages.command_receipt`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import ValidationError

from edge_agent.clock import Clock
from edge_agent.messages import Origin, command_receipt
from edge_agent.outbox import MessageFactory, Outbox
from edge_agent.rules.engine import DetailValue, ViolationChange
from edge_agent.rules.tracker import Instant
from edge_agent.rules.wire import violation_factory
from edge_agent.seat.commands import CommandOutcome, apply_command
from edge_agent.seat.state import SeatState
from protocol import (
    AnswerSaved,
    CheckIn,
    Command,
    CommandReceipt,
    Consent,
    EventState,
    ExamSubmitted,
    Explanation,
    SessionRef,
    Severity,
    ViolationType,
    uuid7,
)
from protocol.models import OutboxMessage, SessionMessage

SESSION_KINDS: Final[dict[str, type[OutboxMessage]]] = {
    "checkin": CheckIn,
    "answer": AnswerSaved,
    "submitted": ExamSubmitted,
    "consent": Consent,
    "explanation": Explanation,
}
# Filled by the agent; a body that sets one is refused rather than silently overridden.
AGENT_FIELDS: Final = frozenset(
    {"schema_version", "centre_id", "device_id", "clock", "seq", "subject", "simulated"}
)


@dataclass(frozen=True)
class Sender:
    """Who speaks and when: the fields every device message gets besides its own."""

    origin: Origin
    clock: Clock
    seat_id: str | None = None  # the kiosk's fixed seat, for messages outside a session


class BodyError(ValueError):
    """A local API body that does not make a valid message; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _first_error(error: ValidationError) -> BodyError:
    item = error.errors()[0]
    field = ".".join(str(part) for part in item["loc"]) or "body"
    return BodyError(field, str(item["msg"]))


def session_message(
    body: Mapping[str, Any], message_id: uuid.UUID, sender: Sender, subject: SessionRef
) -> SessionMessage:
    """The session message for a `POST /v1/messages` body (without its `id`), at seq 0:
    the outbox factory sets the real seq. Raises BodyError."""
    kind = body.get("kind")
    model = SESSION_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise BodyError("kind", f"must be one of {sorted(SESSION_KINDS)}")
    taken = sorted(AGENT_FIELDS.intersection(body))
    if taken:
        raise BodyError(taken[0], "is filled by the agent, not the screen")
    origin = sender.origin
    full = {
        **body,
        "schema_version": 1,
        "centre_id": origin.centre_id,
        "device_id": origin.device_id,
        "clock": sender.clock.now().model_dump(mode="json"),
        "simulated": origin.simulated,
        "id": str(message_id),
        "seq": 0,
        "subject": subject.model_dump(mode="json"),
    }
    try:
        message = model.model_validate_json(json.dumps(full))
    except ValidationError as exc:
        raise _first_error(exc) from exc
    assert isinstance(message, CheckIn | AnswerSaved | ExamSubmitted | Consent | Explanation)
    return message


def with_seq(message: SessionMessage) -> MessageFactory:
    """An outbox factory that stores `message` under the seq the outbox hands out."""

    def factory(message_id: uuid.UUID, seq: int) -> SessionMessage:
        return message.model_copy(update={"id": message_id, "seq": seq})

    return factory


LockdownSignal = Literal[
    "fullscreen_exit",
    "visibility_hidden",
    "focus_lost",
    "blocked_shortcut",
    "navigation_attempt",
    "context_menu",
    "clipboard",
]


def point_violation(
    outbox: Outbox,
    sender: Sender,
    subject: SessionRef,
    kind: ViolationType,
    details: dict[str, DetailValue],
) -> uuid.UUID:
    """A violation that starts and ends at once (like `ViolationSink.fault`): a `started`
    and an `ended` message with one violation id. Returns that id."""
    severity = Severity.INFO if kind is ViolationType.RAISED_HAND else Severity.MEDIUM
    now = sender.clock.now()
    at = Instant(now.monotonic_s, now.wall_time)
    violation_id = uuid7()
    for state in (EventState.STARTED, EventState.ENDED):
        change = ViolationChange(
            violation_id=violation_id,
            type=kind,
            state=state,
            started=at,
            ended=at if state is EventState.ENDED else None,
            duration_s=0.0,
            severity=severity,
            confidence=1.0,
            details=details,
        )
        outbox.enqueue(violation_factory(change, sender.origin, sender.clock, subject))
    return violation_id


def lockdown_details(signal: LockdownSignal, detail: str) -> dict[str, DetailValue]:
    return {"signal": signal, "detail": detail}


def receipt_factory(
    sender: Sender, command_id: uuid.UUID, outcome: CommandOutcome
) -> MessageFactory:
    """The receipt that says what applying the command did."""

    def factory(message_id: uuid.UUID, seq: int) -> CommandReceipt:
        base = command_receipt(sender.origin, sender.clock, command_id, message_id, seq)
        fields = base.model_dump() | {"status": outcome.status, "detail": outcome.detail[:500]}
        return CommandReceipt.model_validate(fields)

    return factory


def apply_and_answer(
    state: SeatState, outbox: Outbox, sender: Sender, command: Command
) -> CommandOutcome:
    """Apply a command from central and put its receipt in the outbox.

    A command applied before (redelivered after a restart) is not applied again, but its
    receipt is sent again: the first one may have been lost with the process that applied it.
    """
    outcome = apply_command(state, command, sender.seat_id)
    outbox.enqueue(receipt_factory(sender, command.id, outcome))
    return outcome

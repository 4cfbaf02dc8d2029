"""Payloads that cannot be stored, with whatever could be recovered to tell the sender."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from protocol import topics
from protocol.errors import ProtocolError, TopicError
from protocol.topics import ACKED_KINDS

MAX_STORED_PAYLOAD = 64 * 1024
MAX_RECOVERY_BYTES = 8 * 1024 * 1024  # do not parse absurdly large payloads to find an id


@dataclass(frozen=True)
class RejectedPayload:
    """A message that goes to the dead-letter table.

    `message_id` is set when the sender used an acknowledged topic and its payload still named
    a UUID `id`: central then acks it as `rejected` so the kiosk stops resending it. Centre and
    device come from the topic, which the broker ACL ties to the sender.
    """

    topic: str
    payload: bytes  # at most MAX_STORED_PAYLOAD bytes
    payload_size: int
    reason_code: str
    reason: str
    centre_id: str | None = None
    device_id: str | None = None
    message_id: uuid.UUID | None = None

    @classmethod
    def from_error(cls, topic: str, payload: bytes, error: ProtocolError) -> RejectedPayload:
        return cls.build(topic, payload, error.reason, error.message)

    @classmethod
    def build(cls, topic: str, payload: bytes, reason_code: str, reason: str) -> RejectedPayload:
        centre_id = device_id = None
        message_id = None
        try:
            parsed = topics.parse(topic)
        except TopicError:
            parsed = None
        if parsed is not None:
            centre_id, device_id = parsed.centre_id, parsed.device_id
            if parsed.kind in ACKED_KINDS:
                message_id = recover_id(payload)
        return cls(
            topic=topic,
            payload=payload[:MAX_STORED_PAYLOAD],
            payload_size=len(payload),
            reason_code=reason_code,
            reason=reason,
            centre_id=centre_id,
            device_id=device_id,
            message_id=message_id,
        )


def recover_id(payload: bytes) -> uuid.UUID | None:
    """The payload's `id` if it is a JSON object naming a UUID, else None. Never raises."""
    if len(payload) > MAX_RECOVERY_BYTES:
        return None
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if not isinstance(obj, dict):
        return None
    value = obj.get("id")
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

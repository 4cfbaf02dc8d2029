"""Topic builders and parsers: ``proctor/v1/{centre}/{device}/{kind}``.

Devices publish on their own subtree only (the broker ACL pins ``{device}`` to the MQTT
username); central publishes acks and commands into the device's subtree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from protocol.errors import TopicError

ROOT = "proctor"
VERSION = "v1"
PREFIX = f"{ROOT}/{VERSION}"

# Centre and device ids appear in topics and ACL patterns: no wildcards, no slashes, no spaces.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)


class TopicKind(StrEnum):
    # device -> central, through the outbox, acknowledged by central
    EVENT = "event"
    SESSION = "session"
    RECEIPT = "receipt"
    # device -> central, not acknowledged (latest value wins)
    HEARTBEAT = "heartbeat"
    STATUS = "status"
    # central -> device
    ACK = "ack"
    COMMAND = "command"


DEVICE_TO_CENTRAL = frozenset(
    {TopicKind.EVENT, TopicKind.SESSION, TopicKind.RECEIPT, TopicKind.HEARTBEAT, TopicKind.STATUS}
)
ACKED_KINDS = frozenset({TopicKind.EVENT, TopicKind.SESSION, TopicKind.RECEIPT})


@dataclass(frozen=True)
class Topic:
    centre_id: str
    device_id: str
    kind: TopicKind

    def __str__(self) -> str:
        return build(self.centre_id, self.device_id, self.kind)


def _check_id(value: str, what: str) -> str:
    if not _ID_RE.match(value):
        raise TopicError(f"{what} {value!r} is not a valid id (letters, digits, '_', '.', '-')")
    return value


def build(centre_id: str, device_id: str, kind: TopicKind | str) -> str:
    kind = TopicKind(kind)
    _check_id(centre_id, "centre id")
    _check_id(device_id, "device id")
    return f"{PREFIX}/{centre_id}/{device_id}/{kind.value}"


def parse(topic: str) -> Topic:
    """Parse a concrete topic; raises TopicError for anything outside the contract."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[1] != VERSION:
        raise TopicError(
            f"topic {topic[:200]!r} is not of the form {PREFIX}/<centre>/<device>/<kind>"
        )
    centre_id, device_id, kind = parts[2], parts[3], parts[4]
    _check_id(centre_id, "centre id")
    _check_id(device_id, "device id")
    try:
        topic_kind = TopicKind(kind)
    except ValueError:
        raise TopicError(f"unknown topic kind {kind[:50]!r}") from None
    return Topic(centre_id, device_id, topic_kind)


def subscription(kind: TopicKind | str, centre_id: str = "+", device_id: str = "+") -> str:
    """A subscription filter for one kind, all centres and devices unless narrowed."""
    return f"{PREFIX}/{centre_id}/{device_id}/{TopicKind(kind).value}"


def shared(filter_: str, group: str | None) -> str:
    """Wrap a filter in an MQTT shared subscription so several workers split the load."""
    return f"$share/{group}/{filter_}" if group else filter_

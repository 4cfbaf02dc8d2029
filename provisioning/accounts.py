"""Who may do what on the broker: the central service's accounts and each kiosk's, as ACL rules.

Every account has an explicit `user` block; no `pattern` lines, because Mosquitto applies a
pattern to every user (central's accounts included) and would let any valid login write into a
subtree named after itself. Devices write only their own topics of their own centre and read
only their own acks and commands; central's accounts are scoped to this centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from protocol import topics
from protocol.topics import DEVICE_TO_CENTRAL, TopicKind

Role = Literal["ingest", "web"]
Access = Literal["read", "write", "readwrite"]

WEB_USER = "central-web"
CENTRAL_TO_DEVICE = (TopicKind.ACK, TopicKind.COMMAND)


def ingest_user(number: int) -> str:
    return f"central-ingest-{number}"


def reserved_usernames(ingest_workers: int) -> set[str]:
    """Names a kiosk may never take: they belong to central."""
    return {WEB_USER, *(ingest_user(n) for n in range(1, max(ingest_workers, 64) + 1))}


@dataclass(frozen=True)
class Rule:
    access: Access
    topic: str

    def line(self) -> str:
        return f"topic {self.access} {self.topic}"


def _sorted_kinds(kinds: frozenset[TopicKind] | tuple[TopicKind, ...]) -> list[TopicKind]:
    return sorted(kinds, key=lambda kind: kind.value)


def device_rules(centre_id: str, device_id: str) -> list[Rule]:
    rules = [
        Rule("write", topics.build(centre_id, device_id, kind))
        for kind in _sorted_kinds(DEVICE_TO_CENTRAL)
    ]
    rules += [Rule("read", topics.build(centre_id, device_id, kind)) for kind in CENTRAL_TO_DEVICE]
    return rules


def central_rules(centre_id: str, role: Role) -> list[Rule]:
    """Ingest reads what kiosks send and writes acks only; web (console, commands) reads what
    kiosks send and writes commands only. Both for the devices of this centre only."""
    rules = [
        Rule("read", topics.subscription(kind, centre_id=centre_id))
        for kind in _sorted_kinds(DEVICE_TO_CENTRAL)
    ]
    written = (TopicKind.ACK,) if role == "ingest" else (TopicKind.COMMAND,)
    rules += [Rule("write", topics.subscription(kind, centre_id=centre_id)) for kind in written]
    return rules

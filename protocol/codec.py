"""Encode and strictly decode messages against the topic they travel on.

`decode` is the one door into the system for bytes from the network: it checks the topic,
the size, the encoding, the schema version, the model and that the payload speaks for the
same centre and device as the topic. Each failure is a ProtocolError subclass with a reason
code and a sentence saying what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import Field, TypeAdapter, ValidationError

from protocol import topics
from protocol.errors import (
    MalformedPayload,
    PayloadTooLarge,
    SchemaViolation,
    TopicMismatch,
    UnsupportedSchemaVersion,
)
from protocol.models import (
    SCHEMA_VERSION,
    Ack,
    AnswerSaved,
    CheckIn,
    Command,
    CommandReceipt,
    Consent,
    DeviceStatus,
    ExamSubmitted,
    Explanation,
    Heartbeat,
    Message,
    SessionMessage,
    ViolationEvent,
    WireModel,
)
from protocol.topics import Topic, TopicKind

KIB = 1024
# Per topic kind. Events and session messages are small (evidence travels over HTTP); a
# command can carry a whole exam definition.
MAX_PAYLOAD_BYTES: Final[dict[TopicKind, int]] = {
    TopicKind.EVENT: 64 * KIB,
    TopicKind.SESSION: 64 * KIB,
    TopicKind.RECEIPT: 16 * KIB,
    TopicKind.HEARTBEAT: 16 * KIB,
    TopicKind.STATUS: 4 * KIB,
    TopicKind.ACK: 256 * KIB,
    TopicKind.COMMAND: 1024 * KIB,
}

_ADAPTERS: Final[dict[TopicKind, TypeAdapter[Any]]] = {
    TopicKind.EVENT: TypeAdapter(ViolationEvent),
    TopicKind.SESSION: TypeAdapter(Annotated[SessionMessage, Field(discriminator="kind")]),
    TopicKind.RECEIPT: TypeAdapter(CommandReceipt),
    TopicKind.HEARTBEAT: TypeAdapter(Heartbeat),
    TopicKind.STATUS: TypeAdapter(DeviceStatus),
    TopicKind.ACK: TypeAdapter(Ack),
    TopicKind.COMMAND: TypeAdapter(Command),
}

_MAX_ERRORS_REPORTED = 5


@dataclass(frozen=True)
class Decoded:
    topic: Topic
    message: Message


def encode(message: WireModel) -> bytes:
    """Canonical JSON bytes: fields in model order, no whitespace, UTC times with 'Z'."""
    return message.model_dump_json().encode("utf-8")


def topic_for(message: Message) -> str:
    """The topic a message is published on, derived from the message itself."""
    return topics.build(message.centre_id, message.device_id, kind_of(message))


_KIND_BY_TYPE: Final[dict[type, TopicKind]] = {
    ViolationEvent: TopicKind.EVENT,
    CheckIn: TopicKind.SESSION,
    AnswerSaved: TopicKind.SESSION,
    ExamSubmitted: TopicKind.SESSION,
    Explanation: TopicKind.SESSION,
    Consent: TopicKind.SESSION,
    CommandReceipt: TopicKind.RECEIPT,
    Heartbeat: TopicKind.HEARTBEAT,
    DeviceStatus: TopicKind.STATUS,
    Ack: TopicKind.ACK,
    Command: TopicKind.COMMAND,
}


def kind_of(message: Message) -> TopicKind:
    """The topic kind a message travels on."""
    return _KIND_BY_TYPE[type(message)]


def _reject_constant(name: str) -> Any:
    raise MalformedPayload(f"non-finite number {name} is not allowed")


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:_MAX_ERRORS_REPORTED]:
        loc = ".".join(str(p) for p in item["loc"]) or "(message)"
        parts.append(f"{loc}: {item['msg']}")
    more = error.error_count() - _MAX_ERRORS_REPORTED
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _check_envelope(payload: bytes) -> None:
    """Cheap checks before model validation, so the error names the real problem."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"payload is not UTF-8 (byte {exc.start})") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedPayload(f"payload is not JSON: {exc.msg} at char {exc.pos}") from None
    except RecursionError:
        raise MalformedPayload("payload is nested too deeply") from None
    if not isinstance(obj, dict):
        raise MalformedPayload(f"payload is a JSON {type(obj).__name__}, expected an object")
    version = obj.get("schema_version")
    if version is None:
        raise UnsupportedSchemaVersion("payload has no schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(
            f"schema_version {str(version)[:20]!r} is not supported (expected {SCHEMA_VERSION})"
        )


def decode(topic: str, payload: bytes) -> Decoded:
    """Validate a message received on `topic`. Raises a ProtocolError subclass on any problem."""
    parsed = topics.parse(topic)
    limit = MAX_PAYLOAD_BYTES[parsed.kind]
    if len(payload) > limit:
        raise PayloadTooLarge(
            f"{parsed.kind.value} payload is {len(payload)} bytes, the limit is {limit}"
        )
    _check_envelope(payload)
    try:
        message = _ADAPTERS[parsed.kind].validate_json(payload)
    except ValidationError as exc:
        raise SchemaViolation(f"{parsed.kind.value} payload is invalid: {_describe(exc)}") from None
    if message.centre_id != parsed.centre_id or message.device_id != parsed.device_id:
        raise TopicMismatch(
            f"payload is for {message.centre_id}/{message.device_id} but was published on "
            f"{parsed.centre_id}/{parsed.device_id}"
        )
    return Decoded(parsed, message)

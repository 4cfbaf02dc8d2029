"""Typed decoding errors: each says what is wrong in words and carries a stable reason code."""

from __future__ import annotations


class ProtocolError(ValueError):
    """A message that cannot be accepted. `reason` is a stable machine-readable code."""

    reason = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PayloadTooLarge(ProtocolError):
    reason = "payload_too_large"


class MalformedPayload(ProtocolError):
    """Not UTF-8, not JSON, not a JSON object, or a non-finite number."""

    reason = "malformed"


class UnsupportedSchemaVersion(ProtocolError):
    reason = "schema_version"


class SchemaViolation(ProtocolError):
    """Valid JSON that does not match the model: unknown field, wrong type, bad value."""

    reason = "schema"


class TopicError(ProtocolError):
    """A topic that is not part of this contract."""

    reason = "topic"


class TopicMismatch(ProtocolError):
    """The payload speaks for another device or centre than the topic it was published on."""

    reason = "topic_mismatch"

"""Golden files pin the wire format: a change here breaks kiosks in the field."""

from __future__ import annotations

import pytest

from protocol import decode, encode, topic_for
from tests.protocol.examples import EXAMPLES, golden_path


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_encoding_matches_golden_file(name: str) -> None:
    assert encode(EXAMPLES[name]) + b"\n" == golden_path(name).read_bytes()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_golden_file_decodes_to_the_example(name: str) -> None:
    message = EXAMPLES[name]
    decoded = decode(topic_for(message), golden_path(name).read_bytes().rstrip(b"\n"))
    assert decoded.message == message
    assert decoded.topic.device_id == "kiosk-a07"

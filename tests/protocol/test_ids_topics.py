"""UUIDv7 generation, topic building and parsing, broker URLs."""

from __future__ import annotations

import time

import pytest

from protocol import TopicError, TopicKind
from protocol import topics as t
from protocol.broker_url import BrokerUrl, BrokerUrlError
from protocol.ids import uuid7, uuid7_time_ms


def test_uuid7_layout_and_time() -> None:
    before = int(time.time() * 1000)
    value = uuid7()
    after = int(time.time() * 1000)
    assert value.version == 7
    assert value.variant == "specified in RFC 4122"
    assert before <= uuid7_time_ms(value) <= after


def test_uuid7_strictly_increasing_within_one_millisecond() -> None:
    ids = [uuid7(now_ms=1_800_000_000_000) for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_uuid7_stays_increasing_when_the_clock_steps_back() -> None:
    first = uuid7(now_ms=1_900_000_000_000)
    second = uuid7(now_ms=1_000_000_000_000)  # clock jumped back 30 years
    assert second > first


def test_topic_round_trip() -> None:
    topic = t.build("centre-1", "kiosk-a07", TopicKind.EVENT)
    assert topic == "proctor/v1/centre-1/kiosk-a07/event"
    parsed = t.parse(topic)
    assert (parsed.centre_id, parsed.device_id, parsed.kind) == ("centre-1", "kiosk-a07", "event")
    assert str(parsed) == topic


@pytest.mark.parametrize("bad", ["+", "#", "a/b", "", "sp ace", "x" * 65])
def test_ids_with_wildcards_or_slashes_cannot_build_topics(bad: str) -> None:
    with pytest.raises(TopicError):
        t.build("centre-1", bad, "event")


def test_subscriptions_and_shared_groups() -> None:
    assert t.subscription("event") == "proctor/v1/+/+/event"
    assert t.shared(t.subscription("event"), "ingest") == "$share/ingest/proctor/v1/+/+/event"
    assert t.shared("x", None) == "x"


def test_broker_url_parsing_and_redaction() -> None:
    url = BrokerUrl.parse("mqtts://kiosk-a07:p%40ss@broker.local?ca=/etc/proctor/ca.pem")
    assert (url.host, url.port, url.tls, url.version) == ("broker.local", 8883, True, "5")
    assert (url.username, url.password, url.ca_file) == ("kiosk-a07", "p@ss", "/etc/proctor/ca.pem")
    assert "p@ss" not in repr(url)
    assert "***" in str(url)
    assert BrokerUrl.parse(url.to_url(redact=False)) == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://x", "mqtt://"),
        ("mqtt://", "no host"),
        ("mqtt://h?version=4", "version"),
        ("mqtt://h?colour=red", "colour"),
        ("mqtt://h:99999", "port"),
    ],
)
def test_bad_broker_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(BrokerUrlError, match=words):
        BrokerUrl.parse(url)

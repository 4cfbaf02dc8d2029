"""A sample of the generated malformed payloads through the real path: Mosquitto, the
`python -m central.ingest` process and MariaDB, each followed by a valid event."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from protocol import encode
from tests.fuzz.payloads import TOPIC, malformed, valid_event
from tests.support import pipeline as p
from tests.support.services import MosquittoInstance

pytestmark = [pytest.mark.mariadb, pytest.mark.mosquitto, pytest.mark.slow]
SAMPLE = 150


@settings(
    max_examples=1,
    phases=[Phase.generate],  # one real run; shrinking would replay it against the services
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(payloads=st.lists(malformed, min_size=SAMPLE, max_size=SAMPLE))
def test_sample_through_broker_ingest_and_mariadb(
    mosquitto_server: MosquittoInstance, mariadb_url: str, tmp_path: Path, payloads: list[bytes]
) -> None:
    p.migrate(mariadb_url)
    ingest = p.IngestProcess(mosquitto_server.url, mariadb_url, tmp_path / "ingest.log")
    ingest.start()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fuzzer", protocol=mqtt.MQTTv5)
    client.connect(mosquitto_server.url.host, mosquitto_server.url.port)
    client.loop_start()
    valid_ids = []
    try:
        for seq, payload in enumerate(payloads):
            client.publish(TOPIC, payload, qos=1).wait_for_publish(10)
            valid = valid_event(seq)
            client.publish(TOPIC, encode(valid), qos=1).wait_for_publish(10)
            valid_ids.append(str(valid.id))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            p.count_rows(mariadb_url, "dead_letters") < SAMPLE
            or len(p.stored_ids(mariadb_url)) < SAMPLE
        ):
            time.sleep(0.2)
        assert ingest.alive(), ingest.log_text()[-2000:]
    finally:
        client.loop_stop()
        client.disconnect()
        ingest.stop()
    p.assert_exactly_once(valid_ids, p.stored_ids(mariadb_url))
    engine = sa.create_engine(mariadb_url)
    with engine.connect() as conn:
        letters = conn.execute(sa.text("SELECT reason_code, reason FROM dead_letters")).all()
    engine.dispose()
    assert len(letters) == SAMPLE
    assert all(code and reason for code, reason in letters)

"""An unexpected error in the ingest worker thread ends the process with a non-zero status,
so that a supervisor restarts it, instead of leaving it to exit 0 as if stopped."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central.ingest import IngestOptions, IngestWorker
from central.ingest.batch import Received
from central.ingest.worker import _awaiting_publish
from protocol.broker_url import BrokerUrl


@pytest.mark.mosquitto
def test_a_crash_in_the_worker_thread_is_reported(
    mosquitto: BrokerUrl, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = IngestWorker(IngestOptions(broker=mosquitto, database_url=sqlite_url))

    def broken(_batch: list[Received]) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(worker, "_process", broken)
    worker.start()
    worker._queue.put(Received("proctor/v1/c/k/event", b"{}", 1, 1, 1))
    assert worker.join(20), "the worker thread kept running"
    assert worker.failed


def test_an_ack_published_while_disconnected_is_not_awaited() -> None:
    """paho marks a publish made without a connection with an error code and raises from
    is_published(); that once ended the worker thread after a broker restart."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    info = client.publish("proctor/v1/c/k/ack", b"{}", qos=1)  # never connected
    with pytest.raises(RuntimeError):
        info.is_published()
    assert _awaiting_publish(info) is False

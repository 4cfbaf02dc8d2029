"""The ingest loop: MQTT messages in, one transaction per batch, acks out after the commit.

on_message (paho's network thread) only enqueues. The worker thread takes up to `batch_size`
messages (waiting at most `batch_wait_ms` for the batch to fill), decodes them, stores them with
`store_batch` in one transaction and commits. Only then does it PUBACK each message to the
broker and publish one app-level Ack per device. If the database fails, the same batch is
retried with backoff and nothing is acked: the broker session keeps the messages. A batch
that fails for any other reason is stored message by message (see `storing`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine

from central.db import create_db_engine, make_sessionmaker, redact
from central.ingest import mqtt as mqtt_setup
from central.ingest.batch import Received, build_acks, to_store_item
from central.ingest.storing import BatchStorer
from central.services import RejectedPayload, StoreItem
from protocol import AckResult
from protocol.broker_url import BrokerUrl

log = logging.getLogger(__name__)

POLL_S = 0.2
FLUSH_ACKS_S = 5.0
QOS0_BACKLOG_FACTOR = 10  # QoS 0 messages beyond this many batches are dropped, and counted


@dataclass(frozen=True)
class IngestOptions:
    broker: BrokerUrl
    database_url: str = field(repr=False)
    client_id: str = "central-ingest-1"
    share_group: str = "ingest"
    batch_size: int = 500
    batch_wait_ms: int = 50


@dataclass(frozen=True)
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0  # dead letters
    batches: int = 0
    retries: int = 0
    dropped_qos0: int = 0
    acks_published: int = 0
    connects: int = 0


class IngestWorker:
    """start() connects and runs in background threads; stop() asks it to finish; join() waits.

    A batch that was committed when stop() came is still acked; one that was not is abandoned
    unacknowledged, and the broker redelivers it to the next worker with this client id or
    share group.
    """

    def __init__(self, options: IngestOptions, engine: Engine | None = None) -> None:
        self.options = options
        self._own_engine = engine is None
        self._engine = engine or create_db_engine(options.database_url)
        self._sessions = make_sessionmaker(self._engine)
        self._queue: queue.Queue[Received] = queue.Queue()
        self._stop = threading.Event()
        self._failed = False
        self._storer = BatchStorer(self._sessions, self._stop, lambda: self._count(retries=1))
        self._subscribed = threading.Event()
        self._generation = 0
        self._stats = IngestStats()
        self._stats_lock = threading.Lock()
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._settings = mqtt_setup.MqttSettings(
            broker=options.broker,
            client_id=options.client_id,
            share_group=options.share_group,
            receive_maximum=2 * options.batch_size,
        )
        self._client = mqtt_setup.make_client(self._settings)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        log.info(
            "ingest %s: broker %s, database %s, share group %r, batch %s / %s ms",
            self.options.client_id,
            self.options.broker,
            redact(self.options.database_url),
            self.options.share_group,
            self.options.batch_size,
            self.options.batch_wait_ms,
        )
        mqtt_setup.connect_async(self._client, self._settings)
        self._client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to finish; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the subscriptions of the current connection were granted."""
        return self._subscribed.wait(timeout)

    @property
    def stats(self) -> IngestStats:
        with self._stats_lock:
            return self._stats

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            current = self._stats
            self._stats = replace(
                current, **{k: getattr(current, k) + v for k, v in increments.items()}
            )

    # paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason_code: Any, _props: Any
    ) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self._generation += 1
        self._count(connects=1)
        log.info(
            "connected to %s (session present: %s)", self.options.broker, flags.session_present
        )
        mqtt_setup.subscribe_all(client, self._settings)  # here, so it is redone on reconnect

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, codes: Any, _props: Any
    ) -> None:
        filters = mqtt_setup.subscription_filters(self.options.share_group)
        failed = [f"{f} ({c})" for f, c in zip(filters, codes, strict=False) if c.is_failure]
        if failed:
            log.error("broker refused subscriptions: %s", ", ".join(failed))
            return
        log.info("subscribed to %s", ", ".join(filters))
        self._subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        self._subscribed.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Never block here: this is the network thread, which must keep sending our PUBACKs.
        if message.qos == 0 and self._queue.qsize() > QOS0_BACKLOG_FACTOR * self.options.batch_size:
            self._count(dropped_qos0=1)
            return
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers reject such topics; keep it for the dead letter
            topic = bytes(message._topic).decode("utf-8", "replace")
        self._queue.put(
            Received(topic, bytes(message.payload), message.mid, message.qos, self._generation)
        )

    # worker thread -------------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        """True when the worker thread ended on an unexpected error (nothing was acked for
        the batch in hand: the broker redelivers it to the next worker with this client id)."""
        return self._failed

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                batch = self._collect()
                if batch:
                    self._process(batch)
            left = self._queue.qsize()
            if left:
                log.info("stopping: %s received messages left unacked for redelivery", left)
        except Exception:  # loop boundary: say so and exit non-zero, so a supervisor restarts
            self._failed = True
            log.exception("ingest worker failed; stopping")
        finally:
            self._shutdown()

    def _collect(self) -> list[Received]:
        try:
            batch = [self._queue.get(timeout=POLL_S)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.options.batch_wait_ms / 1000
        while len(batch) < self.options.batch_size:
            remaining = deadline - time.monotonic()
            try:
                if remaining > 0:
                    batch.append(self._queue.get(timeout=remaining))
                else:
                    batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Received]) -> None:
        items = [to_store_item(received) for received in batch]
        results = self._storer.store(items)  # may swap poison messages for dead letters
        if results is None:
            log.info("stopping: batch of %s not committed, left unacked", len(batch))
            return
        self._ack_broker(batch)
        self._publish_acks(items, results)
        self._count_batch(items, results)

    def _ack_broker(self, batch: list[Received]) -> None:
        generation = self._generation
        for received in batch:
            if received.qos > 0 and received.generation == generation:
                self._client.ack(received.mid, received.qos)
            # else: it came on an earlier connection; the broker redelivers it, and the
            # copy is stored as a duplicate and acked then.

    def _publish_acks(self, items: list[StoreItem], results: list[AckResult | None]) -> None:
        acks = build_acks(items, results, datetime.now(UTC))
        self._pending = [p for p in self._pending if _awaiting_publish(p)]
        for ack in acks:
            # Queued by paho while disconnected and sent on reconnect; if lost, the kiosk
            # resends and gets `duplicate`.
            self._pending.append(self._client.publish(ack.topic, ack.payload, qos=1))
        self._count(acks_published=len(acks))

    def _count_batch(self, items: list[StoreItem], results: list[AckResult | None]) -> None:
        statuses = [r.status for r in results if r is not None]
        self._count(
            received=len(items),
            batches=1,
            stored=statuses.count("stored"),
            duplicates=statuses.count("duplicate"),
            rejected=sum(isinstance(item, RejectedPayload) for item in items),
        )

    def _shutdown(self) -> None:
        deadline = time.monotonic() + FLUSH_ACKS_S
        for info in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._client.is_connected():
                break
            try:
                info.wait_for_publish(remaining)
            except (RuntimeError, ValueError):  # not queued or not connected: kiosk resends
                break
        self._client.disconnect()
        self._client.loop_stop()
        if self._own_engine:
            self._engine.dispose()
        log.info("ingest %s stopped; %s", self.options.client_id, self.stats)


def _awaiting_publish(info: mqtt.MQTTMessageInfo) -> bool:
    """True while paho still has to send this ack. An ack published while the broker was away
    carries an error code, and `is_published()` raises for it (which once ended the worker
    thread after a broker restart); paho resends such a message on reconnect, and if it is
    lost the kiosk resends its message and gets `duplicate`."""
    try:
        return not info.is_published()
    except (RuntimeError, ValueError):
        return False

"""The command publisher: queued rows of `commands` out to each kiosk's command topic.

The database is the queue. The web request only commits a `queued` row; this loop reads due
rows, publishes each at QoS 1 on `proctor/v1/{centre}/{device}/command` and marks it
`published` when the broker's PUBACK comes (paho's on_publish). While the broker is down
nothing is published and the rows stay queued; after a reconnect, or when a PUBACK does not
come within PUBACK_TIMEOUT_S, they are published again. A kiosk applies a command id once
(edge_agent/seat/commands.py), so a second copy is harmless. Rows past their time to live
expire instead (central/services/commands.py). The same loop trims the live feed now and then,
and sweeps for seats whose next sitting has not reached their kiosk yet
(central/services/delivery.py): a kiosk bound or a sitting over since the last sweep.

Run one publisher per deployment (`python -m central.command_publisher`): two would both
publish each row, harmless but wasteful.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from central.db import create_db_engine, make_sessionmaker
from central.services import feed
from central.services.commands import advance, due_commands, to_wire
from central.services.delivery import deliver_due
from protocol import encode, topic_for
from protocol.broker_url import BrokerUrl

log = logging.getLogger(__name__)

POLL_S = 0.25
BATCH = 100
PUBACK_TIMEOUT_S = 30.0
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 15
DB_RETRY_S = 1.0
PRUNE_EVERY_S = 60.0  # the live feed keeps an hour (central/services/feed.py); this trims it
DELIVER_EVERY_S = 30.0


@dataclass(frozen=True)
class PublisherOptions:
    broker: BrokerUrl
    database_url: str = field(repr=False)
    client_id: str = "central-commands"
    deliver_every_s: float = DELIVER_EVERY_S


@dataclass(frozen=True)
class _Puback:
    mid: int
    failure: str | None  # the broker's reason when it refused (MQTT v5 only)


class CommandPublisher:
    """start() connects and runs a loop thread; wake() makes it look for rows at once;
    stop() and join() end it."""

    def __init__(self, options: PublisherOptions, engine: Engine | None = None) -> None:
        self.options = options
        self._own_engine = engine is None
        self._engine = engine or create_db_engine(options.database_url)
        self._sessions = make_sessionmaker(self._engine)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._disconnects: queue.Queue[None] = queue.Queue()
        self._pubacks: queue.Queue[_Puback] = queue.Queue()
        self._inflight: dict[int, tuple[str, float]] = {}  # mid -> (command id, sent at)
        self.published = 0  # commands the broker acknowledged
        self.cycles = 0  # loop turns: lets a caller know the loop looked at the queue again
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        self._next_delivery = time.monotonic()  # the first turn sweeps
        self.delivered = 0  # sittings the sweeps sent
        self._client = self._make_client()
        self._thread = threading.Thread(target=self._run, name="command-publisher", daemon=True)

    def _make_client(self) -> mqtt.Client:
        broker = self.options.broker
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.options.client_id,
            protocol=mqtt.MQTTv5 if broker.version == "5" else mqtt.MQTTv311,
            reconnect_on_failure=True,
        )
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set(ca_certs=broker.ca_file)
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        log.info("command publisher: broker %s", self.options.broker)
        broker = self.options.broker
        self._client.connect_async(broker.host, broker.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # paho callbacks (network thread): only hand over to the loop thread --------------------

    def _on_connect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        log.info("connected to %s", self.options.broker)
        self._connected.set()
        self._wake.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        self._connected.clear()
        self._disconnects.put(None)
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reason_code: Any, _props: Any
    ) -> None:
        failure = str(reason_code) if getattr(reason_code, "is_failure", False) else None
        self._pubacks.put(_Puback(mid, failure))
        self._wake.set()

    # loop thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(POLL_S)
                self._wake.clear()
                try:
                    self._turn()
                except SQLAlchemyError as exc:  # database away or a deadlock: rows stay queued
                    log.warning("command publisher: database error (%s); retrying", exc)
                    self._stop.wait(DB_RETRY_S)
                self.cycles += 1
        except Exception:  # loop boundary: say so; the rows stay queued for the next run
            log.exception("command publisher failed; stopping")
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            if self._own_engine:
                self._engine.dispose()

    def _turn(self) -> None:
        self._forget_on_disconnect()
        self._record_pubacks()
        if self._connected.is_set():
            self._publish_due()
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_EVERY_S
            with self._sessions.begin() as session:
                pruned = feed.prune(session.connection(), datetime.now(UTC))
            if pruned:
                log.info("pruned %s old live feed rows", pruned)
        if time.monotonic() >= self._next_delivery:
            self._next_delivery = time.monotonic() + self.options.deliver_every_s
            with self._sessions.begin() as session:
                sent = deliver_due(session)
            if sent:
                self.delivered += len(sent)
                log.info("sent %s sittings to their kiosks", len(sent))
                self._wake.set()  # publish them on the next turn, not after POLL_S

    def _forget_on_disconnect(self) -> None:
        """After a lost connection, whatever had no PUBACK is published again."""
        lost = False
        while not self._disconnects.empty():
            self._disconnects.get_nowait()
            lost = True
        if lost:
            self._inflight.clear()
        cutoff = time.monotonic() - PUBACK_TIMEOUT_S
        for mid in [m for m, (_c, sent) in self._inflight.items() if sent < cutoff]:
            del self._inflight[mid]

    def _record_pubacks(self) -> None:
        done: dict[str, list[str]] = {}  # state -> command ids
        details: dict[str, str] = {}
        while not self._pubacks.empty():
            puback = self._pubacks.get_nowait()
            entry = self._inflight.pop(puback.mid, None)
            if entry is None:
                continue  # from before a reconnect: the row is being published again
            state = "published" if puback.failure is None else "failed"
            done.setdefault(state, []).append(entry[0])
            if puback.failure is not None:
                details[entry[0]] = f"broker refused: {puback.failure}"
        if not done:
            return
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            connection = session.connection()
            advance(connection, done.get("published", []), "published", "", now)
            for command_id in done.get("failed", []):
                advance(connection, [command_id], "failed", details[command_id], now)
        self.published += len(done.get("published", []))

    def _publish_due(self) -> None:
        sending = {command_id for command_id, _sent in self._inflight.values()}
        with self._sessions.begin() as session:
            rows = due_commands(session, datetime.now(UTC), sending, BATCH)
            wires = [to_wire(row) for row in rows]
        for wire in wires:
            info = self._client.publish(topic_for(wire), encode(wire), qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                log.info("publish of command %s deferred: %s", wire.id, info.rc)
                return  # disconnected meanwhile: the rest stay queued too
            self._inflight[info.mid] = (str(wire.id), time.monotonic())

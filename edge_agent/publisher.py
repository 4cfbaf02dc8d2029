"""MQTT publisher: sends outbox rows, deletes them only on central's application-level ack.

A broker PUBACK is not delivery (Mosquitto drops queued messages past its limits and loses
its queue on kill -9), and paho keeps its own queue in memory only. So the outbox is the
only queue that counts: the sender thread sends due rows at QoS 1 while connected, keeps at
most `max_in_flight` ids unacked, and sends a row again (same id, same bytes) when central has
not acked it within `ack_timeout_s`. Central's `Ack` is the only thing that deletes a row.

Threads: paho's loop thread (network, reconnects, callbacks) and one sender thread (outbox
reads, publishes, heartbeats). Paho is never called while `self._lock` is held, because paho
calls our callbacks while holding its own locks.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.messages import (
    HealthSnapshot,
    HeartbeatBuilder,
    Origin,
    command_receipt,
    device_status,
    last_will_status,
)
from edge_agent.mqtt_client import ClientOptions, LastWill, connect_async, make_client
from edge_agent.outbox import Outbox, OutboxError, OutboxRow
from edge_agent.window import InFlightWindow
from protocol import Ack, Command, ProtocolError, decode, encode
from protocol import topics as topic_names
from protocol.broker_url import BrokerUrl
from protocol.topics import TopicKind

log = logging.getLogger(__name__)

CommandHandler = Callable[[Command], None]
_RECENT_COMMANDS = 256
_SHUTDOWN_PUBLISH_WAIT_S = 2.0
# New rows, acks, reconnects and commands wake the sender; with nothing of the kind it still
# reads the outbox this often, so a row nobody announced (another writer) is not left behind.
# An idle poll reading the outbox every 0.2-0.5 s cost a Pi, and a thousand simulated kiosks,
# CPU for nothing.
_IDLE_LOOK_S = 5.0


@dataclass(frozen=True)
class PublisherSettings:
    centre_id: str
    device_id: str
    broker: BrokerUrl
    ack_timeout_s: float = 30.0
    max_in_flight: int = 500
    heartbeat_interval_s: float = 10.0
    poll_interval_s: float = 0.5
    simulated: bool = False
    client: ClientOptions | None = None  # keepalive, session expiry, backoff; None: defaults

    @classmethod
    def from_config(cls, config: AgentConfig) -> PublisherSettings:
        pub = config.publisher
        return cls(
            centre_id=config.identity.centre_id,
            device_id=config.identity.device_id,
            broker=config.broker.broker_url(),
            ack_timeout_s=pub.ack_timeout_s,
            max_in_flight=pub.max_in_flight,
            heartbeat_interval_s=config.heartbeat.interval_s,
            poll_interval_s=pub.poll_interval_s,
            simulated=config.identity.simulated,
            client=ClientOptions(
                client_id=config.identity.device_id,
                keepalive_s=config.broker.keepalive_s,
                session_expiry_s=config.broker.session_expiry_s,
                reconnect_min_s=pub.reconnect_min_s,
                reconnect_max_s=pub.reconnect_max_s,
            ),
        )

    def client_options(self) -> ClientOptions:
        """MQTT client options; the client id is always the device id (the broker ACL uses it)."""
        if self.client is None:
            return ClientOptions(client_id=self.device_id)
        return replace(self.client, client_id=self.device_id)


@dataclass(frozen=True)
class PublisherStats:
    connected: bool = False
    connects: int = 0
    sent: int = 0
    resent: int = 0
    acked: int = 0
    rejected: int = 0
    refused: int = 0
    in_flight: int = 0
    malformed: int = 0
    commands: int = 0
    heartbeats: int = 0


class Publisher:
    """Lifecycle: `start()`, `stop()`, `join(timeout)`. The caller owns and closes the outbox."""

    def __init__(
        self,
        settings: PublisherSettings,
        outbox: Outbox,
        clock: Clock,
        *,
        on_command: CommandHandler | None = None,
        health: Callable[[], HealthSnapshot] | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self._clock = clock
        self._on_command = on_command
        self._health = health
        self._lock = threading.Lock()
        self._stats = PublisherStats()
        self._window = InFlightWindow(settings.max_in_flight, settings.ack_timeout_s)
        self._recent_commands: deque[uuid.UUID] = deque(maxlen=_RECENT_COMMANDS)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._subscribe_mid: int | None = None
        self._origin = Origin(settings.centre_id, settings.device_id, settings.simulated)
        self._heartbeat = HeartbeatBuilder(self._origin, clock)
        self._thread = threading.Thread(
            target=self._run, name=f"publisher-{settings.device_id}", daemon=True
        )
        self._client = make_client(settings.broker, settings.client_options(), self._will())
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        outbox.add_listener(self._wake.set)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        log.info("publisher %s connecting to %s", self.settings.device_id, self.settings.broker)
        connect_async(self._client, self.settings.broker, self.settings.client_options())
        self._client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        """Ask the threads to finish: publish offline status, disconnect. Does not block."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the publisher to finish; True when it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until connected and subscribed (ready to send)."""
        return self._ready.wait(timeout)

    def stats(self) -> PublisherStats:
        with self._lock:
            return replace(self._stats, connected=self._ready.is_set(), in_flight=len(self._window))

    def _count(self, **increments: int) -> None:
        """Add to counters; the caller holds self._lock."""
        values = {name: getattr(self._stats, name) + n for name, n in increments.items()}
        self._stats = replace(self._stats, **values)

    # -- topics and status -------------------------------------------------------------------

    def _topic(self, kind: TopicKind) -> str:
        return topic_names.build(self.settings.centre_id, self.settings.device_id, kind)

    def _will(self) -> LastWill:
        payload = encode(last_will_status(self._origin, self._clock.boot_id))
        return LastWill(self._topic(TopicKind.STATUS), payload)

    def _status(self, state: Literal["online", "offline"], reason: str) -> bytes:
        return encode(device_status(self._origin, self._clock, state, reason))

    # -- paho callbacks (loop thread) -------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: object,
    ) -> None:
        if reason_code.is_failure:
            log.error("broker refused connection for %s: %s", self.settings.device_id, reason_code)
            return
        log.info(
            "publisher %s connected (session present: %s)",
            self.settings.device_id,
            flags.session_present,
        )
        with self._lock:
            self._count(connects=1)
        _result, mid = client.subscribe(
            [(self._topic(TopicKind.ACK), 1), (self._topic(TopicKind.COMMAND), 1)]
        )
        self._subscribe_mid = mid
        client.publish(
            self._topic(TopicKind.STATUS),
            self._status("online", ""),
            qos=1,
            retain=True,
        )

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        _properties: object,
    ) -> None:
        if mid != self._subscribe_mid:
            return
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            log.error(
                "broker refused ack/command subscriptions for %s: %s; acks will not arrive",
                self.settings.device_id,
                ", ".join(failed),
            )
        self._ready.set()
        self._wake.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: object,
    ) -> None:
        self._ready.clear()
        if not self._stop.is_set():
            log.warning(
                "publisher %s disconnected: %s; reconnecting", self.settings.device_id, reason_code
            )

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason_code: ReasonCode,
        _properties: object,
    ) -> None:
        if not reason_code.is_failure:
            return
        with self._lock:
            message_id = self._window.id_for_mid(mid)
            self._count(refused=1)
        what = f"outbox message {message_id}" if message_id else f"publish (mid {mid})"
        log.error("broker refused %s from %s: %s", what, self.settings.device_id, reason_code)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            decoded = decode(msg.topic, bytes(msg.payload))
        except ProtocolError as exc:
            with self._lock:
                self._count(malformed=1)
            log.warning("ignoring invalid message on %s: %s", msg.topic, exc)
            return
        message = decoded.message
        try:
            if isinstance(message, Ack):
                self._handle_ack(message)
            elif isinstance(message, Command):
                self._handle_command(message)
            else:
                log.warning("ignoring unexpected %s on %s", type(message).__name__, msg.topic)
        except OutboxError as exc:
            log.error("outbox failed while handling %s: %s", decoded.topic.kind.value, exc)

    def _handle_ack(self, ack: Ack) -> None:
        ids = [result.id for result in ack.results]
        rejected = [result for result in ack.results if result.status == "rejected"]
        for result in rejected:
            log.warning("central rejected message %s: %s", result.id, result.reason or "no reason")
        with self._lock:
            deleted = self.outbox.delete(ids)
            self._window.remove(ids)
            self._count(acked=deleted, rejected=len(rejected))
        self._wake.set()

    def _handle_command(self, command: Command) -> None:
        with self._lock:
            duplicate = command.id in self._recent_commands
            if not duplicate:
                self._recent_commands.append(command.id)
                self._count(commands=1)
        if duplicate:
            log.info("command %s delivered again; already answered", command.id)
            return
        self.outbox.enqueue(
            lambda message_id, seq: command_receipt(
                self._origin, self._clock, command.id, message_id, seq
            )
        )
        if self._on_command is not None:
            try:
                self._on_command(command)
            except Exception:
                log.exception("command handler failed for %s %s", command.type, command.id)

    # -- sender thread -----------------------------------------------------------------------

    def _run(self) -> None:
        next_heartbeat = self._clock.monotonic()
        next_look = next_heartbeat  # the outbox is read when woken, or at the latest then
        woken = True
        while not self._stop.is_set():
            try:
                if self._ready.is_set():
                    now = self._clock.monotonic()
                    if woken or now >= next_look or self._retry_due(now):
                        self._send_due()
                        next_look = now + _IDLE_LOOK_S
                    next_heartbeat = self._maybe_heartbeat(next_heartbeat)
            except OutboxError as exc:
                log.error("publisher %s: %s", self.settings.device_id, exc)
            except Exception:
                log.exception("publisher %s: sender loop failed", self.settings.device_id)
            woken = self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()
        self._shutdown()

    def _retry_due(self, now: float) -> bool:
        """An unacked message has waited out its ack timeout: it must be sent again."""
        with self._lock:
            expiry = self._window.next_expiry()
        return expiry is not None and now >= expiry

    def _send_due(self) -> None:
        now = self._clock.monotonic()
        with self._lock:
            expired = self._window.expire(now)
            rows = self.outbox.pending(self._window.room(), exclude=self._window.ids())
            for row in rows:
                self._window.add(row.id, now)
        if expired:
            log.info(
                "%s: %d message(s) not acked within %ss, sending again",
                self.settings.device_id,
                len(expired),
                self.settings.ack_timeout_s,
            )
        sent = self._publish_rows(rows)
        self.outbox.record_attempts([row.id for row in sent], now)

    def _publish_rows(self, rows: list[OutboxRow]) -> list[OutboxRow]:
        sent: list[OutboxRow] = []
        for index, row in enumerate(rows):
            if not self._ready.is_set() or self._stop.is_set():
                with self._lock:  # give the rest back so they go first after reconnecting
                    self._window.remove([r.id for r in rows[index:]])
                break
            info = self._client.publish(row.topic, row.payload, qos=1)
            with self._lock:
                self._window.set_mid(row.id, info.mid)
                self._count(sent=1, resent=1 if row.attempts else 0)
            sent.append(row)
        return sent

    def _maybe_heartbeat(self, due: float) -> float:
        now = self._clock.monotonic()
        if now < due:
            return due
        health = self._health() if self._health else HealthSnapshot()
        self._client.publish(
            self._topic(TopicKind.HEARTBEAT),
            encode(self._heartbeat.build(health, self.outbox.depth())),
            qos=0,
        )
        with self._lock:
            self._count(heartbeats=1)
        return now + self.settings.heartbeat_interval_s

    def _shutdown(self) -> None:
        if self._ready.is_set():
            info = self._client.publish(
                self._topic(TopicKind.STATUS),
                self._status("offline", "shutdown"),
                qos=1,
                retain=True,
            )
            try:
                info.wait_for_publish(_SHUTDOWN_PUBLISH_WAIT_S)
            except (RuntimeError, ValueError) as exc:
                log.warning("offline status not confirmed: %s", exc)
        self._ready.clear()
        self._client.disconnect()
        self._client.loop_stop()
        log.info("publisher %s stopped", self.settings.device_id)

"""A TCP proxy that injects network faults between a client and a server on loopback.

Modes, switchable while connections are open:
- pass: bytes flow both ways.
- blackhole: nothing is forwarded and nothing is closed, in either direction, and new
  connections are accepted but never forwarded: both ends see a silent, half-open TCP
  connection, as when a switch drops every packet. Unread bytes wait in the kernel's socket
  buffers, as TCP keeps retransmitting; healing forwards them, unless an end gave up first.
- loss: TCP never loses bytes, it retransmits them: each chunk is lost with probability
  `loss` and then arrives after a retransmission timeout (200 ms, doubled per further loss),
  which is what packet loss does to a TCP stream.
- cut_after: the client-to-server direction is closed (both sockets) once that many bytes
  have passed in this connection (an upload cut in the middle).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from dataclasses import dataclass

_CHUNK = 16 * 1024
_TICK_S = 0.05
RTO_S = 0.2  # Linux's minimum retransmission timeout


@dataclass
class ProxyStats:
    connections: int = 0
    forwarded_bytes: int = 0
    lost_chunks: int = 0
    cuts: int = 0


class FaultProxy:
    """Listens on 127.0.0.1:`port` and forwards to 127.0.0.1:`target_port`."""

    def __init__(self, target_port: int, *, seed: int = 1) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._blackhole = False
        self._loss = 0.0
        self._cut_after: int | None = None
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self.stats = ProxyStats()
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    # control -------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def blackhole(self, on: bool = True) -> None:
        with self._lock:
            self._blackhole = on

    def set_loss(self, probability: float) -> None:
        with self._lock:
            self._loss = probability

    def cut_uploads_after(self, nbytes: int | None) -> None:
        with self._lock:
            self._cut_after = nbytes

    def heal(self) -> None:
        with self._lock:
            self._blackhole = False
            self._loss = 0.0
            self._cut_after = None

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)
        self._thread.join(5)

    # work ----------------------------------------------------------------------------------

    def _blocked(self) -> bool:
        with self._lock:
            return self._blackhole

    def _accept_loop(self) -> None:
        self._listener.settimeout(_TICK_S * 4)
        while not self._stop.is_set():
            try:
                client, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.stats.connections += 1
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        with self._lock:
            self._sockets.append(client)
        while self._blocked():  # a SYN into the void: accepted here, never forwarded
            if self._stop.wait(_TICK_S):
                return
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._sockets.append(server)
        threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        passed = 0
        try:
            source.settimeout(_TICK_S)
        except OSError:  # the other direction already closed both sockets
            return
        while not self._stop.is_set():
            if self._blocked():
                self._stop.wait(_TICK_S)
                continue
            try:
                data = source.recv(_CHUNK)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if upstream and self._cut_reached(passed + len(data)):
                self.stats.cuts += 1
                break
            self._delay_for_loss()
            try:
                sink.sendall(data)
            except OSError:
                break
            passed += len(data)
            self.stats.forwarded_bytes += len(data)
        _close(source)
        _close(sink)

    def _cut_reached(self, total: int) -> bool:
        with self._lock:
            return self._cut_after is not None and total > self._cut_after

    def _delay_for_loss(self) -> None:
        with self._lock:
            loss = self._loss
            delay = 0.0
            rto = RTO_S
            while loss and self._rng.random() < loss:
                delay += rto
                rto *= 2
        if delay:
            self.stats.lost_chunks += 1
            time.sleep(delay)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()

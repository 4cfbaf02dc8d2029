"""Commit a batch, whatever the database does: wait out outages, isolate poison messages.

Two kinds of failure need opposite answers. An outage (connection lost, server restarting,
lock timeout) says nothing about the data: retry the same batch with backoff and ack nothing
meanwhile. Any other failure may be one message the database cannot take; retrying the batch
would stall every kiosk behind it forever. So the batch is then stored one message at a time
and a message that still fails is dead-lettered with the error, acked as `rejected`, and kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from central.services import RejectedPayload, StoreItem, store_batch
from protocol import AckResult, encode, topic_for

log = logging.getLogger(__name__)

RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0
REASON_CHARS = 500

Results = list[AckResult | None]


# MySQL/MariaDB error numbers that mean "the service, not this data": connection lost or
# refused, server shutting down, too many connections, lock wait timeout, deadlock, read-only
# during a failover. PyMySQL reports many permanent errors as OperationalError too, so the
# class alone does not tell.
MYSQL_TRANSIENT_ERRNOS = frozenset(
    {1040, 1053, 1159, 1161, 1205, 1213, 1290, 1792, 1836, 1927, 2002, 2003, 2006, 2013, 2055}
)
SQLITE_TRANSIENT_WORDS = ("locked", "busy", "disk i/o", "unable to open", "disk is full")


def is_outage(error: BaseException) -> bool:
    """True for failures of the database service rather than of the data."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    args = getattr(error.orig, "args", ())
    if args and isinstance(args[0], int):  # a MySQL error number
        return args[0] in MYSQL_TRANSIENT_ERRNOS
    text = str(error.orig).lower()
    return any(word in text for word in SQLITE_TRANSIENT_WORDS)


class PoisonMessage(Exception):
    """Storing failed for a reason that is not an outage."""


class BatchStorer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        stop: threading.Event,
        on_retry: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._stop = stop
        self._on_retry = on_retry

    def store(self, items: list[StoreItem]) -> Results | None:
        """Commit `items` and return their results; poison messages in `items` are replaced
        in place by their dead letters. None only when stop() interrupted an outage."""
        try:
            return self._commit_through_outages(items)
        except PoisonMessage as error:
            log.error("a batch of %s failed (%s); storing its messages one by one",
                      len(items), error.__cause__)
        results: Results = []
        for index in range(len(items)):
            result = self._store_single(items, index)
            if result is None:
                return None
            results.extend(result)
        return results

    def _store_single(self, items: list[StoreItem], index: int) -> Results | None:
        """Store one message, or its dead letter if the database refuses the message but takes
        the dead letter. If it refuses both, the database is what is broken (e.g. a missing
        table): back off and try the message itself again, never replace it."""
        delay = RETRY_MIN_S
        while True:
            try:
                return self._commit_through_outages([items[index]])
            except PoisonMessage as error:
                letter = dead_letter_for(items[index], error.__cause__ or error)
            try:
                result = self._commit_through_outages([letter])
            except PoisonMessage:
                self._on_retry()
                log.exception("the database refuses dead letters too; retrying in %.1f s", delay)
                if self._stop.wait(delay):
                    return None
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if result is not None:
                items[index] = letter  # the ack must say `rejected`, to the right kiosk
                log.error("dead-lettered a message the database refused: %s", letter.reason)
            return result

    def _commit_through_outages(self, items: Sequence[StoreItem]) -> Results | None:
        delay = RETRY_MIN_S
        attempt = 0
        while True:
            try:
                with self._sessions.begin() as session:
                    return store_batch(session, items)
            except Exception as error:  # loop boundary: classify, never drop, never ack
                if not is_outage(error):
                    raise PoisonMessage(type(error).__name__) from error
                attempt += 1
                self._on_retry()
                log.warning("database unavailable storing %s messages (attempt %s, %s); "
                            "retrying in %.1f s", len(items), attempt, error, delay)
            if self._stop.wait(delay):
                return None
            delay = min(delay * 2, RETRY_MAX_S)


def dead_letter_for(item: StoreItem, error: BaseException) -> RejectedPayload:
    """The dead letter of a message the database refused, naming the error (no parameters:
    engines hide them, so candidates' answers never reach the reason)."""
    reason = f"database refused the message: {type(error).__name__}: {error}"[:REASON_CHARS]
    if isinstance(item, RejectedPayload):
        return RejectedPayload.build(item.topic, item.payload, "storage_error", reason)
    return RejectedPayload.build(topic_for(item), encode(item), "storage_error", reason)

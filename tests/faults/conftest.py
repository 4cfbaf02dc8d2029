"""Fault-injection fixtures: a migrated MariaDB database, ingest processes, the broker's
dropped-message counter. Each test gets its own private Mosquitto (`mosquitto_server`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.harness import DroppedCounter
from tests.support import pipeline as p
from tests.support.services import MosquittoInstance

IngestFactory = Callable[..., p.IngestProcess]


@pytest.fixture
def database_url(mariadb_url: str) -> str:
    p.migrate(mariadb_url)
    return mariadb_url


@pytest.fixture
def dropped(mosquitto_server: MosquittoInstance) -> Iterator[DroppedCounter]:
    counter = DroppedCounter(mosquitto_server.url)
    yield counter
    counter.close()


@pytest.fixture
def ingest_factory(
    mosquitto_server: MosquittoInstance, database_url: str, tmp_path: Path
) -> Iterator[IngestFactory]:
    """Makes started `python -m central.ingest` processes; all are stopped after the test."""
    made: list[p.IngestProcess] = []

    def make(client_id: str = "ingest-1", start: bool = True) -> p.IngestProcess:
        process = p.IngestProcess(
            mosquitto_server.url, database_url, tmp_path / f"{client_id}.log", client_id=client_id
        )
        if start:
            process.start()
        made.append(process)
        return process

    yield make
    for process in made:
        process.stop()

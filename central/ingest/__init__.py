"""MQTT ingest: `python -m central.ingest`, or `IngestWorker` in-process (tests)."""

from central.ingest.worker import IngestOptions, IngestStats, IngestWorker

__all__ = ["IngestOptions", "IngestStats", "IngestWorker"]

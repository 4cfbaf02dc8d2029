"""The uploader against the real central app on a local port: upload, idempotent re-upload,
wrong hash, bad credentials, and central down then up."""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from edge_agent.evidence import EvidenceStore, Outcome, StoredEvidence, Uploader, UploaderSettings
from tests.edge_agent.capture.helpers import wait_until
from tests.edge_agent.evidence.central_server import PASSWORD, USER, CentralServer
from tests.edge_agent.evidence.helpers import frame

DEVICE = "kiosk-7"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralServer]:
    server = CentralServer(tmp_path / "central").start()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    store = EvidenceStore(tmp_path / "kiosk")
    yield store
    store.close()


def _settings(base_url: str, **kw: object) -> UploaderSettings:
    values: dict[str, object] = {
        "base_url": base_url,
        "device_id": DEVICE,
        "username": USER,
        "password": PASSWORD,
        "timeout_s": 5.0,
        "retry_min_s": 0.05,
        "retry_max_s": 0.2,
        "poll_interval_s": 0.05,
    }
    values.update(kw)
    return UploaderSettings(**values)  # type: ignore[arg-type]


def _add_two(store: EvidenceStore) -> list[StoredEvidence]:
    ok, jpeg = cv2.imencode(".jpg", frame(1).image)
    assert ok
    return [
        store.add_bytes(b"\x1a\x45\xdf\xa3 pretend webm" * 100, "video/webm", "clip"),
        store.add_bytes(jpeg.tobytes(), "image/jpeg", "snapshot"),
    ]


def _put(url: str, body: bytes, media_type: str = "video/webm") -> int:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        url,
        data=body,
        method="PUT",
        headers={"Content-Type": media_type, "Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_upload_then_local_copy_is_deleted(central: CentralServer, store: EvidenceStore) -> None:
    items = _add_two(store)
    uploader = Uploader(store, _settings(central.base_url))
    assert uploader.upload_round()
    assert store.backlog() == 0
    assert all(not item.path.exists() for item in items)
    stored = central.stored()
    assert set(stored) == {item.sha256 for item in items}
    for item in items:
        row = stored[item.sha256]
        assert (row.media_type, row.size_bytes, row.device_id) == (
            item.media_type,
            item.size_bytes,
            DEVICE,
        )
        path = central.evidence_dir / row.stored_path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256
    assert uploader.stats().uploaded == 2


def test_re_upload_is_idempotent(central: CentralServer, store: EvidenceStore) -> None:
    item = _add_two(store)[0]
    body = item.path.read_bytes()
    uploader = Uploader(store, _settings(central.base_url))
    assert uploader.upload(item) == (Outcome.UPLOADED, "HTTP 201")
    path = central.evidence_dir / central.stored()[item.sha256].stored_path
    mtime = path.stat().st_mtime_ns
    time.sleep(0.01)
    assert uploader.upload(item) == (Outcome.UPLOADED, "HTTP 200")  # again: stored once
    assert _put(f"{central.base_url}/api/v1/evidence/{item.sha256}", body) == 200
    assert path.stat().st_mtime_ns == mtime  # not rewritten
    assert len(central.stored()) == 1


def test_wrong_hash_is_refused_for_good(central: CentralServer, store: EvidenceStore) -> None:
    item, snapshot = _add_two(store)
    wrong = "0" * 64
    assert _put(f"{central.base_url}/api/v1/evidence/{wrong}", b"something else") == 400
    item.path.write_bytes(b"corrupted on the kiosk")  # the content no longer has its name
    rejected: list[str] = []
    uploader = Uploader(
        store, _settings(central.base_url), on_rejected=lambda it, why: rejected.append(why)
    )
    assert uploader.upload_round()
    assert rejected
    assert rejected[0].startswith("HTTP 400")
    assert store.backlog() == 0  # the snapshot went; the clip is kept, rejected, not retried
    assert set(central.stored()) == {snapshot.sha256}
    kept = store.get(item.sha256)
    assert kept is not None
    assert kept.state == "rejected"
    assert uploader.stats().rejected == 1


def test_bad_credentials_are_retried_not_dropped(
    central: CentralServer, store: EvidenceStore
) -> None:
    _add_two(store)
    uploader = Uploader(store, _settings(central.base_url, password="wrong"))
    assert not uploader.upload_round()
    assert store.backlog() == 2
    assert "HTTP 401" in (uploader.stats().last_error or "")


def test_central_down_then_up(tmp_path: Path, store: EvidenceStore) -> None:
    central = CentralServer(tmp_path / "central")  # not started: nothing listens on its port
    items = _add_two(store)
    uploader = Uploader(store, _settings(central.base_url))
    uploader.start()
    try:
        assert wait_until(lambda: uploader.stats().failed_attempts >= 3, 10)
        assert store.backlog() == 2
        assert "unreachable" in (uploader.stats().last_error or "")
        central.start()
        assert wait_until(lambda: store.backlog() == 0, 10)
    finally:
        uploader.stop()
        assert uploader.join(10)
        central.stop()
    assert set(central.stored()) == {item.sha256 for item in items}


def test_pending_uploads_survive_an_agent_restart(tmp_path: Path) -> None:
    kiosk = tmp_path / "kiosk"
    store = EvidenceStore(kiosk)
    items = _add_two(store)
    store.close()  # the agent stops before central was reachable
    central = CentralServer(tmp_path / "central").start()
    try:
        store = EvidenceStore(kiosk)
        uploader = Uploader(store, _settings(central.base_url))
        uploader.start()
        assert wait_until(lambda: store.backlog() == 0, 10)
        uploader.stop()
        assert uploader.join(10)
        store.close()
    finally:
        central.stop()
    assert set(central.stored()) == {item.sha256 for item in items}

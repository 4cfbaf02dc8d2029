"""Central's HTTPS for kiosks: init-centre gives the web unit a certificate from the centre's
CA, and a kiosk that trusts only that CA uploads its evidence over TLS; one that does not
trust it keeps its evidence and says why."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from edge_agent.evidence import EvidenceStore, Outcome, Uploader, UploaderSettings
from provisioning.__main__ import main as provisioning_main
from provisioning.central_units import WEB_TLS_CERT, WEB_TLS_KEY, WEB_UNIT
from tests.edge_agent.evidence.central_server import PASSWORD, USER, CentralServer


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    root = tmp_path / "centre"
    args = ["init-centre", "--out", str(root), "--centre-id", "c1", "--broker-host",
            "central.exam.local", "--broker-pid-file", str(tmp_path / "broker.pid")]  # fmt: skip
    assert provisioning_main(args) == 0
    return root


@pytest.fixture
def https_central(centre: Path, tmp_path: Path) -> Iterator[tuple[CentralServer, str]]:
    central = CentralServer(tmp_path / "central")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(centre / "central" / WEB_TLS_CERT, centre / "central" / WEB_TLS_KEY)
    server = make_server("127.0.0.1", 0, central.app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield central, f"https://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_the_web_unit_serves_https_with_the_centres_certificate(centre: Path) -> None:
    unit = (centre / "central" / "systemd" / WEB_UNIT).read_text()
    assert "--bind 0.0.0.0:443" in unit
    assert f"--certfile {(centre / 'central' / WEB_TLS_CERT).resolve()}" in unit
    assert "LoadCredential=web.key:" in unit
    assert "${CREDENTIALS_DIRECTORY}/web.key" in unit
    assert (centre / "central" / WEB_TLS_KEY).stat().st_mode & 0o077 == 0


def test_a_kiosk_uploads_evidence_over_tls_trusting_only_the_centres_ca(
    https_central: tuple[CentralServer, str], centre: Path, tmp_path: Path
) -> None:
    central, url = https_central
    store = EvidenceStore(tmp_path / "kiosk")
    item = store.add_bytes(b"\x1a\x45\xdf\xa3 pretend webm" * 100, "video/webm", "clip")
    settings = {"base_url": url, "device_id": "kiosk-7", "username": USER, "password": PASSWORD,
                "timeout_s": 5.0}  # fmt: skip
    untrusting = Uploader(store, UploaderSettings(**settings))  # type: ignore[arg-type]
    outcome, detail = untrusting.upload(item)
    assert outcome is not Outcome.UPLOADED
    assert "CERTIFICATE_VERIFY_FAILED" in detail or "certificate" in detail.lower()
    assert item.path.exists()  # kept for a later try

    trusting = Uploader(
        store,
        UploaderSettings(**settings, ca_file=centre / "ca" / "ca.pem"),  # type: ignore[arg-type]
    )
    assert trusting.upload(item) == (Outcome.UPLOADED, "HTTP 201")
    assert item.sha256 in central.stored()
    store.close()

"""The agent hears: a fixture recording replayed as the camera and a fixture sentence as the
microphone give one `speech` violation dated from the voiced audio, whose clip has sound."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from edge_agent.agent import Agent
from edge_agent.evidence.audio_mux import verify_av
from edge_agent.evidence.records import EvidenceError
from edge_agent.kiosk_config import KioskConfig
from protocol import ViolationEvent, decode

pytestmark = pytest.mark.slow
SENTENCE = "clean_sp01.wav"
VOICED_S = (1.03, 4.43)  # from labels_sp01.npy: first and last voiced 10 ms frame


def _config(tmp_path: Path, fixtures: Path, audio: dict[str, object]) -> KioskConfig:
    return KioskConfig.model_validate({
        "identity": {"centre_id": "centre-1", "device_id": "kiosk-h1", "seat_id": "A-01"},
        "data_dir": str(tmp_path / "data"),
        "capture": {"type": "file", "path": str(fixtures / "video" / "center_left_center.mp4"),
                    "rotate": "90cw", "width": 640, "pacing": "realtime"},
        "audio": audio,
        "evidence": {"upload": {"url": "http://127.0.0.1:9"}},  # nobody there: kept for later
    })  # fmt: skip


def _violations(path: Path) -> list[ViolationEvent]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT topic, payload FROM outbox ORDER BY seq").fetchall()
    messages = [decode(topic, payload).message for topic, payload in rows]
    return [m for m in messages if isinstance(m, ViolationEvent)]


def _run(agent: Agent) -> list[float]:
    """Run to the end of the recording; the heartbeat's audio levels seen meanwhile."""
    agent.start()
    levels = []
    deadline = time.monotonic() + 120
    while not agent.join(timeout=0.5):
        assert time.monotonic() < deadline, "the agent did not finish the recording"
        try:
            level = agent.health.snapshot().audio_level_dbfs
        except EvidenceError:  # the recording ended and the agent closed its store meanwhile
            continue
        if level is not None:
            levels.append(level)
    return levels


def _rms_dbfs(clip: Path, start_s: float, end_s: float) -> float:
    """Loudness of the clip's sound between two times of the clip."""
    with av.open(str(clip)) as container:
        chunks = [
            frame.to_ndarray().astype(np.float64).reshape(-1)
            for frame in container.decode(audio=0)
            if frame.time is not None and start_s <= frame.time < end_s
        ]
    samples = np.concatenate(chunks)
    if samples.dtype.kind == "f" and np.abs(samples).max() <= 1.0:
        samples = samples * 32768.0
    return float(20 * np.log10(max(1e-9, float(np.sqrt(np.mean(samples**2)))) / 32768.0))


def test_a_spoken_sentence_is_one_speech_violation_with_sound(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    wav = fixtures_dir / "audio" / "clips" / SENTENCE
    config = _config(tmp_path, fixtures_dir, {"enabled": True, "type": "file", "path": str(wav)})
    agent = Agent(config, publish=False)
    started_wall = datetime.now(UTC)
    levels = _run(agent)
    assert levels, "the heartbeat never had an audio level"
    assert max(levels) > -35.0, levels  # the sentence

    speech = [v for v in _violations(config.outbox_path()) if v.type.value == "speech"]
    assert [v.state.value for v in speech] == ["started", "ended"], speech
    ended = speech[-1]
    voiced = VOICED_S[1] - VOICED_S[0]
    onset = (ended.started_at - started_wall).total_seconds()
    # The sentence starts 1.03 s into the file; the microphone replay opens with the agent.
    assert VOICED_S[0] - 0.3 <= onset <= VOICED_S[0] + 1.0, onset
    assert voiced - 0.8 <= ended.duration_s <= voiced + 1.0, ended.duration_s
    assert ended.ended_at is not None
    assert ended.ended_at - ended.started_at == timedelta(seconds=ended.duration_s)

    refs = {ref.role: ref for ref in ended.evidence}
    assert set(refs) == {"clip", "snapshot"}, ended.details
    clip = next((tmp_path / "data" / "evidence").rglob(f"{refs['clip'].sha256}*"))
    frames, video_s, audio_s = verify_av(clip)
    assert frames > 0
    assert abs(audio_s - video_s) < 0.5, (audio_s, video_s)
    # The clip starts at most 5 s (pre-roll) before the speech: the voice is in it, loud,
    # and the second before the speech (cut by the recording's start) is much quieter.
    into_clip = min(5.0, (ended.started_at - started_wall).total_seconds())
    loud = _rms_dbfs(clip, into_clip + 0.2, into_clip + voiced - 0.2)
    assert loud > -35.0, loud
    quiet = _rms_dbfs(clip, max(0.0, into_clip - 0.9), into_clip - 0.1)
    assert quiet < loud - 20.0, (quiet, loud)

    off = agent.disabled_stages()
    assert "audio" not in off
    assert "no model path" in off["objects"]  # no model configured: said, not silent


def test_audio_off_and_an_unusable_microphone_are_said_in_the_heartbeat(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    off = Agent(_config(tmp_path / "off", fixtures_dir, {"enabled": False}), publish=False)
    assert off.disabled_stages()["audio"] == "turned off in config"
    off.outbox.close()
    off.store.close()
    off.pipeline.close()

    config = _config(tmp_path / "bad", fixtures_dir, {"enabled": True, "type": "file"})
    broken = Agent(config, publish=False)  # file source without a path
    assert "audio.path is required" in broken.disabled_stages()["audio"]
    _run(broken)
    faults = [v for v in _violations(config.outbox_path()) if v.type.value == "device_fault"]
    assert any("audio.path is required" in str(f.details.get("error")) for f in faults), faults

"""Evidence clips with sound: the VP8 WebM that the evidence encoder makes, remuxed with the
PCM of the same interval as Opus; decoded back with PyAV. The last test replays a fixture
video with a fixture sentence as its audio through the real pieces (AudioMonitor, audio
rules, frame ring, clip encoder, muxer) and checks one speech violation in the right window
whose clip has the sentence's sound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from edge_agent.audio import (
    AudioConfig,
    AudioMonitor,
    Pacing,
    SpeechChange,
    WavReplaySource,
    load_wav,
)
from edge_agent.evidence.audio_mux import mux_audio, verify_av
from edge_agent.evidence.encode import encode_webm
from edge_agent.evidence.ring import EncodeError, FrameRing
from edge_agent.rules.audio_rules import AudioRuleEngine
from edge_agent.rules.tracker import Instant
from edge_agent.vision.types import Frame
from protocol import EventState
from protocol import ViolationType as V
from tests.edge_agent.audio.helpers import tone
from tests.edge_agent.evidence.helpers import frame

WALL0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clip_3s(tmp_path: Path) -> Path:
    """A 3 s VP8 clip at 10 fps from the evidence encoder."""
    ring = FrameRing()
    for i in range(60):  # 20 fps for 3 s
        ring.push(frame(i))
    report = encode_webm(ring.frames_between(0, 1e9), tmp_path / "video.webm")
    assert report.frames_written == 30
    return report.path


def decoded_audio(path: Path) -> tuple[npt.NDArray[Any], int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        chunks = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        return np.concatenate(chunks), stream.codec_context.sample_rate


def test_clip_gets_an_opus_track_as_long_as_the_video(clip_3s: Path, tmp_path: Path) -> None:
    out = tmp_path / "with_sound.webm"
    report = mux_audio(clip_3s, tone(5.0, amplitude=10000, hz=500), out)
    assert report.video_frames == 30
    assert report.video_s == pytest.approx(3.0)
    assert report.audio_s == pytest.approx(3.0, abs=0.03)  # cut to the video
    samples, rate = decoded_audio(out)
    # the 500 Hz tone survives Opus: its frequency and about its level
    middle = samples[rate // 2 : rate // 2 + rate].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(middle))
    assert np.argmax(spectrum) * rate / len(middle) == pytest.approx(500, abs=2)
    peak = np.abs(middle).max()
    assert 0.2 < peak / (32768 if samples.dtype == np.int16 else 1.0) < 0.5
    # the video still decodes with OpenCV, as the rest of the evidence code reads clips
    capture = cv2.VideoCapture(str(out))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 30


def test_audio_offset_pads_with_silence_then_plays(clip_3s: Path, tmp_path: Path) -> None:
    out = tmp_path / "late.webm"
    report = mux_audio(clip_3s, tone(1.0, amplitude=10000), out, audio_offset_s=1.0)
    assert report.audio_s == pytest.approx(3.0, abs=0.03)
    samples, rate = decoded_audio(out)
    level = np.abs(samples.astype(np.float64))
    assert level[int(0.1 * rate) : int(0.9 * rate)].max() < 0.02 * level.max()
    assert level[int(1.1 * rate) : int(1.9 * rate)].max() > 0.5 * level.max()
    assert level[int(2.1 * rate) :].max() < 0.02 * level.max()


def test_bad_inputs_are_refused_with_the_reason(clip_3s: Path, tmp_path: Path) -> None:
    with pytest.raises(EncodeError, match="mono int16"):
        mux_audio(clip_3s, np.zeros((2, 100), dtype=np.int16), tmp_path / "x.webm")
    with pytest.raises(EncodeError, match="Opus takes"):
        mux_audio(clip_3s, tone(1.0), tmp_path / "x.webm", sample_rate=44100)
    not_video = tmp_path / "not_video.webm"
    not_video.write_bytes(b"hello")
    with pytest.raises(EncodeError, match="failed"):
        mux_audio(not_video, tone(1.0), tmp_path / "x.webm")
    assert not (tmp_path / "x.webm").exists()
    with pytest.raises(EncodeError, match="lacks a video or an audio"):
        verify_av(clip_3s)  # OpenCV's clip has no sound


def test_replayed_video_and_sentence_give_a_speech_violation_with_sound(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    t0 = 1000.0  # both streams start here on the kiosk's monotonic clock
    wav = fixtures_dir / "audio" / "clips" / "clean_sp01.wav"
    speech = np.flatnonzero(np.load(wav.parent / "labels_sp01.npy")) / 100

    changes: list[SpeechChange] = []
    monitor = AudioMonitor(
        WavReplaySource(wav, pacing=Pacing.FAST),
        AudioConfig(queue_blocks=256),
        on_change=changes.append,
        clock=lambda: t0,
    )
    monitor.start()
    assert monitor.wait_finished(30.0)

    engine = AudioRuleEngine()
    violations = []
    for change in changes:  # told as the agent would: when each change happened
        at = change.start_s if change.end_s is None else change.end_s
        violations += engine.speech_change(change, Instant(at, WALL0 + timedelta(seconds=at - t0)))
    end = Instant(t0 + 7.0, WALL0 + timedelta(seconds=7.0))
    violations += engine.speech(False, end)
    assert [(v.type, v.state) for v in violations] == [
        (V.SPEECH, EventState.STARTED),
        (V.SPEECH, EventState.ENDED),
    ]
    started, ended = violations
    assert started.started.monotonic_s == pytest.approx(t0 + speech[0], abs=0.15)
    assert ended.ended is not None
    assert ended.ended.monotonic_s == pytest.approx(t0 + speech[-1], abs=0.5)

    ring = FrameRing(max_width=320)
    video = cv2.VideoCapture(str(fixtures_dir / "video" / "center_left_center.mp4"))
    fps = video.get(cv2.CAP_PROP_FPS)
    for index in range(int(6 * fps)):
        ok, raw = video.read()
        assert ok
        image = np.asarray(cv2.rotate(raw, cv2.ROTATE_90_CLOCKWISE), dtype=np.uint8)
        seconds = index / fps
        ring.push(Frame(image, index, t0 + seconds, WALL0 + timedelta(seconds=seconds)))
    video.release()

    begin, finish = started.started.monotonic_s - 0.5, ended.ended.monotonic_s + 0.5
    frames = ring.frames_between(begin, finish)
    encoded = encode_webm(frames, tmp_path / "clip.webm", width=160, fps=8.0)
    sound = monitor.pcm_between(frames[0].monotonic_s, finish)
    assert sound is not None
    report = mux_audio(
        encoded.path,
        sound.samples,
        tmp_path / "evidence.webm",
        audio_offset_s=sound.start_s - frames[0].monotonic_s,
    )
    assert report.audio_s == pytest.approx(report.video_s, abs=0.05)
    assert report.video_s == pytest.approx(finish - begin, abs=0.3)

    # The sentence is in the clip where it was spoken: loud inside the labels, quiet outside.
    samples, rate = decoded_audio(report.path)
    level = np.abs(samples.astype(np.float64))
    offset = frames[0].monotonic_s - t0
    inside = level[int((speech[0] - offset + 0.2) * rate) : int((speech[-1] - offset - 0.2) * rate)]
    lead_in = level[: int((speech[0] - offset - 0.1) * rate)]
    assert inside.max() > 20 * max(lead_in.max(), 1e-6)
    original = load_wav(wav)
    assert len(original) / 16000 > report.audio_s  # a window of it, not the whole recording

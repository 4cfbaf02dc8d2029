"""Sound for evidence clips: mux the PCM of a flagged moment into the VP8 WebM clip.

OpenCV's VideoWriter writes video only (it has no audio API), so the clip that
`encode.encode_webm` made is remuxed with PyAV (which ships FFmpeg): the VP8 packets are
copied as they are (no second video encode) and the PCM is encoded as Opus, the audio codec
of WebM that every browser plays (PyAV's wheels have no Vorbis encoder). The result is checked
by decoding it back. Audio is stored nowhere else: this is the only place sound is kept.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_agent.evidence.ring import EncodeError

log = logging.getLogger(__name__)

OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


@dataclass(frozen=True)
class MuxReport:
    path: Path
    video_frames: int  # decoded back from the finished file
    video_s: float
    audio_s: float  # decoded back from the finished file
    audio_codec: str
    mux_ms: float


def mux_audio(
    video: Path,
    samples: npt.NDArray[np.int16],
    out: Path,
    *,
    sample_rate: int = 16000,
    audio_offset_s: float = 0.0,
    bitrate: int = 24000,
) -> MuxReport:
    """Write `out` (.webm): the VP8 video of `video` plus `samples` (mono int16) as Opus.

    `audio_offset_s` is when the first sample plays relative to the first video frame
    (positive: silence first; negative: the head of the audio is cut). The audio is cut or
    padded with silence to the video's length. Raises EncodeError with the reason."""
    av = _import_av()
    if sample_rate not in OPUS_RATES:
        raise EncodeError(f"Opus takes {OPUS_RATES} Hz, not {sample_rate}")
    if samples.dtype != np.int16 or samples.ndim != 1:
        raise EncodeError(f"samples must be mono int16, not {samples.dtype} {samples.shape}")
    started = time.perf_counter()
    try:
        with av.open(str(video)) as source:
            if not source.streams.video:
                raise EncodeError(f"{video.name} has no video stream")
            in_video = source.streams.video[0]
            packets, video_s = _video_packets(av, in_video)
            pcm = _aligned(samples, sample_rate, audio_offset_s, video_s)
            _write(av, (in_video, packets), pcm, out, rate=sample_rate, bitrate=bitrate)
    except av.error.FFmpegError as exc:
        out.unlink(missing_ok=True)
        raise EncodeError(f"muxing sound into {video.name} failed: {exc}") from exc
    frames, decoded_video_s, audio_s = verify_av(out)
    return MuxReport(
        out, frames, decoded_video_s, audio_s, "opus", (time.perf_counter() - started) * 1000
    )


def _import_av() -> Any:
    try:
        return importlib.import_module("av")
    except ImportError as exc:
        raise EncodeError("PyAV is not installed (pip install av)") from exc


def _video_packets(av: Any, stream: Any) -> tuple[list[Any], float]:
    """The stream's packets (a clip is at most a few hundred) and how long it plays: from the
    first packet's time to the last one's plus one frame. OpenCV's WebM header carries neither
    a frame count nor a duration."""
    packets = [packet for packet in stream.container.demux(stream) if packet.dts is not None]
    timed = [packet for packet in packets if packet.pts is not None]
    if not timed:
        raise EncodeError("the video has no timed frames")
    rate = stream.average_rate or stream.guessed_rate or Fraction(10)
    first = min(packet.pts for packet in timed)
    last = max(packet.pts for packet in timed)
    return packets, float((last - first) * stream.time_base + 1 / rate)


def _aligned(
    samples: npt.NDArray[np.int16], rate: int, offset_s: float, video_s: float
) -> npt.NDArray[np.int16]:
    shift = round(offset_s * rate)
    if shift > 0:
        samples = np.concatenate([np.zeros(shift, dtype=np.int16), samples])
    elif shift < 0:
        samples = samples[-shift:]
    length = round(video_s * rate)
    if len(samples) < length:  # the microphone started late or stopped: silence, in step
        samples = np.concatenate([samples, np.zeros(length - len(samples), dtype=np.int16)])
    return samples[:length]


def _write(
    av: Any,
    video: tuple[Any, list[Any]],
    pcm: npt.NDArray[np.int16],
    out: Path,
    *,
    rate: int,
    bitrate: int,
) -> None:
    in_video, packets = video
    with av.open(str(out), "w", format="webm") as target:
        out_video = target.add_stream_from_template(in_video)
        out_audio = target.add_stream("libopus", rate=rate, layout="mono")
        out_audio.bit_rate = bitrate
        for packet in _audio_packets(av, out_audio, pcm, rate):
            target.mux(packet)
        for packet in packets:
            packet.stream = out_video
            target.mux(packet)


def _audio_packets(av: Any, stream: Any, pcm: npt.NDArray[np.int16], rate: int) -> list[Any]:
    """Encode in the encoder's frame size (20 ms); the last frame padded with silence."""
    size = stream.codec_context.frame_size or rate // 50
    padded = np.concatenate([pcm, np.zeros(-len(pcm) % size, dtype=np.int16)])
    packets: list[Any] = []
    for start in range(0, len(padded), size):
        frame = av.AudioFrame.from_ndarray(
            padded[start : start + size].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        packets += stream.encode(frame)
    packets += stream.encode(None)
    return packets


def verify_av(path: Path) -> tuple[int, float, float]:
    """Decode `path` back: (video frames, video seconds, audio seconds). EncodeError if the
    file is missing or empty, or has no decodable video or audio."""
    av = _import_av()
    if not path.is_file() or path.stat().st_size == 0:
        raise EncodeError(f"{path.name} is missing or empty (disk full?)")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video or not container.streams.audio:
                raise EncodeError(f"{path.name} lacks a video or an audio stream")
            video = container.streams.video[0]
            frames, audio_samples, audio_rate = 0, 0, 0
            for frame in container.decode(video=0, audio=0):
                if isinstance(frame, av.AudioFrame):
                    audio_samples += frame.samples
                    audio_rate = frame.sample_rate
                else:
                    frames += 1
    except av.error.FFmpegError as exc:
        raise EncodeError(f"{path.name} does not decode: {exc}") from exc
    if frames == 0 or audio_samples == 0:
        raise EncodeError(f"{path.name}: {frames} video frames, {audio_samples} audio samples")
    rate = video.average_rate or video.guessed_rate
    video_s = float(frames / rate) if rate else 0.0
    return frames, video_s, audio_samples / audio_rate

"""The audio capture runner: stamping on the audio clock, bounded queue with counted drops,
bad blocks, end of a file, a file that cannot be opened, and the ring and meter fed on the
capture thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge_agent.audio import (
    AudioCapture,
    AudioCaptureSettings,
    AudioEvent,
    AudioEventKind,
    AudioRead,
    Pcm,
    PcmRing,
)
from edge_agent.audio.capture import AudioBlock, BlockQueue
from tests.edge_agent.audio.helpers import BrokenFile, ListAudioSource, tone


def blocks(n: int) -> list[Pcm]:
    return [np.full(512, i + 1, dtype=np.int16) for i in range(n)]


def drain(capture: AudioCapture) -> list[AudioBlock]:
    out: list[AudioBlock] = []
    while (block := capture.get(timeout=2.0)) is not None:
        out.append(block)
    return out


def test_file_blocks_are_stamped_from_their_position() -> None:
    clock = iter(np.arange(1000.0, 2000.0, 0.5))
    events: list[AudioEvent] = []
    capture = AudioCapture(
        ListAudioSource(blocks(5)),
        AudioCaptureSettings(queue_blocks=10),
        on_event=events.append,
        clock=lambda: float(next(clock)),
    )
    capture.start()
    got = drain(capture)
    assert capture.join(2.0)
    starts = [b.start_s for b in got]
    assert starts == pytest.approx([starts[0] + i * 0.032 for i in range(5)])
    assert [b.index for b in got] == [0, 1, 2, 3, 4]
    assert [e.kind for e in events] == [AudioEventKind.END_OF_STREAM]
    assert capture.stats().ended


class TimedSource(ListAudioSource):
    """A live source whose reads return at scripted monotonic times."""

    def __init__(self, items: list[Pcm], times: list[float]) -> None:
        super().__init__(items, live=True)
        self.times = times
        self.now = times[0] - 0.032

    def read(self) -> AudioRead:
        if self.position < len(self.times):
            self.now = self.times[self.position]
        return super().read()


def test_live_blocks_follow_the_audio_clock_and_resync_after_a_gap() -> None:
    reads = [1000.032, 1000.070, 1000.091, 1005.0, 1005.040]  # jitter, then a 5 s gap
    source = TimedSource(blocks(5), reads)
    capture = AudioCapture(
        source, AudioCaptureSettings(queue_blocks=10, lost_timeout_s=60), clock=lambda: source.now
    )
    capture.start()
    got = drain_n(capture, 5)
    capture.stop()
    assert capture.join(2.0)
    assert [round(b.start_s, 3) for b in got] == [1000.0, 1000.032, 1000.064, 1004.968, 1005.0]


def drain_n(capture: AudioCapture, n: int) -> list[AudioBlock]:
    out: list[AudioBlock] = []
    while len(out) < n and (block := capture.get(timeout=2.0)) is not None:
        out.append(block)
    return out


def test_a_slow_consumer_makes_capture_drop_not_wait() -> None:
    capture = AudioCapture(ListAudioSource(blocks(50)), AudioCaptureSettings(queue_blocks=4))
    capture.start()
    assert capture.join(2.0)  # finished reading although nobody consumed
    got = drain(capture)
    assert len(got) == 4
    assert [b.index for b in got] == [46, 47, 48, 49]  # the freshest are kept
    assert capture.stats().dropped == 46
    assert capture.stats().blocks == 50


def test_ring_and_meter_see_every_block_even_when_the_queue_drops() -> None:
    ring = PcmRing(10.0)
    audio = [tone(0.032, amplitude=16384) for _ in range(20)]
    capture = AudioCapture(ListAudioSource(audio), AudioCaptureSettings(queue_blocks=2), ring=ring)
    capture.start()
    assert capture.join(2.0)
    assert len(ring) == 20
    level = capture.meter.read()
    assert level.blocks == 20
    assert level.peak_dbfs == pytest.approx(-6.0, abs=0.1)


def test_bad_blocks_are_counted_and_skipped() -> None:
    good = blocks(2)
    items: list[object] = [good[0], np.zeros(100, dtype=np.int16), "junk", good[1]]
    capture = AudioCapture(ListAudioSource(items), AudioCaptureSettings(queue_blocks=10))
    capture.start()
    got = drain(capture)
    assert capture.join(2.0)
    assert len(got) == 2
    assert capture.stats().bad_blocks == 2


def test_a_file_that_cannot_be_opened_is_reported_once_and_not_retried() -> None:
    events: list[AudioEvent] = []
    capture = AudioCapture(BrokenFile(), on_event=events.append)
    capture.start()
    assert capture.join(2.0)
    assert [e.kind for e in events] == [AudioEventKind.SOURCE_FAILED]
    assert "not a WAV file" in events[0].detail
    assert capture.stats().reopens == 0


def test_block_queue_hands_over_across_threads_and_closes() -> None:
    queue = BlockQueue(2)
    got: list[AudioBlock | None] = []
    reader = threading.Thread(target=lambda: got.extend([queue.get(2.0), queue.get(2.0)]))
    reader.start()
    queue.put(AudioBlock(np.zeros(512, dtype=np.int16), 0, 1.0))
    queue.close()
    reader.join(3.0)
    assert got[0] is not None
    assert got[0].index == 0
    assert got[1] is None  # closed and empty
    with pytest.raises(ValueError, match="at least 1"):
        BlockQueue(0)

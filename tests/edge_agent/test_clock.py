from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from edge_agent.clock import FakeClock, SystemClock, read_boot_id


def test_system_clock_gives_aware_utc_and_monotonic() -> None:
    clock = SystemClock(boot_id="boot-1", synced_override=True)
    first = clock.now()
    second = clock.now()
    assert first.wall_time.tzinfo is not None
    assert first.wall_time.utcoffset() is not None
    assert first.wall_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert second.monotonic_s >= first.monotonic_s
    assert (first.boot_id, first.synced) == ("boot-1", True)


def test_synced_follows_the_timesync_marker(tmp_path: Path) -> None:
    marker = tmp_path / "synchronized"
    clock = SystemClock(boot_id="b", sync_markers=[marker])
    assert clock.now().synced is False
    marker.touch()
    assert clock.now().synced is True
    assert SystemClock(boot_id="b", sync_markers=[marker], synced_override=False).synced() is False


def test_boot_id_comes_from_the_kernel_or_a_per_process_fallback(tmp_path: Path) -> None:
    real = tmp_path / "boot_id"
    real.write_text("2457d242-b28d-48ba-8a5f-03d9aa16be4e\n")
    assert read_boot_id(real) == "2457d242-b28d-48ba-8a5f-03d9aa16be4e"
    missing = read_boot_id(tmp_path / "nope")
    assert missing.startswith("proc-")
    assert missing != read_boot_id(tmp_path / "nope")
    assert len(missing) <= 64


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(datetime(2025, 5, 1, 8, 0, tzinfo=UTC), 50.0, boot_id="fb", synced=False)
    assert clock.now().monotonic_s == 50.0
    clock.advance(2.5)
    now = clock.now()
    assert (now.monotonic_s, now.wall_time.second, now.synced) == (52.5, 2, False)
    clock.set_wall(datetime(2026, 1, 1, tzinfo=UTC))  # time sync steps the wall clock
    assert clock.now().wall_time.year == 2026
    assert clock.monotonic() == 52.5

"""Fixtures for the kiosk screen's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_ui.store import QuizStore


class FakeKioskClock:
    """Monotonic and wall time that move only when told; `reboot` starts a new boot."""

    def __init__(self) -> None:
        self.boot_id = "boot-1"
        self.mono = 500.0
        self.wall_s = 1_800_000_000.0

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.wall_s

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall_s += seconds

    def reboot(self, off_s: float) -> None:
        self.boot_id = f"{self.boot_id}+"
        self.mono = 3.0
        self.wall_s += off_s


@pytest.fixture
def clock() -> FakeKioskClock:
    return FakeKioskClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QuizStore]:
    opened = QuizStore(tmp_path / "kiosk.sqlite3")
    yield opened
    opened.close()

"""Stage cadence: run a stage on every n-th frame and carry its last result in between, but
never a result older than a maximum age (so a slow or stalling camera does not stretch it)."""

from __future__ import annotations


class Cadence:
    """``due(now_s)`` says whether the stage should run on this frame, ``update(now_s, ran)``
    records what happened; ``force()`` makes the next frame due. With ``every_n_frames == 1``
    every frame is due."""

    def __init__(self, every_n_frames: int, max_age_s: float) -> None:
        self.every_n_frames = every_n_frames
        self.max_age_s = max_age_s
        self._ran_s: float | None = None
        self._skipped = 0

    def due(self, now_s: float) -> bool:
        last = self._ran_s
        return (
            last is None
            or self._skipped + 1 >= self.every_n_frames
            or not 0.0 <= now_s - last < self.max_age_s
        )

    def can_wait(self, now_s: float) -> bool:
        """Due by the frame count alone, for the first frame, and still young enough after
        one more frame (at the pace so far): the run may move to the next frame."""
        last = self._ran_s
        if last is None or self.every_n_frames == 1 or self._skipped + 1 != self.every_n_frames:
            return False
        age = now_s - last
        return age >= 0.0 and age * (self._skipped + 2) / (self._skipped + 1) < self.max_age_s

    def update(self, now_s: float, ran: bool) -> None:
        if ran:
            self._ran_s, self._skipped = now_s, 0
        else:
            self._skipped += 1

    def tick(self, now_s: float) -> bool:
        """``due`` and ``update`` in one: whether the stage runs on this frame."""
        run = self.due(now_s)
        self.update(now_s, run)
        return run

    def force(self) -> None:
        self._ran_s = None

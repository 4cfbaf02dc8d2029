"""Calibration: neutral pose from a few seconds at the screen centre, clear errors otherwise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edge_agent.rules.calibration import CalibrationError, calibrate
from tests.edge_agent.rules.streams import Seat, stream


def test_neutral_is_the_median_pose() -> None:
    neutral = calibrate(stream((Seat(yaw=12, pitch=-8, gaze_h=0.47), 3), (Seat(yaw=40), 0.3)))
    assert neutral.calibrated
    assert neutral.yaw == pytest.approx(12)
    assert neutral.pitch == pytest.approx(-8)
    assert neutral.gaze_horizontal == pytest.approx(0.47)


def test_too_few_face_frames_is_explained() -> None:
    with pytest.raises(CalibrationError, match="found in 50%"):
        calibrate(stream((Seat(), 1.5), (Seat(faces=0), 1.5)))


def test_head_turned_during_calibration_is_refused() -> None:
    with pytest.raises(CalibrationError, match="centre of the screen"):
        calibrate(stream((Seat(yaw=40), 3)))


def test_no_frames() -> None:
    with pytest.raises(CalibrationError, match="No camera frames"):
        calibrate([])


def test_without_head_pose_the_gaze_is_still_calibrated() -> None:
    observations = [replace(o, head_pose=None) for o in stream((Seat(gaze_h=0.46), 3))]
    neutral = calibrate(observations)
    assert (neutral.yaw, neutral.pitch) == (0.0, 0.0)
    assert neutral.gaze_horizontal == pytest.approx(0.46)

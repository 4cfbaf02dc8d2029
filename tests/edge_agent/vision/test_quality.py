"""Frame quality figures for camera_covered."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.vision.quality import GreyStatsConfig, GreyStatsQuality


def test_covered_lens_is_dark_and_uniform() -> None:
    quality = GreyStatsQuality().infer(np.zeros((360, 640, 3), dtype=np.uint8))
    assert quality.brightness == 0.0
    assert quality.contrast == 0.0


def test_grey_card_is_bright_but_uniform() -> None:
    quality = GreyStatsQuality().infer(np.full((360, 640, 3), 200, dtype=np.uint8))
    assert quality.brightness == pytest.approx(200.0)
    assert quality.contrast == pytest.approx(0.0)


def test_scene_has_contrast() -> None:
    image = np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    quality = GreyStatsQuality(GreyStatsConfig(downscale=4)).infer(image)
    assert quality.brightness == pytest.approx(127.5, abs=5)
    assert quality.contrast > 30


def test_tiny_and_grey_images() -> None:
    assert GreyStatsQuality().infer(np.full((3, 3, 3), 10, np.uint8)).brightness == 10.0
    assert GreyStatsQuality().infer(np.full((40, 40), 70, np.uint8)).brightness == 70.0

"""The stage registry: lookup by (kind, type), disabled stages, load errors."""

from __future__ import annotations

from typing import Literal

import pytest

from edge_agent.vision.gaze import IrisRatioConfig, IrisRatioGaze
from edge_agent.vision.stages import (
    DisabledConfig,
    StageConfig,
    StageLoadError,
    build,
    register,
    registered,
)


class ExplodingConfig(StageConfig):
    type: Literal["exploding"] = "exploding"


@register("gaze", "exploding")
def exploding(config: ExplodingConfig) -> object:
    raise OSError("model file is corrupt")


def test_every_default_stage_is_registered() -> None:
    import edge_agent.vision.config  # noqa: F401  (registers the stages it names)

    assert {
        ("detector", "mediapipe_face_detection"),
        ("landmarks", "mediapipe_face_mesh"),
        ("head_pose", "solvepnp"),
        ("gaze", "iris_ratio"),
        ("identity", "face_recognition"),
        ("quality", "grey_stats"),
    } <= set(registered())


def test_build_by_kind_and_type() -> None:
    assert isinstance(build("gaze", IrisRatioConfig()), IrisRatioGaze)
    assert build("gaze", DisabledConfig()) is None


def test_a_type_of_another_kind_is_unknown() -> None:
    with pytest.raises(StageLoadError, match="no head_pose stage of type 'iris_ratio'"):
        build("head_pose", IrisRatioConfig())


def test_a_factory_error_becomes_a_load_error() -> None:
    with pytest.raises(StageLoadError, match="corrupt") as caught:
        build("gaze", ExplodingConfig())
    assert isinstance(caught.value.__cause__, OSError)

"""Stage plugins: one small config model per implementation, a registry keyed by
``(kind, type)``, and the one call each kind of stage offers.

The shape is Frigate's detector plugins: the config names an implementation by its ``type``
field, the registry maps that name to a factory, and the pipeline only sees the interface.
A new implementation registers itself with :func:`register` and adds its config class to the
slot's union in :mod:`edge_agent.vision.pipeline`. ``type = "disabled"`` turns a stage off.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from edge_agent.vision.types import FaceBox, FaceLandmarks, FrameQuality, Gaze, HeadPose, Image

Encoding = npt.NDArray[np.float64]  # 128-d face descriptor

StageKind = Literal["detector", "landmarks", "head_pose", "gaze", "identity", "quality"]


class StageConfig(BaseModel):
    """Base of every stage's config: unknown keys are rejected, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DisabledConfig(StageConfig):
    type: Literal["disabled"] = "disabled"


class StageLoadError(RuntimeError):
    """A stage could not be built (missing module, model file, unknown type)."""


class FaceDetector(Protocol):
    def infer(self, image: Image) -> list[FaceBox]: ...  # largest first

    def close(self) -> None: ...


class LandmarkModel(Protocol):
    def infer(self, image: Image) -> list[FaceLandmarks]: ...  # largest first

    def close(self) -> None: ...


class HeadPoseModel(Protocol):
    def infer(self, face: FaceLandmarks, image_size: tuple[int, int]) -> HeadPose | None: ...


class GazeModel(Protocol):
    def infer(self, face: FaceLandmarks) -> Gaze | None: ...


class IdentityModel(Protocol):
    tolerance: float

    def encode(self, image: Image, box: FaceBox) -> Encoding: ...

    def distance(self, a: Encoding, b: Encoding) -> float: ...

    def enrol(self, photo: Image) -> Encoding: ...  # raises an EnrolmentError subclass


class QualityModel(Protocol):
    def infer(self, image: Image) -> FrameQuality: ...


Factory = Callable[[Any], object]
F = TypeVar("F", bound=Factory)

_FACTORIES: dict[tuple[str, str], Factory] = {}


def register(kind: StageKind, type_name: str) -> Callable[[F], F]:
    """Class or function decorator: ``@register("head_pose", "solvepnp")``; the factory is
    called with the stage's config."""

    def decorate(factory: F) -> F:
        _FACTORIES[(kind, type_name)] = factory
        return factory

    return decorate


def registered() -> list[tuple[str, str]]:
    return sorted(_FACTORIES)


def build(kind: StageKind, config: StageConfig) -> Any:
    """The stage for ``config``, or None when disabled. Errors become :class:`StageLoadError`."""
    type_name = getattr(config, "type", None)
    if type_name == "disabled":
        return None
    factory = _FACTORIES.get((kind, str(type_name)))
    if factory is None:
        raise StageLoadError(f"no {kind} stage of type {type_name!r}; known: {registered()}")
    try:
        return factory(config)
    except Exception as exc:  # model files, native libraries: anything may fail here
        raise StageLoadError(f"{kind} stage {type_name!r} failed to load: {exc}") from exc


def import_optional(name: str) -> ModuleType:
    """Import a heavy native dependency when a stage is built, not when this package is
    imported, so a broken install shows up as a fault of that stage only."""
    return importlib.import_module(name)

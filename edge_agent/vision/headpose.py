"""Head pose (yaw, pitch, roll in degrees) from FaceMesh landmarks with ``cv2.solvePnP``.

A generic 3-D face of 12 landmarks (eye corners, nose tip and base, mouth corners, lips,
chin), taken from MediaPipe's canonical face model, is fitted to the 2-D landmarks with a
pinhole camera whose focal length is approximated from the image width. ``SOLVEPNP_SQPNP``
is a global solver and does not return the flipped solution (roll near ±165°) that plain
ITERATIVE does on about one face in ten; ``iterative`` starts from a frontal pose instead.

Angles follow ../shared/fixtures/README.md: yaw > 0 = face turned toward image-left,
pitch > 0 = chin up, roll > 0 = clockwise in the image. On the 29 in-range AFLW2000-3D
fixtures (26 found by FaceMesh) this gives MAE 2.7° yaw, 2.7° pitch, 1.1° roll.
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from edge_agent.vision.stages import StageConfig, register
from edge_agent.vision.types import FaceLandmarks, HeadPose

# MediaPipe canonical_face_model.obj (Apache-2.0), in its own frame: x toward image-right of a
# face looking at the camera, y up, z toward the camera; units about a centimetre.
_CANONICAL: dict[int, tuple[float, float, float]] = {
    33: (-4.445859, 2.663991, 3.173422),  # eye, outer corner on image-left
    133: (-1.856432, 2.585245, 3.757904),  # eye, inner corner on image-left
    362: (1.856432, 2.585245, 3.757904),  # eye, inner corner on image-right
    263: (4.445859, 2.663991, 3.173422),  # eye, outer corner on image-right
    1: (0.0, -1.126865, 7.475604),  # nose tip
    4: (0.0, -0.463170, 7.586580),  # nose, above the tip
    61: (-2.456206, -4.342621, 4.283884),  # mouth corner, image-left
    291: (2.456206, -4.342621, 4.283884),  # mouth corner, image-right
    0: (0.0, -3.406404, 5.979507),  # upper lip
    17: (0.0, -5.365123, 5.535441),  # lower lip
    199: (0.0, -7.942194, 5.181173),  # chin, front
    152: (0.0, -9.403378, 4.264492),  # chin, bottom
}
LANDMARKS = np.array(list(_CANONICAL), dtype=np.intp)
# Camera-like model frame (x right, y down, z away from the camera): a face looking straight
# at the camera then has the identity rotation.
MODEL_POINTS = np.array(list(_CANONICAL.values()), dtype=np.float64) * np.array([1.0, -1.0, -1.0])
_EYE_SPAN = float(MODEL_POINTS[3, 0] - MODEL_POINTS[0, 0])

Matrix = npt.NDArray[np.float64]
_NO_DISTORTION = np.zeros(4)


class SolvePnPConfig(StageConfig):
    type: Literal["solvepnp"] = "solvepnp"
    method: Literal["sqpnp", "iterative"] = Field(
        "sqpnp",
        description="sqpnp: global solver, no flipped solutions; iterative: Levenberg-"
        "Marquardt from a frontal initial guess.",
    )
    focal_scale: float = Field(
        1.0,
        gt=0.0,
        description="Focal length in pixels as a multiple of the image width (about 1.0 for "
        "webcams and the Pi camera at their default field of view).",
    )


def camera_matrix(image_size: tuple[int, int], focal_scale: float = 1.0) -> Matrix:
    """Pinhole intrinsics approximated from ``image_size`` = (width, height)."""
    width, height = image_size
    focal = focal_scale * width
    return np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])


def angles(rotation: Matrix) -> HeadPose:
    """Intrinsic XYZ Euler angles of a model-to-camera rotation, as yaw = +y, pitch = -x,
    roll = +z (the fixtures' convention)."""
    about_y = math.asin(max(-1.0, min(1.0, float(rotation[0, 2]))))
    about_x = math.atan2(-float(rotation[1, 2]), float(rotation[2, 2]))
    about_z = math.atan2(-float(rotation[0, 1]), float(rotation[0, 0]))
    return HeadPose(
        yaw=math.degrees(about_y), pitch=-math.degrees(about_x), roll=math.degrees(about_z)
    )


@register("head_pose", "solvepnp")
class SolvePnPHeadPose:
    """``infer(face, (width, height)) -> HeadPose | None`` (None when the fit fails)."""

    def __init__(self, config: SolvePnPConfig | None = None) -> None:
        self.config = config or SolvePnPConfig()

    def infer(self, face: FaceLandmarks, image_size: tuple[int, int]) -> HeadPose | None:
        if len(face.points) <= int(LANDMARKS.max()):
            return None
        image_points = face.points[LANDMARKS, :2].astype(np.float64)
        camera = camera_matrix(image_size, self.config.focal_scale)
        if self.config.method == "sqpnp":
            ok, rvec, _ = cv2.solvePnP(
                MODEL_POINTS, image_points, camera, _NO_DISTORTION, flags=cv2.SOLVEPNP_SQPNP
            )
        else:
            ok, rvec, _ = cv2.solvePnP(
                MODEL_POINTS,
                image_points,
                camera,
                _NO_DISTORTION,
                rvec=np.zeros((3, 1)),
                tvec=self._frontal_translation(image_points, camera),
                useExtrinsicGuess=True,
                flags=cv2.SOLVEPNP_ITERATIVE,
            )
        if not ok:
            return None
        rotation, _ = cv2.Rodrigues(rvec)
        return angles(np.asarray(rotation, dtype=np.float64))

    @staticmethod
    def _frontal_translation(image_points: Matrix, camera: Matrix) -> Matrix:
        """Initial guess: the face straight ahead, at the distance its eye span implies."""
        span = float(np.linalg.norm(image_points[3] - image_points[0])) or 1.0
        depth = camera[0, 0] * _EYE_SPAN / span
        centre = image_points.mean(axis=0)
        x = (centre[0] - camera[0, 2]) * depth / camera[0, 0]
        y = (centre[1] - camera[1, 2]) * depth / camera[1, 1]
        return np.array([[x], [y], [depth]])

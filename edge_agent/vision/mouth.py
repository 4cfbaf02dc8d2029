"""How open the mouth is, from FaceMesh landmarks: the lip signal of the talking classifier
(:mod:`edge_agent.audio.lips`). It lives with the vision stages because the pipeline measures
it on the frames where landmarks ran.

`lip_opening` is the gap between the inner lips (landmarks 13 upper, 14 lower) divided by the
mouth width (inner corners 78 and 308), or by the face height (10 forehead, 152 chin) when
the mouth width is unreliable (e.g. a wide grin): a number that does not depend on how far
the face is from the camera.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from edge_agent.vision.types import FaceLandmarks

UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
MOUTH_LEFT_INNER, MOUTH_RIGHT_INNER = 78, 308
FOREHEAD, CHIN = 10, 152
_MIN_POINTS = 468


def lip_opening(
    landmarks: FaceLandmarks | npt.NDArray[np.float32],
    by: Literal["mouth_width", "face_height"] = "mouth_width",
) -> float | None:
    """Inner-lip gap over mouth width (or face height); None when the landmarks are not a
    full FaceMesh or the reference length is degenerate."""
    points = landmarks.points if isinstance(landmarks, FaceLandmarks) else landmarks
    if points.ndim != 2 or points.shape[0] < _MIN_POINTS or points.shape[1] < 2:
        return None
    xy = points[:, :2].astype(np.float64)
    gap = float(np.linalg.norm(xy[UPPER_INNER_LIP] - xy[LOWER_INNER_LIP]))
    a, b = (MOUTH_LEFT_INNER, MOUTH_RIGHT_INNER) if by == "mouth_width" else (FOREHEAD, CHIN)
    reference = float(np.linalg.norm(xy[a] - xy[b]))
    if not np.isfinite(gap) or not np.isfinite(reference) or reference < 1e-6:
        return None
    return gap / reference

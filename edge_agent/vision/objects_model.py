"""The YOLOX ONNX model behind one call: ``infer(image, min_score) -> list[Detection]``.

onnxruntime is limited to one thread (``threads``): on the kiosk the detector shares the CPU
with capture, FaceMesh and the evidence encoder, and runs only every few frames, so its
latency matters less than leaving the other cores alone. Loading checks everything that
could otherwise fail later on the frame path (file, graph, input and output shapes, labels)
and raises :class:`ModelLoadError` with a reason an invigilator can read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.vision import objects_decode as yolox
from edge_agent.vision.objects_decode import Detection
from edge_agent.vision.stages import import_optional
from edge_agent.vision.types import Image

log = logging.getLogger(__name__)

# The COCO-80 class order every COCO-trained YOLOX uses (label_coco.txt writes names without
# spaces: "cellphone", "diningtable").
COCO_80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip


class ModelLoadError(RuntimeError):
    """The model or its labels cannot be used; the message says why."""


def name_key(name: str) -> str:
    """Class names compared without case and spaces: "cellphone" is "cell phone"."""
    return "".join(name.lower().split())


def read_labels(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"cannot read labels {path}: {exc}") from exc
    labels = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not labels:
        raise ModelLoadError(f"labels file {path} is empty")
    return labels


def class_ids(labels: Sequence[str], wanted: Sequence[str]) -> dict[int, str]:
    """Model class index -> wanted (COCO) name; every wanted name must be a label."""
    index = {name_key(label): i for i, label in enumerate(labels)}
    missing = [name for name in wanted if name_key(name) not in index]
    if missing:
        raise ModelLoadError(f"classes {missing} are not among the model's labels")
    return {index[name_key(name)]: name for name in wanted}


class YoloxOnnx:
    """A YOLOX ONNX session; ``infer`` returns detections of the ``wanted`` classes only, in
    pixels of the image it was given, after class-aware NMS."""

    def __init__(
        self,
        model_path: Path,
        wanted: Sequence[str],
        labels: Sequence[str] = COCO_80,
        *,
        threads: int = 1,
        nms_iou: float = 0.45,
    ) -> None:
        self.nms_iou = nms_iou
        self._session = _session(model_path, threads)
        self.input_name, self.size, classes = _check_io(self._session, model_path)
        if classes != len(labels):
            raise ModelLoadError(f"{model_path}: {classes} classes but {len(labels)} labels")
        self.wanted = class_ids(labels, wanted)

    @property
    def intra_op_threads(self) -> int:
        """Threads the session was created with (read back from onnxruntime)."""
        return int(self._session.get_session_options().intra_op_num_threads)

    def infer(self, image: Image, min_score: float) -> list[Detection]:
        """Detections scoring at least ``min_score`` (objectness x class), best first."""
        prepared = yolox.letterbox(image, self.size)
        raw = self._session.run(None, {self.input_name: prepared.tensor})[0][0]
        rows = yolox.decode(np.asarray(raw, dtype=np.float32), self.size)
        return yolox.detections(rows, prepared.scale, self.wanted, min_score, self.nms_iou)


def _session(model_path: Path, threads: int) -> Any:
    if not model_path.is_file():
        raise ModelLoadError(f"model file {model_path} not found")
    try:
        ort: Any = import_optional("onnxruntime")
    except ImportError as exc:  # a broken kiosk install disables this stage only
        raise ModelLoadError(f"onnxruntime cannot be imported: {exc}") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types for bad graphs
        raise ModelLoadError(f"model file {model_path} cannot be loaded: {exc}") from exc


def _check_io(session: Any, model_path: Path) -> tuple[str, int, int]:
    """(input name, square input side, class count) or ModelLoadError when the graph is not
    a YOLOX detector with a fixed square 3-channel input and the matching output rows."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) < 1:
        raise ModelLoadError(f"{model_path}: expected one input and an output")
    shape, out_shape = list(inputs[0].shape), list(outputs[0].shape)
    if len(shape) != 4 or shape[1] != 3 or shape[2] != shape[3] or not isinstance(shape[2], int):
        raise ModelLoadError(f"{model_path}: input shape {shape} is not [1, 3, S, S]")
    size = int(shape[2])
    rows = sum((size // stride) ** 2 for stride in yolox.STRIDES)
    if len(out_shape) != 3 or out_shape[1] != rows or not isinstance(out_shape[2], int):
        raise ModelLoadError(f"{model_path}: output shape {out_shape}, expected [1, {rows}, N]")
    return str(inputs[0].name), size, int(out_shape[2]) - 5

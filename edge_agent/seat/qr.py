"""Candidate numbers from a QR code held up to the camera (the check-in screen's shortcut)."""

from __future__ import annotations

import threading

import cv2

from edge_agent.vision.types import Image

MAX_TEXT = 64  # a candidate number; anything longer is not one


class QrReader:
    """``read(image) -> text | None``; safe from several threads (one detector, serialised)."""

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()
        self._lock = threading.Lock()

    def read(self, image: Image) -> str | None:
        with self._lock:
            try:
                text, _points, _ = self._detector.detectAndDecode(image)
            except cv2.error:  # a frame OpenCV cannot scan is simply "no code"
                return None
        text = (text or "").strip()
        if not text or len(text) > MAX_TEXT or not text.isprintable():
            return None
        return text

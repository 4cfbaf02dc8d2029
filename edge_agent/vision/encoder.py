"""dlib face encodings, in this process or in a child process.

dlib's Python binding holds the GIL for the whole call (dlib issue #1403): measured here, a
FaceMesh call in the main thread waited 157 ms while another thread of the same process
encoded one face. So a worker *thread* alone does not take identity off the frame path;
:class:`EncoderProcess` runs the same :class:`DlibEncoder` in a child interpreter (its own
GIL), started with ``python -m edge_agent.vision.encoder``, which imports only numpy and
dlib (about 85 MB resident). It can lower its own priority (``nice``): on a busy core the
frame path then keeps its frame rate and a check takes longer instead.

Wire protocol on the child's stdin/stdout (stdout is kept for replies only; anything the
child prints goes to stderr): the child sends ``R`` when its models are loaded. A request is
``_REQUEST`` (height, width, box x, y, width, height, jitters) followed by the BGR pixels;
the reply is ``K`` and 128 float64, or ``E``, a length and a UTF-8 message. EOF on stdin
ends the child.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_agent.vision.types import FaceBox

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float64]
_REQUEST = struct.Struct("<IIiiiiI")
_LENGTH = struct.Struct("<I")
_READY, _OK, _ERROR = b"R", b"K", b"E"
_VECTOR_BYTES = 128 * 8
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding edge_agent/


class EncoderProcessError(RuntimeError):
    """The child process could not start, died, timed out or failed to encode."""


class DlibEncoder:
    """``encode(image_bgr, box, jitters) -> (128,)``: dlib's 5- or 68-point alignment and
    ResNet descriptor, exactly what ``face_recognition.face_encodings(image,
    known_face_locations=[box])`` computes."""

    def __init__(self, predictor: Path, encoder: Path) -> None:
        dlib: Any = importlib.import_module("dlib")
        self._dlib = dlib
        self._predictor: Any = dlib.shape_predictor(str(predictor))
        self._encoder: Any = dlib.face_recognition_model_v1(str(encoder))
        self._lock = threading.Lock()  # dlib models are not documented as thread-safe

    def encode(self, image: npt.NDArray[np.uint8], box: FaceBox, jitters: int) -> Vector:
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        rect = self._dlib.rectangle(box.x, box.y, box.x + box.width, box.y + box.height)
        with self._lock:
            shape = self._predictor(rgb, rect)
            descriptor = self._encoder.compute_face_descriptor(rgb, shape, jitters)
        return np.asarray(descriptor, dtype=np.float64)

    def close(self) -> None:
        pass


class EncoderProcess:
    """Same call as :class:`DlibEncoder`, computed by a child process. One request at a
    time (a lock); a child that died is started again on the next call."""

    def __init__(
        self, predictor: Path, encoder: Path, *, nice: int = 0, timeout_s: float = 60.0
    ) -> None:
        self._command = [
            sys.executable, "-m", __name__, str(predictor), str(encoder), "--nice", str(nice),
        ]  # fmt: skip
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._closed = False
        self._child: subprocess.Popen[bytes] | None = None
        with self._lock:
            self._start()

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.pid

    def _start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")])
        )
        self._child = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0
        )
        try:
            status = self._read(1, time.monotonic() + self._timeout_s)
            if status != _READY:
                raise EncoderProcessError(self._error_message(status))
        except EncoderProcessError as exc:
            self._kill()
            raise EncoderProcessError(f"face encoder process did not start: {exc}") from exc
        log.info("face encoder process %d ready", self._child.pid)

    def encode(self, image: npt.NDArray[np.uint8], box: FaceBox, jitters: int) -> Vector:
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        if pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError("a face encoding needs an H x W x 3 image")
        height, width = pixels.shape[:2]
        header = _REQUEST.pack(height, width, box.x, box.y, box.width, box.height, jitters)
        with self._lock:
            if self._closed:
                raise EncoderProcessError("face encoder process is closed")
            if self._child is None or self._child.poll() is not None:
                self._kill()
                self._start()
            request = header + pixels.tobytes()
            try:
                self._write(request)
            except EncoderProcessError:  # it died since the last call: once more, anew
                self._kill()
                self._start()
                self._write(request)
            deadline = time.monotonic() + self._timeout_s
            try:
                status = self._read(1, deadline)
                if status == _OK:
                    return np.frombuffer(self._read(_VECTOR_BYTES, deadline), np.float64).copy()
                message = self._error_message(status)
            except EncoderProcessError:
                self._kill()  # a child that timed out or broke the protocol is not reused
                raise
        raise EncoderProcessError(message)

    def _error_message(self, status: bytes) -> str:
        if status != _ERROR:
            return f"unexpected reply {status!r}"
        deadline = time.monotonic() + self._timeout_s
        (length,) = _LENGTH.unpack(self._read(_LENGTH.size, deadline))
        return self._read(length, deadline).decode("utf-8", "replace")

    def _write(self, data: bytes) -> None:
        assert self._child is not None
        assert self._child.stdin is not None
        fd, view = self._child.stdin.fileno(), memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise EncoderProcessError(f"face encoder process is gone: {exc}") from exc

    def _read(self, size: int, deadline: float) -> bytes:
        assert self._child is not None
        assert self._child.stdout is not None
        fd, chunks, got = self._child.stdout.fileno(), list[bytes](), 0
        while got < size:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise EncoderProcessError("face encoder process timed out")
            chunk = os.read(fd, size - got)
            if not chunk:
                raise EncoderProcessError(
                    f"face encoder process exited (code {self._child.poll()})"
                )
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _kill(self) -> None:
        child = self._child
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
        self._child = None

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the child (a call in progress in another thread then fails with
        :class:`EncoderProcessError`). Pipes are closed only once no call is using them."""
        self._closed = True
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout_s)
            except subprocess.TimeoutExpired:
                child.kill()
        if self._lock.acquire(timeout=timeout_s):  # the calling thread has seen EOF by now
            try:
                self._kill()
            finally:
                self._lock.release()


# -- the child ----------------------------------------------------------------------------


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _reply_error(out: int, message: str) -> None:
    data = message.encode("utf-8", "replace")[:4000]
    os.write(out, _ERROR + _LENGTH.pack(len(data)) + data)


def _serve(encoder: DlibEncoder, out: int) -> None:
    while True:
        header = _read_exactly(0, _REQUEST.size)
        if header is None:
            return
        height, width, x, y, box_w, box_h, jitters = _REQUEST.unpack(header)
        data = _read_exactly(0, height * width * 3)
        if data is None:
            return
        image = np.frombuffer(data, np.uint8).reshape(height, width, 3)
        try:
            vector = encoder.encode(image, FaceBox(x, y, box_w, box_h), jitters)
        except Exception as exc:  # reported to the parent, which records a fault
            _reply_error(out, repr(exc))
            continue
        os.write(out, _OK + vector.astype("<f8").tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="face encoder child process (internal)")
    parser.add_argument("predictor", type=Path)
    parser.add_argument("encoder", type=Path)
    parser.add_argument("--nice", type=int, default=0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends us (EOF), not Ctrl-C
    out = os.dup(1)
    os.dup2(2, 1)  # stray prints go to stderr, never into the replies
    if args.nice > 0:
        os.nice(args.nice)
    try:
        encoder = DlibEncoder(args.predictor, args.encoder)
    except Exception as exc:  # any load failure is the parent's StageLoadError
        _reply_error(out, repr(exc))
        return 1
    os.write(out, _READY)
    _serve(encoder, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Candidate import: a CSV roster plus a zip of enrolment photos. Each candidate's 128-d face
encoding is computed on the server; good candidates are stored (one commit each, so progress
is real), bad ones come back with the reason. Nothing is half-stored for one candidate.

CSV (UTF-8, header row): ``candidate_number`` (1-32 letters, digits, ``_ . -``), ``name``
(1-200 characters), ``language`` (``en``, ``fr``, ``pt-BR``...; empty: ``en``), ``photo`` (file
name inside the zip; folders in the zip are ignored, names compare exactly).

Face encodings need OpenCV, MediaPipe and dlib, which central's pip extra does not install:
:func:`server_encoder` imports them only when an import runs (install the ``kiosk`` extra, or
run in the full venv, on the server that imports candidates).
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import Candidate
from central.services.errors import ServiceError
from central.services.imports import FILE_ROW, ImportRejected, Problem
from central.services.planning import CandidateRecord, import_candidate
from central.services.users import UserInfo

MAX_ROSTER_BYTES = 2 * 1024 * 1024
MAX_CANDIDATES = 5000
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
COLUMNS = ("candidate_number", "name", "language", "photo")
_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


class PhotoRejected(ValueError):
    """The photo cannot give one candidate's encoding; the message says why, for people."""


class Encoder(Protocol):
    def __call__(self, photo: bytes) -> list[float]: ...  # raises PhotoRejected


@dataclass(frozen=True)
class RosterRow:
    row: int
    number: str
    name: str
    language: str
    photo: str


@dataclass(frozen=True)
class CandidateProblem:
    row: int
    number: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row} ({self.number or 'no number'}): {self.message}"


@dataclass
class ImportReport:
    total: int
    imported: list[str] = field(default_factory=list)  # candidate numbers
    problems: list[CandidateProblem] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.imported) + len(self.problems)


def read_roster(data: bytes) -> tuple[list[RosterRow], list[CandidateProblem]]:
    """Rows that look right and the rows that do not; ImportRejected for an unusable file."""
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows: list[RosterRow] = []
    problems: list[CandidateProblem] = []
    try:
        names = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [c for c in ("candidate_number", "name", "photo") if c not in names]
        unknown = [n for n in names if n not in COLUMNS]
        if missing or unknown or len(set(names)) != len(names):
            raise ImportRejected(
                [Problem(1, c, "column missing") for c in missing]
                + [Problem(1, n or "(blank)", "unknown column") for n in unknown]
                + (
                    [Problem(1, "header", "a column appears twice")]
                    * (len(set(names)) < len(names))
                )
            )
        reader.fieldnames = names
        for count, cells in enumerate(reader, start=1):
            if count > MAX_CANDIDATES:
                raise ImportRejected([Problem(FILE_ROW, "rows", f"more than {MAX_CANDIDATES}")])
            found = _roster_row(reader.line_num, cells)
            (problems if isinstance(found, CandidateProblem) else rows).append(found)  # type: ignore[arg-type]
    except csv.Error as exc:
        problem = Problem(max(reader.line_num, 1), "csv", f"not readable as CSV ({exc})")
        raise ImportRejected([problem]) from None
    if not rows and not problems:
        raise ImportRejected([Problem(FILE_ROW, "rows", "the file has no candidates")])
    return rows, problems


def _decode(data: bytes) -> str:
    if len(data) > MAX_ROSTER_BYTES:
        raise ImportRejected([Problem(FILE_ROW, "file", f"larger than {MAX_ROSTER_BYTES} bytes")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        raise ImportRejected([Problem(FILE_ROW, "encoding", message)]) from None
    if "\x00" in text or not text.strip():
        raise ImportRejected([Problem(FILE_ROW, "file", "is empty or not text")])
    return text


def _roster_row(
    line: int, cells: dict[str | None, str | list[str] | None]
) -> RosterRow | CandidateProblem:
    if None in cells:
        return CandidateProblem(line, "", "more cells than the header has columns")
    value = {k: (v if isinstance(v, str) else "").strip() for k, v in cells.items() if k}
    number, name = value.get("candidate_number", ""), value.get("name", "")
    language, photo = value.get("language", "") or "en", value.get("photo", "")
    shown = number if len(number) <= 40 else number[:37] + "..."
    if not _NUMBER_RE.match(number):
        message = "candidate_number: use 1-32 letters, digits, '_', '.', '-'"
        return CandidateProblem(line, shown, message)
    if not 1 <= len(name) <= 200:
        return CandidateProblem(line, number, "name: 1 to 200 characters")
    if not _LANGUAGE_RE.match(language):
        return CandidateProblem(
            line, number, f"language: {language[:20]!r} is not like en or pt-BR"
        )
    if not photo:
        return CandidateProblem(line, number, "photo: no file name")
    return RosterRow(line, number, name, language, photo)


class PhotoArchive:
    """The uploaded zip, read in memory; members are found by their base name."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            members = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise ImportRejected([Problem(FILE_ROW, "photos", f"not a zip file ({exc})")]) from None
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            if not info.is_dir():
                self._members.setdefault(_base_name(info.filename), info)

    def photo(self, name: str) -> bytes:
        info = self._members.get(_base_name(name))
        if info is None:
            raise PhotoRejected(f"photo {name[:80]!r} is not in the zip")
        if info.file_size > MAX_PHOTO_BYTES:
            raise PhotoRejected(f"photo {name[:80]!r} is larger than {MAX_PHOTO_BYTES} bytes")
        try:
            with self._zip.open(info) as member:
                data = member.read(MAX_PHOTO_BYTES + 1)  # the size in the header may lie
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            raise PhotoRejected(
                f"photo {name[:80]!r} cannot be read from the zip ({exc})"
            ) from None
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoRejected(f"photo {name[:80]!r} is larger than {MAX_PHOTO_BYTES} bytes")
        return data

    def close(self) -> None:
        self._zip.close()


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


Progress = Callable[[ImportReport], None]


@dataclass(frozen=True)
class CandidateUpload:
    roster: bytes
    photos: bytes


def import_candidates(
    sessions: sessionmaker[Session],
    actor: UserInfo,
    upload: CandidateUpload,
    encoder: Encoder,
    progress: Progress | None = None,
) -> ImportReport:
    """Check both files, then each candidate in turn: one commit per good candidate."""
    rows, problems = read_roster(upload.roster)
    run = _Run(sessions, actor, PhotoArchive(upload.photos), encoder)
    report = ImportReport(total=len(rows) + len(problems), problems=list(problems))
    if progress is not None:  # the total (and the rows refused already) before the slow part
        progress(report)
    try:
        for row in rows:
            problem = run.import_one(row)
            if problem is None:
                report.imported.append(row.number)
            else:
                report.problems.append(problem)
            if progress is not None:
                progress(report)
    finally:
        run.archive.close()
    report.problems.sort(key=lambda p: p.row)
    return report


@dataclass
class _Run:
    sessions: sessionmaker[Session]
    actor: UserInfo
    archive: PhotoArchive
    encoder: Encoder
    seen: set[str] = field(default_factory=set)

    def import_one(self, row: RosterRow) -> CandidateProblem | None:
        if row.number in self.seen:
            return CandidateProblem(row.row, row.number, "duplicate candidate number in the file")
        self.seen.add(row.number)
        with self.sessions() as session:
            taken = select(Candidate.candidate_id).where(Candidate.candidate_number == row.number)
            if session.scalar(taken) is not None:
                return CandidateProblem(row.row, row.number, "candidate number already registered")
        try:
            encoding = self.encoder(self.archive.photo(row.photo))
        except PhotoRejected as exc:
            return CandidateProblem(row.row, row.number, str(exc))
        record = CandidateRecord(f"cand-{row.number}", row.number, row.name, row.language, encoding)
        with self.sessions() as session:
            try:
                import_candidate(session, self.actor, record)
                session.commit()
            except (ServiceError, IntegrityError) as exc:  # registered meanwhile by someone else
                session.rollback()
                message = exc.message if isinstance(exc, ServiceError) else "already registered"
                return CandidateProblem(row.row, row.number, message)
        return None


@contextmanager
def server_encoder() -> Iterator[Encoder]:
    """The kiosk's own enrolment (MediaPipe box, dlib encoding), so encodings compare the same.
    Imported here, not at module level: central's extra has no OpenCV (see module docstring)."""
    # OpenCV refuses images above this many pixels before allocating them (a small PNG can
    # declare 30,000 x 30,000); read once, at the first decode, so set it before that.
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PHOTO_PIXELS))
    import cv2  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from edge_agent.vision.identity import (  # noqa: PLC0415
        EnrolmentError,
        FaceRecognitionConfig,
        FaceRecognitionIdentity,
    )

    identity = FaceRecognitionIdentity(FaceRecognitionConfig(separate_process=False))

    def encode(photo: bytes) -> list[float]:
        image = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None or image.ndim != 3 or image.shape[0] < 16 or image.shape[1] < 16:
            raise PhotoRejected("the photo is not a readable image (JPEG or PNG)")
        if image.shape[0] * image.shape[1] > MAX_PHOTO_PIXELS:
            raise PhotoRejected("the photo has too many pixels (at most 40 megapixels)")
        try:
            return [float(x) for x in identity.enrol(np.asarray(image, dtype=np.uint8))]
        except EnrolmentError as exc:
            raise PhotoRejected(str(exc)) from None

    try:
        yield encode
    finally:
        identity.close()

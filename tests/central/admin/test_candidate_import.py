"""Candidate import with real photos and the server's face encoder: the good candidates are
stored with an encoding that recognises the person, each bad one is listed with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import Candidate
from central.services.audit import SYSTEM, entries_for
from central.services.candidate_imports import (
    CandidateProblem,
    CandidateUpload,
    Encoder,
    PhotoRejected,
    import_candidates,
    read_roster,
    server_encoder,
)
from central.services.imports import ImportRejected
from central.services.planning import create_candidate
from tests.central.admin.conftest import FACES, fake_encoder, zip_of

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    with server_encoder() as encode:
        yield encode


def _no_face_jpeg() -> bytes:
    """A soft gradient: an image any decoder reads, with nobody in it."""
    ramp = np.linspace(40, 220, 320, dtype=np.uint8)
    image = np.dstack([np.tile(ramp, (240, 1))] * 3)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return bytes(encoded)


ROSTER = """candidate_number,name,language,photo
1001,Barack Obama,en,obama.jpg
1002,Two People,fr,two_people.jpg
1003,Nobody Here,en,empty.jpg
1004,Not A Photo,en,notes.jpg
1005,No File,en,missing.jpg
1001,Barack Again,en,obama.jpg
1006,Alex Lacamoire,pt-BR,photos/alex.png
1007,Already There,en,obama.jpg
1008,Bad Language,english,obama.jpg
"""


def test_real_photos_good_ones_stored_bad_ones_listed(
    sessions: sessionmaker[Session], encoder: Encoder
) -> None:
    with sessions.begin() as session:
        create_candidate(session, SYSTEM, "cand-old", "1007", "Registered Before")
    photos = zip_of(
        {
            "obama.jpg": (FACES / "obama_small.jpg").read_bytes(),
            "two_people.jpg": (FACES / "two_people.jpg").read_bytes(),
            "empty.jpg": _no_face_jpeg(),
            "notes.jpg": b"these are my notes, not a JPEG",
            "photos/alex.png": (FACES / "alex-lacamoire.png").read_bytes(),
        }
    )
    seen: list[int] = []
    report = import_candidates(
        sessions,
        SYSTEM,
        CandidateUpload(ROSTER.encode(), photos),
        encoder,
        progress=lambda r: seen.append(r.done),
    )
    assert report.imported == ["1001", "1006"]
    assert report.problems == [
        CandidateProblem(
            3, "1002", "2 faces found in the enrolment photo; it must show one person"
        ),
        CandidateProblem(4, "1003", "no face found in the enrolment photo"),
        CandidateProblem(5, "1004", "the photo is not a readable image (JPEG or PNG)"),
        CandidateProblem(6, "1005", "photo 'missing.jpg' is not in the zip"),
        CandidateProblem(7, "1001", "duplicate candidate number in the file"),
        CandidateProblem(9, "1007", "candidate number already registered"),
        CandidateProblem(10, "1008", "language: 'english' is not like en or pt-BR"),
    ]
    assert report.total == report.done == 9
    assert seen == sorted(seen)  # progress only goes forward
    assert seen[-1] == 9

    with sessions() as session:
        stored = {c.candidate_number: c for c in session.scalars(select(Candidate))}
        assert set(stored) == {"1001", "1006", "1007"}
        assert stored["1006"].language == "pt-BR"
        assert [e.action for e in entries_for(session, "candidate", "cand-1001")] == [
            "candidate.import"
        ]
        obama, alex = stored["1001"].encoding, stored["1006"].encoding
    assert obama is not None
    assert alex is not None
    assert len(obama) == 128
    # The stored encoding recognises the person in another photo, and not someone else.
    other_obama = encoder((FACES / "train__obama__obama.jpg").read_bytes())
    assert np.linalg.norm(np.subtract(obama, other_obama)) < 0.6
    assert np.linalg.norm(np.subtract(alex, other_obama)) > 0.6


def test_several_faces_fixtures_are_refused(encoder: Encoder) -> None:
    for name in ("test__obama_and_biden.jpg", "test__kit_with_rose.jpg"):
        with pytest.raises(ValueError, match="faces found"):
            encoder((FACES / name).read_bytes())


@pytest.mark.parametrize(
    ("roster", "field"),
    [
        (b"number,name,photo\n1,A,a.jpg\n", "candidate_number"),
        (b"\xff\xfe\x00", "encoding"),
        (b"candidate_number,name,photo\n", "rows"),
    ],
)
def test_unusable_roster_is_refused_whole(roster: bytes, field: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        read_roster(roster)
    assert field in [p.field for p in caught.value.problems]


def test_not_a_zip_is_refused_before_any_candidate(sessions: sessionmaker[Session]) -> None:
    upload = CandidateUpload(b"candidate_number,name,photo\n1,A,a.jpg\n", b"PK not really")
    with pytest.raises(ImportRejected) as caught:
        import_candidates(sessions, SYSTEM, upload, fake_encoder)
    assert caught.value.problems[0].field == "photos"
    with sessions() as session:
        assert session.scalar(select(Candidate.candidate_id)) is None


def test_a_photo_bigger_than_its_limit_is_refused(sessions: sessionmaker[Session]) -> None:
    big = zip_of({"a.jpg": b"\0" * (10 * 1024 * 1024 + 1)})
    upload = CandidateUpload(b"candidate_number,name,photo\n1,A,a.jpg\n", big)
    report = import_candidates(sessions, SYSTEM, upload, fake_encoder)
    assert report.problems[0].message == "photo 'a.jpg' is larger than 10485760 bytes"


def test_a_photo_declaring_too_many_pixels_is_refused(encoder: Encoder) -> None:
    """9,000 x 9,000 black pixels compress to a small PNG; decoding them is refused."""
    ok, png = cv2.imencode(".png", np.zeros((9000, 9000), dtype=np.uint8))
    assert ok
    assert len(png) < 1_000_000
    with pytest.raises(PhotoRejected, match=r"readable image|too many pixels"):
        encoder(bytes(png))

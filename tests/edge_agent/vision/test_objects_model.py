"""The real YOLOX-nano model on real fixture photos, at the configured thresholds.

Photos are chosen by their labels in ../shared/fixtures/objects/expected.csv (checked here,
so a test cannot drift from them), never by tuning a threshold to a photo: a phone held up
to a webcam (labelled present by the dataset), a wallet held in front of the face (labelled
absent: the look-alike), and a desk with a laptop and a monitor.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.vision.objects import ObjectStage, object_conditions
from edge_agent.vision.objects_config import ObjectsConfig
from edge_agent.vision.objects_model import COCO_80, YoloxOnnx, read_labels
from edge_agent.vision.stages import import_optional
from protocol import ViolationType as V
from tests.edge_agent.vision.media import frame_at, read_image

PHONE_HELD_UP = "rfwebcam_test_frame154.jpg"
WALLET_LOOKALIKE = "rfwebcam_valid_frame080.jpg"
DESK_WITH_LAPTOP = "coco_val2017_000000001503.jpg"


@pytest.fixture(scope="module")
def models_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "models"


@pytest.fixture(scope="module")
def objects_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "objects"


@pytest.fixture(scope="module")
def labels(objects_dir: Path) -> dict[tuple[str, str], bool]:
    with (objects_dir / "expected.csv").open(newline="") as handle:
        return {
            (row["file"], row["object"]): row["present"] == "1" for row in csv.DictReader(handle)
        }


@pytest.fixture(scope="module")
def stage(models_dir: Path) -> Iterator[ObjectStage]:
    config = ObjectsConfig(
        model_path=models_dir / "yolox_nano.onnx",
        labels_path=models_dir / "label_coco.txt",
        every_n_frames=1,
    )
    built = ObjectStage(config)
    yield built
    built.close()


def test_the_model_loads_with_one_thread(stage: ObjectStage, models_dir: Path) -> None:
    assert stage.status.state == "running", stage.status.reason
    model = YoloxOnnx(models_dir / "yolox_nano.onnx", ["cell phone"])
    assert model.size == 416
    assert model.intra_op_threads == 1
    assert model.wanted == {67: "cell phone"}


def test_fixture_labels_match_coco_order(models_dir: Path) -> None:
    names = read_labels(models_dir / "label_coco.txt")  # "cellphone", no spaces
    assert len(names) == 80
    assert [n.replace(" ", "") for n in COCO_80] == [n.replace(" ", "") for n in names]


def test_a_phone_held_up_is_detected(
    stage: ObjectStage, objects_dir: Path, labels: dict[tuple[str, str], bool]
) -> None:
    assert labels[(PHONE_HELD_UP, "cell phone")] is True
    image = read_image(objects_dir / "images" / PHONE_HELD_UP)
    obs = stage.process(frame_at(image, 0, 0.0))
    assert obs.fresh
    assert obs.elapsed_ms is not None
    assert obs.elapsed_ms > 0
    assert object_conditions(obs, stage.config)[V.PHONE_IN_VIEW] is True
    box = obs.boxes("cell phone", stage.config.thresholds.cell_phone)[0]
    height, width = image.shape[:2]
    assert 0 <= box.x0 < box.x1 <= width
    assert 0 <= box.y0 < box.y1 <= height
    assert 0.02 < box.area / (width * height) < 0.3  # a phone, not the whole picture
    assert box.y1 - box.y0 > box.x1 - box.x0  # held upright


def test_a_wallet_held_up_is_not_a_phone(
    stage: ObjectStage, objects_dir: Path, labels: dict[tuple[str, str], bool]
) -> None:
    assert labels[(WALLET_LOOKALIKE, "cell phone")] is False
    image = read_image(objects_dir / "images" / WALLET_LOOKALIKE)
    obs = stage.process(frame_at(image, 1, 1.0))
    assert obs.fresh
    assert object_conditions(obs, stage.config) == {
        V.PHONE_IN_VIEW: False,
        V.BOOK_IN_VIEW: False,
        V.SECOND_SCREEN: False,
    }


def test_a_laptop_and_a_monitor_are_a_second_screen(
    stage: ObjectStage, objects_dir: Path, labels: dict[tuple[str, str], bool]
) -> None:
    assert labels[(DESK_WITH_LAPTOP, "laptop")] is True
    assert labels[(DESK_WITH_LAPTOP, "cell phone")] is False
    obs = stage.process(frame_at(read_image(objects_dir / "images" / DESK_WITH_LAPTOP), 2, 2.0))
    conditions = object_conditions(obs, stage.config)
    assert conditions[V.SECOND_SCREEN] is True
    assert conditions[V.PHONE_IN_VIEW] is False
    assert obs.best("laptop") >= stage.config.thresholds.laptop
    assert obs.best("tv") >= stage.config.thresholds.tv  # the CRT monitor beside it


def test_another_onnx_graph_is_disabled_with_its_shape(tmp_path: Path) -> None:
    other = tmp_path / "sigmoid.onnx"
    # a valid ONNX graph that is not a detector: onnxruntime's own example
    shutil.copy(import_optional("onnxruntime.datasets").get_example("sigmoid.onnx"), other)
    stage = ObjectStage(ObjectsConfig(model_path=other))
    assert stage.status.state == "disabled"
    assert "is not [1, 3, S, S]" in stage.status.reason


def test_labels_that_do_not_fit_the_model_disable_it(tmp_path: Path, models_dir: Path) -> None:
    model = models_dir / "yolox_nano.onnx"
    short = tmp_path / "three.txt"
    short.write_text("person\nbicycle\ncar\n")
    stage = ObjectStage(ObjectsConfig(model_path=model, labels_path=short))
    assert stage.status.state == "disabled"
    assert "80 classes but 3 labels" in stage.status.reason
    renamed = tmp_path / "no_book.txt"
    renamed.write_text("\n".join(n if n != "book" else "notebook" for n in COCO_80))
    stage = ObjectStage(ObjectsConfig(model_path=model, labels_path=renamed))
    assert "['book'] are not among the model's labels" in stage.status.reason
    stage = ObjectStage(ObjectsConfig(model_path=model, labels_path=tmp_path / "absent.txt"))
    assert "cannot read labels" in stage.status.reason

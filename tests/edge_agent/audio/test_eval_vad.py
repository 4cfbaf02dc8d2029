"""The VAD evaluation: its command line on a small manifest (JSON on the last line, clear
errors for bad input), and the full fixture set against the issue's targets (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import eval_vad
from edge_agent.audio import VadConfig


def test_command_line_prints_the_figures_as_json(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "file,label_key,condition,snr_db,speech_fraction\n"
        "clean_sp02.wav,sp02,clean,,0.583\n"
        "mix_sp02_hum_snr10.wav,sp02,hum,10,0.583\n"
        "noise_hum.wav,noise_hum,noise-only,,0.0\n"
    )
    clips = fixtures_dir / "audio" / "clips"
    eval_vad.main(["--manifest", str(manifest), "--clips", str(clips)])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) >= {"precision", "recall", "false_alarm_rate", "by_condition"}
    assert set(result["by_condition"]) == {"clean", "hum", "10dB", "hum@10dB", "noise-only"}
    assert result["by_condition"]["clean"]["precision"] >= 0.9
    assert result["by_condition"]["hum@10dB"]["recall"] >= 0.9
    assert result["noise_only"] == {"noise_hum.wav": {"false_alarm_rate": 0.0, "violations": 0}}
    assert result["violations"]["per_spoken_clip"] == {
        "clean_sp02.wav": 1,
        "mix_sp02_hum_snr10.wav": 1,
    }
    assert result["config"] == VadConfig().model_dump()


def test_bad_manifests_are_refused_with_the_reason(fixtures_dir: Path, tmp_path: Path) -> None:
    clips = fixtures_dir / "audio" / "clips"
    no_key = tmp_path / "no_key.csv"
    no_key.write_text("file,condition\nclean_sp01.wav,clean\n")
    with pytest.raises(SystemExit, match="missing column"):
        eval_vad.main(["--manifest", str(no_key), "--clips", str(clips)])
    missing_labels = tmp_path / "missing_labels.csv"
    missing_labels.write_text("file,label_key\nclean_sp01.wav,nope\n")
    with pytest.raises(SystemExit, match=r"labels_nope\.npy"):
        eval_vad.main(["--manifest", str(missing_labels), "--clips", str(clips)])
    missing_clip = tmp_path / "missing_clip.csv"
    missing_clip.write_text("file,label_key\nnope.wav,sp01\n")
    with pytest.raises(SystemExit, match=r"nope\.wav"):
        eval_vad.main(["--manifest", str(missing_clip), "--clips", str(clips)])


@pytest.mark.slow
def test_fixture_set_meets_the_targets(fixtures_dir: Path) -> None:
    audio = fixtures_dir / "audio"
    result = eval_vad.evaluate(audio / "manifest.csv", audio / "clips", VadConfig())
    by = result["by_condition"]
    for key in ("clean", "10dB"):
        assert by[key]["precision"] >= 0.9, key
        assert by[key]["recall"] >= 0.9, key
    assert by["noise-only"]["false_alarm_rate"] <= 0.02
    for clip in ("noise_hum.wav", "noise_keyboard.wav"):
        assert result["noise_only"][clip]["false_alarm_rate"] <= 0.02
    assert result["violations"]["on_noise_only"] == 0
    targets = result["targets"]
    assert targets["violation_for_every_sentence_clean_and_20dB"]
    # Known shortfall: the whispered sentence under keyboard noise at 10 dB reaches a Silero
    # probability of only 0.2-0.35 and is missed. Any other miss at 10 dB or better fails.
    missed_10db = [f for f in result["violations"]["missed"] if "snr10" in f]
    assert len(missed_10db) <= 1, missed_10db
    per_clip = result["violations"]["per_spoken_clip"]
    assert max(per_clip.values()) == 1  # one sentence, one violation: never split

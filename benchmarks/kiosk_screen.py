"""Kiosk screen: how fast an answer is saved and how much memory the screen process uses during
a 100-question exam.

    python -m benchmarks.kiosk_screen [--questions 100]

Runs the real screen process (`python -m kiosk_ui`) against the agent's dev server (real seat
state and outbox, a still photo as the camera), takes a candidate through check-in and
consent over HTTP, and answers every question. Figures:
- `engine_save_ms_*`: the quiz engine alone committing an answer and its outbox row to the
  screen's durable SQLite store (WAL, synchronous=FULL);
- `baseline_save_ms_p50`: what a naive screen would do in the same run, rewriting its whole
  state as a JSON file with fsync on every answer; `ratio` = baseline / engine at the median;
- `http_answer_ms_*`: `POST /api/answer` end to end;
- `peak_rss_mb`: the screen process's peak RSS (target < 80 MB);
- `answers_in_outbox`: answers that reached the agent's outbox (must equal the questions).
Prints JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import requests

from kiosk_ui.quiz import Quiz, SystemClock
from kiosk_ui.store import QuizStore
from protocol.exam import ExamDefinition
from tests.kiosk_ui.exams import exam, question
from tests.kiosk_ui.servers import KioskScreen, SeatAgent


def _exam(count: int) -> ExamDefinition:
    questions = [question(f"q{i}", "single", f"q{i}o1") for i in range(count)]
    return exam(questions, policy={"duration_s": 3600})


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
    }


def engine_saves(work: Path, definition: ExamDefinition) -> list[float]:
    store = QuizStore(work / "engine.sqlite3")
    quiz = Quiz(store, definition, "bench-session", SystemClock())
    quiz.start()
    times = []
    for i, q in enumerate(definition.questions):
        started = time.perf_counter()
        quiz.answer(q.id, f"{q.id}o{i % 4}")
        times.append((time.perf_counter() - started) * 1000)
    store.close()
    return times


def naive_saves(work: Path, definition: ExamDefinition) -> list[float]:
    """The baseline: the whole answer sheet rewritten and fsynced on every answer."""
    path, answers, times = work / "naive.json", dict[str, Any](), []
    for i, q in enumerate(definition.questions):
        started = time.perf_counter()
        answers[q.id] = f"{q.id}o{i % 4}"
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as handle:
            json.dump({"exam": definition.model_dump(mode="json"), "answers": answers}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
        times.append((time.perf_counter() - started) * 1000)
    return times


def screen_run(work: Path, definition: ExamDefinition) -> dict[str, Any]:
    agent = SeatAgent(work / "agent", definition)
    agent.start()
    screen = KioskScreen(work / "screen")
    screen.start(agent.url)
    try:
        http = requests.Session()
        url = screen.url
        http.post(url + "/language", data={"language": "en"})
        http.post(url + "/checkin", data={"candidate_number": "C-1001"})
        http.post(url + "/calibration")
        http.post(url + "/calibration/continue")
        http.post(url + "/consent", data={"accept": "yes"})
        assert screen.proc is not None
        process = psutil.Process(screen.proc.pid)
        times, peak = [], 0
        for i, q in enumerate(definition.questions):
            http.get(url + "/quiz")
            started = time.perf_counter()
            response = http.post(
                url + "/api/answer", json={"question_id": q.id, "answer": f"{q.id}o{i % 4}"}
            )
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            peak = max(peak, process.memory_info().rss)
        deadline = time.monotonic() + 30
        while len(agent.of_kind("answer")) < len(definition.questions):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return {"http": times, "peak_rss": peak, "outbox": len(agent.of_kind("answer"))}
    finally:
        screen.stop()
        agent.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args(argv)
    definition = _exam(args.questions)
    with tempfile.TemporaryDirectory(prefix="bench-screen-") as tmp:
        work = Path(tmp)
        engine = engine_saves(work, definition)
        naive = naive_saves(work, definition)
        served = screen_run(work, definition)
    engine_p = _percentiles(engine)
    naive_p = _percentiles(naive)
    http_p = _percentiles(served["http"])
    print(
        json.dumps(
            {
                "questions": args.questions,
                "engine_save_ms_p50": engine_p["p50"],
                "engine_save_ms_p99": engine_p["p99"],
                "baseline_save_ms_p50": naive_p["p50"],
                "ratio": round(naive_p["p50"] / engine_p["p50"], 2) if engine_p["p50"] else None,
                "http_answer_ms_p50": http_p["p50"],
                "http_answer_ms_p99": http_p["p99"],
                "peak_rss_mb": round(served["peak_rss"] / 2**20, 1),
                "answers_in_outbox": served["outbox"],
            }
        )
    )


if __name__ == "__main__":
    main()

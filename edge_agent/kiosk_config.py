"""The full kiosk configuration: the publisher's tree plus camera, vision, rules, evidence and
the candidate. Kept apart from `edge_agent.config` so the publisher and the simulator never
import OpenCV or the vision stack.

    cfg = load_kiosk_config(Path("/etc/proctor/kiosk.toml"))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from edge_agent.audio.config import AudioConfig
from edge_agent.capture.config import CaptureConfig
from edge_agent.config import AgentConfig, Id, Section, load_config_as
from edge_agent.evidence.config import EvidenceConfig
from edge_agent.rules.config import RulesConfig
from edge_agent.vision.config import VisionConfig


class SubjectConfig(Section):
    """Who sits the exam. Until the kiosk screens and central's commands set these at check-in,
    they come from here (or stay empty: violations are then about the seat only)."""

    session_id: Id | None = Field(None, description="Exam session id.")
    candidate_id: Id | None = Field(None, description="Candidate id.")
    exam_id: Id | None = Field(None, description="Exam id.")
    enrolment_photo: Path | None = Field(
        None, description="Candidate photo for identity checks; unset: identity is not checked."
    )


class LocalApiConfig(Section):
    """The API the kiosk screen talks to (docs/kiosk-local-api.md), on 127.0.0.1 only."""

    enabled: bool = Field(
        False,
        description="Serve the kiosk screen. The kiosk bundle turns it on; agents without a "
        "screen (replays, tests) leave it off.",
    )
    port: int = Field(8771, ge=0, le=65535, description="TCP port on 127.0.0.1 (0: any free).")


class KioskConfig(AgentConfig):
    capture: CaptureConfig = Field(default_factory=CaptureConfig, description="Camera.")
    vision: VisionConfig = Field(default_factory=VisionConfig, description="Vision stages.")
    audio: AudioConfig = Field(
        default_factory=lambda: AudioConfig(enabled=False),
        description="Microphone, voice activity and talking. Off unless configured: the "
        "kiosk bundle from provisioning turns it on (a kiosk has a microphone; a test "
        "machine or a simulated kiosk may not).",
    )
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Rule thresholds.")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Evidence.")
    subject: SubjectConfig = Field(default_factory=SubjectConfig, description="The candidate.")
    local_api: LocalApiConfig = Field(
        default_factory=LocalApiConfig, description="The kiosk screen's local API."
    )


def load_kiosk_config(path: Path | None, env: Mapping[str, str] | None = None) -> KioskConfig:
    return load_config_as(KioskConfig, path, env)

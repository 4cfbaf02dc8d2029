"""Evidence settings as a config section (pydantic, unknown keys rejected), ready to be mounted
as `evidence` in the agent's config tree, with converters to the in-process settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from edge_agent.evidence.clips import ClipSettings
from edge_agent.evidence.ring import FrameRing
from edge_agent.evidence.store import DiskBudget
from edge_agent.evidence.uploader import UploaderSettings

PASSWORD_ENV = "PROCTOR_EVIDENCE_PASSWORD"  # noqa: S105 (the name of the variable)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RingConfig(_Section):
    seconds: float = Field(30.0, gt=0, le=600, description="Seconds of frames kept in memory.")
    max_bytes: int = Field(
        64 * 1024 * 1024, ge=1024 * 1024, description="Most bytes of JPEG frames kept."
    )
    jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of buffered frames.")
    max_width: int | None = Field(640, ge=64, description="Buffered frames at most this wide.")


class ClipConfig(_Section):
    pre_roll_s: float = Field(5.0, ge=0, le=60, description="Seconds before the violation.")
    post_roll_s: float = Field(3.0, ge=0, le=60, description="Seconds after it.")
    width: int = Field(320, ge=64, le=1920, description="Clip width in pixels.")
    fps: float = Field(10.0, gt=0, le=30, description="Clip frame rate.")
    max_clip_s: float = Field(20.0, gt=0, le=300, description="Longest clip in seconds.")
    niceness: int = Field(10, ge=0, le=19, description="Nice increment of the encoder thread.")


class StoreConfig(_Section):
    max_bytes: int = Field(
        2 * 1024**3, ge=1024 * 1024, description="Disk budget of all evidence files."
    )
    min_free_bytes: int = Field(
        256 * 1024**2, ge=0, description="Disk space always left free (for the outbox)."
    )


class UploadConfig(_Section):
    url: str = Field("http://127.0.0.1:8000", description="Central's web address.")
    username: str | None = Field(None, description="HTTP Basic user for evidence uploads.")
    password: SecretStr | None = Field(None, description=f"Its password; env {PASSWORD_ENV} wins.")
    ca_file: Path | None = Field(None, description="CA bundle for https; unset: the system's.")
    timeout_s: float = Field(30.0, gt=0, description="Per-request timeout in seconds.")
    retry_max_s: float = Field(60.0, ge=1, description="The retry delay doubles up to this.")


class EvidenceConfig(_Section):
    ring: RingConfig = Field(default_factory=RingConfig, description="Frame ring buffer.")
    clip: ClipConfig = Field(default_factory=ClipConfig, description="Clips and snapshots.")
    store: StoreConfig = Field(default_factory=StoreConfig, description="Disk budget.")
    upload: UploadConfig = Field(default_factory=UploadConfig, description="Upload to central.")

    def make_ring(self) -> FrameRing:
        r = self.ring
        return FrameRing(r.seconds, r.max_bytes, r.jpeg_quality, r.max_width)

    def clip_settings(self) -> ClipSettings:
        c = self.clip
        max_clip = min(c.max_clip_s, self.ring.seconds)
        return ClipSettings(c.width, c.fps, max_clip, niceness=c.niceness)

    def budget(self) -> DiskBudget:
        return DiskBudget(self.store.max_bytes, self.store.min_free_bytes)

    def uploader_settings(self, device_id: str, password: str | None = None) -> UploaderSettings:
        """`password` (e.g. from PROCTOR_EVIDENCE_PASSWORD) overrides the configured one."""
        u = self.upload
        secret = password or (u.password.get_secret_value() if u.password else None)
        return UploaderSettings(
            base_url=u.url,
            device_id=device_id,
            username=u.username,
            password=secret,
            ca_file=u.ca_file,
            timeout_s=u.timeout_s,
            retry_max_s=u.retry_max_s,
        )

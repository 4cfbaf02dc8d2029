"""Hearing: audio capture (microphone or WAV replay) behind one interface, level meter, PCM
ring buffer for evidence, Silero voice activity with a speech tracker, and the lip-movement
classifier that tells the candidate talking from background speech. `AudioMonitor` is the
integration surface for the agent."""

from edge_agent.audio.capture import (
    AudioBlock,
    AudioCapture,
    AudioCaptureSettings,
    AudioCaptureStats,
    AudioEvent,
    AudioEventKind,
    BlockQueue,
)
from edge_agent.audio.config import AudioConfig, TalkingConfig, VadConfig, build_audio_source
from edge_agent.audio.level import Level, LevelMeter, block_level, dbfs
from edge_agent.audio.lips import Talking, TalkingClassifier, TalkingVerdict, lip_opening
from edge_agent.audio.microphone import SoundDeviceSource
from edge_agent.audio.monitor import AudioMonitor, AudioMonitorStats
from edge_agent.audio.ring import PcmClip, PcmRing
from edge_agent.audio.source import (
    BLOCK_S,
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioRead,
    AudioSource,
    AudioSourceError,
    EndOfAudio,
    Pcm,
)
from edge_agent.audio.vad import (
    SileroVad,
    SpeechChange,
    SpeechSegment,
    SpeechTracker,
    VadError,
    block_probabilities,
    frame_values,
    speech_segments,
)
from edge_agent.audio.wavfile import Pacing, WavReplaySource, load_wav

__all__ = [
    "BLOCK_S",
    "BLOCK_SAMPLES",
    "SAMPLE_RATE",
    "AudioBlock",
    "AudioCapture",
    "AudioCaptureSettings",
    "AudioCaptureStats",
    "AudioConfig",
    "AudioEvent",
    "AudioEventKind",
    "AudioMonitor",
    "AudioMonitorStats",
    "AudioRead",
    "AudioSource",
    "AudioSourceError",
    "BlockQueue",
    "EndOfAudio",
    "Level",
    "LevelMeter",
    "Pacing",
    "Pcm",
    "PcmClip",
    "PcmRing",
    "SileroVad",
    "SoundDeviceSource",
    "SpeechChange",
    "SpeechSegment",
    "SpeechTracker",
    "Talking",
    "TalkingClassifier",
    "TalkingConfig",
    "TalkingVerdict",
    "VadConfig",
    "VadError",
    "WavReplaySource",
    "block_level",
    "block_probabilities",
    "build_audio_source",
    "dbfs",
    "frame_values",
    "lip_opening",
    "load_wav",
    "speech_segments",
]

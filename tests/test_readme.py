"""The README's configuration reference names every setting the code accepts."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

import central.config as central_config
from edge_agent.config import AgentConfig

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_central_variable_is_documented() -> None:
    env_names = central_config.ENV_NAMES
    missing = [
        f"PROCTOR_{env_names[name]}"
        for name in central_config.CentralConfig.model_fields
        if f"`PROCTOR_{env_names[name]}`" not in README
    ]
    assert not missing, f"README lacks {missing}"


def test_every_kiosk_config_key_is_documented() -> None:
    missing = [key for key in _keys(AgentConfig) if f"`{key}`" not in README]
    assert not missing, f"README lacks {missing}"

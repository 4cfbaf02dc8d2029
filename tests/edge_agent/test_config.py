from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.config import PASSWORD_ENV, AgentConfig, ConfigError, load_config, parse_config
from edge_agent.publisher import PublisherSettings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_defaults_are_complete_and_described() -> None:
    config = parse_config({}, env={})
    assert config.publisher.ack_timeout_s == 30
    assert config.publisher.max_in_flight == 500
    assert config.broker.broker_url().version == "5"

    def walk(model: type[AgentConfig]) -> None:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
            annotation = info.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation)

    walk(AgentConfig)


def test_load_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
data_dir = "/srv/proctor"
[identity]
centre_id = "c-7"
device_id = "kiosk-12"
seat_id = "A-12"
[broker]
url = "mqtts://kiosk-12:pw@broker.local?ca=/etc/proctor/ca.pem"
[publisher]
ack_timeout_s = 5
reconnect_max_s = 10
""",
    )
    config = load_config(path, env={})
    assert config.identity.device_id == "kiosk-12"
    assert config.outbox_path() == Path("/srv/proctor/outbox.sqlite3")
    url = config.broker.broker_url()
    assert (url.tls, url.port, url.password, url.ca_file) == (
        True,
        8883,
        "pw",
        "/etc/proctor/ca.pem",
    )


def test_password_from_environment_wins_and_is_not_printed(tmp_path: Path) -> None:
    path = write(tmp_path, '[broker]\nurl = "mqtt://kiosk-1@h"\npassword = "file-pw"\n')
    config = load_config(path, env={PASSWORD_ENV: "env-pw"})
    assert config.broker.broker_url().password == "env-pw"
    assert "env-pw" not in repr(config)
    assert load_config(path, env={}).broker.broker_url().password == "file-pw"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[publisher]\nmax_in_flight = 0\n", "publisher.max_in_flight:"),
        ("[identity]\ndevice_id = 'has space'\n", "identity.device_id:"),
        ("[broker]\nurl = 'http://x'\n", "broker.url:"),
        ("[broker]\nurl = 'mqtt://x?version=4'\n", "broker.url:"),
        ("[outbox]\nunknown = 1\n", "outbox.unknown: Extra inputs are not permitted"),
        ("[publisher]\nreconnect_min_s = 30\nreconnect_max_s = 5\n", "publisher:"),
        ("surprise = true\n", "surprise:"),
    ],
)
def test_errors_name_the_key_path(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(write(tmp_path, text), env={})
    assert expected in str(excinfo.value)
    assert str(tmp_path) in str(excinfo.value)


def test_unreadable_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.toml", env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[broker\n"), env={})


def test_publisher_settings_from_config(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[identity]
centre_id = "c-7"
device_id = "kiosk-12"
[broker]
url = "mqtt://kiosk-12@broker.local?version=3.1.1"
session_expiry_s = 3600
[publisher]
ack_timeout_s = 5
max_in_flight = 50
reconnect_min_s = 2
reconnect_max_s = 20
[heartbeat]
interval_s = 3
""",
    )
    settings = PublisherSettings.from_config(load_config(path, env={PASSWORD_ENV: "s3cret"}))
    assert (settings.centre_id, settings.device_id) == ("c-7", "kiosk-12")
    assert (settings.ack_timeout_s, settings.max_in_flight, settings.heartbeat_interval_s) == (
        5,
        50,
        3,
    )
    assert settings.broker.version == "3.1.1"
    assert settings.broker.password == "s3cret"
    options = settings.client_options()
    assert (options.client_id, options.session_expiry_s) == ("kiosk-12", 3600)
    assert (options.reconnect_min_s, options.reconnect_max_s) == (2, 20)

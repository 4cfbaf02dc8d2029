"""One URL names the broker for every component: ``mqtt[s]://user:pass@host:port?version=5``.

`version=3.1.1` exists for the embedded demo broker (amqtt speaks only MQTT 3.1.1); real
deployments use MQTT v5, the only version in which the broker reports an ACL denial.
`ca=/path/ca.pem` sets the CA for `mqtts`. Parsing only: no MQTT library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

MqttVersion = Literal["5", "3.1.1"]
_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class BrokerUrlError(ValueError):
    pass


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    version: MqttVersion = "5"
    ca_file: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise BrokerUrlError(
                f"broker URL must start with mqtt:// or mqtts://, got {parts.scheme!r}"
            )
        if not parts.hostname:
            raise BrokerUrlError("broker URL has no host")
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise BrokerUrlError("broker URL has an invalid port") from None
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"version", "ca"}
        if unknown:
            raise BrokerUrlError(f"unknown broker URL option(s): {', '.join(sorted(unknown))}")
        version = query.get("version", "5")
        if version not in ("5", "3.1.1"):
            raise BrokerUrlError(f"MQTT version must be 5 or 3.1.1, got {version!r}")
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            version="5" if version == "5" else "3.1.1",
            ca_file=query.get("ca"),
        )

    def with_credentials(self, username: str | None, password: str | None) -> BrokerUrl:
        return replace(self, username=username, password=password)

    def to_url(self, *, redact: bool = True) -> str:
        """The URL again; the password is replaced by *** unless redact=False."""
        scheme = "mqtts" if self.tls else "mqtt"
        auth = ""
        if self.username:
            auth = quote(self.username, safe="")
            if self.password:
                auth += ":" + ("***" if redact else quote(self.password, safe=""))
            auth += "@"
        options = []
        if self.version != "5":
            options.append(f"version={self.version}")
        if self.ca_file:
            options.append(f"ca={self.ca_file}")
        query = ("?" + "&".join(options)) if options else ""
        return f"{scheme}://{auth}{self.host}:{self.port}{query}"

    def __repr__(self) -> str:  # never print a password
        return f"BrokerUrl({self.to_url()})"

    __str__ = __repr__

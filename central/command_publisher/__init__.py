"""Sends queued console commands to kiosks over MQTT (QoS 1); see publisher.py."""

from central.command_publisher.publisher import CommandPublisher, PublisherOptions

__all__ = ["CommandPublisher", "PublisherOptions"]

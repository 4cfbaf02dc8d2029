"""Central service: stores what the kiosks publish, exactly once, and shows it to staff.

Subpackages: `services` (the one layer that touches the database), `ingest` (MQTT → database,
its own process), `web` (Flask app: login, API, console). `python -m central --help` lists the
admin commands.
"""

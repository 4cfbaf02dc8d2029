"""The seat: what central sent this kiosk by command (exam, enrolment, warnings, pause/end),
kept durably, and the local HTTP API the kiosk screen talks to (docs/kiosk-local-api.md).

Modules: `state` (the SQLite seat state), `commands` (central's commands applied once),
`messages` (protocol messages from API bodies; receipts), `local_api` (the WSGI app),
`server` (loopback-only HTTP thread), `sensors` (what the API asks the camera owner),
`face_match` (check-in face match), `file_camera` + `devserver` + `__main__` (the API
without the agent: ``python -m edge_agent.seat --help``).

Wiring into the agent, in outline::

    state = SeatState(data_dir / "seat.sqlite3")
    sender = Sender(origin, clock, config.identity.seat_id)
    on_command = lambda command: apply_and_answer(state, outbox, sender, command)
    api = LocalApi(state, outbox, sender, agent_sensors, on_progress=progress_sink)
    server = LocalApiServer(api, port=config.local_api_port); server.start() ... server.stop()
"""

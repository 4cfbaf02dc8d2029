"""Sends what the store queued to the agent, in order, until each is taken.

201/200 (or a duplicate) marks a row forwarded. 409 `no_session` and 503 `storage` mean "later"
and keep the row; another 4xx means the body itself is refused, so the row is set aside with the
reason (logged) instead of blocking every answer behind it. No reply stops the round.
"""

from __future__ import annotations

import logging

from kiosk_ui.agent_client import AgentClient, AgentUnavailable
from kiosk_ui.store import QuizStore

log = logging.getLogger(__name__)

RETRY_LATER = frozenset({409, 429})


def forward_pending(store: QuizStore, agent: AgentClient) -> int:
    """One round: forward what is pending, in order. Returns how many were taken."""
    taken = 0
    for item in store.pending():
        try:
            reply = agent.request("POST", item.path, item.body)
        except AgentUnavailable as error:
            log.info("agent unavailable, %d message(s) wait: %s", store.pending_count(), error)
            break
        if reply.status in (200, 201, 204):
            store.mark_forwarded(item.seq)
            if item.body.get("kind") == "lockdown":
                _remember_violation(store, reply.body)
            taken += 1
        elif reply.status in RETRY_LATER:
            store.mark_attempt(item.seq)
            break  # keep the order: nothing after it goes first
        else:
            reason = f"{reply.status} {reply.body}"[:500]
            log.error("agent refused message %s (%s): %s", item.id, item.body.get("kind"), reason)
            store.mark_attempt(item.seq, rejected=reason)
    return taken


def _remember_violation(store: QuizStore, body: object) -> None:
    """A lockdown signal's violation is a flag the candidate may explain (ids are UUIDv7, so
    the greater is the later)."""
    if isinstance(body, dict) and isinstance(body.get("violation_id"), str):
        store.note_violation(body["violation_id"])

"""Words for the codes the console shows (violation types, states, roles...), in the current
language. The database and the API keep the codes; only pages use these. A code without a
word here (a new one) is shown as it is, so a page never breaks on it.

Each table is built at call time, inside a request, so gettext sees the request's locale.
pgettext tells identical English words apart where French needs different ones (an event is
"terminé", a session "terminée").
"""

from __future__ import annotations

from collections.abc import Callable

from central.web.translation import _, pgettext


def _violation_types() -> dict[str, str]:
    return {
        "face_absent": _("face absent"),
        "multiple_faces": _("multiple faces"),
        "looking_away": _("looking away"),
        "eyes_away": _("eyes away"),
        "identity_mismatch": _("identity mismatch"),
        "camera_lost": _("camera lost"),
        "camera_covered": _("camera covered"),
        "speech": _("speech"),
        "candidate_talking": _("candidate talking"),
        "background_speech": _("background speech"),
        "phone_in_view": _("phone in view"),
        "book_in_view": _("book in view"),
        "second_screen": _("second screen"),
        "microphone_lost": _("microphone lost"),
        "lockdown_breach": _("lockdown breach"),
        "raised_hand": _("raised hand"),
        "device_fault": _("device fault"),
    }


def _severities() -> dict[str, str]:
    return {
        "info": pgettext("severity", "info"),
        "low": pgettext("severity", "low"),
        "medium": pgettext("severity", "medium"),
        "high": pgettext("severity", "high"),
        "critical": pgettext("severity", "critical"),
    }


def _event_states() -> dict[str, str]:
    return {
        "started": pgettext("event state", "started"),
        "updated": pgettext("event state", "updated"),
        "ended": pgettext("event state", "ended"),
    }


def _session_states() -> dict[str, str]:
    return {
        "scheduled": pgettext("session state", "scheduled"),
        "running": pgettext("session state", "running"),
        "submitted": pgettext("session state", "submitted"),
        "ended": pgettext("session state", "ended"),
    }


def _device_states() -> dict[str, str]:
    return {
        "online": pgettext("device state", "online"),
        "offline": pgettext("device state", "offline"),
        "unknown": pgettext("device state", "unknown"),
    }


def _decisions() -> dict[str, str]:
    return {
        "confirmed": pgettext("review decision", "confirmed"),
        "dismissed": pgettext("review decision", "dismissed"),
        # A violation's standing on the result page and the report.
        "pending": pgettext("review decision", "pending"),
        "information": pgettext("review decision", "information"),
    }


def _roles() -> dict[str, str]:
    return {
        "admin": pgettext("role", "admin"),
        "reviewer": pgettext("role", "reviewer"),
        "invigilator": pgettext("role", "invigilator"),
    }


def _question_kinds() -> dict[str, str]:
    return {
        "single": pgettext("question kind", "single"),
        "multiple": pgettext("question kind", "multiple"),
        "numeric": pgettext("question kind", "numeric"),
        "text": pgettext("question kind", "text"),
    }


def _evidence_roles() -> dict[str, str]:
    return {"clip": _("clip"), "snapshot": _("snapshot")}


def _import_states() -> dict[str, str]:
    return {
        "running": pgettext("import state", "running"),
        "finished": pgettext("import state", "finished"),
        "failed": pgettext("import state", "failed"),
        "interrupted": pgettext("import state", "interrupted"),
    }


def _delivery_summaries() -> dict[str, str]:
    # DeliveryStatus.summary (central/services/delivery.py) is one of these phrases.
    return {
        "not sent": pgettext("delivery", "not sent"),
        "on the kiosk": pgettext("delivery", "on the kiosk"),
        "rejected": pgettext("delivery", "rejected"),
        "failed": pgettext("delivery", "failed"),
        "expired": pgettext("delivery", "expired"),
        "sending": pgettext("delivery", "sending"),
    }


def _lookup(table: Callable[[], dict[str, str]]) -> Callable[[object], str]:
    def word(code: object) -> str:
        text = "" if code is None else str(code)
        return table().get(text, text)

    return word


violation_type = _lookup(_violation_types)
severity = _lookup(_severities)
event_state = _lookup(_event_states)
session_state = _lookup(_session_states)
device_state = _lookup(_device_states)
decision = _lookup(_decisions)
role = _lookup(_roles)
question_kind = _lookup(_question_kinds)
evidence_role = _lookup(_evidence_roles)
import_state = _lookup(_import_states)
delivery_summary = _lookup(_delivery_summaries)

# Jinja filters, e.g. {{ v.type|violation_type }}.
FILTERS: dict[str, Callable[[object], str]] = {
    "violation_type": violation_type,
    "severity": severity,
    "event_state": event_state,
    "session_state": session_state,
    "device_state": device_state,
    "decision": decision,
    "role": role,
    "question_kind": question_kind,
    "evidence_role": evidence_role,
    "import_state": import_state,
    "delivery_summary": delivery_summary,
}
